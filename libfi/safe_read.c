/* safe_read.c: hook-safe reads of the program's memory (safe_read.h).
 * dispatch and the rule engine see a call's pointers only through these
 * copies; the unwinder (site.c) asks here which stack pages it may read.
 * Every read goes through one call of process_vm_readv on our own pid,
 * and the one write a rule may ask for (poke_enter=, poke_exit=) through
 * process_vm_writev. */
#include "safe_read.h"

#include <errno.h>
#include <sys/syscall.h>

#include "raw.h"

/* struct iovec without <sys/uio.h>'s libc declarations. */
struct raw_iovec {
	void *base;
	size_t len;
};

/* Copy n bytes at addr into dst, n not crossing a page: the byte count,
 * or a negative errno. A page is readable or not as a whole, so a call
 * copies all it asked for or nothing, whatever the kernel's rules for
 * partial transfers. */
static long copy_in_page(long pid, void *dst, unsigned long addr, size_t n)
{
	struct raw_iovec local, remote;

	local.base = dst;
	local.len = n;
	remote.base = (void *)addr;
	remote.len = n;
	return fi__raw6(SYS_process_vm_readv, pid, (long)&local, 1,
			(long)&remote, 1, 0);
}

/* The same, the other way: n bytes from src to addr. */
static long copy_out_page(long pid, const void *src, unsigned long addr,
			  size_t n)
{
	struct raw_iovec local, remote;

	local.base = (void *)src;
	local.len = n;
	remote.base = (void *)addr;
	remote.len = n;
	return fi__raw6(SYS_process_vm_writev, pid, (long)&local, 1,
			(long)&remote, 1, 0);
}

/* The bytes from addr to the end of its page, at most want. */
static size_t in_page(unsigned long addr, size_t want)
{
	size_t to_page = FI_PAGE - (addr & (FI_PAGE - 1));

	return want > to_page ? to_page : want;
}

int fi__safe_read(void *dst, const void *user, size_t n)
{
	unsigned long addr = (unsigned long)user;
	char *out = dst;
	size_t off = 0;
	long pid;

	if (n == 0)
		return 0;
	if (addr + n < addr)
		return -EFAULT; /* wraps past the top of the address space */
	pid = fi__raw0(SYS_getpid);
	while (off < n) {
		size_t want = in_page(addr + off, n - off);
		long got = copy_in_page(pid, out + off, addr + off, want);

		if (got < 0 && got != -EFAULT)
			return (int)got; /* refused: seccomp, or no memory */
		if (got != (long)want)
			return -EFAULT;
		off += want;
	}
	return 0;
}

int fi__safe_write(void *user, const void *src, size_t n)
{
	unsigned long addr = (unsigned long)user;
	const char *in = src;
	size_t off = 0;
	long pid;

	if (n == 0)
		return 0;
	if (addr + n < addr)
		return -EFAULT;
	pid = fi__raw0(SYS_getpid);
	while (off < n) {
		size_t want = in_page(addr + off, n - off);
		long put = copy_out_page(pid, in + off, addr + off, want);

		if (put < 0 && put != -EFAULT)
			return (int)put;
		if (put != (long)want)
			return -EFAULT;
		off += want;
	}
	return 0;
}

int fi__safe_copy_str(const void *user, char *buf, size_t len)
{
	unsigned long addr = (unsigned long)user;
	long pid;
	size_t off = 0;

	if (len == 0)
		return -EINVAL;
	if (!user)
		return -EFAULT;
	pid = fi__raw0(SYS_getpid);
	while (off < len - 1) {
		size_t want = in_page(addr + off, len - 1 - off);
		long n = copy_in_page(pid, buf + off, addr + off, want);

		if (n <= 0) {
			buf[off] = '\0';
			return -EFAULT;
		}
		for (size_t i = off; i < off + (size_t)n; i++) {
			if (buf[i] == '\0')
				return (int)i;
		}
		off += (size_t)n;
	}
	buf[len - 1] = '\0';
	return -ENAMETOOLONG;
}

bool fi__safe_readable(unsigned long addr)
{
	char b;

	return copy_in_page(fi__raw0(SYS_getpid), &b, addr, 1) == 1;
}

bool fi__safe_mapped(unsigned long lo, unsigned long hi)
{
	unsigned char vec[256];

	lo &= ~(FI_PAGE - 1);
	while (lo < hi) {
		unsigned long n = hi - lo;

		if (n > sizeof(vec) * FI_PAGE)
			n = sizeof(vec) * FI_PAGE;
		if (fi__raw3(SYS_mincore, lo, n, vec) != 0)
			return false;
		lo += n;
	}
	return true;
}
