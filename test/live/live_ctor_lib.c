/* live_ctor_lib: a library whose constructor makes syscalls, as
 * libselinux's does (statfs) and any C++ static initialiser may: one raw
 * `syscall` instruction of its own and one call through libc. t_ctor
 * links it, so ld.so runs this constructor before the preloaded libfi's. */
#include <sys/syscall.h>
#include <unistd.h>

long live_ctor_raw, live_ctor_libc;

__attribute__((constructor)) static void early(void)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"((long)SYS_getppid)
			 : "rcx", "r11", "memory");
	live_ctor_raw = r;
	live_ctor_libc = getppid();
}
