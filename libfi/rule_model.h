/* rule_model.h: what one compiled rule holds. The scenario parser fills
 * the description part; rules.c owns the counters and arms, matches and
 * frees rules. Internal to those two stages. */
#ifndef FI_RULE_MODEL_H
#define FI_RULE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define FI_RULES_MAX 4096	/* armed rules per set (-ENOSPC past it) */
#define FI_EXPECT_MAX 65536	/* queued expectations per syscall */
#define FI_SCRIPT_MAX 1024	/* steps of one script= */
#define FI_PER_THREAD_SLOTS 256 /* threads (syscalls) counted apart by per= */

/* prob= as a fixed-point fraction: the rule acts when a 32-bit draw is
 * below prob, so FI_PROB_ONE always acts. */
#define FI_PROB_ONE (UINT64_C(1) << 32)

/* when=: the calls numbered first, first+step, ... up to last (1-based). */
struct fi__when {
	uint64_t first, last, step; /* last == UINT64_MAX: no end */
};

enum fi__step_kind {
	FI_STEP_OK = 0, /* pass this call */
	FI_STEP_ERROR,	/* fail with errno value */
	FI_STEP_RETVAL, /* return value */
};

struct fi__step {
	enum fi__step_kind kind;
	long value;
};

/* A per=thread or per=syscall counter: key 0 means a free slot. The key
 * is the thread id, the syscall number + 1, or both (per=thread,syscall). */
struct fi__tslot {
	long key;
	uint64_t count;
};

/* One place site= names: offsets lo..hi (inclusive) of the objects whose
 * file name (or full path, when the glob has a '/') matches `module`.
 * MODULE+0xOFF is lo = hi = OFF; a bare MODULE is 0..ULONG_MAX. */
struct fi__site_span {
	char *module;
	unsigned long lo, hi;
};

struct fi__rule {
	/* Description, filled by the parser; immutable once armed. Strings
	 * are malloc'd and owned by the rule. */
	char *text;   /* the rule as written, comment stripped */
	char *origin; /* "disk_full.fi:3", "<rule>:1" */
	char *what;   /* the syscall part as written: "write", "%net" */
	unsigned char nrs[FI_NR_MAX]; /* 1 for each syscall it applies to */

	char *path; /* glob on the path argument (or the fd's path) */
	bool has_fd;
	int fd;			     /* the first fd argument equals this */
	struct fi__site_span *sites; /* site=: the call comes from one of */
	size_t nsites;		     /* these (none: from anywhere) */
	char *comm;		     /* glob on the process's command name */
	bool not_path, not_fd, not_comm; /* path!=, fd!=, comm!=: the call
					  * has one, and it does not match */
	bool has_flags;			 /* flags=: the call's open flags ... */
	unsigned char accmodes; /* ... have an access mode of this set (bit
				 * O_RDONLY, O_WRONLY or O_RDWR) */
	long flags_any;		/* ... or any of these other bits */
	char *proc;	  /* the process's place below its image: "0", "2.1" */
	int thread;	  /* the thread's number in creation order, or 0 */
	bool per_thread;  /* when= counts each thread's calls apart */
	bool per_syscall; /* ... and each syscall of the set apart */

	bool has_when;
	struct fi__when when;
	bool has_prob;
	uint64_t prob; /* out of FI_PROB_ONE */
	size_t script_len;
	struct fi__step *script;

	enum fi__action action;
	long value;
	long delay_ns;
	long delay_exit_ns; /* after the call returns */
	int signal;
	char *redirect;
	long instead;				  /* syscall=, or 0 */
	struct fi__pokes *poke_enter, *poke_exit; /* one malloc each */

	/* Engine state, owned by rules.c; touched with atomics only. */
	unsigned index;	   /* arm order within the set */
	uint64_t matched;  /* calls that passed the filters */
	uint64_t fired;	   /* calls this rule decided */
	uint64_t draws;	   /* prob= draws taken */
	uint64_t overflow; /* per=thread count of threads past the table */
	struct fi__tslot *slots;
	const char *first_module;
	unsigned long first_offset;
	int first_pid;
	struct fi__rule *owned_next; /* every rule the set ever took */
};

/* A zeroed rule for the parser to fill; NULL when out of memory. */
struct fi__rule *fi__rules_rule_new(void);

/* Free a rule that was never armed (the set frees armed ones). */
void fi__rules_rule_free(struct fi__rule *r);

/* Arm rules[0..n) in order, all or nothing: 0, -ENOSPC or -ENOMEM. The
 * set takes ownership of every rule, also on failure. */
int fi__rules_add_batch(struct fi__ruleset *rs, struct fi__rule **rules,
			size_t n);

/* Does call number n (1-based) fall in w? */
bool fi__rules_when(const struct fi__when *w, uint64_t n);

#endif
