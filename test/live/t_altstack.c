/* t_altstack: a SIGUSR1 handler runs on an alternate signal stack and makes
 * syscalls there: on a roomy stack and on one of sysconf(_SC_SIGSTKSZ). */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "live.h"

static char *alt_lo, *alt_hi;
static int pipe_w;
static volatile sig_atomic_t on_alt, saw_onstack_flag, pid_ok, deliveries;
static pid_t self;

static void handler(int sig)
{
	(void)sig;
	int saved = errno;
	char here;
	on_alt = &here >= alt_lo && &here < alt_hi;
	stack_t cur;
	if (sigaltstack(NULL, &cur) == 0)
		saw_onstack_flag = (cur.ss_flags & SS_ONSTACK) != 0;
	pid_ok = syscall(SYS_getpid) == self;
	char b = 'a' + (char)deliveries;
	if (write(pipe_w, &b, 1) != 1)
		_exit(91);
	deliveries++;
	errno = saved;
}

static void round_on(size_t size, const char *label, int times)
{
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LIVE_CHECK(mem != MAP_FAILED);
	stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
	LIVE_CHECK(sigaltstack(&ss, NULL) == 0);
	alt_lo = mem;
	alt_hi = mem + size;
	for (int i = 0; i < times; i++) {
		on_alt = saw_onstack_flag = pid_ok = 0;
		LIVE_CHECK(raise(SIGUSR1) == 0);
		LIVE_CHECK(on_alt && saw_onstack_flag && pid_ok);
	}
	stack_t off = {.ss_flags = SS_DISABLE};
	LIVE_CHECK(sigaltstack(&off, NULL) == 0);
	LIVE_CHECK(munmap(mem, size) == 0);
	printf("%s: %d deliveries on the alternate stack, syscalls in the handler ok\n",
	       label, times);
}

int main(void)
{
	live_begin();
	self = getpid();
	int p[2];
	LIVE_CHECK(pipe(p) == 0);
	pipe_w = p[1];
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	LIVE_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

	round_on(64 * 1024, "64 KiB stack", 3);
	long sz = sysconf(_SC_SIGSTKSZ);
	LIVE_CHECK(sz > 0);
	round_on((size_t)sz, "SIGSTKSZ stack", 2);

	char got[8] = {0};
	live_read_all(p[0], got, 5);
	LIVE_CHECK(strcmp(got, "abcde") == 0);
	printf("handler bytes: %s\n", got);
	printf("altstack ok\n");
	return 0;
}
