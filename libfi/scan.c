/* scan.c: enumerates the loaded objects (dl_iterate_phdr) at start-up: the
 * program, ld.so, libc, the other libraries and the vDSO, and patches the
 * executable segments of each, except libfi's own and the sanitizer
 * runtimes'. */
#include "scan.h"

#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"
#include "cache.h"
#include "elfobj.h"
#include "image.h"
#include "log.h"
#include "patch.h"
#include "region.h"
#include "registry.h"
#include "site.h"

/* A region's fields are together, and the count before the regions, so
 * that start-up touches two or three pages of these tables, not one per
 * array. */
struct region {
	uint64_t base, start, file_off;
	size_t len;
	bool has_file; /* not the vDSO */
	int prot;
	uint32_t mod;
	struct fi__image_src src;
	uint8_t build_id[32];
	size_t id_len;
	char name[256];
};

struct collect {
	int n;
	uint64_t self; /* an address inside libfi */
	struct region r[256];
};

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) |
	       (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
}

/* The sanitizer runtimes' own syscall instructions serve only the
 * sanitizer: its shadow memory, its reports on stderr, LeakSanitizer's
 * tracer (which takes a getppid() that differs from its parent's pid for
 * the parent's death, and waits forever). The program's calls reach libc
 * through their interceptors and are patched there. A rule is about the
 * program, so these are left alone, like libfi's. */
static bool sanitizer_runtime(const char *path)
{
	static const char *const names[] = {
		"libasan.so",  "libtsan.so",   "liblsan.so",
		"libubsan.so", "libhwasan.so",
	};
	const char *b = path ? fi__site_file_name(path) : NULL;

	for (size_t i = 0; b && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(b, names[i], strlen(names[i])))
			return true;
	return false;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
	struct collect *c = data;
	const char *name = info->dlpi_name;
	(void)size;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uint64_t lo = info->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && c->self >= lo &&
		    c->self < lo + p->p_memsz)
			return 0; /* libfi itself: never patched */
	}
	if (sanitizer_runtime(name)) {
		if (fi__log_debug)
			fi__log("not patched: %s (a sanitizer runtime)", name);
		return 0;
	}
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	bool has_file = true;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uint64_t lo = info->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && vdso >= lo &&
		    vdso < lo + p->p_memsz)
			has_file = false;
	}
	uint8_t id[32];
	size_t id_len = 0;
	for (int i = 0; i < info->dlpi_phnum && !id_len; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type == PT_NOTE)
			id_len = fi__elfobj_build_id(
				(const uint8_t *)(info->dlpi_addr + p->p_vaddr),
				p->p_memsz, id, sizeof(id));
	}
	for (int i = 0; i < info->dlpi_phnum && c->n < 256; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		struct region *r;
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		r = &c->r[c->n++];
		if (!name || !*name) {
			const char *exe = fi__exe_path();
			name = *exe ? exe : "main";
		}
		fi__str_add(r->name, sizeof(r->name), 0, name);
		r->base = info->dlpi_addr;
		r->start = info->dlpi_addr + p->p_vaddr;
		r->len = p->p_memsz;
		r->file_off = p->p_offset;
		r->has_file = has_file;
		r->prot = prot_of(p->p_flags);
		memcpy(r->build_id, id, id_len);
		r->id_len = id_len;
	}
	return 0;
}

long fi__scan_loaded(unsigned *nobjects)
{
	static struct collect c;
	static struct fi__patch_job jobs[256];
	const char *eager = getenv("FI_DECODER"), *why;
	size_t njobs = 0;
	long total = 0;
	uint32_t last = 0;

	c.n = 0;
	c.self = (uint64_t)(uintptr_t)&fi__scan_loaded;
	dl_iterate_phdr(collect, &c);
	for (int i = 0; i < c.n; i++) {
		struct region *r = &c.r[i];
		r->src.path = r->name;
		r->src.fd = -1;
		r->src.file_off = r->file_off;
		r->mod = fi__registry_module(r->name, r->base, r->build_id,
					     r->id_len);
	}
	/* Regions without a cached plan are planned before anything is
	 * patched, by fi-plan in one run; when it cannot run, the decoder is
	 * loaded here instead (loading it later would map its code through a
	 * patched ld.so). FI_DECODER=eager always loads it. */
	if (eager && !strcmp(eager, "eager")) {
		if (!fi__patch_decoder(&why))
			fi__log("no decoder, so only cached plans apply: %s",
				why);
	} else {
		for (int i = 0; i < c.n; i++) {
			const struct region *r = &c.r[i];
			if (fi__cache_has(r->build_id, r->id_len,
					  r->start - r->base, r->len) ||
			    !fi__region_has_syscalls(r->start, r->len))
				continue;
			jobs[njobs].mod = r->mod;
			jobs[njobs].start = r->start;
			jobs[njobs].len = r->len;
			jobs[njobs].src = r->has_file ? &r->src : NULL;
			njobs++;
		}
		if (!fi__patch_plan_ahead(jobs, njobs, &why)) {
			if (fi__log_debug)
				fi__log("fi-plan could not plan at start-up (%s): loading the decoder here",
					why);
			if (!fi__patch_decoder(&why))
				fi__log("no decoder, so only cached plans apply: %s",
					why);
		}
	}
	*nobjects = 0;
	for (int i = 0; i < c.n; i++) {
		const struct region *r = &c.r[i];
		long n = fi__patch_region(r->mod, r->start, r->len, r->prot,
					  r->has_file ? &r->src : NULL);
		if (n <= 0)
			continue;
		/* An object's regions are adjacent in c.r: count it once. */
		if (!total || r->mod != last)
			++*nobjects;
		last = r->mod;
		total += n;
	}
	fi__patch_ahead_done();
	return total;
}
