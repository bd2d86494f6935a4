/* plan.h: how one syscall patch point is patched. Pure: from the decoded
 * instructions around a patch point to a plan, and from a plan to the bytes of
 * the patch and of its stub. The golden tests in test/unit/test_plan.c
 * drive it with byte patterns. */
#ifndef FI_PLAN_H
#define FI_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disasm.h"

#define FI_PLAN_MAXPRE 3
#define FI_PLAN_MAXPOST 3
#define FI_STUB_MAX 256
#define FI_JMP32_LEN 5

/* Bump when the planner decides differently: cached plans are dropped. */
#define FI_PLANNER_REVISION 4

/* The instructions around one syscall, as the scan saw them. pre[npre-1]
 * ends where the syscall starts; post[0] starts where it ends. */
struct fi__window {
	struct fi__insn pre[FI_PLAN_MAXPRE];
	int npre;
	struct fi__insn sys;
	struct fi__insn post[FI_PLAN_MAXPOST];
	int npost;
};

/* A run of padding (nop or int3 after an instruction that does not fall
 * through) that a short jump can borrow 5 bytes from. */
struct fi__pad {
	uint64_t addr;
	uint32_t len;
};

/* Does some direct branch land on addr? */
typedef bool (*fi__is_target_fn)(void *ctx, uint64_t addr);

struct fi__plan {
	uint64_t start; /* first byte overwritten */
	uint8_t len;	/* bytes overwritten at start */
	uint8_t npre;	/* instructions relocated from before the syscall */
	uint8_t npost;	/* ... and from after it */
	struct fi__insn pre[FI_PLAN_MAXPRE];
	struct fi__insn post[FI_PLAN_MAXPOST];
	uint64_t sys;	 /* the syscall instruction itself */
	bool keep_sys;	 /* the syscall stays in place; the stub jumps to it */
	uint64_t resume; /* where the stub jumps back to */
	uint64_t pad;	 /* 0, or where the 5-byte jump to the stub goes */
};

/* Choose how to patch a patch point. Prefers relocating instructions before the
 * syscall that cover the whole jump, so that the syscall stays in place;
 * then any before (a thread blocked in the syscall returns past the
 * patch), then after, then both, then a short jump into padding
 * (consumed from pads).
 * Returns NULL on success, else the reason the instruction stays unpatched. */
const char *fi__plan_point(const struct fi__window *w,
			   fi__is_target_fn is_target, void *ctx,
			   struct fi__pad *pads, size_t npads,
			   struct fi__plan *out);

/* Absolute addresses of the 8-byte slots a stub reads: the interest
 * table's address, the pre- and post-syscall entries, and the id of the
 * first patch point of the stub's area. */
struct fi__stub_env {
	uint64_t table_slot;
	uint64_t entry_slot;
	uint64_t post_slot;
	uint64_t base_slot;
};

/* Write the stub for plan p, the index-th patch point of its area, at stub_addr
 * into buf. Returns its length, or 0 with *why set when a relocated
 * instruction cannot reach its target. */
size_t fi__plan_emit_stub(const struct fi__plan *p, uint32_t index,
			  uint64_t stub_addr, const struct fi__stub_env *env,
			  uint8_t *buf, size_t cap, const char **why);

/* The bytes that replace p->len bytes at p->start (and, for a padding
 * plan, the 5 bytes at p->pad). */
void fi__plan_emit_patch(const struct fi__plan *p, uint64_t stub_addr,
			 uint8_t *point_bytes, uint8_t *pad_bytes);

#endif
