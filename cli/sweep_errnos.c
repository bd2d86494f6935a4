/* sweep_errnos.c: the one table of which errnos the sweep injects at a
 * site of each syscall, most plausible first (docs/sweep.md, "The errno
 * table"). Each list keeps to errors the man page gives for the call
 * and that a real machine produces: a full or failing disk, a missing or
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
 *    own machinery, which no program's error path answers.
 * Every name here is checked against fi's syscall and errno tables by
 * test/sweep (sweep.errno_table). */
#include <string.h>

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
	{ "newfstatat",      { "ENOENT", "EACCES" } },
	{ "statx",           { "ENOENT", "EACCES" } },
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
	{ "dup2",            { "EMFILE" } },
	{ "dup3",            { "EMFILE" } },
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
