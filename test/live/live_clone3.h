/* live_clone3.h: a raw clone3 for the live targets that start a child on
 * a stack of its own (t_clone3.c, t_lineage.c). The syscall is inline asm
 * in the target itself, so the child starts on its new stack right after
 * the patch point, in the patched code. */
#ifndef FI_LIVE_CLONE3_H
#define FI_LIVE_CLONE3_H

#include <linux/sched.h>
#include <sys/syscall.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* clone3 with ca's new stack. In the child: fn(arg), then exit with what
 * it returned (it must not return into the parent's frame). In the
 * parent: the child's id or a negative errno. */
static inline long live_clone3(struct clone_args *ca, int (*fn)(void *),
			       void *arg)
{
	register long r12 __asm__("r12") = (long)fn;
	register long r13 __asm__("r13") = (long)arg;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 /* child: new stack, 16-byte aligned top */
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "D"(ca), "S"(sizeof *ca),
			   "r"(r12), "r"(r13)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
