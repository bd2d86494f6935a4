/* launch.h: the program's environment, and running it to its end. */
#ifndef FI_RUN_LAUNCH_H
#define FI_RUN_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The variables fi-run sets; NULL leaves one unset. */
struct fi__launch_env {
	const char
		*preload; /* libraries to put first in LD_PRELOAD, ' '-joined */
	const char *scenario, *rules, *trace, *seed, *debug, *report;
	const char *sites; /* FI_SITES: site=FILE:LINE resolved (validate.h) */
	const char *audit, *tunables; /* LD_AUDIT, GLIBC_TUNABLES (early.h) */
};

/* A new environment: `base` without fi's own variables (FI_SCENARIO,
 * FI_RULES, FI_SITES, FI_TRACE, FI_TRACE_APPEND; FI_SEED, FI_DEBUG and FI_REPORT
 * when given here) plus those of `e`; LD_PRELOAD becomes e->preload
 * followed by the entries of the old one not already named. */
char **fi__launch_make_env(char *const *base, const struct fi__launch_env *e);
void fi__launch_free_env(char **env, char *const *base);

/* From now on, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are
 * relayed to the program while it runs; outside the run they end fi-run
 * as before, but remove its scratch files first. Those fi-run was started
 * ignoring stay ignored. Call once, before making any scratch file. */
void fi__launch_signals(void);

/* Run `path` with argv and envp (the signals as fi__launch_signals says;
 * the program gets them as fi-run found them), wait, and return the
 * status fi-run should exit with: the program's, 128+N after signal N,
 * or 126/127 (message printed) when execve failed. `shown` names the
 * program in messages. *ran tells whether the program started. */
int fi__launch_run(const char *path, char *const *argv, char *const *envp,
		   const char *shown, bool *ran);

/* A run of the sweep: what fi__launch_spawn gives the new process. */
struct fi__launch_spawn {
	const char *path;
	char *const *argv;
	char *const *envp;
	const char *in, *out, *err; /* opened as fds 0 (read), 1 and 2 */
	const char *dir;	    /* its working directory */
	const sigset_t *mask;	    /* its signal mask */
	/* set when it could not start: the failed step and its errno */
	const char *failed;
	int error;
};

/* Start s->path as posix_spawn would (a child sharing fi-run's memory
 * until it execs, so no page of fi-run is copied), in a process group
 * of its own, with a parent-death signal (SIGKILL) that posix_spawn
 * cannot set: when fi-run dies, even by SIGKILL, the run dies too.
 * Returns the pid, or -1 with s->failed and s->error ("execve",
 * ENOENT). Not thread-safe: one spawn at a time. */
pid_t fi__launch_spawn(struct fi__launch_spawn *s);

/* The keeper: a run's parent-death signal reaches the run, not the
 * processes it started, which stay in its process group. The keeper is
 * a small process of fi-run's, started once, that fi-run tells each
 * run's group as the run starts and after the group was killed; when
 * fi-run dies (its socket ends), the keeper kills every group still
 * listed. start returns 0 or -1 (no keeper: runs still die by their own
 * signal); add and drop are quiet and cheap (one send); stop ends the
 * keeper without killing anything, and runs at fi-run's exit. */
int fi__launch_keeper_start(void);
void fi__launch_keeper_add(pid_t pgid);
void fi__launch_keeper_drop(pid_t pgid);
void fi__launch_keeper_stop(void);

#endif
