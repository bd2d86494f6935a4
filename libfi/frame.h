/* frame.h: the registers of one intercepted syscall, as entry.S saves them
 * on the slow path. dispatch reads and may rewrite them; the stub restores
 * them before it issues the syscall or returns the result. */
#ifndef FI_FRAME_H
#define FI_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "entry_abi.h"

/* Layout must match entry.S (lowest address first). */
struct fi__frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t rflags;
	uint64_t ret;	/* into the stub */
	uint64_t index; /* of the patch point within its stub area */
	uint64_t base;	/* id of the area's first patch point */
	/* then the 128-byte red zone the stub skipped, then the caller's rsp */
};

/* What the quick way saves: the registers C may clobber but for %rcx and
 * %r11, which the syscall clobbers anyway, and the flags. */
struct fi__qframe {
	uint64_t r10, r9, r8, rdi, rsi, rdx, rax;
	uint64_t rflags;
};

_Static_assert(offsetof(struct fi__frame, r15) == FI_FRAME_R15 &&
		       offsetof(struct fi__frame, r14) == FI_FRAME_R14 &&
		       offsetof(struct fi__frame, r13) == FI_FRAME_R13 &&
		       offsetof(struct fi__frame, r12) == FI_FRAME_R12 &&
		       offsetof(struct fi__frame, rbp) == FI_FRAME_RBP &&
		       offsetof(struct fi__frame, rcx) == FI_FRAME_RCX &&
		       offsetof(struct fi__frame, rbx) == FI_FRAME_RBX &&
		       offsetof(struct fi__frame, ret) == FI_FRAME_RET &&
		       offsetof(struct fi__frame, index) == FI_FRAME_INDEX &&
		       offsetof(struct fi__frame, base) == FI_FRAME_BASE &&
		       sizeof(struct fi__frame) == FI_FRAME_SIZE,
	       "entry.S reads struct fi__frame at these offsets");

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
