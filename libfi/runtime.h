/* runtime.h: the state the runtime stages share: the armed rules, the
 * per-syscall interest table the stubs read, and call counting. */
#ifndef FI_RUNTIME_H
#define FI_RUNTIME_H

#include <stdbool.h>

#include "rules.h"

/* The rules every hook consults: NULL until something arms a rule, then
 * never freed. */
extern struct fi__ruleset *fi__rs;

/* fi__rs, created on first use. Not for the hook. */
struct fi__ruleset *fi__runtime_rules(void);

/* True once libfi patched this process. */
bool fi__runtime_active(void);

/* Recompute which syscall numbers take the slow path, after rules were
 * armed or cleared. Not for the hook. */
void fi__runtime_rules_changed(void);

/* API mode: count every syscall of the code under test, from now. */
void fi__runtime_count_all(void);

/* Calls of nr counted since the last reset (all threads). */
long fi__runtime_count(long nr);
void fi__runtime_reset_counts(void);

/* Calls from a module whose file name matches are never counted or failed. */
int fi__runtime_ignore_module(const char *name);

/* Let this thread's syscalls pass the hook untouched (nesting), for the
 * API's own work. */
void fi__hook_suspend(void);
void fi__hook_resume(void);

/* Reason for the last fi_* failure in this thread. */
void fi__set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
