/* area.h: trampoline areas. An area's first page holds the slots its
 * stubs read (the interest table's address, the entries, the id of the
 * area's first patch point); the stubs follow from the second page on.
 * Only the first page depends on this run, so the stub pages can be kept
 * in the cache (image.h). Hook-safe: raw syscalls, no allocation but
 * pages. */
#ifndef FI_AREA_H
#define FI_AREA_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* Where the stubs go into the hook (entry.h): set once at start-up,
 * before anything is patched. Not for the hook. */
void fi__area_set_entries(void (*entry)(void), void (*post)(void));

/* Map `size` bytes (read-write) for a trampoline area within 1 GiB of
 * [lo, hi): at `spot` if it is nonzero and free (where images are made
 * for), else in the nearest free gap found in /proc/self/maps. NULL when
 * there is none. */
void *fi__area_alloc(uint64_t spot, uint64_t lo, uint64_t hi, size_t size);

/* The addresses of the slots of the area at `area`, for the stubs. */
struct fi__stub_env fi__area_env(uint64_t area);

/* Fill the slots of the area at `area`, with `base` the id of its first
 * patch point, and make its first page read-only. 0 or a negative errno. */
long fi__area_fill_slots(uint64_t area, uint32_t base);

#endif
