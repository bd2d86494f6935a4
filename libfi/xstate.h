/* xstate.h: save and restore the vector and x87 state around the rare
 * hook paths that call code built with vector registers (capstone, libc),
 * since entry.S saves only the general registers. */
#ifndef FI_XSTATE_H
#define FI_XSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct fi__xstate {
	void *area;
	size_t len;
	int xsave; /* 1: xsave/xrstor, 0: fxsave/fxrstor */
};

static inline void fi__xstate_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void fi__xstate_save(struct fi__xstate *x)
{
	uint32_t r[4];
	fi__xstate_cpuid(1, 0, r);
	x->xsave = (r[2] >> 27) & 1; /* OSXSAVE */
	x->len = 4096;
	if (x->xsave) {
		fi__xstate_cpuid(0xd, 0, r);
		x->len = (r[1] + 4095) & ~4095u; /* for the enabled features */
	}
	x->area = fi__pages(x->len); /* page-aligned and zeroed */
	if (!x->area)
		return;
	if (x->xsave)
		__asm__ volatile("xsave64 (%0)" ::"r"(x->area), "a"(-1), "d"(-1)
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" ::"r"(x->area) : "memory");
}

static inline void fi__xstate_restore(struct fi__xstate *x)
{
	if (!x->area)
		return;
	if (x->xsave)
		__asm__ volatile("xrstor64 (%0)" ::"r"(x->area), "a"(-1),
				 "d"(-1)
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" ::"r"(x->area) : "memory");
	fi__pages_free(x->area, x->len);
}

/* The sixteen XMM registers, around short calls into ld.so built for the
 * x86-64 baseline (SSE2, no AVX: the upper halves stay untouched), such as
 * _dl_find_object. Far cheaper than xsave. */
struct fi__sse {
	uint8_t x[16][16] __attribute__((aligned(16)));
};

#define FI_SSE_ALL(op)                                                         \
	op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10)     \
		op(11) op(12) op(13) op(14) op(15)

static inline void fi__sse_save(struct fi__sse *s)
{
#define FI_SSE_SAVE(n)                                                         \
	__asm__ volatile("movdqa %%xmm" #n ", %0" : "=m"(s->x[n]));
	FI_SSE_ALL(FI_SSE_SAVE)
#undef FI_SSE_SAVE
}

static inline void fi__sse_restore(const struct fi__sse *s)
{
#define FI_SSE_LOAD(n) __asm__ volatile("movdqa %0, %%xmm" #n ::"m"(s->x[n]));
	FI_SSE_ALL(FI_SSE_LOAD)
#undef FI_SSE_LOAD
}

#endif
