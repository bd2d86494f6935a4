/* sweep_errnos.c: the one table of which errnos the sweep injects at a
 * site of each syscall, most plausible first (docs/sweep.md, "The errno
 * table"), and the conditions under which the arguments of the call rule
 * one out. Each list keeps to errors that a real machine produces for
 * the call: the man page's, checked against what the kernel's code
 * returns (a man page lists EINTR for dup2, which the kernel never
 * returns; sendfile(2) omits the ENOSPC of its write side, which a full
 * disk gives). The failures are a full or failing disk, a missing or
 * forbidden file, an exhausted fd table, a signal, a dead peer.
 *
 * A syscall not listed is never swept. Left out on purpose:
 *  - calls that cannot fail in practice (getpid, exit_group, munmap);
 *  - brk, whose raw result on failure is the old break, not -ENOMEM (an
 *    injected -ENOMEM would read as a success and break malloc, a false
 *    alarm);
 *  - ioctl, whose ENOTTY is the ordinary answer of isatty() on a file:
 *    failing it changes output formats, not error paths;
 *  - futex, rt_sigaction, rt_sigprocmask and the other calls of libc's
 *    own machinery, which no program's error path answers;
 *  - getdents64's ENOENT: the kernel gives it only for a directory that
 *    was removed, so empty, and glibc's readdir reads it as the end of
 *    the directory, as POSIX asks (failing a full one made tar archive
 *    it empty, a false "ignored").
 * Every name here is checked against fi's syscall and errno tables by
 * test/sweep (sweep.errno_table); the conditions by sweep.plan_unit. */
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>

#include "sweep_errnos.h"

/* clang-format off */
const struct fi__sweep_errno_row fi__sweep_errno_table[] = {
	/* files: reading and writing */
	{ "read",            { "EIO", "EINTR" } },
	{ "readv",           { "EIO", "EINTR" } },
	{ "pread64",         { "EIO", "EINTR" } },
	{ "preadv",          { "EIO", "EINTR" } },
	{ "preadv2",         { "EIO", "EINTR" } },
	{ "write",           { "ENOSPC", "EIO", "EINTR" } },
	{ "writev",          { "ENOSPC", "EIO", "EINTR" } },
	{ "pwrite64",        { "ENOSPC", "EIO", "EINTR" } },
	{ "pwritev",         { "ENOSPC", "EIO", "EINTR" } },
	{ "pwritev2",        { "ENOSPC", "EIO", "EINTR" } },
	{ "copy_file_range", { "ENOSPC", "EIO", "EXDEV", "ENOSYS" } },
	{ "sendfile",        { "ENOSPC", "EIO", "EINTR" } },
	{ "fsync",           { "EIO", "ENOSPC" } },
	{ "fdatasync",       { "EIO", "ENOSPC" } },
	{ "ftruncate",       { "EIO", "EFBIG" } },
	{ "truncate",        { "EIO", "EACCES" } },
	{ "fallocate",       { "ENOSPC", "EIO" } },
	{ "close",           { "EIO", "ENOSPC" } },
	{ "getdents64",      { "EIO" } },
	/* files: names */
	{ "open",            { "ENOENT", "EACCES", "EMFILE" } },
	{ "openat",          { "ENOENT", "EACCES", "EMFILE" } },
	{ "openat2",         { "ENOENT", "EACCES", "EMFILE" } },
	{ "creat",           { "EACCES", "ENOSPC", "EMFILE" } },
	{ "stat",            { "ENOENT", "EACCES" } },
	{ "lstat",           { "ENOENT", "EACCES" } },
	{ "newfstatat",      { "ENOENT", "EACCES", "EIO" } },
	{ "statx",           { "ENOENT", "EACCES", "EIO" } },
	{ "fstat",           { "EIO" } },
	{ "statfs",          { "EIO", "ENOSYS" } },
	{ "fstatfs",         { "EIO", "ENOSYS" } },
	{ "access",          { "ENOENT", "EACCES" } },
	{ "faccessat",       { "ENOENT", "EACCES" } },
	{ "faccessat2",      { "ENOENT", "EACCES" } },
	{ "readlink",        { "ENOENT", "EACCES" } },
	{ "readlinkat",      { "ENOENT", "EACCES" } },
	{ "mkdir",           { "EACCES", "ENOSPC", "EEXIST" } },
	{ "mkdirat",         { "EACCES", "ENOSPC", "EEXIST" } },
	{ "rmdir",           { "EACCES", "EBUSY" } },
	{ "unlink",          { "EACCES", "ENOENT", "EIO" } },
	{ "unlinkat",        { "EACCES", "ENOENT", "EIO" } },
	{ "rename",          { "EACCES", "ENOSPC", "EXDEV" } },
	{ "renameat",        { "EACCES", "ENOSPC", "EXDEV" } },
	{ "renameat2",       { "EACCES", "ENOSPC", "EXDEV" } },
	{ "link",            { "EACCES", "ENOSPC" } },
	{ "linkat",          { "EACCES", "ENOSPC" } },
	{ "symlink",         { "EACCES", "ENOSPC" } },
	{ "symlinkat",       { "EACCES", "ENOSPC" } },
	{ "chdir",           { "ENOENT", "EACCES" } },
	{ "fchdir",          { "EACCES" } },
	{ "getcwd",          { "ENOENT" } },
	{ "chmod",           { "EPERM", "EROFS" } },
	{ "fchmod",          { "EPERM", "EROFS" } },
	{ "fchmodat",        { "EPERM", "EROFS" } },
	{ "chown",           { "EPERM" } },
	{ "fchown",          { "EPERM" } },
	{ "fchownat",        { "EPERM" } },
	{ "lchown",          { "EPERM" } },
	{ "utimensat",       { "EACCES", "EPERM" } },
	{ "flock",           { "EINTR", "ENOLCK" } },
	/* descriptors */
	{ "dup",             { "EMFILE" } },
	{ "dup2",            { "EBUSY" } },
	{ "dup3",            { "EBUSY" } },
	{ "pipe",            { "EMFILE", "ENFILE" } },
	{ "pipe2",           { "EMFILE", "ENFILE" } },
	{ "eventfd2",        { "EMFILE" } },
	{ "timerfd_create",  { "EMFILE" } },
	{ "signalfd4",       { "EMFILE" } },
	{ "memfd_create",    { "EMFILE", "ENOMEM" } },
	{ "inotify_init1",   { "EMFILE" } },
	{ "inotify_add_watch", { "ENOSPC" } },
	{ "epoll_create1",   { "EMFILE", "ENOMEM" } },
	{ "epoll_ctl",       { "ENOMEM", "ENOSPC" } },
	{ "epoll_wait",      { "EINTR" } },
	{ "epoll_pwait",     { "EINTR" } },
	{ "poll",            { "EINTR", "ENOMEM" } },
	{ "ppoll",           { "EINTR", "ENOMEM" } },
	{ "select",          { "EINTR", "ENOMEM" } },
	{ "pselect6",        { "EINTR", "ENOMEM" } },
	/* memory */
	{ "mmap",            { "ENOMEM" } },
	{ "mremap",          { "ENOMEM" } },
	{ "mprotect",        { "ENOMEM", "EACCES" } },
	/* processes */
	{ "clone",           { "EAGAIN", "ENOMEM" } },
	{ "clone3",          { "EAGAIN", "ENOMEM" } },
	{ "fork",            { "EAGAIN", "ENOMEM" } },
	{ "vfork",           { "EAGAIN", "ENOMEM" } },
	{ "execve",          { "ENOENT", "EACCES", "E2BIG" } },
	{ "execveat",        { "ENOENT", "EACCES", "E2BIG" } },
	{ "wait4",           { "EINTR" } },
	{ "waitid",          { "EINTR" } },
	{ "kill",            { "EPERM" } },
	{ "nanosleep",       { "EINTR" } },
	{ "clock_nanosleep", { "EINTR" } },
	{ "getrandom",       { "EAGAIN", "ENOSYS" } },
	{ "setuid",          { "EPERM", "EAGAIN" } },
	{ "setgid",          { "EPERM" } },
	{ "setresuid",       { "EPERM", "EAGAIN" } },
	{ "setresgid",       { "EPERM" } },
	{ "setgroups",       { "EPERM" } },
	/* network */
	{ "socket",          { "EMFILE", "EACCES", "ENOBUFS" } },
	{ "socketpair",      { "EMFILE" } },
	{ "connect",         { "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH", "EINTR" } },
	{ "bind",            { "EADDRINUSE", "EACCES" } },
	{ "listen",          { "EADDRINUSE" } },
	{ "accept",          { "EMFILE", "ECONNABORTED", "EINTR" } },
	{ "accept4",         { "EMFILE", "ECONNABORTED", "EINTR" } },
	{ "sendto",          { "EPIPE", "ECONNRESET", "ENOBUFS", "EINTR" } },
	{ "sendmsg",         { "EPIPE", "ECONNRESET", "ENOBUFS", "EINTR" } },
	{ "sendmmsg",        { "EPIPE", "ECONNRESET", "EINTR" } },
	{ "recvfrom",        { "ECONNRESET", "EINTR", "EAGAIN" } },
	{ "recvmsg",         { "ECONNRESET", "EINTR", "EAGAIN" } },
	{ "recvmmsg",        { "ECONNRESET", "EINTR" } },
	{ "shutdown",        { "ENOTCONN" } },
};
/* clang-format on */

const size_t fi__sweep_errno_rows =
	sizeof(fi__sweep_errno_table) / sizeof(fi__sweep_errno_table[0]);

const char *const *fi__sweep_errnos(const char *syscall)
{
	for (size_t i = 0; i < fi__sweep_errno_rows; i++)
		if (!strcmp(fi__sweep_errno_table[i].syscall, syscall))
			return fi__sweep_errno_table[i].errnos;
	return NULL;
}

bool fi__sweep_transient(const char *err)
{
	return !strcmp(err, "EINTR") || !strcmp(err, "EAGAIN");
}

/* ---- errnos the arguments rule out ----
 * Each condition says when the kernel can return the errno, from the
 * arguments of the site's first call in the discovery run (the call the
 * fault fails). A call made with other arguments later is not looked
 * at: the fault is on the first occurrence. */

static bool threaded(const struct fi__sweep_call *c)
{
	/* dup2/dup3 EBUSY: only in a race with an open(2) or dup() of
	 * another thread (the fd is allocated but not yet installed).
	 * EMFILE and EBADF cannot come for an fd the call just got: a
	 * target at or past RLIMIT_NOFILE gives EBADF, and a call that
	 * succeeded had its fds right. */
	return c->threaded;
}

static bool nonblock_random(const struct fi__sweep_call *c)
{
	/* getrandom EAGAIN: only with GRND_NONBLOCK. */
	return c->args[2] & GRND_NONBLOCK;
}

static bool wait4_blocks(const struct fi__sweep_call *c)
{
	/* wait4 EINTR: "WNOHANG was not set and ... a signal was caught". */
	return !((int)c->args[2] & WNOHANG);
}

static bool waitid_blocks(const struct fi__sweep_call *c)
{
	return !((int)c->args[3] & WNOHANG);
}

static bool flock_waits(const struct fi__sweep_call *c)
{
	/* flock EINTR: only while waiting for a lock, so not with
	 * LOCK_NB, and not for LOCK_UN. */
	int op = (int)c->args[1];

	return (op & (LOCK_SH | LOCK_EX)) && !(op & LOCK_NB);
}

static bool flock_locks(const struct fi__sweep_call *c)
{
	/* flock ENOLCK: a lock record is allocated to take a lock. */
	return (int)c->args[1] & (LOCK_SH | LOCK_EX);
}

static bool epoll_adds(const struct fi__sweep_call *c)
{
	/* epoll_ctl ENOSPC (max_user_watches) and ENOMEM: only
	 * EPOLL_CTL_ADD registers, and allocates, an item. */
	return (int)c->args[1] == EPOLL_CTL_ADD;
}

static bool prot_needs_access(const struct fi__sweep_call *c)
{
	/* mprotect EACCES: write access to a file opened read-only, or
	 * exec on a noexec mount; asking for less cannot be refused. */
	return c->args[2] & (PROT_WRITE | PROT_EXEC);
}

static bool grows(const struct fi__sweep_call *c)
{
	/* ftruncate EFBIG: a length past the largest file; 0 never is. */
	return c->args[1] > 0;
}

static bool other_process(const struct fi__sweep_call *c)
{
	/* kill EPERM: a process may always signal itself, and pid 0 is
	 * its own group, itself included. */
	return c->args[0] != 0 && c->args[0] != c->pid;
}

static bool poll_sleeps(const struct fi__sweep_call *c)
{
	/* poll, epoll_wait EINTR: a zero timeout returns before the
	 * signal check. */
	return (int)c->args[2] != 0;
}

static bool epoll_sleeps(const struct fi__sweep_call *c)
{
	return (int)c->args[3] != 0;
}

static bool poll_allocates(const struct fi__sweep_call *c)
{
	/* poll ENOMEM: the kernel keeps up to 30 pollfds on its stack
	 * (POLL_STACK_ALLOC, 256 bytes) and allocates only past them. */
	return (unsigned long long)c->args[1] > 30;
}

static bool select_allocates(const struct fi__sweep_call *c)
{
	/* select ENOMEM: six fd bitmaps fit the kernel's 256-byte stack
	 * buffer (SELECT_STACK_ALLOC) up to nfds 320. */
	return (int)c->args[0] > 320;
}

static bool looks_up_path(const struct fi__sweep_call *c, int flags_arg)
{
	/* newfstatat/statx ENOENT, EACCES: only a path lookup. glibc's
	 * fstat is newfstatat(fd, "", AT_EMPTY_PATH), which looks up
	 * nothing. */
	return !(c->args[flags_arg] & AT_EMPTY_PATH) || !c->path || c->path[0];
}

static bool stat_looks_up(const struct fi__sweep_call *c)
{
	return looks_up_path(c, 3);
}

static bool statx_looks_up(const struct fi__sweep_call *c)
{
	return looks_up_path(c, 2);
}

static bool not_pipe_or_socket(const struct fi__sweep_call *c)
{
	/* ENOSPC and EIO come from storage (or a terminal's hangup): a
	 * pipe or a socket never gives them. c->path is the fd's, as the
	 * trace saw it. */
	return !c->path ||
	       (strncmp(c->path, "pipe:", 5) && strncmp(c->path, "socket:", 7));
}

/* clang-format off */
const struct fi__sweep_errno_condition fi__sweep_errno_conditions[] = {
	{ "dup2",        "EBUSY",  threaded },
	{ "dup3",        "EBUSY",  threaded },
	{ "getrandom",   "EAGAIN", nonblock_random },
	{ "wait4",       "EINTR",  wait4_blocks },
	{ "waitid",      "EINTR",  waitid_blocks },
	{ "flock",       "EINTR",  flock_waits },
	{ "flock",       "ENOLCK", flock_locks },
	{ "epoll_ctl",   "ENOSPC", epoll_adds },
	{ "epoll_ctl",   "ENOMEM", epoll_adds },
	{ "mprotect",    "EACCES", prot_needs_access },
	{ "ftruncate",   "EFBIG",  grows },
	{ "kill",        "EPERM",  other_process },
	{ "poll",        "EINTR",  poll_sleeps },
	{ "poll",        "ENOMEM", poll_allocates },
	{ "ppoll",       "ENOMEM", poll_allocates },
	{ "epoll_wait",  "EINTR",  epoll_sleeps },
	{ "epoll_pwait", "EINTR",  epoll_sleeps },
	{ "select",      "ENOMEM", select_allocates },
	{ "pselect6",    "ENOMEM", select_allocates },
	{ "newfstatat",  "ENOENT", stat_looks_up },
	{ "newfstatat",  "EACCES", stat_looks_up },
	{ "statx",       "ENOENT", statx_looks_up },
	{ "statx",       "EACCES", statx_looks_up },
	{ "write",       "ENOSPC", not_pipe_or_socket },
	{ "write",       "EIO",    not_pipe_or_socket },
	{ "writev",      "ENOSPC", not_pipe_or_socket },
	{ "writev",      "EIO",    not_pipe_or_socket },
	{ "read",        "EIO",    not_pipe_or_socket },
	{ "readv",       "EIO",    not_pipe_or_socket },
};
/* clang-format on */

const size_t fi__sweep_errno_nconditions =
	sizeof(fi__sweep_errno_conditions) /
	sizeof(fi__sweep_errno_conditions[0]);

bool fi__sweep_errno_fits(const char *syscall, const char *err,
			  const struct fi__sweep_call *c)
{
	if (!c || !c->known)
		return true;
	for (size_t i = 0; i < fi__sweep_errno_nconditions; i++) {
		const struct fi__sweep_errno_condition *k =
			&fi__sweep_errno_conditions[i];

		if (!strcmp(k->syscall, syscall) && !strcmp(k->err, err) &&
		    !k->fits(c))
			return false;
	}
	return true;
}
