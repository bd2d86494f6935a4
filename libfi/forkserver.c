/* forkserver.c: the sweep's runs forked from one started program (see
 * forkserver.h). Everything here is raw syscalls: the server waits
 * before libc's own constructor has run. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "forkserver.h"
#include "raw.h"

static int req_fd = -1, reply_fd = -1;
static long fi_run_pid;
static char request[FI_FORKSERVER_MAX];

static bool parse_num(const char **p, long *out)
{
	long v = 0;

	if (**p < '0' || **p > '9')
		return false;
	while (**p >= '0' && **p <= '9' && v < (1l << 40))
		v = v * 10 + (*(*p)++ - '0');
	*out = v;
	return true;
}

/* "REQ,REPLY,FI_RUN_PID": a server only when fi-run is the parent, so
 * that a process the run starts, which may inherit the variable before
 * libfi removes it, never takes itself for one. */
static bool parse_env(void)
{
	const char *p = getenv(FI_FORKSERVER_ENV);
	long r, w, pid;

	if (!p || !parse_num(&p, &r) || *p++ != ',' || !parse_num(&p, &w) ||
	    *p++ != ',' || !parse_num(&p, &pid) || *p)
		return false;
	if (pid != fi__raw0(SYS_getppid) || r > 65535 || w > 65535)
		return false;
	req_fd = (int)r;
	reply_fd = (int)w;
	fi_run_pid = pid;
	return true;
}

bool fi__forkserver_wanted(void)
{
	return parse_env();
}

static void reply(int32_t v)
{
	if (!fi__raw_write_all(reply_fd, &v, sizeof(v)))
		fi__raw1(SYS_exit_group, 0); /* fi-run is gone */
}

void fi__forkserver_refuse(void)
{
	if (parse_env())
		reply(0);
	fi__raw1(SYS_exit_group, 0);
}

/* In the run, before it has a stream of its own: say why it cannot
 * start, on whatever stderr it has, and end with fi's set-up status. */
static void die(const char *what, const char *path, long err)
{
	static const char head[] = "fi: fork server: cannot ";
	char num[24];
	int n = 0;

	err = -err;
	do
		num[sizeof(num) - 1 - n++] = (char)('0' + err % 10);
	while ((err /= 10) && n < 20);
	fi__raw_write_all(2, head, sizeof(head) - 1);
	fi__raw_write_all(2, what, strlen(what));
	fi__raw_write_all(2, path, strlen(path));
	fi__raw_write_all(2, ": errno ", 8);
	fi__raw_write_all(2, num + sizeof(num) - n, (unsigned long)n);
	fi__raw_write_all(2, "\n", 1);
	fi__raw1(SYS_exit_group, 125);
}

/* Open path as fd `to`, as posix_spawn's file actions would. */
static void open_as(int to, const char *path, int flags)
{
	long fd = fi__raw4(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		die("open ", path, fd);
	if (fd != to) {
		long r = fi__raw3(SYS_dup3, fd, to, 0);

		if (r < 0)
			die("set up the streams with ", path, r);
		fi__raw1(SYS_close, fd);
	}
}

/* The run's own set-up, in the order an exec'd run gets it. */
static void become_run(const char *const *f, void *robust, long robust_len)
{
	long r;

	/* _Fork does the same: the kernel gives a child no robust list. */
	fi__raw2(SYS_set_robust_list, robust, robust_len);
	fi__raw2(SYS_setpgid, 0, 0);
	r = fi__raw1(SYS_chdir, f[2]);
	if (r < 0)
		die("change to ", f[2], r);
	open_as(0, "/dev/null", O_RDONLY);
	open_as(1, f[3], O_WRONLY | O_CREAT | O_TRUNC);
	open_as(2, f[4], O_WRONLY | O_CREAT | O_TRUNC);
}

/* Split a request into its fields; false when it is malformed. */
static bool split(uint32_t len, const char **f)
{
	uint32_t at = 0;

	for (int i = 0; i < FI_FORKSERVER_FIELDS; i++) {
		const char *end = memchr(request + at, 0, len - at);

		if (at >= len || !end)
			return false;
		f[i] = request + at;
		at = (uint32_t)(end - request) + 1;
	}
	return at == len;
}

/* Read one request (length, then the fields) from fd. false at its end
 * or when it is too long. */
static bool read_request(int fd, uint32_t *len)
{
	return fi__raw_read_all(fd, len, sizeof(*len)) &&
	       *len <= sizeof(request) && fi__raw_read_all(fd, request, *len);
}

/* The next run's process, forked before its request comes, so that the
 * fork is off fi-run's path. It keeps none of the server's pipes (fi-run
 * sees the server's end as it happens) and waits on its own (in) for the
 * request the server has checked. It dies with fi-run from the start,
 * and ends when the server does (its pipe ends). */
static void wait_for_request(int in, void *robust, long robust_len,
			     struct fi__forkserver_run *run)
{
	const char *f[FI_FORKSERVER_FIELDS];
	uint32_t len;

	fi__raw1(SYS_close, req_fd);
	fi__raw1(SYS_close, reply_fd);
	/* fi-run is the parent; a run outliving it is killed. */
	fi__raw2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
	if (fi__raw0(SYS_getppid) != fi_run_pid || !read_request(in, &len) ||
	    !split(len, f))
		fi__raw1(SYS_exit_group, 0);
	fi__raw1(SYS_close, in);
	become_run(f, robust, robust_len);
	run->rules = f[0];
	run->report = f[1];
}

void fi__forkserver_serve(struct fi__forkserver_run *run)
{
	int *tid = NULL;
	void *robust = NULL;
	long robust_len = 0, next = 0;
	int to_next = -1;

	/* The child's thread id goes where glibc keeps it (pthread's tid,
	 * which set_tid_address named), as _Fork has the kernel do. */
	if (!parse_env() || fi__raw2(SYS_prctl, PR_GET_TID_ADDRESS, &tid) ||
	    !tid || fi__raw3(SYS_get_robust_list, 0, &robust, &robust_len)) {
		if (req_fd >= 0)
			reply(0);
		fi__raw1(SYS_exit_group, 0);
	}
	fi__raw2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
	if (fi__raw0(SYS_getppid) != fi_run_pid)
		fi__raw1(SYS_exit_group, 0);
	reply((int32_t)fi__raw0(SYS_getpid));
	for (;;) {
		const char *f[FI_FORKSERVER_FIELDS];
		uint32_t len;
		int p[2];

		if (next <= 0) {
			next = fi__raw2(SYS_pipe2, p, O_CLOEXEC);
			if (!next)
				next = fi__raw6(
					SYS_clone,
					CLONE_PARENT | CLONE_CHILD_SETTID |
						CLONE_CHILD_CLEARTID | SIGCHLD,
					0, 0, (long)tid, 0, 0);
			if (next == 0) {
				fi__raw1(SYS_close, p[1]);
				wait_for_request(p[0], robust, robust_len, run);
				return;
			}
			if (next > 0) {
				fi__raw1(SYS_close, p[0]);
				to_next = p[1];
			}
		}
		if (!read_request(req_fd, &len))
			fi__raw1(SYS_exit_group, 0);
		if (!split(len, f)) {
			reply(-EINVAL);
			continue;
		}
		if (next < 0) {
			reply((int32_t)next);
			continue;
		}
		if (!fi__raw_write_all(to_next, &len, sizeof(len)) ||
		    !fi__raw_write_all(to_next, request, len)) {
			reply(-EPIPE);
			fi__raw1(SYS_close, to_next);
			next = 0;
			continue;
		}
		fi__raw1(SYS_close, to_next);
		reply((int32_t)next);
		next = 0;
	}
}
