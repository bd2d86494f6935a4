/* raw.h: syscalls issued from libfi's own text. libfi's code is never
 * patched, so these never re-enter the hook. Async-signal-safe. */
#ifndef FI_RAW_H
#define FI_RAW_H

/* The page size: x86_64's, the unit of mmap, mprotect and the kernel's
 * checks of a user address. */
#define FI_PAGE 4096ul

static inline long fi__raw6(long nr, long a1, long a2, long a3, long a4,
			    long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define fi__raw0(nr) fi__raw6((nr), 0, 0, 0, 0, 0, 0)
#define fi__raw1(nr, a) fi__raw6((nr), (long)(a), 0, 0, 0, 0, 0)
#define fi__raw2(nr, a, b) fi__raw6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define fi__raw3(nr, a, b, c)                                                  \
	fi__raw6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define fi__raw4(nr, a, b, c, d)                                               \
	fi__raw6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* All len bytes through read or write (nr) on fd, going on after a short
 * transfer or EINTR; false on an error or an early end. */
static inline int fi__raw_all(long nr, int fd, char *p, unsigned long len)
{
	while (len) {
		long n = fi__raw3(nr, fd, p, len);
		if (n == -4 /* EINTR */)
			continue;
		if (n <= 0)
			return 0;
		p += n;
		len -= (unsigned long)n;
	}
	return 1;
}

/* All of buf to fd; false when the file refuses. A short write costs the
 * atomicity of that one record. */
static inline int fi__raw_write_all(int fd, const void *buf, unsigned long len)
{
	return fi__raw_all(1 /* SYS_write */, fd, (char *)buf, len);
}

/* Exactly len bytes from fd into buf; false on error or early end. */
static inline int fi__raw_read_all(int fd, void *buf, unsigned long len)
{
	return fi__raw_all(0 /* SYS_read */, fd, (char *)buf, len);
}

#endif
