/* fds.h: fi's own file descriptors, the trace and the report. The program
 * owns every fd number; fi keeps its few fds high, out of the way of the
 * lowest-free numbering, hides them from the calls that close or replace
 * fds, and checks before every write that the fd is still the file it
 * opened. Nothing fi writes can land in a file of the program's. */
#ifndef FI_FDS_H
#define FI_FDS_H

#include <stdbool.h>

enum fi__fd_role {
	FI_FD_TRACE,
	FI_FD_REPORT,
	FI_FD_NROLES,
};

/* fi's fds are placed at or above this many below the soft fd limit
 * (at most 1024): lowest-free numbering never reaches them. */
#define FI_FDS_HEADROOM 16

/* Open path for appending (truncated when `truncate`; readable too when
 * `rdwr`, for a shared mapping), close-on-exec, and keep it high as
 * `role`'s fd. path should be absolute: fi may reopen it. Returns 0 or a
 * negative errno. Not for the hook; once per role. */
int fi__fds_open(enum fi__fd_role role, const char *path, bool truncate,
		 bool rdwr);

/* role's fd now, or -1; for set-up only (the program may take it away
 * later: in the hook use fi__fds_call). */
int fi__fds_fd(enum fi__fd_role role);

/* True once role's file was opened (even if it was lost since).
 * Hook-safe. */
bool fi__fds_opened(enum fi__fd_role role);

/* True when fd is one of fi's: the program's calls on it act as on a
 * closed fd. Hook-safe. */
bool fi__fds_owned(long fd);

/* The calls that can close or replace an fd: close, close_range, dup2,
 * dup3, fcntl. True for those numbers while fi owns an fd. Hook-safe. */
bool fi__fds_guarded(long nr);

/* Carry out a guarded call as the kernel would if fi's fds were not
 * there: on fi's fd, close/fcntl/dup2 from it give EBADF; dup2/dup3 onto
 * it first move fi's fd elsewhere; close_range closes around fi's fds.
 * Returns true when the result is in *ret (the call is done), false when
 * the program's call should go to the kernel unchanged. Hook-safe. */
bool fi__fds_guard(long nr, const long *args, long *ret);

/* Write len bytes of buf, whole, to role's file: only after checking
 * that the fd is still that file (reopening it by path, or giving up,
 * when the program took it away). A record that cannot be written is
 * counted as lost, with the reason. Hook-safe, async-signal-safe. */
void fi__fds_write(enum fi__fd_role role, const char *buf, unsigned long len);

/* The raw syscall nr(fd, a1, a2, a3) on role's fd, after the same check
 * as fi__fds_write (fallocate, ftruncate of the mapped trace). Returns its
 * result, or a negative errno when the file is gone. Hook-safe. */
long fi__fds_call(enum fi__fd_role role, long nr, long a1, long a2, long a3);

/* Count one record of role as lost, for err (positive). Hook-safe. */
void fi__fds_lost(enum fi__fd_role role, int err);

/* Records of role lost in this process since the last call, and the first
 * reason (an errno, positive); resets the count. Hook-safe. */
unsigned long fi__fds_take_lost(enum fi__fd_role role, int *err);

/* In a forked child: what the parent lost is the parent's to report. */
void fi__fds_forked(void);

#endif
