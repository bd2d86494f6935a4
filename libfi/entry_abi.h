/* entry_abi.h: what entry.S and the C side must agree on, in one place
 * that both include: the verdicts a stub understands, where struct
 * fi__frame keeps each register, what a stub pushes, and the size of a
 * patch point record. C checks the layouts with _Static_assert
 * (frame.h, registry.c); entry.S uses the numbers. */
#ifndef FI_ENTRY_ABI_H
#define FI_ENTRY_ABI_H

/* What the entries return, in %rcx, to the stub (plan.c): jrcxz takes 0,
 * loop takes 2. */
#define FI_VERDICT_DONE 0 /* the result is in %rax; no syscall */
#define FI_VERDICT_POST 1 /* do the syscall, then call the post entry */
#define FI_VERDICT_PASS 2 /* do the syscall */
#define FI_VERDICT_FULL 3 /* fi__dispatch_quick: take the full way */

/* The caller's red zone, which a stub skips before it calls an entry. */
#define FI_FRAME_REDZONE 128

/* Byte offsets in struct fi__frame (lowest address first). */
#define FI_FRAME_R15 0
#define FI_FRAME_R14 8
#define FI_FRAME_R13 16
#define FI_FRAME_R12 24
#define FI_FRAME_RBP 64
#define FI_FRAME_RCX 96
#define FI_FRAME_RBX 104
#define FI_FRAME_RET 128   /* into the stub */
#define FI_FRAME_INDEX 136 /* of the patch point within its stub area */
#define FI_FRAME_BASE 144  /* id of the area's first patch point */
#define FI_FRAME_SIZE 152

/* What an entry's `ret` pops besides the return address: the index, the
 * base and the red zone. */
#define FI_ENTRY_POP (16 + FI_FRAME_REDZONE)

/* The caller's %rsp at the syscall, from the frame's start. */
#define FI_FRAME_CFA (FI_FRAME_SIZE + FI_FRAME_REDZONE)

/* struct fi__patch_point: 1 << FI_POINT_SHIFT bytes, the syscall
 * instruction's address first; `syscall` is 2 bytes long. */
#define FI_POINT_SHIFT 4
#define FI_SYSCALL_LEN 2

#endif
