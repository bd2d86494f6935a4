/* reap.c: what the sweep's runs leave behind. During a sweep fi-run is a
 * child subreaper: a process a run started becomes fi-run's child once
 * its parent is gone, whatever session or process group it moved to (a
 * daemon's double fork, `setsid cmd &`, gpg starting gpg-agent). When a
 * run ends, its group is killed and reaped, and then fi-run's children
 * among the pids handed out since the run started are the ones that left
 * it: they are killed and reaped too, before the run's outcome is read.
 * docs/sweep.md, "What a run leaves behind".
 *
 *   run R starts (pid M) ... R ends: kill -M, reap the group,
 *   then each pid p in (M, ns_last_pid]:  getpgid(p), then
 *     a group of fi-run's own (fork server, keeper) or of a run still
 *       running .............................. left alone
 *     not fi-run's child (waitid ECHILD) ...... someone else's, left alone
 *     a zombie ............................... reaped
 *     alive .................................. killed, reaped, and the
 *                                              pids looked at again
 *
 * With -j above 1, a process that may come from a run still running (one
 * that started before it was made) is the ended run's when its FI_REPORT
 * (in /proc/PID/environ) is that run's, and the other run's when it is
 * the other's; else it is kept until every run that was running when it
 * was found has ended: killing it earlier could change that run's
 * outcome. */
#include "reap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fi_run.h"
#include "launch.h"

#define RANGE_MAX 4096 /* more pids to look at: read /proc instead */

struct run {
	pid_t pid;
	unsigned long n;    /* the how-manieth run started */
	const char *report; /* its FI_REPORT, which its processes inherit */
};

struct left {
	pid_t pid;
	unsigned long upto; /* killed once runs 1..upto have all ended */
	bool kept;	    /* its group is on the keeper's list */
};

static bool on;
static int last_pid_fd = -1;
static pid_t first; /* ns_last_pid when the runs began */
static struct run *runs;
static size_t nruns, runs_cap;
static struct left *lefts;
static size_t nlefts, lefts_cap;
static unsigned long started;
static const char *ending; /* the FI_REPORT of the run that ended */
/* process groups of fi-run's own: its own, the keeper's, the server's */
static pid_t spare[8];
static size_t nspare;

/* The last pid the kernel handed out in fi-run's pid namespace; -1
 * when it cannot be read. One pread. */
static pid_t last_pid(void)
{
	char buf[24];
	ssize_t n;
	long v;
	char *end;

	if (last_pid_fd < 0)
		return -1;
	n = pread(last_pid_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > INT_MAX)
		return -1;
	return (pid_t)v;
}

void fi__reap_begin(void)
{
	if (!on) {
		/* Only the sweep: a plain fi-run leaves the program's
		 * daemons to the user. */
		if (prctl(PR_SET_CHILD_SUBREAPER, 1))
			return;
		last_pid_fd = open("/proc/sys/kernel/ns_last_pid",
				   O_RDONLY | O_CLOEXEC);
		fi__reap_spare(getpgrp());
		on = true;
	}
	first = last_pid();
}

void fi__reap_spare(pid_t pgid)
{
	if (nspare < sizeof(spare) / sizeof(spare[0]))
		spare[nspare++] = pgid;
}

void fi__reap_started(pid_t run, const char *report)
{
	runs = fi__util_xgrow(runs, nruns, &runs_cap, sizeof(*runs), 16);
	runs[nruns++] = (struct run){run, ++started, report};
	fi__launch_keeper_add(run);
}

static bool is_run(pid_t pid)
{
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].pid == pid)
			return true;
	return false;
}

static bool is_spare(pid_t pgid)
{
	for (size_t i = 0; i < nspare; i++)
		if (spare[i] == pgid)
			return true;
	return false;
}

/* Could p (in group g) come from a run still running? Not when that run
 * started after both were made: a run's pids come after its own. */
static bool maybe_running(pid_t p, pid_t g)
{
	pid_t made = g > 0 && g < p ? g : p;

	for (size_t i = 0; i < nruns; i++)
		if (runs[i].pid < made)
			return true;
	return false;
}

/* The environment /proc shows for pid (what its image was exec'd with,
 * or the fork server's for a process forked from it): NUL-separated
 * strings in a static buffer, their length in *n. NULL when unreadable. */
static const char *environ_of(pid_t pid, size_t *n)
{
	static char env[65536];
	char path[40];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	r = read(fd, env, sizeof(env) - 1);
	close(fd);
	if (r <= 0)
		return NULL;
	env[r] = '\0';
	*n = (size_t)r;
	return env;
}

/* pid's FI_REPORT, or NULL. */
static const char *report_of(pid_t pid)
{
	size_t n;
	const char *env = environ_of(pid, &n);

	for (const char *s = env; s && s < env + n; s += strlen(s) + 1)
		if (!strncmp(s, "FI_REPORT=", 10))
			return s + 10;
	return NULL;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Kill p, which is fi-run's live child, and its group when the group
 * came from the runs (it was made after `from`), then reap p. */
static void kill_left(pid_t p, pid_t g, pid_t from)
{
	kill(p, SIGKILL);
	if (g > 0 && !is_run(g) && !is_spare(g) && (g == p || g > from))
		kill(-g, SIGKILL);
	reap(p);
}

static bool filed(pid_t p)
{
	for (size_t i = 0; i < nlefts; i++)
		if (lefts[i].pid == p)
			return true;
	return false;
}

/* Look at pid p; from is where the pids being looked at start. Whether a
 * live process was killed (its children are fi-run's now: look again). */
static bool probe(pid_t p, pid_t from)
{
	siginfo_t si;
	pid_t g;

	if (is_run(p) || filed(p))
		return false;
	/* Most pids are someone else's, or gone: one syscall each. */
	si.si_pid = 0;
	if (waitid(P_PID, (id_t)p, &si, WEXITED | WNOHANG | WNOWAIT))
		return false; /* not fi-run's child */
	g = getpgid(p);
	if (g < 0 || is_spare(g) || is_run(g))
		return false; /* the fork server's next run, or a run's own */
	if (si.si_pid == p) {
		reap(p); /* a zombie */
		return false;
	}
	/* Whose it is may show in its environment: a run's FI_REPORT is
	 * its own. Read only for a process that may be another run's. */
	if (maybe_running(p, g)) {
		const char *r = report_of(p);

		if (r && ending && !strcmp(r, ending))
			goto mine;
		for (size_t i = 0; r && i < nruns; i++)
			if (!strcmp(r, runs[i].report))
				return false; /* seen again when that run ends */
		lefts = fi__util_xgrow(lefts, nlefts, &lefts_cap,
				       sizeof(*lefts), 16);
		lefts[nlefts++] = (struct left){p, started, g == p};
		if (g == p) /* the keeper kills it if fi-run dies first */
			fi__launch_keeper_add(g);
		return false;
	}
mine:
	kill_left(p, g, from);
	return true;
}

/* The pid a /proc entry names, or 0. */
static pid_t proc_pid(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	return *end || end == name || v <= 0 || v > INT_MAX ? 0 : (pid_t)v;
}

/* Every process in /proc (pids wrapped round, or too many to try one by
 * one). */
static bool probe_proc(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool killed = false;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (proc_pid(e->d_name))
			killed |= probe(proc_pid(e->d_name), INT_MAX);
	closedir(d);
	return killed;
}

/* Look at the pids handed out after `from`, again while that kills
 * something. */
static void sweep_from(pid_t from)
{
	for (int round = 0; round < 64; round++) {
		pid_t to = last_pid();
		bool killed = false;

		if (to < 0)
			return;
		if (to < from || to - from > RANGE_MAX) {
			killed = probe_proc();
		} else {
			for (pid_t p = from + 1; p <= to && p > 0; p++)
				killed |= probe(p, from);
		}
		if (!killed)
			return;
	}
}

/* Wait for the killed group to be gone. Its members become fi-run's
 * children as their parents die; one whose parent is elsewhere is not
 * fi-run's to reap, and after a second it is left. */
static void reap_group(pid_t pgid)
{
	struct timespec ms = {0, 1000000};

	for (int tries = 0; tries < 1000;) {
		if (waitpid(-pgid, NULL, 0) > 0 || errno == EINTR)
			continue;
		if (kill(-pgid, 0))
			return;
		nanosleep(&ms, NULL);
		tries++;
	}
}

/* The filed processes whose runs have all ended: killed now. */
static void kill_filed(bool all)
{
	unsigned long oldest = ULONG_MAX;

	for (size_t i = 0; i < nruns; i++)
		if (runs[i].n < oldest)
			oldest = runs[i].n;
	for (size_t i = 0; i < nlefts;) {
		struct left l = lefts[i];
		siginfo_t si;

		if (!all && l.upto >= oldest) {
			i++;
			continue;
		}
		lefts[i] = lefts[--nlefts];
		if (l.kept)
			fi__launch_keeper_drop(l.pid);
		si.si_pid = 0;
		/* Still fi-run's child, so still the same process. */
		if (waitid(P_PID, (id_t)l.pid, &si,
			   WEXITED | WNOHANG | WNOWAIT))
			continue;
		if (si.si_pid != l.pid)
			kill_left(l.pid, getpgid(l.pid), INT_MAX);
		else
			reap(l.pid);
		sweep_from(l.pid);
	}
}

void fi__reap_ended(pid_t run)
{
	ending = NULL;
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].pid == run) {
			ending = runs[i].report;
			runs[i] = runs[--nruns];
			break;
		}
	/* The pid is reaped; its group lives on while a member does. */
	if (!kill(-run, SIGKILL))
		reap_group(run);
	fi__launch_keeper_drop(run);
	if (!on)
		return;
	sweep_from(run);
	ending = NULL;
	if (nlefts)
		kill_filed(false);
}

void fi__reap_end(void)
{
	if (!on)
		return;
	kill_filed(true);
	sweep_from(first > 0 ? first : INT_MAX);
}

/* ---- in the keeper, once fi-run is gone ---- */

/* Whether /proc/PID/environ names fi-run: a run's FI_REPORT is one of
 * fi-run's memfds, /proc/FI_RUN/fd/N, and a process forked from the fork
 * server shows the server's environment, FI_FORKSERVER=R,W,FI_RUN. */
static bool names_fi_run(pid_t pid, pid_t fi_run)
{
	char report[48], server[24];
	size_t rl, sl, n;
	const char *env = environ_of(pid, &n);

	if (!env)
		return false;
	rl = (size_t)snprintf(report, sizeof(report), "FI_REPORT=/proc/%d/fd/",
			      (int)fi_run);
	sl = (size_t)snprintf(server, sizeof(server), ",%d", (int)fi_run);
	for (const char *s = env; s < env + n; s += strlen(s) + 1) {
		size_t l = strlen(s);

		if (!strncmp(s, report, rl))
			return true;
		if (!strncmp(s, "FI_FORKSERVER=", 14) && l >= sl &&
		    !strcmp(s + l - sl, server))
			return true;
	}
	return false;
}

void fi__reap_marked(pid_t fi_run)
{
	for (int round = 0; round < 8; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		bool killed = false;

		if (!d)
			return;
		while ((e = readdir(d))) {
			pid_t p = proc_pid(e->d_name);

			if (p && p != getpid() && names_fi_run(p, fi_run)) {
				kill(p, SIGKILL);
				killed = true;
			}
		}
		closedir(d);
		if (!killed)
			return;
	}
}
