/* region.h: plans one executable region: every syscall instruction in it,
 * with its plan (plan.h) or the reason it is left alone. Used by libfi
 * when the decoder is loaded in the process, and by fi-plan, the
 * out-of-process planner (planner.h), on a mapping of the object's file.
 * Allocates only from arena.h; never calls malloc itself. */
#ifndef FI_REGION_H
#define FI_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "disasm.h"

/* Where the functions of the region are: [*lo, *hi) around pc from the
 * object's CFI (fi__site_function_of in the process itself). False when
 * there is no CFI for pc. */
struct fi__region_cfi {
	bool (*function_of)(void *ctx, uint64_t pc, uint64_t *lo, uint64_t *hi);
	void *ctx;
};

/* Whether [start, start+len) holds any 0f 05 byte pair at all: without
 * one there is nothing to plan, and no decoder is needed. */
bool fi__region_has_syscalls(uint64_t start, size_t len);

/* Plan every syscall instruction of [start, start+len) into ps (fresh
 * arrays from fi__pages). With cfi, only the functions that hold a
 * syscall are decoded; with cfi NULL, or where the CFI does not cover a
 * syscall, the whole region is (FI_SCAN=full). Returns 0 or a negative
 * errno. Not thread-safe per decoder. */
long fi__region_plan(struct fi__disasm *dis, uint64_t start, size_t len,
		     const struct fi__region_cfi *cfi, struct fi__planset *ps);

#endif
