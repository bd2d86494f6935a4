/* report.h: the end-of-run report channel from libfi to fi-run
 * (FI_REPORT=FILE). Each process writes one JSON line per armed rule with
 * how often it matched and fired, just before its image goes away. The
 * format is internal to fi (docs/trace.md, "Run report"). */
#ifndef FI_REPORT_H
#define FI_REPORT_H

#include <stdbool.h>

/* Open path for appending (truncated when `truncate`) as fi's own fd
 * (fds.h). Registers a fork handler. Returns 0 or a negative errno. Once
 * at load, outside the hook. */
int fi__report_open(const char *path, bool truncate);

/* True once the report is open. Hook-safe. */
bool fi__report_enabled(void);

/* Write this process's counts since it started, or since its last flush:
 * one line per rule whose counts moved, and every rule on the first flush.
 * Also one line with the trace's records lost since the last flush.
 * Call right before exit_group, before an execve/execveat that may
 * succeed, and at exit (a destructor here does that). A later flush (after
 * a failed execve, or a second exit path) writes only what changed since,
 * so fi-run can simply add up the lines. Does nothing in a vfork child
 * (it shares the parent's counters, which the parent reports) or in a
 * forked child nobody told us about. Hook-safe, async-signal-safe; a
 * flush that finds another one running in the process returns at once. */
void fi__report_flush(void);

/* An exec is about to start an image that libfi will not be in (follow.h):
 * one line naming the file, why (fi__follow_why_name) and, for a script,
 * the interpreter the reason is about. Written before the exec, since a
 * successful one never comes back; returns the exec's id (0 when nothing
 * was written) for fi__report_exec_failed. Hook-safe. */
unsigned long fi__report_unfollowed(const char *path, const char *why,
				    const char *interp);

/* That exec failed with err (negative): one line that takes the claim
 * back, so fi-run drops the exec's line. Hook-safe. */
void fi__report_exec_failed(unsigned long id, long err);

/* In a child made by fork/clone without CLONE_VM: the counters inherited
 * from the parent are the parent's to report; count from here. Called by
 * the pthread_atfork handler, and dispatch may call it after a raw fork or
 * clone; idempotent. Hook-safe. */
void fi__report_fork_child(void);

#endif
