/* frame.h: the registers of one intercepted syscall, as entry.S saves them
 * on the slow path. dispatch reads and may rewrite them; the stub restores
 * them before it issues the syscall or returns the result. */
#ifndef FI_FRAME_H
#define FI_FRAME_H

#include <stdint.h>

/* Layout must match entry.S (lowest address first). */
struct fi__frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t rflags;
	uint64_t ret;     /* into the stub */
	uint64_t index;   /* of the patch point within its stub area */
	uint64_t base;    /* id of the area's first patch point */
	/* then the 128-byte red zone the stub skipped, then the caller's rsp */
};

#define FI_FRAME_REDZONE 128

/* What the quick way saves: the registers C may clobber but for %rcx and
 * %r11, which the syscall clobbers anyway, and the flags. */
struct fi__qframe {
	uint64_t r10, r9, r8, rdi, rsi, rdx, rax;
	uint64_t rflags;
};

/* What the entries return, in %rcx, to the stub (plan.c): jrcxz takes 0,
 * loop takes 2. */
#define FI_VERDICT_DONE 0 /* the result is in %rax; no syscall */
#define FI_VERDICT_POST 1 /* do the syscall, then call the post entry */
#define FI_VERDICT_PASS 2 /* do the syscall */
#define FI_VERDICT_FULL 3 /* fi__dispatch_quick: take the full way */

/* The caller's %rsp at the syscall instruction. */
static inline uint64_t fi__frame_user_rsp(const struct fi__frame *f)
{
	return (uint64_t)(uintptr_t)(f + 1) + FI_FRAME_REDZONE;
}

/* Called by entry.S: before the syscall (returns an FI_VERDICT_*; for
 * DONE the result is in f->rax), and after it. */
long fi__dispatch(struct fi__frame *f);
long fi__dispatch_quick(struct fi__qframe *q);

/* The id of the patch point (index into fi__registry_points). */
static inline uint32_t fi__frame_point(const struct fi__frame *f)
{
	return (uint32_t)(f->index + f->base);
}
void fi__dispatch_post(struct fi__frame *f);

#endif
