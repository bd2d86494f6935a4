/* arena.h: memory for the patcher without malloc. The patcher may run
 * inside the hook (a dlopen'ed object is patched when ld.so maps it), where
 * malloc could deadlock, so it and capstone allocate from here. */
#ifndef FI_ARENA_H
#define FI_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disasm.h"

/* Fresh zeroed pages straight from mmap, or NULL. */
void *fi__pages(size_t len);
void fi__pages_free(void *p, size_t len);

/* mmap exactly at addr, never over anything already there
 * (MAP_FIXED_NOREPLACE, checked: older kernels take it as a hint). flags
 * add to it; fd < 0 maps anonymous memory. True if mapped there. */
bool fi__map_at(uint64_t addr, size_t len, int prot, int flags, int fd,
		uint64_t off);

/* The bump arena as capstone's allocator. */
void fi__arena_mem(struct fi__disasm_mem *m);

/* Route capstone's allocations to the bump arena. Call once, before the
 * first decoder is opened. Inline, so that arena.c never calls the
 * decoder: fi-run takes arena.c (for fi__copy) without capstone. */
static inline void fi__arena_install(void)
{
	struct fi__disasm_mem m;

	fi__arena_mem(&m);
	fi__disasm_set_mem(&m);
}

/* Make *arr (from fi__pages) hold at least `need` elements of `elem`
 * bytes, keeping what it holds; *cap counts elements. False if out of
 * memory (then *arr is as it was). */
bool fi__pages_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* In a fork child: the arena's lock starts free. */
void fi__arena_forked(void);

/* Byte helpers that never call libc (libc's text may be unmapped for
 * writing while they run). */
void fi__copy(void *dst, const void *src, size_t n);
void fi__fill(void *dst, int c, size_t n);

/* Append s to the string out[0, at) in a buffer of cap bytes, cut to fit
 * and always terminated; returns the length it would have had, so a
 * result >= cap says it was cut. snprintf's "%s%s" without libc's printf
 * (whose pages start-up would otherwise fault in for a copy). */
size_t fi__str_add(char *out, size_t cap, size_t at, const char *s);

/* setenv without malloc: libfi's constructor must not initialise the
 * program's heap (that would move its brk and getrandom calls before the
 * patching, out of the trace). The entry lives in pages of our own; the
 * environ array is replaced, never realloc'ed. Not for the hook. */
int fi__env_set(const char *name, const char *value);
/* unsetenv, the same way: environ's array is changed in place. */
void fi__env_unset(const char *name);

#endif
