/* entry.S: the slow path's way into C and back. A stub (see plan.c) calls
 * fi__entry before the syscall and fi__entry_post after it, with the red
 * zone skipped and the patch point pushed as an index and a base:
 *
 *     [rsp]    return address into the stub
 *     [rsp+8]  index of the patch point within its stub area
 *     [rsp+16] id of the area's first patch point (both popped, with the red
 *              zone, by `ret $FI_ENTRY_POP`)
 *     [rsp+24] 128 bytes of the caller's red zone, then the caller's frame
 *
 * Both save every general register and the flags as a struct fi__frame
 * (frame.h), align the stack, call C, and restore everything from the
 * frame, so C may rewrite the syscall's arguments or result. fi__entry
 * returns the verdict in %rcx (FI_VERDICT_* in frame.h), which the syscall
 * would clobber anyway. The C side is built with
 * -mgeneral-regs-only, so vector registers need no saving here.
 */
#include "entry_abi.h"

	.text

/* Unwinding through the hook (a thread cancelled while a delay= sleeps,
 * a backtrace from a signal handler): the full way describes itself as a
 * frame called from the syscall instruction in place, whose registers are
 * in the saved frame, so that unwinders go on into the caller's code
 * (libc's CFI at the syscall) and skip the stub, which has no CFI. Where
 * that does not hold, the return address is undefined: unwinding stops
 * cleanly instead of reading garbage.
 *
 * CFA = %rbx + FI_FRAME_CFA (the caller's %rsp: the frame, return
 * address, patch point index and base, red zone); the return address is
 * kept at %rbx - 8. */
#define FRAME_CFA FI_FRAME_CFA

.macro SAVE_FRAME
	pushfq
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rbx
	mov FI_FRAME_INDEX(%rbx), %eax	/* the patch point the stub pushed: */
	add FI_FRAME_BASE(%rbx), %eax	/* index + base = id */
	shl $FI_POINT_SHIFT, %rax
	mov fi__registry_points(%rip), %rcx
	mov (%rcx,%rax), %rax		/* fi__registry_points[id].addr: the syscall */
	add $FI_SYSCALL_LEN, %rax
	push %rax			/* at %rbx - 8: "called from there" */
	.cfi_def_cfa rbx, FRAME_CFA
	.cfi_escape 0x10, 0x10, 0x02, 0x73, 0x78 /* rip at [rbx - 8] */
	.cfi_offset rbx, FI_FRAME_RBX - FRAME_CFA
	.cfi_offset rbp, FI_FRAME_RBP - FRAME_CFA
	.cfi_offset r12, FI_FRAME_R12 - FRAME_CFA
	.cfi_offset r13, FI_FRAME_R13 - FRAME_CFA
	.cfi_offset r14, FI_FRAME_R14 - FRAME_CFA
	.cfi_offset r15, FI_FRAME_R15 - FRAME_CFA
	mov %rbx, %rdi
	and $-16, %rsp
.endm

.macro RESTORE_FRAME
	.cfi_undefined rip
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	popfq
.endm

/* struct fi__qframe, pushed by fi__entry, back into the registers. */
.macro RESTORE_QFRAME
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rax
	popfq
.endm

/* First the quick way: save only what C may clobber (struct fi__qframe;
 * %rcx and %r11 are the syscall's to clobber) and let fi__dispatch_quick
 * decide from the syscall number alone. It and what it calls are built
 * -mgeneral-regs-only -mstringop-strategy=loop, so they need neither a
 * 16-byte aligned stack nor DF clear. When it cannot decide (it returns
 * FI_VERDICT_FULL), put everything back and take the full way. */
	.globl fi__entry
	.hidden fi__entry
	.type fi__entry, @function
fi__entry:
	.cfi_startproc
	.cfi_undefined rip
	pushfq
	push %rax
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	mov %rsp, %rdi
	call fi__dispatch_quick
	cmp $FI_VERDICT_FULL, %rax
	je 1f
	mov %rax, %rcx		/* the verdict goes out in %rcx */
	RESTORE_QFRAME
	ret $FI_ENTRY_POP		/* the patch point and the red zone too */
1:	RESTORE_QFRAME
	SAVE_FRAME
	call fi__dispatch
	mov %rax, FI_FRAME_RCX(%rbx)	/* the verdict goes out in %rcx */
	RESTORE_FRAME
	ret $FI_ENTRY_POP		/* the patch point and the red zone too */
	.cfi_endproc
	.size fi__entry, .-fi__entry

	.globl fi__entry_post
	.hidden fi__entry_post
	.type fi__entry_post, @function
fi__entry_post:
	.cfi_startproc
	.cfi_undefined rip
	SAVE_FRAME
	call fi__dispatch_post
	RESTORE_FRAME
	ret $FI_ENTRY_POP		/* the patch point and the red zone too */
	.cfi_endproc
	.size fi__entry_post, .-fi__entry_post

	.section .note.GNU-stack,"",@progbits
