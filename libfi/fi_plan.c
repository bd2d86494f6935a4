/* fi_plan.c: fi-plan, the out-of-process planner (planner.h). libfi runs
 * it when a region has no cached plan and the decoder is not loaded in
 * the program; it maps each object's file as the loader would (without
 * relocating it), plans the regions asked for with the same code libfi
 * would use (region.c) and writes one record per region to OUTFD:
 *
 *   fi-plan [--full] OUTFD (fd:N | file:PATH | vdso:) OFF LEN ...
 *
 * OFF and LEN (hex) name a region from the object's load bias. Exit 0
 * when every record was written, whatever each says; 2 on bad usage. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cache.h"
#include "cfi.h"
#include "disasm.h"
#include "elfobj.h"
#include "planner.h"
#include "raw.h"
#include "region.h"

#define MAX_PHDRS 64

/* One object, mapped here at base + p_vaddr like the loader maps it. */
struct object {
	uint64_t base;
	void *span;
	size_t span_len;
	Elf64_Phdr ph[MAX_PHDRS];
	int phnum;
	uint8_t id[32];
	size_t id_len;
};

static bool cfi_of(void *ctx, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	const struct object *o = ctx;
	for (int i = 0; i < o->phnum; i++)
		if (o->ph[i].p_type == PT_GNU_EH_FRAME) {
			struct fi__cfi_object c = {
				.start = (uint64_t)o->span,
				.end = (uint64_t)o->span + o->span_len,
				.eh_hdr = (const uint8_t *)(o->base +
							    o->ph[i].p_vaddr),
			};

			return fi__cfi_function(&c, pc, lo, hi);
		}
	return false;
}

static const char *map_file(int fd, struct object *o)
{
	Elf64_Ehdr eh;
	uint64_t lo = ~0ull, hi = 0;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > MAX_PHDRS)
		return "not a 64-bit ELF file";
	o->phnum = eh.e_phnum;
	if (pread(fd, o->ph, o->phnum * sizeof(Elf64_Phdr),
		  (off_t)eh.e_phoff) !=
	    (ssize_t)(o->phnum * sizeof(Elf64_Phdr)))
		return "cannot read the program headers";
	for (int i = 0; i < o->phnum; i++) {
		const Elf64_Phdr *p = &o->ph[i];
		if (p->p_type == PT_NOTE && !o->id_len && p->p_filesz <= 256) {
			uint8_t note[256];
			if (pread(fd, note, p->p_filesz, (off_t)p->p_offset) ==
			    (ssize_t)p->p_filesz)
				o->id_len = fi__elfobj_build_id(note,
								p->p_filesz,
								o->id,
								sizeof(o->id));
		}
		if (p->p_type != PT_LOAD)
			continue;
		if ((p->p_vaddr & ~(FI_PAGE - 1)) < lo)
			lo = p->p_vaddr & ~(FI_PAGE - 1);
		if (p->p_vaddr + p->p_memsz > hi)
			hi = p->p_vaddr + p->p_memsz;
	}
	if (lo >= hi || hi - lo > (1ull << 36))
		return "no loadable segment";
	o->span_len = (hi - lo + FI_PAGE - 1) & ~(FI_PAGE - 1);
	o->span = mmap(NULL, o->span_len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (o->span == MAP_FAILED) {
		o->span = NULL;
		return "out of address space";
	}
	o->base = (uint64_t)o->span - lo;
	for (int i = 0; i < o->phnum; i++) {
		const Elf64_Phdr *p = &o->ph[i];
		uint64_t skew = p->p_vaddr & (FI_PAGE - 1);
		if (p->p_type != PT_LOAD || !p->p_filesz)
			continue;
		if ((p->p_offset & (FI_PAGE - 1)) != skew ||
		    mmap((void *)(o->base + p->p_vaddr - skew),
			 p->p_filesz + skew, PROT_READ, MAP_PRIVATE | MAP_FIXED,
			 fd, (off_t)(p->p_offset - skew)) == MAP_FAILED)
			return "cannot map a segment";
	}
	return NULL;
}

/* The vDSO of this process: the kernel maps the same one into every
 * process, and the build-id check in libfi makes sure. */
static const char *map_vdso(struct object *o)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	uint64_t lo = ~0ull, hi = 0;

	if (!eh || eh->e_phnum > MAX_PHDRS)
		return "no vDSO here";
	ph = (const Elf64_Phdr *)((const uint8_t *)eh + eh->e_phoff);
	o->phnum = eh->e_phnum;
	memcpy(o->ph, ph, o->phnum * sizeof(*ph));
	for (int i = 0; i < o->phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			if (ph[i].p_vaddr < lo)
				lo = ph[i].p_vaddr;
			if (ph[i].p_vaddr + ph[i].p_memsz > hi)
				hi = ph[i].p_vaddr + ph[i].p_memsz;
		}
	if (lo >= hi)
		return "no loadable segment in the vDSO";
	o->base = (uint64_t)eh - (lo & ~(FI_PAGE - 1));
	for (int i = 0; i < o->phnum && !o->id_len; i++)
		if (ph[i].p_type == PT_NOTE)
			o->id_len = fi__elfobj_build_id(
				(const uint8_t *)(o->base + ph[i].p_vaddr),
				ph[i].p_memsz, o->id, sizeof(o->id));
	return NULL;
}

/* Plan one region and write its record. False only when OUTFD refuses. */
static bool plan_one(int out, struct fi__disasm **dis, bool full,
		     const char *src, uint64_t off, uint64_t len)
{
	struct fi__planner_record rec;
	struct fi__planset ps = {0};
	struct object o;
	const char *why = NULL;
	bool vdso = !strcmp(src, "vdso:"), in_exec = false, ok;
	int fd = -1;
	long r;

	memset(&rec, 0, sizeof(rec));
	memset(&o, 0, sizeof(o));
	memcpy(rec.magic, FI_PLANNER_MAGIC, 8);
	rec.off = off;
	rec.len = len;
	if (vdso) {
		why = map_vdso(&o);
	} else {
		if (!strncmp(src, "fd:", 3))
			fd = (int)strtol(src + 3, NULL, 10);
		else if (!strncmp(src, "file:", 5))
			fd = open(src + 5, O_RDONLY | O_CLOEXEC);
		why = fd < 0 ? "cannot open the object's file"
			     : map_file(fd, &o);
	}
	for (int i = 0; !why && i < o.phnum; i++) {
		const Elf64_Phdr *p = &o.ph[i];
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) &&
		    off >= p->p_vaddr && len <= p->p_filesz &&
		    off - p->p_vaddr <= p->p_filesz - len)
			in_exec = true;
	}
	if (!why && !in_exec)
		why = "no such code in the object's file";
	if (!why && fi__region_has_syscalls(o.base + off, len) && !*dis &&
	    !(*dis = fi__disasm_open()))
		why = "cannot open the decoder (capstone)";
	if (!why) {
		struct fi__region_cfi cfi = {.function_of = cfi_of, .ctx = &o};
		r = fi__region_plan(*dis, o.base + off, len, full ? NULL : &cfi,
				    &ps);
		if (r < 0)
			why = r == -ENOMEM ? "out of memory"
					   : "planning failed";
	}
	if (why) {
		rec.err = EINVAL;
		snprintf(rec.why, sizeof(rec.why), "%s", why);
	} else {
		rec.id_len = (uint32_t)o.id_len;
		memcpy(rec.build_id, o.id, o.id_len);
		rec.size = fi__cache_entry_size(&ps);
	}
	ok = write(out, &rec, sizeof(rec)) == (ssize_t)sizeof(rec) &&
	     (why || fi__cache_write(out, o.base + off, len, &ps));
	fi__planset_free(&ps);
	if (o.span)
		munmap(o.span, o.span_len);
	if (fd >= 0 && strncmp(src, "fd:", 3))
		close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	struct fi__disasm *dis = NULL;
	sigset_t none;
	bool full = false;
	int a = 1, out;

	/* libfi blocked every signal across the clone: a ^C or a timeout
	 * must end this process as it would any other. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	alarm(120);

	if (a < argc && !strcmp(argv[a], "--full"))
		full = true, a++;
	if (a >= argc || (argc - a - 1) % 3) {
		fprintf(stderr,
			"usage: fi-plan [--full] OUTFD (fd:N | file:PATH | vdso:) OFF LEN ...\n"
			"(run by libfi; see planner.h)\n");
		return 2;
	}
	out = (int)strtol(argv[a++], NULL, 10);
	for (; a + 2 < argc; a += 3)
		if (!plan_one(out, &dis, full, argv[a],
			      strtoull(argv[a + 1], NULL, 16),
			      strtoull(argv[a + 2], NULL, 16)))
			return 1;
	return 0;
}
