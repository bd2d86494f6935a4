/* reap.h: the sweep's runs leave nothing behind (reap.c): fi-run is the
 * child subreaper of the sweep, and what a run started is killed and
 * reaped when the run ends, in its process group or not. */
#ifndef FI_REAP_H
#define FI_REAP_H

#include <sys/types.h>

/* Before a batch of runs: fi-run becomes a child subreaper (from the
 * first call on, for the rest of its life). */
void fi__reap_begin(void);

/* A process group of fi-run's own (the fork server's) that holds no
 * run's leftovers: never looked into. */
void fi__reap_spare(pid_t pgid);

/* A run started, as the leader of its own process group, with report
 * as its FI_REPORT (kept, not copied, until it ends); it is on the
 * keeper's list from now on. */
void fi__reap_started(pid_t run, const char *report);

/* The run's process is reaped: kill its group and reap the group's
 * members, then kill and reap the processes that left it (with -j above
 * 1, those that may come from a run still running wait for it to end).
 * Its group leaves the keeper's list. */
void fi__reap_ended(pid_t run);

/* After the batch: whatever is left is killed and reaped. */
void fi__reap_end(void);

/* In the keeper, once fi-run (pid fi_run) is gone: kill every process
 * whose environment names fi-run (a run's FI_REPORT, the fork server's
 * FI_FORKSERVER): those that left their group and the keeper's list. */
void fi__reap_marked(pid_t fi_run);

#endif
