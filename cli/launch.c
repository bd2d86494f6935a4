/* launch.c: forks, sets the program's environment and execs it; the
 * parent relays signals and turns the child's end into fi-run's status.
 * An exec failure travels back through a close-on-exec pipe. Outside the
 * run, the same signals end fi-run after removing its scratch files.
 * fi__launch_spawn starts the sweep's runs: posix_spawn's cost, plus a
 * parent-death signal. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fi_run.h"
#include "reap.h"
#include "scratch.h"

static const int relayed[] = {SIGINT,  SIGTERM, SIGHUP,
			      SIGQUIT, SIGUSR1, SIGUSR2};
#define NRELAYED (sizeof(relayed) / sizeof(relayed[0]))

static volatile sig_atomic_t child_pid;
static struct sigaction old_actions[NRELAYED]; /* as fi-run found them */

static bool named(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && entry[n] == '=';
}

static char *pair(const char *name, const char *value)
{
	size_t n = strlen(name) + 1 + strlen(value) + 1;
	char *s = fi__util_xmalloc(n);

	snprintf(s, n, "%s=%s", name, value);
	return s;
}

/* Is `lib` (len bytes) one of the space-separated words of list? */
static bool listed(const char *list, const char *lib, size_t len)
{
	const char *p = list;

	while (*p) {
		size_t l;

		p += strspn(p, " :");
		l = strcspn(p, " :");
		if (l == len && !strncmp(p, lib, len))
			return true;
		p += l;
	}
	return false;
}

/* first + the entries of old (separated by spaces or colons, as ld.so
 * takes them) that first does not already name. */
static char *merge_preload(const char *first, const char *old)
{
	size_t n = strlen(first) + (old ? strlen(old) : 0) + 2;
	char *out = fi__util_xmalloc(n), *o;
	const char *p = old;

	o = out + snprintf(out, n, "%s", first);
	while (p && *p) {
		size_t l;

		p += strspn(p, " :");
		l = strcspn(p, " :");
		if (l && !listed(first, p, l)) {
			*o++ = ' ';
			memcpy(o, p, l);
			o += l;
		}
		p += l;
	}
	*o = '\0';
	return out;
}

char **fi__launch_make_env(char *const *base, const struct fi__launch_env *e)
{
	static const char *const owned[] = {
		"FI_SCENARIO", "FI_RULES",	  "FI_RULES_DIR",
		"FI_TRACE",    "FI_TRACE_APPEND", "FI_SITES",
	};
	const char *old_preload = NULL;
	size_t n = 0, k = 0, i;
	char **env;

	while (base[n])
		n++;
	env = fi__util_xmalloc((n + 13) * sizeof(*env));
	for (i = 0; i < n; i++) {
		const char *s = base[i];
		bool drop = false;

		for (size_t j = 0; j < sizeof(owned) / sizeof(owned[0]); j++)
			drop |= named(s, owned[j]);
		drop |= e->seed && named(s, "FI_SEED");
		drop |= e->debug && named(s, "FI_DEBUG");
		drop |= e->report && named(s, "FI_REPORT");
		drop |= e->audit && named(s, "LD_AUDIT");
		drop |= e->tunables && named(s, "GLIBC_TUNABLES");
		if (e->preload && named(s, "LD_PRELOAD")) {
			old_preload = s + strlen("LD_PRELOAD=");
			drop = true;
		}
		if (!drop)
			env[k++] = (char *)s;
	}
	if (e->preload) {
		char *merged = merge_preload(e->preload, old_preload);

		env[k++] = pair("LD_PRELOAD", merged);
		free(merged);
	}
	if (e->scenario)
		env[k++] = pair("FI_SCENARIO", e->scenario);
	if (e->rules) {
		/* A relative redirect= in -r resolves against this directory,
		 * also in children that chdir and exec. */
		char *cwd = getcwd(NULL, 0);

		env[k++] = pair("FI_RULES", e->rules);
		if (cwd)
			env[k++] = pair("FI_RULES_DIR", cwd);
		free(cwd);
	}
	if (e->sites)
		env[k++] = pair("FI_SITES", e->sites);
	if (e->trace)
		env[k++] = pair("FI_TRACE", e->trace);
	if (e->seed)
		env[k++] = pair("FI_SEED", e->seed);
	if (e->debug)
		env[k++] = pair("FI_DEBUG", e->debug);
	if (e->report)
		env[k++] = pair("FI_REPORT", e->report);
	if (e->audit)
		env[k++] = pair("LD_AUDIT", e->audit);
	if (e->tunables)
		env[k++] = pair("GLIBC_TUNABLES", e->tunables);
	env[k] = NULL;
	return env;
}

/* While the program runs, relay a signal someone sent to fi-run. One the
 * terminal generated (SI_KERNEL) reached the child's process group
 * already: sending it again would deliver it twice. Before and after the
 * run, the signal ends fi-run as it would have, without its scratch
 * files. */
static void relay(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;

	(void)ctx;
	if (child_pid > 0) {
		if (si->si_code != SI_KERNEL)
			kill(child_pid, sig);
		errno = saved;
		return;
	}
	fi__scratch_remove_all();
	signal(sig, SIG_DFL);
	raise(sig); /* delivered when the handler returns */
	errno = saved;
}

void fi__launch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = relay;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NRELAYED; i++) {
		sigaction(relayed[i], NULL, &old_actions[i]);
		/* A signal fi-run was started ignoring stays ignored. */
		if (old_actions[i].sa_handler != SIG_IGN)
			sigaction(relayed[i], &sa, NULL);
	}
}

/* Frees what fi__launch_make_env allocated: the entries not from base. */
void fi__launch_free_env(char **env, char *const *base)
{
	for (size_t i = 0; env[i]; i++) {
		bool shared = false;

		for (size_t j = 0; base[j] && !shared; j++)
			shared = env[i] == base[j];
		if (!shared)
			free(env[i]);
	}
	free(env);
}

int fi__launch_run(const char *path, char *const *argv, char *const *envp,
		   const char *shown, bool *ran)
{
	sigset_t block, oldmask;
	int pipefd[2], status, err = 0;
	pid_t pid;
	ssize_t n;
	size_t i;

	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		fi__util_error("pipe: %s", strerror(errno));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	fflush(NULL);

	/* Block the relayed signals until the child's pid is known. */
	sigemptyset(&block);
	for (i = 0; i < NRELAYED; i++)
		sigaddset(&block, relayed[i]);
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	pid_t parent = getpid();

	pid = fork();
	if (pid < 0) {
		err = errno;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		fi__util_error("fork: %s", strerror(err));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	if (pid == 0) {
		for (i = 0; i < NRELAYED; i++)
			sigaction(relayed[i], &old_actions[i], NULL);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		close(pipefd[0]);
		/* fi-run killed, even with SIGKILL, which it cannot relay:
		 * the program goes too (a parent-death signal survives exec).
		 * fi-run may already be gone when it is set. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 &&
		    getppid() != parent)
			_exit(FI_RUN_EXIT_CANNOT_RUN);
		execve(path, argv, envp);
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0) {
			/* nothing more to say */
		}
		_exit(FI_RUN_EXIT_CANNOT_RUN);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	close(pipefd[1]);
	do
		n = read(pipefd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fi__util_error("waitpid: %s", strerror(errno));
			return FI_RUN_EXIT_CANNOT_RUN;
		}
	}
	child_pid = 0;

	*ran = n != (ssize_t)sizeof(err);
	if (!*ran) {
		fi__util_error("%s: %s", shown, strerror(err));
		return err == ENOENT ? FI_RUN_EXIT_NOT_FOUND
				     : FI_RUN_EXIT_CANNOT_RUN;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- fi__launch_spawn: clone(CLONE_VM | CLONE_VFORK), then exec ----
 *
 *   fi-run                         child (fi-run's memory, own stack)
 *   block every signal
 *   clone(VM|VFORK) ----------->   handlers to SIG_DFL, setpgid(0, 0)
 *     (suspended)                  PR_SET_PDEATHSIG SIGKILL
 *                                  fds 0 1 2, chdir, the run's mask
 *                                  execve ------> the run
 *   <----------- resumes at exec (or at _exit, s->failed set)
 *   restore the mask
 *
 * The child writes only into *s and its own stack: both are fi-run's
 * memory, which it shares until execve. */

static char spawn_stack[64 * 1024] __attribute__((aligned(16)));

/* The child runs on spawn_stack, which ASan knows as a global: none of
 * its frames are instrumented. */
#define CHILD_SIDE __attribute__((no_sanitize_address))

struct spawn_arg {
	struct fi__launch_spawn *s;
	pid_t parent;
};

CHILD_SIDE static int spawn_fail(struct fi__launch_spawn *s, const char *step)
{
	s->error = errno;
	s->failed = step;
	_exit(127);
}

/* Open path as fd `to`. 0, or -1. */
CHILD_SIDE static int open_as(const char *path, int flags, int to)
{
	int fd = open(path, flags, 0600);

	if (fd < 0)
		return -1;
	if (fd != to) {
		if (dup2(fd, to) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

CHILD_SIDE static int spawn_child(void *p)
{
	struct spawn_arg *a = p;
	struct fi__launch_spawn *s = a->s;
	struct sigaction dfl;

	/* A handler of fi-run's would run on fi-run's memory: none may run
	 * here. Every signal is blocked until the last step, and the
	 * handled ones go back to their default (exec would do so too). */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, NULL, &old) || old.sa_handler == SIG_IGN ||
		    old.sa_handler == SIG_DFL)
			continue;
		sigaction(sig, &dfl, NULL);
	}
	if (setpgid(0, 0))
		return spawn_fail(s, "setpgid");
	/* fi-run may be gone already when the signal is set. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != a->parent) {
		errno = ESRCH;
		return spawn_fail(s, "prctl(PR_SET_PDEATHSIG)");
	}
	if (open_as(s->in, O_RDONLY, 0))
		return spawn_fail(s, s->in);
	if (open_as(s->out, O_WRONLY | O_CREAT | O_TRUNC, 1))
		return spawn_fail(s, s->out);
	if (open_as(s->err, O_WRONLY | O_CREAT | O_TRUNC, 2))
		return spawn_fail(s, s->err);
	if (chdir(s->dir))
		return spawn_fail(s, s->dir);
	sigprocmask(SIG_SETMASK, s->mask, NULL);
	execve(s->path, s->argv, s->envp);
	return spawn_fail(s, "execve");
}

pid_t fi__launch_spawn(struct fi__launch_spawn *s)
{
	struct spawn_arg a = {s, getpid()};
	sigset_t all, old;
	pid_t pid;
	int saved;

	s->failed = NULL;
	s->error = 0;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(spawn_child, spawn_stack + sizeof(spawn_stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		s->failed = "clone";
		s->error = saved;
		return -1;
	}
	if (s->failed) {
		/* It ended without exec: reap it. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	return pid;
}

/* ---- the keeper ----
 *
 *   fi-run --(+pgid when a run starts, -pgid when its group is gone,
 *             0 at the end)--> keeper (socketpair, one int32 each)
 *   fi-run dies: the keeper reads EOF and kills every group listed,
 *   then every process whose environment names fi-run (reap.c).
 *
 * The keeper has a process group of its own, so that a kill of fi-run's
 * group (a CI job's timeout) leaves it to clean up; it blocks every
 * signal, so that only SIGKILL ends it. */

#define KEEPER_MAX 4096 /* groups listed at once: -j is far below */

static int keeper_fd = -1;
static pid_t keeper_pid;

static void keeper_main(int fd, pid_t fi_run)
{
	static pid_t groups[KEEPER_MAX];
	size_t n = 0;
	int32_t v;
	int null = open("/dev/null", O_RDWR);

	sigset_t all;

	/* No signal but SIGKILL ends the keeper, and none runs one of
	 * fi-run's handlers (relay) here. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setpgid(0, 0);
	/* fi-run's stdout may be a pipe someone reads to its end. */
	for (int i = 0; i < 3 && null >= 0; i++)
		dup2(null, i);
	for (;;) {
		ssize_t r = read(fd, &v, sizeof(v));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(v))
			break; /* fi-run is gone */
		if (v == 0)
			_exit(0);
		if (v > 0 && n < KEEPER_MAX) {
			groups[n++] = v;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (groups[i] == -v) {
				groups[i] = groups[--n];
				break;
			}
	}
	for (size_t i = 0; i < n; i++)
		kill(-groups[i], SIGKILL);
	fi__reap_marked(fi_run);
	_exit(0);
}

int fi__launch_keeper_start(void)
{
	int sv[2];
	pid_t pid, fi_run = getpid();

	if (keeper_fd >= 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[1]);
		keeper_main(sv[0], fi_run);
	}
	close(sv[0]);
	keeper_fd = sv[1];
	keeper_pid = pid;
	fi__reap_spare(pid);
	atexit(fi__launch_keeper_stop);
	return 0;
}

static void keeper_send(int32_t v)
{
	if (keeper_fd >= 0 && send(keeper_fd, &v, sizeof(v), MSG_NOSIGNAL) !=
				      (ssize_t)sizeof(v)) {
		/* the keeper is gone: runs still die by their own signal */
	}
}

void fi__launch_keeper_add(pid_t pgid)
{
	keeper_send((int32_t)pgid);
}

void fi__launch_keeper_drop(pid_t pgid)
{
	keeper_send(-(int32_t)pgid);
}

void fi__launch_keeper_stop(void)
{
	if (keeper_fd < 0)
		return;
	keeper_send(0);
	close(keeper_fd);
	keeper_fd = -1;
	while (waitpid(keeper_pid, NULL, 0) < 0 && errno == EINTR)
		;
}
