/* t_raw: syscalls issued without a libc wrapper: syscall(SYS_...) and
 * inline `syscall` instructions in this executable, whose sites libfi must
 * patch as well. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "live.h"

static long asm_syscall1(long nr, long a0)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0)
			 : "rcx", "r11", "memory");
	return ret;
}

static long asm_syscall3(long nr, long a0, long a1, long a2)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

/* A 6-argument call through inline asm: mmap. */
static long asm_syscall6(long nr, long a0, long a1, long a2, long a3, long a4,
			 long a5)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

int main(void)
{
	live_begin();
	/* syscall(3) */
	LIVE_CHECK(syscall(SYS_getppid) == getppid());
	LIVE_CHECK(syscall(SYS_getpid) == getpid());
	errno = 0;
	LIVE_CHECK(syscall(SYS_close, -1) == -1 && errno == EBADF);
	printf("syscall(): getppid, getpid, close(-1) -> EBADF\n");

	/* inline asm */
	LIVE_CHECK(asm_syscall1(SYS_getpid, 0) == getpid());
	LIVE_CHECK(asm_syscall1(SYS_close, -1) == -EBADF);
	static const char msg[] = "inline asm: write to stdout\n";
	LIVE_CHECK(asm_syscall3(SYS_write, 1, (long)msg, sizeof msg - 1) ==
		   (long)sizeof msg - 1);
	long m = asm_syscall6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LIVE_CHECK(m > 0 || m < -4095);
	((volatile char *)m)[0] = 42;
	LIVE_CHECK(((volatile char *)m)[0] == 42);
	LIVE_CHECK(asm_syscall3(SYS_munmap, m, 4096, 0) == 0);
	LIVE_CHECK(asm_syscall3(SYS_openat, AT_FDCWD,
				(long)"/nonexistent/fi-live",
				O_RDONLY) == -ENOENT);
	printf("inline asm: getpid, close -> -EBADF, write, mmap/munmap, openat -> -ENOENT\n");

	/* Many in a row, through both paths. */
	long a = 0, b = 0;
	for (int i = 0; i < 1000; i++) {
		a += syscall(SYS_getppid) == getppid();
		b += asm_syscall1(SYS_getppid, 0) == getppid();
	}
	LIVE_CHECK(a == 1000 && b == 1000);
	printf("1000 rounds of getppid through syscall() and inline asm\n");
	printf("raw ok\n");
	return 0;
}
