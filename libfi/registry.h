/* registry.h: the loaded objects fi knows (modules) and the patch points
 * it wrote in them. The patcher adds to both; the hook, entry.S, images
 * and the report read them. Appended to only, under the patcher's lock;
 * readers load the counts with acquire and may run in the hook. */
#ifndef FI_REGISTRY_H
#define FI_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define FI_MAX_MODULES 1024
#define FI_MAX_POINTS (1u << 20)

struct fi__module {
	char name[64]; /* file name: "libc.so.6", the program's name, ... */
	uint64_t base; /* load bias: offsets in traces are addr - base */
	uint8_t build_id[32]; /* NT_GNU_BUILD_ID: the plan cache's key */
	uint8_t build_id_len; /* 0: none, so no caching */
};

/* One patch point: a syscall instruction fi rewrote, indexed by the id
 * its stub pushes. entry.S reads addr at id * 16. */
struct fi__patch_point {
	uint64_t addr;	 /* the syscall instruction */
	uint32_t module; /* index into fi__registry_modules */
	uint32_t flags;
};

extern struct fi__module fi__registry_modules[FI_MAX_MODULES]
	__attribute__((visibility("hidden")));
extern uint32_t fi__registry_nmodules __attribute__((visibility("hidden")));
extern struct fi__patch_point *fi__registry_points
	__attribute__((visibility("hidden")));
extern uint32_t fi__registry_npoints __attribute__((visibility("hidden")));

/* Map the table of patch points (never freed). Not for the hook. */
int fi__registry_init(void);

/* Register a module; returns its index (existing entry if same base and
 * file name). build_id may be NULL. Hook-safe; the caller holds the
 * patcher's lock. */
uint32_t fi__registry_module(const char *name, uint64_t base,
			     const uint8_t *build_id, size_t id_len);

#endif
