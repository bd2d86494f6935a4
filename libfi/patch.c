/* patch.c: gets the plans of an executable region (an image or a plan
 * from the cache, fi-plan, or the decoder in this process), writes the
 * stubs and turns the syscall instructions into patch points. See patch.h
 * and the diagram in plan.c. */
#include "patch.h"

#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "area.h"
#include "arena.h"
#include "cache.h"
#include "disasm.h"
#include "elfobj.h"
#include "image.h"
#include "log.h"
#include "plan.h"
#include "planner.h"
#include "raw.h"
#include "region.h"
#include "registry.h"
#include "site.h"

bool fi__patch_full_scan;

static struct fi__disasm *dis;
static int patch_lock;

void fi__patch_forked(void)
{
	/* A thread of the parent may have held these when it forked; in the
	 * child that thread is gone, so nobody would ever release them. */
	__atomic_store_n(&patch_lock, 0, __ATOMIC_RELEASE);
	fi__arena_forked();
}

int fi__patch_init(void)
{
	if (fi__registry_init() < 0)
		return -ENOMEM;
	fi__arena_install();
	fi__planner_init((const void *)fi__patch_init);
	return 0;
}

/* This thread is patching: a nested request (ld.so mapping capstone
 * while we load it) is skipped rather than deadlocked. */
static __thread int patching;
bool fi__patch_in_hook;
bool fi__patch_no_dlopen;

bool fi__patch_decoder(const char **why)
{
	if (dis)
		return true;
	if (!fi__disasm_ready() && (fi__patch_in_hook || fi__patch_no_dlopen)) {
		*why = "the decoder is not loaded and cannot be now (inside ld.so, or before libc is set up)";
		return false;
	}
	dis = fi__disasm_open();
	if (!dis && !fi__disasm_load(why))
		return false;
	if (!dis) {
		*why = "cannot open the decoder";
		return false;
	}
	return true;
}

/* Plans fi-plan made in one run for the regions of start-up without a
 * cached plan (fi__patch_plan_ahead). */
static struct fi__planner_out ahead;
static struct {
	uint32_t mod;
	uint64_t start;
	size_t len;
} ahead_keys[FI_MAX_MODULES];
static size_t nahead;

static struct fi__plan_request request_for(const struct fi__module *m,
					   uint64_t start, size_t len,
					   const struct fi__image_src *src)
{
	struct fi__plan_request rq = {
		.path = src ? src->path : NULL,
		.fd = src && !src->path ? src->fd : -1,
		.off = start - m->base,
		.len = len,
	};
	return rq;
}

bool fi__patch_plan_ahead(const struct fi__patch_job *jobs, size_t n,
			  const char **why)
{
	struct fi__plan_request *req;
	size_t cap = n * sizeof(*req);
	bool ok;

	if (!n || dis)
		return true;
	if (n > FI_MAX_MODULES) {
		*why = "too many regions";
		return false;
	}
	req = fi__pages(cap);
	if (!req) {
		*why = "out of memory";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		req[i] = request_for(&fi__registry_modules[jobs[i].mod],
				     jobs[i].start, jobs[i].len, jobs[i].src);
		ahead_keys[i].mod = jobs[i].mod;
		ahead_keys[i].start = jobs[i].start;
		ahead_keys[i].len = jobs[i].len;
	}
	ok = fi__planner_run(req, n, fi__patch_full_scan, &ahead, why);
	nahead = ok ? n : 0;
	fi__pages_free(req, cap);
	return ok;
}

void fi__patch_ahead_done(void)
{
	fi__planner_free(&ahead);
	nahead = 0;
}

/* --- writing --------------------------------------------------------- */

/* Write every patch of the region while it is writable but not executable.
 * Runs with signals blocked and calls nothing in libc: libc's own text may
 * be what is being rewritten. */
static __attribute__((noinline)) long
apply(struct fi__patch_write *pd, size_t n, uint64_t lo, uint64_t hi, int prot)
{
	uint64_t first = lo & ~(FI_PAGE - 1);
	uint64_t last = (hi + FI_PAGE - 1) & ~(FI_PAGE - 1);
	unsigned long all = ~0ul, old = 0;
	long r;

	fi__raw4(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, sizeof(all));
	r = fi__raw3(SYS_mprotect, first, last - first, PROT_READ | PROT_WRITE);
	if (r == 0) {
		for (size_t i = 0; i < n; i++) {
			fi__copy((void *)pd[i].start, pd[i].point, pd[i].len);
			if (pd[i].pad)
				fi__copy((void *)pd[i].pad, pd[i].padjmp,
					 FI_JMP32_LEN);
		}
		r = fi__raw3(SYS_mprotect, first, last - first, prot);
	}
	fi__raw4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, sizeof(old));
	return r;
}

static bool function_of_here(void *ctx, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	(void)ctx;
	return fi__site_function_of(pc, lo, hi);
}

/* Plan a region that has no cached plan: with plans fi-plan made ahead,
 * else with the decoder if it is loaded here, else with fi-plan now,
 * else by loading the decoder where that is allowed. *from says which. */
static long plan_region(uint32_t mod, uint64_t start, size_t len,
			const struct fi__image_src *file,
			struct fi__planset *ps, const char **from)
{
	const struct fi__module *m = &fi__registry_modules[mod];
	const struct fi__region_cfi cfi = {.function_of = function_of_here};
	const char *why = NULL;
	bool tried = false;

	if (!fi__region_has_syscalls(start, len))
		return 0; /* nothing to plan, nor to decode */
	for (size_t i = 0; i < nahead; i++) {
		if (ahead_keys[i].mod != mod || ahead_keys[i].start != start ||
		    ahead_keys[i].len != len)
			continue;
		tried = true;
		if (fi__planner_take(&ahead, i, m->build_id, m->build_id_len,
				     start, ps, &why)) {
			*from = " (planned by fi-plan)";
			return 0;
		}
		break;
	}
	if (!dis && !tried) {
		struct fi__plan_request rq = request_for(m, start, len, file);
		struct fi__planner_out one;
		if (fi__planner_run(&rq, 1, fi__patch_full_scan, &one, &why)) {
			if (fi__planner_take(&one, 0, m->build_id,
					     m->build_id_len, start, ps,
					     &why)) {
				ps->hold = one.map; /* ps borrows it */
				ps->hold_len = one.len;
				*from = " (planned by fi-plan)";
				return 0;
			}
			fi__planner_free(&one);
		}
	}
	const char *plan_why = why, *dec_why = NULL;
	if (why && fi__log_debug)
		fi__log("  fi-plan could not plan %s: %s", m->name, why);
	if (!fi__patch_decoder(&dec_why)) {
		/* Said even without FI_DEBUG: a rule on them would not fire. */
		fi__log("cannot plan %s, so its own syscall instructions stay unpatched: %s%s%s",
			m->name, plan_why ? plan_why : "", plan_why ? "; " : "",
			dec_why);
		return -ENOSYS;
	}
	return fi__region_plan(dis, start, len,
			       fi__patch_full_scan ? NULL : &cfi, ps);
}

static void refuse(const struct fi__module *m, uint64_t addr, const char *why)
{
	if (fi__log_debug)
		fi__log("  left alone %s+0x%lx: %s", m->name,
			(unsigned long)(addr - m->base), why);
}

/* Write the stubs of every plan into a trampoline area near the region and
 * rewrite the patch points. Returns the number of patch points patched. */
static long install(uint32_t mod, uint64_t start, size_t len, int prot,
		    const struct fi__planset *ps, unsigned *refused,
		    const struct fi__image_src *src)
{
	const struct fi__module *m = &fi__registry_modules[mod];
	/* A region of a few patch points (the vDSO's five) writes them from
	 * the stack rather than a mapping of its own. */
	struct fi__patch_write few[8], *pd = few;
	size_t npd = 0, area_len, off = FI_PAGE;
	uint32_t base =
		__atomic_load_n(&fi__registry_npoints, __ATOMIC_RELAXED);
	uint8_t *area;
	long r;

	area_len = (FI_PAGE + ps->nplans * FI_STUB_MAX + FI_PAGE - 1) &
		   ~(FI_PAGE - 1);
	area = fi__area_alloc(fi__image_spot(start), start, start + len,
			      area_len);
	if (!area) {
		fi__log("cannot place trampolines near %s; its %zu syscall instructions stay unpatched",
			m->name, ps->nplans);
		return -ENOMEM;
	}
	if (ps->nplans > sizeof(few) / sizeof(few[0]))
		pd = fi__pages(ps->nplans * sizeof(*pd));
	if (!pd) {
		fi__pages_free(area, area_len);
		return -ENOMEM;
	}
	struct fi__stub_env env = fi__area_env((uint64_t)area);
	for (size_t i = 0; i < ps->nplans; i++) {
		struct fi__patch_write *p = &pd[npd];
		struct fi__plan plan;
		uint64_t stub = (uint64_t)area + off;
		const char *why = NULL;
		size_t n;
		if (base + npd >= FI_MAX_POINTS)
			break;
		fi__planset_get(ps, i, &plan);
		n = fi__plan_emit_stub(&plan, (uint32_t)npd, stub, &env,
				       area + off, FI_STUB_MAX, &why);
		if (!n) {
			(*refused)++;
			refuse(m, plan.sys, why);
			continue;
		}
		if (fi__log_debug > 1)
			fi__log("  patching %s+0x%lx", m->name,
				(unsigned long)(plan.sys - m->base));
		fi__plan_emit_patch(&plan, stub, p->point, p->padjmp);
		p->start = plan.start;
		p->len = plan.len;
		p->pad = plan.pad;
		fi__registry_points[base + npd].addr = plan.sys;
		fi__registry_points[base + npd].module = mod;
		off += (n + 15) & ~(size_t)15;
		npd++;
	}
	__atomic_store_n(&fi__registry_npoints, base + (uint32_t)npd,
			 __ATOMIC_RELEASE);
	if (fi__area_fill_slots((uint64_t)area, base) ||
	    fi__raw3(SYS_mprotect, area + FI_PAGE, area_len - FI_PAGE,
		     PROT_READ | PROT_EXEC)) {
		r = -EPERM;
		goto out;
	}
	uint64_t lo = ~0ull, hi = 0;
	for (size_t i = 0; i < npd; i++) {
		uint64_t a = pd[i].start, b = a + pd[i].len;
		if (pd[i].pad) {
			if (pd[i].pad < a)
				a = pd[i].pad;
			if (pd[i].pad + FI_JMP32_LEN > b)
				b = pd[i].pad + FI_JMP32_LEN;
		}
		if (a < lo)
			lo = a;
		if (b > hi)
			hi = b;
	}
	r = npd ? apply(pd, npd, lo, hi, prot) : 0;
	if (r < 0) {
		fi__log("cannot write to %s's code (%s); it stays unpatched",
			m->name, strerror((int)-r));
		goto out;
	}
	r = (long)npd;
	/* Keep the result for the next runs, if they can map it. */
	if (src && npd && *refused == ps->nrefused &&
	    (uint64_t)area == fi__image_spot(start))
		fi__image_store(mod, start, len, src, (uint64_t)area,
				off - FI_PAGE, base, pd, npd, ps->refused,
				ps->nrefused);
out:
	if (pd != few)
		fi__pages_free(pd, ps->nplans * sizeof(*pd));
	return r;
}

long fi__patch_region(uint32_t mod, uint64_t start, size_t len, int prot,
		      const struct fi__image_src *src)
{
	const struct fi__module *m = &fi__registry_modules[mod];
	const struct fi__image_src *file = src;
	struct fi__planset ps = {0};
	unsigned refused = 0, padded = 0;
	const char *from = "";
	bool cached;
	long r = 0;

	if (patching)
		return 0;
	patching = 1;
	while (__atomic_exchange_n(&patch_lock, 1, __ATOMIC_ACQUIRE))
		;
	r = fi__image_map(mod, start, len, prot, src, &refused, &padded);
	if (r >= 0) {
		from = " (image from the cache)";
		goto done;
	}
	if (r == FI_IMAGE_UNUSABLE)
		src = NULL; /* an image is there, but of no use here */
	r = 0;
	cached = fi__cache_load(m->build_id, m->build_id_len, start - m->base,
				start, len, &ps);
	if (!cached) {
		r = plan_region(mod, start, len, file, &ps, &from);
		if (r < 0)
			goto out;
		fi__cache_store(m->build_id, m->build_id_len, start - m->base,
				start, len, &ps);
	}
	for (size_t i = 0; i < ps.nrefused; i++)
		refuse(m, ps.refused[i].addr, ps.refused[i].why);
	refused = (unsigned)ps.nrefused;
	for (size_t i = 0; i < ps.nplans; i++) {
		struct fi__plan p;
		fi__planset_get(&ps, i, &p);
		padded += p.pad != 0;
	}
	if (ps.nplans)
		r = install(mod, start, len, prot, &ps, &refused, src);
	if (cached)
		from = " (plan from the cache)";
done:
	if (r >= 0 && fi__log_debug && (r || refused))
		fi__log("patched %s: %ld patch points (%u via padding), %u left alone%s",
			m->name, r, padded, refused, from);
out:
	fi__planset_free(&ps);
	__atomic_store_n(&patch_lock, 0, __ATOMIC_RELEASE);
	patching = 0;
	return r;
}

void fi__patch_mapping(const char *path, uint64_t addr, size_t len, long off,
		       int prot, int fd)
{
	Elf64_Phdr ph[64];
	uint64_t end = addr + len;
	int phnum = fi__elfobj_phdrs(fd, ph, 64);
	uint8_t id[32];
	size_t id_len;

	if (phnum < 0)
		return;
	id_len = fi__elfobj_file_build_id(fd, ph, phnum, id, sizeof(id));
	for (int i = 0; i < phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint64_t start, base;
		size_t n;
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		if (p->p_offset < (uint64_t)off ||
		    p->p_offset >= (uint64_t)off + len)
			continue;
		start = addr + (p->p_offset - (uint64_t)off);
		base = start - p->p_vaddr;
		n = p->p_filesz;
		if (start + n > end)
			n = end - start;
		struct fi__image_src src = {
			.path = NULL, .fd = fd, .file_off = p->p_offset};
		fi__patch_region(fi__registry_module(path, base, id, id_len),
				 start, n, prot, &src);
	}
}
