/* patch.h: finds the syscall sites of one executable region, plans them
 * (plan.c), writes the stubs into a trampoline area within +-2 GiB and
 * rewrites the sites. Usable at start-up and inside the hook (ld.so mapping
 * a new object): it allocates only from arena.h and never calls malloc. */
#ifndef FI_PATCH_H
#define FI_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FI_MAX_MODULES 1024
#define FI_MAX_SITES (1u << 20)

struct fi__module {
	char name[64]; /* file name: "libc.so.6", the program's name, ... */
	uint64_t base; /* load bias: offsets in traces are addr - base */
	uint8_t build_id[32]; /* NT_GNU_BUILD_ID: the plan cache's key */
	uint8_t build_id_len; /* 0: none, so no caching */
};

/* One patched site, indexed by the id its stub pushes. */
struct fi__site {
	uint64_t addr;   /* the syscall instruction */
	uint32_t module; /* index into fi__modules */
	uint32_t flags;
};

extern struct fi__module fi__modules[FI_MAX_MODULES];
extern uint32_t fi__nmodules;
extern struct fi__site *fi__sites;
extern uint32_t fi__nsites;

/* Set up the site table, the arena and the decoder. Not for the hook. */
int fi__patch_init(void);

/* In a fork child (not vfork): the patcher's locks start free. Hook-safe. */
void fi__patch_forked(void);

/* Make the decoder ready (loading capstone), unless fi__patch_in_hook says
 * we are inside ld.so, where loading a library would deadlock. */
bool fi__patch_decoder(const char **why);
extern bool fi__patch_in_hook;

/* Register a module; returns its index (existing entry if same base).
 * build_id may be NULL. */
uint32_t fi__patch_module(const char *name, uint64_t base,
			  const uint8_t *build_id, size_t id_len);

/* The NT_GNU_BUILD_ID in a PT_NOTE's bytes; its length, or 0. */
size_t fi__patch_build_id(const uint8_t *note, size_t len, uint8_t *out,
			  size_t cap);

/* Patch every syscall in [start, start+len) of module `mod`, whose pages
 * have protection `prot` (restored afterwards). Sites that cannot be
 * patched are left alone and listed under FI_DEBUG. src names the
 * object's file, for images (image.h); NULL when there is none (the
 * vDSO). Returns the number of sites patched, or a negative errno. */
struct fi__image_src;
long fi__patch_region(uint32_t mod, uint64_t start, size_t len, int prot,
		      const struct fi__image_src *src);

/* A trampoline area's first page: fill the slots its stubs read, the id
 * of its first site among them, and make it read-only. */
long fi__patch_fill_slots(uint64_t area, uint32_t base);

/* Print to stderr with a raw write ("fi: ..."); for FI_DEBUG and fatal
 * set-up errors. */
void fi__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* FI_DEBUG: 1 lists what was patched per object and every site left
 * alone; 2 also every site patched. */
extern int fi__debug;
/* FI_SWEEP=full: decode whole segments instead of only the functions that
 * hold syscalls (a debugging aid; both must find the same sites). */
extern bool fi__full_sweep;



/* ld.so (or the program) just mapped [addr, addr+len) of the file `path`,
 * from file offset off, with prot including PROT_EXEC, through fd. Reads
 * the ELF headers with pread and patches the executable segments the
 * mapping holds. Hook-safe; the caller saves the vector state. */
void fi__patch_mapping(const char *path, uint64_t addr, size_t len, long off,
		       int prot, int fd);
#endif
