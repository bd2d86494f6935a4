/* rules.h: the rule model and the engine that turns (armed rules, one
 * call) into a verdict. Pure: no patching, no I/O; tested on its own.
 * fi__rules_decide() runs inside the syscall hook, so it and everything it
 * calls are allocation-free, lock-free, async-signal-safe, and never call
 * into libc (the file is built with -mgeneral-regs-only). */
#ifndef FI_RULES_H
#define FI_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

/* One syscall as the engine sees it. Filled by dispatch. */
struct fi__call {
	long nr;
	long args[6]; /* the registers as the program set them; the engine
	               * never dereferences one (see path) */
	int pid, tid;
	const char *comm;	 /* the process's command name, or NULL */
	const char *module;	 /* file name of the object making the call
	                       * ("libstore.so"), or NULL if unknown */
	const char *module_path; /* its full path, for site= patterns with a
	                          * '/'; NULL when only module is known */
	unsigned long offset;	 /* the call's offset in that module */
	/* The call's path argument, copied safely by dispatch (a bad pointer
	 * must give the program EFAULT, not crash the hook); NULL when the
	 * syscall has none or it could not be read. Rules use this, never
	 * the raw pointer in args. */
	const char *path;
	/* Resolves the path of an fd into buf (NUL-terminated); returns its
	 * length or -1. Called only when a rule needs it. May be NULL. */
	int (*fd_path)(int fd, char *buf, size_t len);
	/* The calling thread's number in its process in creation order (1:
	 * the first), 0 if unknown; and the process's place below its image
	 * ("0", "2.1"), for thread= and proc=. Called only when a rule needs
	 * them. May be NULL. */
	int (*thread_number)(int pid, int tid);
	const char *(*proc_path)(void);
	/* Names the calling code (the first frame outside libc, by
	 * unwinding), which costs more than module/offset above; the engine
	 * asks only when a rule fires for the first time. May be NULL. */
	void (*caller)(const struct fi__call *c, const char **module,
		       unsigned long *offset);
	const void *ctx; /* for caller() */
};

enum fi__action {
	FI_ACT_PASS = 0, /* perform the call as it is */
	FI_ACT_ERROR,	 /* return -value without entering the kernel */
	FI_ACT_RETVAL,	 /* return value without entering the kernel */
	FI_ACT_SHORT,	 /* perform the call with its byte count clamped */
	FI_ACT_REDIRECT, /* perform the call on path `redirect` instead */
};

struct fi__rule; /* opaque; built by the scenario parser */

/* poke_enter= / poke_exit= (strace's @argN=HEX): bytes written into the
 * memory that argument arg points to, before or after the call. */
#define FI_POKE_MAX 1024 /* bytes in one poke, as strace takes */
struct fi__poke {
	int arg; /* 0-based */
	size_t len;
	const unsigned char *data;
};
struct fi__pokes {
	int n;
	struct fi__poke p[6]; /* one per argument at most */
};

/* What to do with one call. delay_ns and signal combine with any action:
 * sleep first, then act; the signal comes once the call has its result
 * (dispatch.c, as strace delivers it). */
struct fi__verdict {
	enum fi__action action;
	long value;	    /* errno (ERROR), result (RETVAL), bytes (SHORT) */
	long delay_ns;	    /* 0: none */
	long delay_exit_ns; /* after the call returns; 0: none */
	int signal;	    /* 0: none */
	const char *redirect; /* REDIRECT: the path to use; owned by the rule */
	long instead; /* syscall=: run this syscall (no arguments, no side
	               * effects) in place of an ERROR or RETVAL call; 0:
	               * none (read is never one) */
	const struct fi__pokes *poke_enter, *poke_exit; /* NULL: none; owned
	                                                 * by the rule */
	struct fi__rule *rule; /* the rule that decided, or NULL */
};

struct fi__ruleset;

struct fi__ruleset *fi__rules_new(void);
void fi__rules_free(struct fi__ruleset *rs);

/* Arm a compiled rule; the set takes ownership. Counting starts now.
 * Safe while other threads run fi__rules_decide(). Returns 0 or -ENOSPC. */
int fi__rules_add(struct fi__ruleset *rs, struct fi__rule *rule);

/* Queue an expectation: the next unclaimed call of nr returns `result`
 * without entering the kernel (fi_expect). `origin` ("test_io.c:42", or
 * NULL) is copied; fi__rules_verify names it. Returns 0 or negative
 * errno. */
int fi__rules_expect(struct fi__ruleset *rs, long nr, long result);
int fi__rules_expect_at(struct fi__ruleset *rs, long nr, long result,
			const char *origin);

/* Disarm everything (fi_reset) but the base rules. Rules stay allocated
 * until fi__rules_free(), since a hook in another thread may still read
 * them. */
void fi__rules_clear(struct fi__ruleset *rs);

/* The rules armed so far are the base: the environment's (FI_SCENARIO,
 * FI_RULES: fi-run -s, -r), armed for the whole run. fi__rules_clear()
 * keeps them, counts and all, and fi__rules_verify() leaves them to
 * fi-run's summary, so that a test suite's fi_reset() and fi_verify()
 * work under a scenario. */
void fi__rules_keep_base(struct fi__ruleset *rs);

/* Decide one call. Returns true when some rule acted (v filled), false to
 * pass. Counts the call for every rule whose filters match. Hook-safe. */
bool fi__rules_decide(struct fi__ruleset *rs, const struct fi__call *c,
		      struct fi__verdict *v);

/* The same, for the common case, from the syscall number alone:
 * FI_QUICK_DONE when the call returns *result (-errno or a value) without
 * entering the kernel, FI_QUICK_PASS to pass, FI_QUICK_MORE when some rule
 * of nr needs more (filters,
 * per-thread counts, delays, signals, other actions, or the stats of a
 * first firing): then call fi__rules_decide instead; nothing was counted
 * and *result is untouched. rs must not be NULL and nr must be below
 * FI_NR_MAX. Hook-safe. (The values match the stub's verdicts.) */
#define FI_QUICK_DONE 0
#define FI_QUICK_PASS 2
#define FI_QUICK_MORE 3
int fi__rules_quick(struct fi__ruleset *rs, long nr, long *result);

/* Sets table[nr] = 1 for every nr some armed rule or expectation may act
 * on (table has FI_NR_MAX bytes). Never clears entries. */
void fi__rules_interest(const struct fi__ruleset *rs, unsigned char *table);

/* Whether some armed rule filters on the calling module (site=), so that
 * dispatch must unwind to find it; with table (FI_NR_MAX bytes), sets
 * table[nr] = 1 for each nr such a rule is on. */
bool fi__rules_need_site(const struct fi__ruleset *rs, unsigned char *table);

/* 0 when every expectation was consumed and every rule with when= fired;
 * otherwise -EPROTO and msg names the syscall and rule of each, one a
 * line (a last line counts those that did not fit in len). */
int fi__rules_verify(const struct fi__ruleset *rs, char *msg, size_t len);

/* In a child made by fork (not vfork): counting starts again from zero,
 * so that when= counts each process's calls, as strace does, and the
 * set's lock starts free. Expectations stay as they are. Hook-safe; only
 * the calling thread exists. */
void fi__rules_forked(struct fi__ruleset *rs);

/* For end-of-run summaries: rule i (0-based, in arm order), its source
 * text and where it came from ("disk_full.fi:3"), how often it fired and the
 * site of the first firing. Returns false past the last rule. */
struct fi__rule_stats {
	const char *text;
	const char *origin;
	unsigned long matched, fired;
	const char *first_module;
	unsigned long first_offset;
	int first_pid;
};
bool fi__rules_stats(const struct fi__ruleset *rs, size_t i,
		     struct fi__rule_stats *out);

/* The seed for prob= (FI_SEED); the engine draws from a per-rule stream
 * derived from it, so runs repeat. */
void fi__rules_seed(struct fi__ruleset *rs, uint64_t seed);

#endif
