/* image.h: patched objects kept whole in the cache. The plan cache
 * (cache.h) spares the decoding; an image spares the patching too. It is a
 * copy of the object's file whose code already holds the patches, followed
 * by the pages of stubs. It is written once per build-id and region, and
 * afterwards mapped over the object's code in a handful of mmap calls.
 * Every process then shares those pages through the page cache, where
 * patching in place would copy each patched page in each process.
 *
 * The stubs jump back into the code with relative jumps, so they only work
 * at the distance from the code they were written for: the trampoline area
 * goes to a preferred spot (fi__image_spot), and where that spot is taken,
 * or anything else does not match, the plan path is taken instead.
 *
 * A copy of the whole file, rather than of the code alone, keeps the
 * mapping faithful for whoever reads /proc/self/maps: the path names an
 * ELF file with the same symbols and build-id, at the same file offsets.
 *
 * Raw syscalls only: it also runs inside the hook (dlopen). */
#ifndef FI_IMAGE_H
#define FI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* Where a region's bytes come from: the object's file (by path, or an
 * open fd when path is NULL) and the file offset of the region's start. */
struct fi__image_src {
	const char *path;
	int fd;
	uint64_t file_off;
};

/* One patch point's patch, as written over the code: len bytes at start (and
 * the 5-byte jump at pad, when the patch point borrows padding). */
struct fi__patch_write {
	uint64_t start, pad;
	uint8_t len;
	uint8_t point[16];
	uint8_t padjmp[5];
};

/* The trampoline area's preferred address for a region starting at
 * start, or 0 when the region is too low in memory to have one. */
uint64_t fi__image_spot(uint64_t start);

/* Whether the process is traced (a debugger's breakpoints live in the
 * code's private pages; mapping an image would drop them). Read once. */
bool fi__image_traced(void);

/* What fi__image_map returns when it patched nothing (nothing has changed
 * then). */
enum {
	FI_IMAGE_MISSING = -1,	/* no usable image: patch in place, write one */
	FI_IMAGE_UNUSABLE = -2, /* images cannot serve here (traced, the spot
				 * taken, not the user's file): patch in place,
				 * write none */
};

/* Patch region [start, start+len) of module mod, whose pages have
 * protection prot, by mapping its image. Returns the number of patch points
 * patched, with *refused and *padded set, or FI_IMAGE_MISSING or
 * FI_IMAGE_UNUSABLE. */
long fi__image_map(uint32_t mod, uint64_t start, size_t len, int prot,
		   const struct fi__image_src *src, unsigned *refused,
		   unsigned *padded);

/* The region was just patched in place with its area at the preferred
 * spot: patch points fi__registry_points[base, base+n) with writes
 * pd[0, n), stubs in [area + 4096, area + 4096 + stubs_len). Writes the image for the next
 * runs, after checking that the code in memory is the file's plus the
 * patches. Errors are ignored: the image is an optimisation. */
void fi__image_store(uint32_t mod, uint64_t start, size_t len,
		     const struct fi__image_src *src, uint64_t area,
		     size_t stubs_len, uint32_t base,
		     const struct fi__patch_write *pd, size_t n,
		     const struct fi__refusal *refused, size_t nrefused);

#endif
