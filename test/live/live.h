/* live.h: helpers shared by the live target programs (test/live/t_*.c).
 * Each target prints a stable transcript and exits 0 only if every check
 * held; run_live.py runs it bare, under libfi and under strace. */
#ifndef FI_LIVE_H
#define FI_LIVE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A failed check prints where and why on stderr and exits 1. */
#define LIVE_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			live_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

static inline __attribute__((noreturn)) void
live_fail(const char *file, int line, const char *what)
{
	int e = errno;
	fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", file, line,
		what, e, strerror(e));
	fflush(stdout);
	exit(1);
}

/* malloc's one-time set-up (getrandom for the tcache, brk for the heap)
 * happens at a program's first malloc. Under LD_PRELOAD, libfi's own set-up
 * may have made that first malloc already, before it patched anything, so
 * the program's calls after main() would lack them. The set-up is done here,
 * in a constructor (after libfi's, before main()), so that both runs start
 * main() with malloc ready and the strace comparison counts the program,
 * not this difference. */
__attribute__((constructor)) static void live_warm_malloc(void)
{
	void *volatile p = malloc(1);
	free(p);
}

/* The first thing every target's main() (and every re-exec'd image) does.
 * getppid() is the alignment marker of run_live.py's strace comparison:
 * neither ld.so nor libc start-up ever calls it, so the first getppid of a
 * process image marks "main() has started" in strace's log and in fi's trace
 * alike. Then stdout becomes line buffered, so that it is flushed before any
 * fork and the write pattern is the same on a pipe and on a file. */
static inline void live_begin(void)
{
	(void)getppid();
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Write all of buf or fail. Async-signal-safe apart from the failure path. */
static inline void live_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		LIVE_CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Read exactly len bytes or fail. */
static inline void live_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		LIVE_CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Checks a wait status: exited normally with `code`. */
#define LIVE_CHECK_EXIT(status, code)                                          \
	do {                                                                   \
		LIVE_CHECK(WIFEXITED(status) && !WIFSIGNALED(status));         \
		LIVE_CHECK(WEXITSTATUS(status) == (code));                     \
	} while (0)

#endif
