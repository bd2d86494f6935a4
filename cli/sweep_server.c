/* sweep_server.c: fi-run's side of the fork server (libfi/forkserver.h).
 * The program is started once, stopped by libfi after the patching and
 * before its first constructor; each run is then a fork of it, a child
 * of fi-run's own, instead of an exec, a dynamic link and a libfi start.
 * When the server cannot start (no early start, FI_FORK_SERVER=0, an
 * argument with {}), every run is exec'd as before. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkserver.h"
#include "reap.h"
#include "sweep.h"

extern char **environ;

struct fi__sweep_server {
	pid_t pid;
	int req, reply; /* fi-run's ends */
	bool answered;	/* its first reply was read: it serves */
};

/* How long a server may take to answer: its start (the program's
 * dynamic link and libfi's patching), or one fork. */
#define SERVER_WAIT_MS 30000

static bool read_reply(struct fi__sweep_server *s, int32_t *v)
{
	size_t got = 0;

	while (got < sizeof(*v)) {
		struct pollfd p = {.fd = s->reply, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, SERVER_WAIT_MS) <= 0)
			return false;
		n = read(s->reply, (char *)v + got, sizeof(*v) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* The server's environment: the runs' own without what differs per run
 * (rules, report, trace: they come with each request), and the pipe. */
static char **server_env(const struct fi__sweep_exec *x, int req, int reply,
			 char ***made)
{
	static const char *const per_run[] = {
		"FI_RULES=", "FI_REPORT=",	 "FI_REPORT_APPEND=",
		"FI_TRACE=", "FI_TRACE_APPEND=", FI_FORKSERVER_ENV "=",
	};
	struct fi__launch_env e = *x->env;
	char **envp, **v;
	size_t n = 0, k = 0;

	e.rules = e.report = e.trace = NULL;
	envp = fi__launch_make_env(environ, &e);
	while (envp[n])
		n++;
	v = fi__util_xmalloc((n + 2) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		bool drop = false;

		for (size_t d = 0; d < sizeof(per_run) / sizeof(*per_run); d++)
			drop |= !strncmp(envp[i], per_run[d],
					 strlen(per_run[d]));
		if (!drop)
			v[k++] = envp[i];
	}
	v[k] = fi__util_xmalloc(64);
	snprintf(v[k++], 64, FI_FORKSERVER_ENV "=%d,%d,%d", req, reply,
		 (int)getpid());
	v[k] = NULL;
	*made = envp; /* its strings: freed with it, after the spawn */
	return v;
}

struct fi__sweep_server *fi__sweep_server_start(const struct fi__sweep_exec *x,
						const sigset_t *mask)
{
	const char *off = getenv("FI_FORK_SERVER");
	struct fi__sweep_server *s;
	int req[2], reply[2], rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char **envp, **made, *err_path;
	if ((off && !strcmp(off, "0")) || !x->env->audit)
		return NULL;
	for (size_t i = 0; x->argv[i]; i++)
		if (strstr(x->argv[i], "{}"))
			return NULL;
	if (pipe2(req, O_CLOEXEC))
		return NULL;
	if (pipe2(reply, O_CLOEXEC)) {
		close(req[0]);
		close(req[1]);
		return NULL;
	}
	s = fi__util_xmalloc(sizeof(*s));
	s->req = req[1];
	s->reply = reply[0];
	envp = server_env(x, req[0], reply[1], &made);
	err_path = fi__util_xmalloc(strlen(x->root) + 16);
	sprintf(err_path, "%s/server-err", x->root);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err_path,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	/* dup2 onto itself clears close-on-exec: the server keeps its ends */
	posix_spawn_file_actions_adddup2(&fa, req[0], req[0]);
	posix_spawn_file_actions_adddup2(&fa, reply[1], reply[1]);
	posix_spawn_file_actions_addchdir_np(&fa, x->root);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					      POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, mask);
	rc = posix_spawn(&s->pid, x->t->path, &fa, &at, x->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(req[0]);
	close(reply[1]);
	for (size_t i = 0; envp[i]; i++)
		if (!envp[i + 1])
			free(envp[i]); /* FI_FORKSERVER=, the last */
	free(envp);
	fi__launch_free_env(made, environ);
	free(err_path);
	if (rc) {
		if (x->verbose)
			fprintf(stderr,
				"fi-run: sweep: no fork server (%s); every run is exec'd\n",
				strerror(rc));
		close(s->req);
		close(s->reply);
		free(s);
		return NULL;
	}
	s->answered = false;
	fi__reap_spare(s->pid); /* its group holds the next run, waiting */
	return s;
}

bool fi__sweep_server_ready(struct fi__sweep_server *s, bool verbose)
{
	int32_t ready = 0;
	bool ok;

	if (s->answered)
		return true;
	ok = read_reply(s, &ready) && ready > 0;
	if (verbose && ok)
		fprintf(stderr,
			"fi-run: sweep: runs are forked from a fork server (pid %d)\n",
			(int)s->pid);
	else if (verbose)
		fprintf(stderr,
			"fi-run: sweep: no fork server (%s); every run is exec'd\n",
			ready == 0
				? "the program cannot be stopped before its constructors"
				: "it did not answer");
	s->answered = ok;
	return ok;
}

/* Write all of buf; SIGPIPE (a server gone) is kept pending and taken,
 * never delivered: fi-run sees EPIPE. */
static bool write_all(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old;
	bool ok = true;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			struct timespec zero = {0, 0};

			if (errno == EPIPE)
				sigtimedwait(&pipe_set, NULL, &zero);
			ok = false;
			break;
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

pid_t fi__sweep_server_fork(struct fi__sweep_server *s, const char *rules,
			    const char *report, const char *work,
			    const char *out, const char *err)
{
	const char *f[FI_FORKSERVER_FIELDS] = {rules ? rules : "", report, work,
					       out, err};
	size_t len = 0, at = sizeof(uint32_t);
	char *msg;
	int32_t pid;
	bool ok;

	for (size_t i = 0; i < FI_FORKSERVER_FIELDS; i++)
		len += strlen(f[i]) + 1;
	if (len > FI_FORKSERVER_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	msg = fi__util_xmalloc(at + len);
	*(uint32_t *)msg = (uint32_t)len;
	for (size_t i = 0; i < FI_FORKSERVER_FIELDS; i++) {
		size_t n = strlen(f[i]) + 1;

		memcpy(msg + at, f[i], n);
		at += n;
	}
	ok = write_all(s->req, msg, at) && read_reply(s, &pid);
	free(msg);
	if (!ok) {
		errno = EPIPE;
		return -1;
	}
	if (pid <= 0) {
		errno = pid < 0 ? -pid : EPROTO;
		return -1;
	}
	/* The run makes its own group too; whichever comes first, the group
	 * exists before fi-run may kill it (a parent may set its child's). */
	setpgid(pid, pid);
	return pid;
}

void fi__sweep_server_stop(struct fi__sweep_server *s)
{
	if (!s)
		return;
	close(s->req); /* the server ends on this */
	close(s->reply);
	/* The server and the run it forked ahead, which waits for its
	 * request in the server's group: both are fi-run's children. */
	kill(-s->pid, SIGKILL);
	while (waitpid(-s->pid, NULL, 0) > 0 || errno == EINTR)
		;
	free(s);
}
