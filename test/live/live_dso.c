/* live_dso: a library that t_dlopen loads at run time. Its constructor makes
 * syscalls, one of them from an inline `syscall` in this object, which libfi
 * must patch when the object arrives. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int live_dso_report(int *pid_ok, int *devnull_ok, int *asm_ok);

static int ctor_pid_ok, ctor_devnull_ok, ctor_asm_ok;

static long dso_asm_getpid(void)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_getpid)
			 : "rcx", "r11", "memory");
	return ret;
}

__attribute__((constructor)) static void live_dso_init(void)
{
	pid_t pid = getpid();
	ctor_pid_ok = pid > 0;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ctor_devnull_ok = fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0;
	ctor_asm_ok = dso_asm_getpid() == pid;
}

__attribute__((visibility("default"))) int
live_dso_report(int *pid_ok, int *devnull_ok, int *asm_ok)
{
	*pid_ok = ctor_pid_ok;
	*devnull_ok = ctor_devnull_ok;
	*asm_ok = ctor_asm_ok;
	return (int)dso_asm_getpid();
}
