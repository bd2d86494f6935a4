/* cache.h: the patch-plan cache. Planning a big library costs tens of
 * milliseconds of decoding; the plan depends only on the object's bytes, so
 * it is kept on disk per build-id and checked against the bytes in memory
 * before use. Raw syscalls only: it also runs inside the hook (dlopen). */
#ifndef FI_CACHE_H
#define FI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* A syscall instruction the planner left alone, and why. */
struct fi__refusal {
	uint64_t addr;
	char why[80];
};

/* Every decision about one executable region. Fresh plans are an array
 * from fi__pages; plans from the cache stay in the mapped entry file,
 * relative to the region (read them with fi__planset_get). */
struct fi__planset {
	struct fi__plan *plans;
	size_t nplans, capplans;
	struct fi__refusal *refused;
	size_t nrefused, caprefused;
	const void *mapped; /* the cache entry, or NULL */
	size_t mapped_len;  /* 0: mapped belongs to someone else */
	uint64_t base;	    /* what the mapped plans are relative to */
	const void *hold;   /* pages to unmap with it (fi-plan's), or NULL */
	size_t hold_len;
};

/* Plan i, with absolute addresses. */
void fi__planset_get(const struct fi__planset *ps, size_t i,
		     struct fi__plan *out);

/* Pick the cache directory: FI_CACHE_DIR, else $XDG_CACHE_HOME/fi, else
 * $HOME/.cache/fi; FI_CACHE_DIR=off turns the cache off. At load, not for
 * the hook. */
void fi__cache_init(void);

/* Create the cache directory (and $HOME/.cache) if missing, before
 * writing to it; false when there is none. Hook-safe. */
bool fi__cache_make_dir(void);

/* Fill ps from the cache entry for this region (at offset off in the
 * object) of the object with this
 * build-id, if there is one and every planned patch point still holds the bytes
 * it was planned on. */
bool fi__cache_load(const uint8_t *build_id, size_t id_len, uint64_t off,
		    uint64_t start, size_t len, struct fi__planset *ps);

/* Fill ps from an entry's bytes (a file's, or one fi-plan wrote) for the
 * region [start, start+len), after the same checks as fi__cache_load. The
 * plans stay in `entry`, which ps does not own (mapped_len 0). */
bool fi__cache_parse(const void *entry, size_t size, uint64_t start, size_t len,
		     struct fi__planset *ps);

/* Write ps, the plans of [start, start+len), to fd as one entry of
 * fi__cache_entry_size(ps) bytes (a multiple of 8). */
size_t fi__cache_entry_size(const struct fi__planset *ps);
bool fi__cache_write(int fd, uint64_t start, size_t len,
		     const struct fi__planset *ps);

/* Save ps for this region. Errors are ignored: the cache is an
 * optimisation. */
void fi__cache_store(const uint8_t *build_id, size_t id_len, uint64_t off,
		     uint64_t start, size_t len, const struct fi__planset *ps);

void fi__planset_free(struct fi__planset *ps);

/* DIR/<build-id>-<offset>-<length><suffix>, the name of a cache entry;
 * false when the cache is off, there is no build-id or it does not fit. */
bool fi__cache_path(char *out, size_t cap, const uint8_t *id, size_t id_len,
		    uint64_t off, size_t len, const char *suffix);

/* What cache entries must have been written by: libfi's version and the
 * planner's revision. */
uint32_t fi__cache_version(void);

/* FNV-1a over 8-byte words (then the tail bytes): fast enough to check a
 * whole entry at every start. */
#define FI_FNV_SEED 0xcbf29ce484222325ull
uint64_t fi__fnv1a(uint64_t h, const void *p, size_t n);

/* Whether a region of this build-id has an entry (a cheap look, not a
 * check of it). */
bool fi__cache_has(const uint8_t *build_id, size_t id_len, uint64_t off,
		   size_t len);

#endif
