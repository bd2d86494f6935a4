/* patch.h: finds the syscall instructions of one executable region, plans
 * them (plan.c), writes the stubs into a trampoline area within +-2 GiB
 * and rewrites them into patch points. Usable at start-up and inside the
 * hook (ld.so mapping a new object): it allocates only from arena.h and
 * never calls malloc. */
#ifndef FI_PATCH_H
#define FI_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set up the table of patch points, the arena and the planner. Not for
 * the hook. */
int fi__patch_init(void);

/* In a fork child (not vfork): the patcher's locks start free. Hook-safe. */
void fi__patch_forked(void);

/* Make the decoder ready (loading capstone into the process), unless it
 * must not be loaded now: fi__patch_in_hook (inside ld.so, where loading a
 * library would deadlock) or fi__patch_no_dlopen (set by whoever knows
 * that dlopen cannot work yet, e.g. before libc is initialised). While
 * the decoder is not loaded, regions without a cached plan are planned
 * by fi-plan, out of the process (planner.h); this is only the fallback
 * when fi-plan cannot run, and FI_DECODER=eager. */
bool fi__patch_decoder(const char **why);
extern bool fi__patch_in_hook;
extern bool fi__patch_no_dlopen;

/* A region about to be patched, for fi__patch_plan_ahead. */
struct fi__image_src;
struct fi__patch_job {
	uint32_t mod;	/* fi__registry_module's index */
	uint64_t start; /* the region in memory */
	size_t len;
	const struct fi__image_src *src; /* its file; NULL: the vDSO */
};

/* Have fi-plan plan these regions (those without a cached plan) in one
 * run, before any is patched; fi__patch_region takes their plans from
 * it. Does nothing when the decoder is loaded. False with *why when
 * fi-plan could not run. fi__patch_ahead_done drops what is left.
 * Hook-safe (raw syscalls; the caller saves the vector state). */
bool fi__patch_plan_ahead(const struct fi__patch_job *jobs, size_t n,
			  const char **why);
void fi__patch_ahead_done(void);

/* Patch every syscall in [start, start+len) of module `mod`, whose pages
 * have protection `prot` (restored afterwards). Sites that cannot be
 * patched are left alone and listed under FI_DEBUG. src names the
 * object's file, for images (image.h) and fi-plan; NULL when there is
 * none (the vDSO). Returns the number of patch points written, or a negative
 * errno. */
long fi__patch_region(uint32_t mod, uint64_t start, size_t len, int prot,
		      const struct fi__image_src *src);

/* FI_SCAN=full (FI_SWEEP=full, its old name, too): decode whole segments
 * instead of only the functions that hold syscalls (a debugging aid; both
 * must find the same syscall instructions). */
extern bool fi__patch_full_scan;

/* ld.so (or the program) just mapped [addr, addr+len) of the file `path`,
 * from file offset off, with prot including PROT_EXEC, through fd. Reads
 * the ELF headers with pread and patches the executable segments the
 * mapping holds. Hook-safe; the caller saves the vector state. */
void fi__patch_mapping(const char *path, uint64_t addr, size_t len, long off,
		       int prot, int fd);
#endif
