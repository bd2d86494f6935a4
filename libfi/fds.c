/* fds.c: fi's own file descriptors (the trace, the report): placed high,
 * hidden from the calls that close or replace fds, checked before every
 * write. dispatch routes close, close_range, dup2, dup3 and fcntl here
 * while fi owns an fd; trace.c and report.c write through fi__fds_write.
 *
 * Concurrency: a role's fd changes only when the program replaces it
 * (dup2/dup3 onto it) or took it away (then a writer reopens the file).
 * Writers announce themselves in `writers` before they load the fd; a
 * thread that moves the fd stores the new number, then waits (briefly,
 * bounded) for the writers that may hold the old one. */
#include "fds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sched.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jsonw.h"
#include "names.h"
#include "raw.h"

struct owned {
	int fd;	     /* -1: none, or given up */
	bool opened; /* the file was opened once */
	unsigned long dev, ino;
	int writers;	    /* threads between loading fd and writing */
	unsigned long lost; /* records not written, since the last report */
	int lost_err;	    /* why the first of them was lost */
	bool said;	    /* the loss was told on stderr */
	bool dead;	    /* the file could not be reopened: given up */
};

/* The paths apart from the rest: the checks read only the small fields,
 * and those of every role share a page. */
static struct owned owned[FI_FD_NROLES];
static char paths[FI_FD_NROLES][PATH_MAX];
static int nowned; /* roles opened: the guard is off while 0 */

static const char *const role_name[FI_FD_NROLES] = {
	[FI_FD_TRACE] = "trace",
	[FI_FD_REPORT] = "report",
};

/* The lowest number fi's fds take: FI_FDS_HEADROOM below the soft limit,
 * the limit counted as at most 1024 (a larger fd table costs every fork). */
static long high_base(void)
{
	struct rlimit rl;
	long top = 1024;

	if (fi__raw4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < top)
		top = (long)rl.rlim_cur;
	return top - FI_FDS_HEADROOM > 3 ? top - FI_FDS_HEADROOM : 3;
}

/* A close-on-exec duplicate of fd as high as the limit allows, or a
 * negative errno. Hook-safe. */
static long dup_high(long fd)
{
	long base = high_base(), r;

	r = fi__raw3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base);
	/* Every fd from base up is taken: take the highest free below. */
	for (long b = base - 1; r == -EMFILE && b >= 3; b -= FI_FDS_HEADROOM)
		r = fi__raw3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, b);
	return r;
}

static bool same_file(const struct owned *o, long fd)
{
	struct stat st;

	return fi__raw2(SYS_fstat, fd, &st) == 0 && st.st_dev == o->dev &&
	       st.st_ino == o->ino;
}

/* A live process holds a shared lock on the report (its fd, or the one a
 * fork shares), so that fi-run can tell, once the program has ended,
 * whether processes of it still run. Never waits (reopen runs in the
 * hook): fi-run's own exclusive lock lasts only while it tests. */
static void hold(enum fi__fd_role role, long fd)
{
	if (role == FI_FD_REPORT)
		fi__raw2(SYS_flock, fd, LOCK_SH | LOCK_NB);
}

int fi__fds_open(enum fi__fd_role role, const char *path, bool truncate,
		 bool rdwr)
{
	struct owned *o = &owned[role];
	int flags = (rdwr ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND | O_CLOEXEC;
	struct stat st;
	long fd, high;

	if (o->opened)
		return -EBUSY;
	if (strlen(path) >= sizeof(paths[role]))
		return -ENAMETOOLONG;
	fd = fi__raw4(SYS_openat, AT_FDCWD, path,
		      flags | (truncate ? O_TRUNC : 0), 0644);
	if (fd < 0)
		return (int)fd;
	high = dup_high(fd);
	fi__raw1(SYS_close, fd);
	if (high < 0)
		return (int)high;
	if (fi__raw2(SYS_fstat, high, &st) < 0) {
		fi__raw1(SYS_close, high);
		return -EBADF;
	}
	hold(role, high);
	strcpy(paths[role], path);
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->opened = true;
	__atomic_store_n(&o->fd, (int)high, __ATOMIC_RELEASE);
	__atomic_add_fetch(&nowned, 1, __ATOMIC_RELEASE);
	return 0;
}

bool fi__fds_opened(enum fi__fd_role role)
{
	return owned[role].opened;
}

/* Is fd still o's file? When the program took the number (io_uring's
 * close, or a way not guarded), forget it: the next write reopens the
 * file by its path. */
static bool still_mine(struct owned *o, long fd)
{
	if (same_file(o, fd))
		return true;
	__atomic_compare_exchange_n(&o->fd, &(int){(int)fd}, -1, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	return false;
}

static struct owned *owner_of(long fd)
{
	if (fd < 0 || !__atomic_load_n(&nowned, __ATOMIC_ACQUIRE))
		return NULL;
	for (int i = 0; i < FI_FD_NROLES; i++)
		if (__atomic_load_n(&owned[i].fd, __ATOMIC_ACQUIRE) ==
			    (int)fd &&
		    still_mine(&owned[i], fd))
			return &owned[i];
	return NULL;
}

bool fi__fds_owned(long fd)
{
	return owner_of(fd) != NULL;
}

bool fi__fds_guarded(long nr)
{
	return nr == SYS_close || nr == SYS_close_range || nr == SYS_dup2 ||
	       nr == SYS_dup3 || nr == SYS_fcntl;
}

/* Wait until no writer may still hold an old fd number. A signal handler
 * that moves the fd while its own thread is writing cannot wait for that
 * writer: the wait is bounded. */
static void wait_writers(struct owned *o)
{
	for (int i = 0;
	     i < 1000 && __atomic_load_n(&o->writers, __ATOMIC_ACQUIRE); i++)
		fi__raw0(SYS_sched_yield);
}

/* The program is about to put another file at o's fd number: move fi's
 * file elsewhere first. With no free fd left, fi gives the file up. */
static void move_away(struct owned *o)
{
	long old = __atomic_load_n(&o->fd, __ATOMIC_ACQUIRE), moved;

	if (old < 0)
		return;
	moved = dup_high(old);
	if (moved < 0 || moved == old) {
		__atomic_store_n(&o->fd, -1, __ATOMIC_RELEASE);
		if (!o->lost_err)
			o->lost_err = EMFILE;
		__atomic_store_n(&o->dead, true, __ATOMIC_RELEASE);
		wait_writers(o);
		return;
	}
	__atomic_store_n(&o->fd, (int)moved, __ATOMIC_RELEASE);
	wait_writers(o);
	/* The program's dup2 replaces `old` at once; should it fail, the
	 * number stays taken until then, which the program cannot tell from
	 * a closed fd (every call on it says EBADF). */
	fi__raw1(SYS_close, old);
}

/* close_range(first, last, flags) around fi's fds: the same fds closed
 * (or marked close-on-exec) as if fi's were not there. */
static long close_around(unsigned long first, unsigned long last,
			 unsigned long flags)
{
	long mine[FI_FD_NROLES];
	int n = 0;
	unsigned long from = first;
	long r = 0;
	bool unshared = !(flags & CLOSE_RANGE_UNSHARE);

	for (int i = 0; i < FI_FD_NROLES; i++) {
		long fd = __atomic_load_n(&owned[i].fd, __ATOMIC_ACQUIRE);
		if (fd >= 0 && (unsigned long)fd >= first &&
		    (unsigned long)fd <= last && still_mine(&owned[i], fd))
			mine[n++] = fd;
	}
	if (!n) /* none of them is fi's any more */
		return fi__raw3(SYS_close_range, first, last, flags);
	for (int i = 1; i < n; i++) /* sort the (at most two) fds */
		for (int j = i; j > 0 && mine[j - 1] > mine[j]; j--) {
			long t = mine[j];
			mine[j] = mine[j - 1];
			mine[j - 1] = t;
		}
	for (int i = 0; i <= n; i++) {
		unsigned long f = unshared ? flags & ~CLOSE_RANGE_UNSHARE
					   : flags;
		unsigned long to;

		if (i < n && (unsigned long)mine[i] == from) {
			from++;
			continue;
		}
		if (i == n && from > last)
			break;
		to = i < n ? (unsigned long)mine[i] - 1 : last;
		r = fi__raw3(SYS_close_range, from, to, f);
		if (r < 0)
			return r;
		unshared = true;
		if (i < n)
			from = (unsigned long)mine[i] + 1;
	}
	if (!unshared) /* the range held nothing but fi's fds */
		r = fi__raw1(SYS_unshare, CLONE_FILES);
	return r;
}

bool fi__fds_guard(long nr, const long *a, long *ret)
{
	if (!__atomic_load_n(&nowned, __ATOMIC_ACQUIRE))
		return false;
	switch (nr) {
	case SYS_close:
	case SYS_fcntl:
		if (!fi__fds_owned((int)a[0]))
			return false;
		*ret = -EBADF;
		return true;
	case SYS_dup2:
	case SYS_dup3:
		if (nr == SYS_dup3 &&
		    ((a[2] & ~O_CLOEXEC) || (int)a[0] == (int)a[1]))
			return false; /* EINVAL from the kernel */
		if (fi__fds_owned((int)a[0])) {
			*ret = -EBADF;
			return true;
		}
		{
			struct owned *o = owner_of((int)a[1]);
			if (o)
				move_away(o);
		}
		return false;
	case SYS_close_range: {
		unsigned long first = (unsigned int)a[0],
			      last = (unsigned int)a[1];
		unsigned long flags = (unsigned int)a[2];
		bool any = false;

		if (first > last ||
		    (flags & ~(unsigned long)(CLOSE_RANGE_UNSHARE |
					      CLOSE_RANGE_CLOEXEC)))
			return false;
		for (int i = 0; i < FI_FD_NROLES; i++) {
			long fd =
				__atomic_load_n(&owned[i].fd, __ATOMIC_ACQUIRE);
			any |= fd >= 0 && (unsigned long)fd >= first &&
			       (unsigned long)fd <= last;
		}
		if (!any)
			return false;
		*ret = close_around(first, last, flags);
		return true;
	}
	default:
		return false;
	}
}

/* Say once per process, on stderr, that records are lost, when no report
 * reaches fi-run (a plain FI_TRACE run). */
static void say_lost(struct owned *o, enum fi__fd_role role, int err)
{
	char msg[PATH_MAX + 160];
	size_t n = 0;
	const char *e = fi__names_errno(err);
	const char *parts[] = {"fi: pid ",
			       NULL,
			       ": the ",
			       role_name[role],
			       " ",
			       paths[o - owned],
			       " loses records from here on: ",
			       e ? e : "error",
			       "\n"};
	char pid[24];

	if (o->said ||
	    (role == FI_FD_TRACE && fi__fds_opened(FI_FD_REPORT) &&
	     __atomic_load_n(&owned[FI_FD_REPORT].fd, __ATOMIC_ACQUIRE) >= 0))
		return;
	o->said = true;
	fi__fmt_long(pid, fi__raw0(SYS_getpid));
	parts[1] = pid;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *p = parts[i]; *p && n < sizeof(msg) - 1; p++)
			msg[n++] = *p;
	fi__raw3(SYS_write, 2, msg, n);
}

static void count_lost(struct owned *o, enum fi__fd_role role, int err)
{
	int none = 0;

	__atomic_add_fetch(&o->lost, 1, __ATOMIC_RELAXED);
	__atomic_compare_exchange_n(&o->lost_err, &none, err, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	say_lost(o, role, __atomic_load_n(&o->lost_err, __ATOMIC_RELAXED));
}

/* The fd is gone or is another file now: reopen the file by its path if
 * it is still the same file. Returns the fd, or -1 (given up). */
static long reopen(struct owned *o, long seen)
{
	long fd = fi__raw4(SYS_openat, AT_FDCWD, paths[o - owned],
			   O_WRONLY | O_APPEND | O_CLOEXEC, 0),
	     high;

	if (fd < 0)
		return -1;
	high = dup_high(fd);
	fi__raw1(SYS_close, fd);
	if (high < 0 || !same_file(o, high)) {
		if (high >= 0)
			fi__raw1(SYS_close, high);
		return -1;
	}
	hold((enum fi__fd_role)(o - owned), high);
	/* Another writer may have reopened it first: keep one. */
	int cur = (int)seen;
	while (!__atomic_compare_exchange_n(&o->fd, &cur, (int)high, false,
					    __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE)) {
		if (cur >= 0 && same_file(o, cur)) {
			fi__raw1(SYS_close, high);
			return cur;
		}
	}
	return high;
}

/* Take role's fd for a call: announce a writer, check that the fd is
 * still the file (reopen it, or give up). Returns the fd, or -1 with *err
 * set; release() after, either way. */
static long acquire(struct owned *o, int *err)
{
	long fd;

	__atomic_add_fetch(&o->writers, 1, __ATOMIC_ACQ_REL);
	fd = __atomic_load_n(&o->fd, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&o->dead, __ATOMIC_ACQUIRE)) {
		*err = o->lost_err ? o->lost_err : EBADF;
		return -1;
	}
	if (fd < 0 || !same_file(o, fd)) {
		/* Never write into what is now the program's fd. */
		fd = reopen(o, fd);
		if (fd < 0) {
			__atomic_store_n(&o->dead, true, __ATOMIC_RELEASE);
			*err = EBADF;
			return -1;
		}
	}
	return fd;
}

static void release(struct owned *o)
{
	__atomic_sub_fetch(&o->writers, 1, __ATOMIC_ACQ_REL);
}

void fi__fds_write(enum fi__fd_role role, const char *buf, unsigned long len)
{
	struct owned *o = &owned[role];
	long fd;
	int err = 0;

	if (!o->opened)
		return;
	fd = acquire(o, &err);
	if (!err) {
		const char *p = buf;

		while (len) {
			long n = fi__raw3(SYS_write, fd, p, len);
			if (n == -EINTR)
				continue;
			if (n <= 0) {
				err = n < 0 ? (int)-n : EIO;
				break;
			}
			p += n;
			len -= (unsigned long)n;
		}
	}
	release(o);
	if (err)
		count_lost(o, role, err);
}

long fi__fds_call(enum fi__fd_role role, long nr, long a1, long a2, long a3)
{
	struct owned *o = &owned[role];
	long fd, r;
	int err = 0;

	if (!o->opened)
		return -EBADF;
	fd = acquire(o, &err);
	r = err ? -err : fi__raw4(nr, fd, a1, a2, a3);
	release(o);
	return r;
}

void fi__fds_lost(enum fi__fd_role role, int err)
{
	count_lost(&owned[role], role, err);
}

int fi__fds_fd(enum fi__fd_role role)
{
	return __atomic_load_n(&owned[role].fd, __ATOMIC_ACQUIRE);
}

unsigned long fi__fds_take_lost(enum fi__fd_role role, int *err)
{
	struct owned *o = &owned[role];

	*err = __atomic_load_n(&o->lost_err, __ATOMIC_RELAXED);
	return __atomic_exchange_n(&o->lost, 0, __ATOMIC_RELAXED);
}

void fi__fds_forked(void)
{
	for (int i = 0; i < FI_FD_NROLES; i++)
		__atomic_store_n(&owned[i].lost, 0, __ATOMIC_RELAXED);
}
