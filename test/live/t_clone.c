/* t_clone: glibc clone() with CLONE_VM and a stack of our own, with and
 * without CLONE_VFORK. The child shares our memory and makes syscalls on
 * the new stack; the parent checks what it stored and its exit status. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "live.h"

#define STACK_SIZE (256 * 1024)

struct shared {
	int pipe_w;
	long child_pid; /* the child's own getpid, through syscall() */
	long child_ppid;
	int stack_ok; /* a local of the child lies on the new stack */
	char *stack_lo, *stack_hi;
};

static int child_fn(void *arg)
{
	struct shared *s = arg;
	char here;
	s->stack_ok = &here > s->stack_lo && &here < s->stack_hi;
	/* No stdio, no errno: this child shares the parent's TLS. */
	s->child_pid = syscall(SYS_getpid);
	s->child_ppid = syscall(SYS_getppid);
	static const char msg[] = "c";
	if (syscall(SYS_write, s->pipe_w, msg, 1) != 1)
		return 20;
	return 11;
}

static void run(int extra_flags, const char *label)
{
	int p[2];
	LIVE_CHECK(pipe(p) == 0);
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	LIVE_CHECK(stack != MAP_FAILED);
	struct shared s = {.pipe_w = p[1],
			   .stack_lo = stack,
			   .stack_hi = stack + STACK_SIZE};
	pid_t pid = clone(child_fn, stack + STACK_SIZE,
			  CLONE_VM | extra_flags | SIGCHLD, &s);
	LIVE_CHECK(pid > 0);
	int st;
	LIVE_CHECK(waitpid(pid, &st, 0) == pid);
	LIVE_CHECK_EXIT(st, 11);
	char c;
	LIVE_CHECK(read(p[0], &c, 1) == 1 && c == 'c');
	LIVE_CHECK(s.child_pid == pid);
	LIVE_CHECK(s.child_ppid == getpid());
	LIVE_CHECK(s.stack_ok);
	LIVE_CHECK(munmap(stack, STACK_SIZE) == 0);
	close(p[0]);
	close(p[1]);
	printf("%s: child exit 11, pid/ppid/stack as expected\n", label);
}

int main(void)
{
	live_begin();
	run(0, "clone(CLONE_VM)");
	run(CLONE_VFORK, "clone(CLONE_VM|CLONE_VFORK)");
	printf("clone ok\n");
	return 0;
}
