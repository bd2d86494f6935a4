/* safe_read.c: hook-safe reads of the program's memory (safe_read.h).
 * dispatch and the rule engine see a call's pointers only through these
 * copies. */
#include "safe_read.h"

#include <errno.h>
#include <sys/syscall.h>

#include "raw.h"

#define PAGE 4096ul

/* struct iovec without <sys/uio.h>'s libc declarations. */
struct raw_iovec {
	void *base;
	size_t len;
};

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
	/* One page per call: a page is readable or not as a whole, so each
	 * call copies all it asked for or nothing, whatever the kernel's
	 * rules for partial transfers. */
	while (off < n) {
		size_t want = n - off;
		size_t to_page = PAGE - ((addr + off) & (PAGE - 1));
		struct raw_iovec local, remote;
		long got;

		if (want > to_page)
			want = to_page;
		local.base = out + off;
		local.len = want;
		remote.base = (void *)(addr + off);
		remote.len = want;
		got = fi__raw6(SYS_process_vm_readv, pid, (long)&local, 1,
			       (long)&remote, 1, 0);
		if (got < 0 && got != -EFAULT)
			return (int)got; /* refused: seccomp, or no memory */
		if (got != (long)want)
			return -EFAULT;
		off += want;
	}
	return 0;
}
