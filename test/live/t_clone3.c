/* t_clone3: raw clone3, once with CLONE_VM and a new stack (the syscall is
 * inline asm in this executable, so the child starts on the new stack right
 * after the patched site) and once in its fork-like form through syscall().
 * A kernel without clone3 prints a fixed line instead. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "live.h"
#include "live_clone3.h"

#define STACK_SIZE (256 * 1024)

struct shared {
	long child_pid;
	long child_ppid;
	int stack_ok;
	char *stack_lo, *stack_hi;
};

/* Runs in the child on the new stack; must not return into C code of the
 * parent's frame, so live_clone3 calls it and then issues exit itself. */
static int child_fn(void *arg)
{
	struct shared *s = arg;
	char here;
	s->stack_ok = &here > s->stack_lo && &here < s->stack_hi;
	s->child_pid = syscall(SYS_getpid);
	s->child_ppid = syscall(SYS_getppid);
	return 13;
}

int main(void)
{
	live_begin();
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	LIVE_CHECK(stack != MAP_FAILED);
	struct shared s = {.stack_lo = stack, .stack_hi = stack + STACK_SIZE};
	struct clone_args ca = {
		.flags = CLONE_VM,
		.exit_signal = SIGCHLD,
		.stack = (uint64_t)(uintptr_t)stack,
		.stack_size = STACK_SIZE,
	};
	long pid = live_clone3(&ca, child_fn, &s);
	if (pid == -ENOSYS) {
		printf("clone3: ENOSYS (kernel without clone3), nothing to test\n");
		return 0;
	}
	LIVE_CHECK(pid > 0);
	int st;
	LIVE_CHECK(waitpid((pid_t)pid, &st, 0) == pid);
	LIVE_CHECK_EXIT(st, 13);
	LIVE_CHECK(s.child_pid == pid);
	LIVE_CHECK(s.child_ppid == getpid());
	LIVE_CHECK(s.stack_ok);
	LIVE_CHECK(munmap(stack, STACK_SIZE) == 0);
	printf("clone3(CLONE_VM, new stack): child exit 13, pid/ppid/stack as expected\n");

	/* Fork-like: no stack, no CLONE_VM; returns twice like fork(). */
	struct clone_args fk = {.exit_signal = SIGCHLD};
	pid_t parent = getpid();
	long c = syscall(SYS_clone3, &fk, sizeof fk);
	if (c == 0)
		_exit(getppid() == parent ? 14 : 15);
	LIVE_CHECK(c > 0);
	LIVE_CHECK(waitpid((pid_t)c, &st, 0) == c);
	LIVE_CHECK_EXIT(st, 14);
	printf("clone3(fork-like): child exit 14\n");
	printf("clone3 ok\n");
	return 0;
}
