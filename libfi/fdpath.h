/* fdpath.h: the path of a program's fd for the recorder, without a
 * syscall per record: a per-process cache of fd -> path, filled by one
 * readlink of /proc/thread-self/fd/N and forgotten whole by every call
 * that may close or replace an fd (the !fdclose calls of syscalls.spec).
 * Hook-safe, allocation-free, lock-free, async-signal-safe. */
#ifndef FI_FDPATH_H
#define FI_FDPATH_H

#include <stdbool.h>
#include <stddef.h>

/* fds below this are cached, paths up to FI_FDPATH_LEN - 1 bytes; others
 * are read each time. */
#define FI_FDPATH_FDS 1024
#define FI_FDPATH_LEN 240

/* The path of fd in the process pid (the caller's), NUL-terminated in
 * buf. Returns its length, or -1 when fd has no path, /proc is missing,
 * or it does not fit. From the cache when it may be, else read and
 * remembered. */
int fi__fdpath_get(int pid, int fd, char *buf, size_t len);

/* The path of fd into buf (NUL-terminated), read from
 * /proc/thread-self/fd/N without the cache: one readlink. Returns its
 * length, or -1 when fd has no path, /proc is missing, or the path does
 * not fit. Hook-safe; matches the fd_path callback of struct fi__call. */
int fi__fdpath_read(int fd, char *buf, size_t len);

/* Around a call nr that may close or replace an fd: _begin before it
 * enters the kernel, _end after it returned (or was decided without
 * it). Between them the cache answers nothing; each forgets it all. A
 * call without the fact does nothing. A missing _end (a handler that
 * longjmp'ed away) only leaves the cache off. */
void fi__fdpath_begin(long nr);
void fi__fdpath_end(long nr);

/* In a forked child (not a vfork child): the copy of the cache is the
 * child's, for the child's copy of the fd table. */
void fi__fdpath_forked(int pid);

/* Forget everything (fi closed or moved an fd of its own). */
void fi__fdpath_forget(void);

#endif
