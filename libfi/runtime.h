/* runtime.h: the state the runtime stages share (runtime.c): the armed
 * rules, the per-syscall interest table the stubs read, what the hook must
 * do for each number, and call counting. Written outside the hook (the
 * constructor, the API); read by the hook (dispatch.c) with relaxed or
 * acquire loads. */
#ifndef FI_RUNTIME_H
#define FI_RUNTIME_H

#include <stdbool.h>

#include "rules.h"

/* Read by the hook on every call it takes: hidden, so that it is reached
 * without going through the GOT. */
#define FI_RUNTIME_SHARED __attribute__((visibility("hidden")))

/* The rules every hook consults: NULL until something arms a rule, then
 * never freed. */
extern struct fi__ruleset *fi__rs FI_RUNTIME_SHARED;

/* Read by every stub: nonzero means "this number enters the hook".
 * Indexed by the low 16 bits of %eax. */
extern unsigned char fi__interest[1u << 16] FI_RUNTIME_SHARED;

/* What the hook must do, as fi__runtime_rules_changed last set it: */
struct fi__runtime_mode {
	int counting;	/* API mode: count every call of the code under test */
	int have_rules; /* some rule was armed (fi__rs is set) */
	int need_site;	/* unwind to the calling module (site=, API mode) */
	/* Every call takes the whole full path (recording, counting, call
	 * sites); otherwise only numbers marked special do. */
	int see_all;
	int tracing;   /* the recorder is on (trace.h) */
	int reporting; /* the end-of-run report is on (report.h) */
	/* Rules, counting or the recorder want SYS_exit; otherwise it is
	 * in the interest table only for a thread to hand back its scratch
	 * (scratch.h). */
	int exit_wanted;
};
extern struct fi__runtime_mode fi__runtime_mode FI_RUNTIME_SHARED;

/* Per syscall number, in one page (each page first touched at start-up
 * costs a page fault): */
struct fi__runtime_nr {
	/* 1 for numbers that need more than rules (new code, fork, exit,
	 * fi's own fds): they always take the whole full path. */
	unsigned char special[FI_NR_MAX];
	/* 1 where fi__dispatch_quick may try: rules are armed, not every
	 * call is seen and the number is not special. One load on the
	 * quick path. */
	unsigned char quick_ok[FI_NR_MAX];
	/* The index of each syscall's path argument, or -1. */
	signed char path_arg[FI_NR_MAX];
	/* The index of the fd argument of a call that may close or replace
	 * fds (!fdclose in syscalls.spec: close, dup2, dup3), or -1: the
	 * recorder reads its path before the call. */
	signed char closing_fd_arg[FI_NR_MAX];
	/* 1 where a call's site is needed before its rules are decided: a
	 * rule of that number has site= (or every number, in API mode,
	 * which never counts or fails the harness's calls). Elsewhere the
	 * site is found only when a rule fires for the first time. */
	unsigned char need_site[FI_NR_MAX];
};
extern struct fi__runtime_nr fi__runtime_nr FI_RUNTIME_SHARED;

/* Calls counted per number since the last reset (API mode); the hook adds
 * to them. */
extern long fi__runtime_counts[FI_NR_MAX] FI_RUNTIME_SHARED;

/* The process's command name, for comm=; read when rules change. */
extern char fi__runtime_comm[16] FI_RUNTIME_SHARED;

/* fi__rs, created on first use. Not for the hook. */
struct fi__ruleset *fi__runtime_rules(void);

/* True once libfi patched this process; set by the constructor. */
bool fi__runtime_active(void);
void fi__runtime_set_active(bool on);

/* The recorder and the report were opened (or not): once, at load,
 * before rules are first armed. Not for the hook. */
void fi__runtime_set_channels(bool tracing, bool reporting);

/* Recompute which syscall numbers enter the hook and what it does with
 * them, after rules were armed or cleared. Not for the hook. */
void fi__runtime_rules_changed(void);

/* API mode: count every syscall of the code under test, from now. */
void fi__runtime_count_all(void);

/* Calls of nr counted since the last reset (all threads). */
long fi__runtime_count(long nr);
void fi__runtime_reset_counts(void);

#endif
