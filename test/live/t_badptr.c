/* t_badptr: syscalls given pointers the kernel answers with EFAULT (an
 * unmapped address, a kernel-space one, a path that runs into a PROT_NONE
 * page, bad buffers and iovec arrays) and paths whose NUL sits on the
 * last byte before such a page; `t_badptr clone3`: clone3 with a bad
 * struct. Prints one line per call, "LABEL: RESULT" (ok, or the errno's
 * name); badptr_test.py compares the lines under fi
 * with the same program's bare run. Under fi nothing may change but what a
 * rule asks for, and the program is never killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "live.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#define PAGE 4096ul
#define UNMAPPED ((void *)0x10000ul)
#define KERNEL ((void *)0xffff800000000000ul)
#define DIRFD 42 /* badptr_test.py's fd= rules name it */

/* A readable page followed by a PROT_NONE one; returns the first byte of
 * the PROT_NONE page. */
static char *guarded_end(void)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LIVE_CHECK(p != MAP_FAILED);
	LIVE_CHECK(mprotect(p + PAGE, PAGE, PROT_NONE) == 0);
	return p + PAGE;
}

/* s placed so that its last byte is the last readable one: with its NUL
 * (a good path), or without (a path the kernel cannot read whole). */
static char *at_edge(const char *s, int with_nul)
{
	size_t n = strlen(s) + (with_nul ? 1 : 0);
	char *p = guarded_end() - n;
	memcpy(p, s, n);
	return p;
}

static const char *errname(int e)
{
	switch (e) {
	case EFAULT:
		return "EFAULT";
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case EINVAL:
		return "EINVAL";
	case EIO:
		return "EIO";
	case EISDIR:
		return "EISDIR";
	case ENOTDIR:
		return "ENOTDIR";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case EBADF:
		return "EBADF";
	case ENOSYS:
		return "ENOSYS";
	default:
		return "E?";
	}
}

/* One line per call. A libc wrapper's -1/errno and a raw syscall()'s
 * -1/errno read the same; a descriptor is closed and printed as "ok". */
static void report(const char *label, long r, int is_fd)
{
	int e = errno;
	if (r < 0)
		printf("%s: %s (%d)\n", label, errname(e), e);
	else
		printf("%s: ok\n", label);
	if (is_fd && r >= 0)
		close((int)r);
}

#define CALL(label, expr, is_fd)                                               \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(expr);                                        \
		report(label, r_, is_fd);                                      \
	} while (0)

struct pathcase {
	const char *name;
	const char *path;
};

/* clone3's struct clone_args: the kernel reads it, and so does fi's
 * post-syscall hook (a thread or a fork?). A kernel without clone3 says
 * ENOSYS, bare and under fi alike. */
static int clone3_calls(void)
{
	CALL("clone3/raw/unmapped",
	     syscall(SYS_clone3, UNMAPPED, sizeof(struct clone_args)), 0);
	CALL("clone3/raw/kernel",
	     syscall(SYS_clone3, KERNEL, sizeof(struct clone_args)), 0);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	live_begin();
	if (argc > 1 && strcmp(argv[1], "clone3") == 0)
		return clone3_calls();

	/* Paths: (a) unmapped, (b) kernel space, (c) one that runs into a
   * PROT_NONE page with no NUL (it starts "/etc/fi-", so a copy cut at
   * the page would match the rules the test arms), (d) good paths whose
   * NUL is the last readable byte. */
	const struct pathcase bad[] = {
		{"unmapped", UNMAPPED},
		{"kernel", KERNEL},
		{"straddle", at_edge("/etc/fi-no-nul", 0)},
	};
	const char *edge_dev = at_edge("/dev/null", 1);
	const char *edge_etc = at_edge("/etc/passwd", 1);
	const char *edge_none = at_edge("/etc/fi-no-such-file", 1);
	char label[64];
	struct stat st;

	/* A directory fd of a number the test's fd= rules name. */
	int dir = open("/", O_PATH | O_DIRECTORY);
	LIVE_CHECK(dir >= 0 && dup2(dir, DIRFD) == DIRFD && close(dir) == 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = bad[i].path, *n = bad[i].name;
#define L(what) (snprintf(label, sizeof label, "%s/%s", what, n), label)
		CALL(L("openat/libc"), openat(AT_FDCWD, p, O_RDONLY), 1);
		CALL(L("openat/raw"),
		     syscall(SYS_openat, AT_FDCWD, p, O_RDONLY), 1);
		CALL(L("open/raw"), syscall(SYS_open, p, O_RDONLY), 1);
		CALL(L("stat/raw"), syscall(SYS_stat, p, &st), 0);
		CALL(L("newfstatat/raw"),
		     syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0), 0);
		CALL(L("access/raw"), syscall(SYS_access, p, R_OK), 0);
		CALL(L("unlink/raw"), syscall(SYS_unlink, p), 0);
		CALL(L("unlinkat/raw"), syscall(SYS_unlinkat, AT_FDCWD, p, 0),
		     0);
		CALL(L("openat/dirfd"), openat(DIRFD, p, O_RDONLY), 1);
		CALL(L("newfstatat/dirfd"),
		     syscall(SYS_newfstatat, DIRFD, p, &st, 0), 0);
		CALL(L("unlinkat/dirfd"), syscall(SYS_unlinkat, DIRFD, p, 0),
		     0);
#undef L
	}

	/* (d): the real result. edge-etc is a path the test's path= rules
   * match: they must see it whole, up to the last byte of the page. */
	CALL("openat/libc/edge-dev", openat(AT_FDCWD, edge_dev, O_RDONLY), 1);
	CALL("openat/raw/edge-dev",
	     syscall(SYS_openat, AT_FDCWD, edge_dev, O_RDONLY), 1);
	CALL("open/raw/edge-dev", syscall(SYS_open, edge_dev, O_RDONLY), 1);
	CALL("stat/raw/edge-dev", syscall(SYS_stat, edge_dev, &st), 0);
	CALL("access/raw/edge-dev", syscall(SYS_access, edge_dev, R_OK), 0);
	CALL("unlink/raw/edge-none", syscall(SYS_unlink, edge_none), 0);
	CALL("openat/libc/edge-etc", openat(AT_FDCWD, edge_etc, O_RDONLY), 1);
	CALL("openat/raw/edge-etc",
	     syscall(SYS_openat, AT_FDCWD, edge_etc, O_RDONLY), 1);
	CALL("openat/dirfd/edge-etc", openat(DIRFD, edge_etc, O_RDONLY), 1);
	CALL("newfstatat/dirfd/edge-dev",
	     syscall(SYS_newfstatat, DIRFD, edge_dev, &st, 0), 0);
	CALL("unlinkat/dirfd/edge-none",
	     syscall(SYS_unlinkat, DIRFD, edge_none, 0), 0);
	close(DIRFD);

	/* Buffers and iovec arrays. */
	int zero = open("/dev/zero", O_RDONLY);
	int pfd[2];
	LIVE_CHECK(zero >= 0);
	LIVE_CHECK(pipe(pfd) == 0);
	char *end = guarded_end();
	char good[16];
	/* an iovec array whose second entry lies in the PROT_NONE page */
	struct iovec *iov_straddle =
		(struct iovec *)(end - sizeof(struct iovec));
	iov_straddle->iov_base = good;
	iov_straddle->iov_len = 4;
	/* readable entries whose buffers are bad */
	struct iovec iov_badbase[2] = {{UNMAPPED, 8}, {KERNEL, 8}};
	/* more entries than the kernel takes (UIO_MAXIOV is 1024) */
	static struct iovec iov_many[1025];
	volatile int minus_one = -1; /* hidden from the compiler's checks */
	for (size_t i = 0; i < sizeof(iov_many) / sizeof(iov_many[0]); i++)
		iov_many[i] = (struct iovec){good, 1};

	CALL("read/libc/unmapped", read(zero, UNMAPPED, 16), 0);
	CALL("read/libc/kernel", read(zero, KERNEL, 16), 0);
	CALL("read/libc/straddle", read(zero, end - 4, 16), 0);
	CALL("write/libc/unmapped", write(pfd[1], UNMAPPED, 16), 0);
	CALL("write/libc/kernel", write(pfd[1], KERNEL, 16), 0);
	CALL("readv/libc/iov-unmapped", readv(zero, UNMAPPED, 2), 0);
	CALL("readv/libc/iov-kernel", readv(zero, KERNEL, 2), 0);
	CALL("readv/libc/iov-straddle", readv(zero, iov_straddle, 2), 0);
	CALL("readv/libc/iov-badbase", readv(zero, iov_badbase, 2), 0);
	CALL("readv/libc/iov-negative", readv(zero, UNMAPPED, minus_one), 0);
	CALL("readv/libc/iov-toomany", readv(zero, iov_many, 1025), 0);
	CALL("readv/raw/iov-unmapped", syscall(SYS_readv, zero, UNMAPPED, 2),
	     0);
	CALL("writev/libc/iov-unmapped", writev(pfd[1], UNMAPPED, 2), 0);
	CALL("writev/libc/iov-straddle", writev(pfd[1], iov_straddle, 2), 0);

	close(zero);
	close(pfd[0]);
	close(pfd[1]);
	printf("done\n");
	return 0;
}
