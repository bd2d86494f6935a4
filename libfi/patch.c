/* patch.c: sweeps an executable region for syscall instructions, plans each
 * site, writes the stubs and rewrites the sites. See patch.h and the
 * diagram in plan.c. */
#include "patch.h"

#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "arena.h"
#include "cache.h"
#include "disasm.h"
#include "image.h"
#include "plan.h"
#include "raw.h"
#include "site.h"

#define PAGE 4096ul

struct fi__module fi__modules[FI_MAX_MODULES];
uint32_t fi__nmodules;
struct fi__site *fi__sites;
uint32_t fi__nsites;
int fi__debug;
bool fi__full_sweep;

extern unsigned char fi__interest[];
void fi__entry(void);
void fi__entry_post(void);

static struct fi__disasm *dis;
static int patch_lock;

void fi__log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	memcpy(buf, "fi: ", 4);
	va_start(ap, fmt);
	n = vsnprintf(buf + 4, sizeof(buf) - 5, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 4;
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	buf[n++] = '\n';
	fi__raw3(SYS_write, 2, buf, n);
}

void fi__patch_forked(void)
{
	/* A thread of the parent may have held these when it forked; in the
	 * child that thread is gone, so nobody would ever release them. */
	__atomic_store_n(&patch_lock, 0, __ATOMIC_RELEASE);
	fi__arena_forked();
}

int fi__patch_init(void)
{
	fi__sites = fi__pages(FI_MAX_SITES * sizeof(struct fi__site));
	if (!fi__sites)
		return -ENOMEM;
	fi__arena_install();
	return 0;
}

/* This thread is patching: a nested request (ld.so mapping capstone
 * while we load it) is skipped rather than deadlocked. */
static __thread int patching;
bool fi__patch_in_hook;

bool fi__patch_decoder(const char **why)
{
	if (dis)
		return true;
	if (!fi__disasm_ready() && fi__patch_in_hook) {
		*why = "the decoder is not loaded and cannot be from inside "
		       "ld.so (FI_DECODER=eager loads it at start-up)";
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

size_t fi__patch_build_id(const uint8_t *note, size_t len, uint8_t *out,
			  size_t cap)
{
	size_t at = 0;
	while (at + 12 <= len) {
		uint32_t namesz, descsz, type;
		fi__copy(&namesz, note + at, 4);
		fi__copy(&descsz, note + at + 4, 4);
		fi__copy(&type, note + at + 8, 4);
		size_t name_at = at + 12;
		size_t desc_at = name_at + ((namesz + 3) & ~3u);
		if (desc_at + descsz > len)
			break;
		if (type == NT_GNU_BUILD_ID && namesz == 4 &&
		    !memcmp(note + name_at, "GNU", 4) && descsz <= cap &&
		    descsz > 0) {
			fi__copy(out, note + desc_at, descsz);
			return descsz;
		}
		at = desc_at + ((descsz + 3) & ~3u);
	}
	return 0;
}

uint32_t fi__patch_module(const char *name, uint64_t base,
			  const uint8_t *build_id, size_t id_len)
{
	const char *slash = strrchr(name, '/');
	uint32_t i;

	if (slash)
		name = slash + 1;
	for (i = 0; i < fi__nmodules; i++)
		if (fi__modules[i].base == base &&
		    !strcmp(fi__modules[i].name, name))
			return i;
	if (fi__nmodules == FI_MAX_MODULES)
		return FI_MAX_MODULES - 1;
	i = fi__nmodules;
	snprintf(fi__modules[i].name, sizeof(fi__modules[i].name), "%s", name);
	fi__modules[i].base = base;
	if (build_id && id_len <= sizeof(fi__modules[i].build_id)) {
		fi__copy(fi__modules[i].build_id, build_id, id_len);
		fi__modules[i].build_id_len = (uint8_t)id_len;
	}
	__atomic_store_n(&fi__nmodules, i + 1, __ATOMIC_RELEASE);
	return i;
}

/* --- the sweep ------------------------------------------------------- */

struct sweep {
	uint64_t start;
	size_t len;
	uint8_t *targets; /* one bit per byte of the region */
	struct fi__window *wins;
	size_t nwins, capwins;
	struct fi__pad *pads;
	size_t npads, cappads;
};

static bool is_target(void *ctx, uint64_t addr)
{
	const struct sweep *s = ctx;
	uint64_t off = addr - s->start;
	if (addr < s->start || off >= s->len)
		return false;
	return s->targets[off >> 3] & (1u << (off & 7));
}

static void mark_target(struct sweep *s, int64_t addr)
{
	uint64_t off = (uint64_t)addr - s->start;
	if ((uint64_t)addr >= s->start && off < s->len)
		s->targets[off >> 3] |= (uint8_t)(1u << (off & 7));
}

static bool stops(const struct fi__insn *in)
{
	return in->kind == FI_INSN_JMP_REL || in->kind == FI_INSN_END;
}

static void add_pad(struct sweep *s, uint64_t from, uint64_t to)
{
	if (to - from >= FI_JMP32_LEN &&
	    fi__pages_grow((void **)&s->pads, &s->cappads, s->npads + 1,
			   sizeof(*s->pads))) {
		s->pads[s->npads].addr = from;
		s->pads[s->npads].len = (uint32_t)(to - from);
		s->npads++;
	}
}

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Decode from `from` up to `to` linearly, then on through any padding that
 * follows (up to `limit`): branch targets, syscall windows, padding runs.
 * Padding counts only after an instruction that does not fall through.
 * *end is where decoding stopped, always an instruction boundary. */
static int decode_range(struct sweep *s, uint64_t from, uint64_t to,
			uint64_t limit, uint64_t *end)
{
	const uint8_t *code = (const uint8_t *)from;
	size_t avail = limit - from;
	uint64_t addr = from;
	struct fi__insn ring[FI_PLAN_MAXPRE], in;
	int nring = 0;
	bool prev_stops = false;
	uint64_t pad_start = 0;

	while (avail) {
		if (addr >= to && !pad_start && !prev_stops)
			break; /* past the function, and no padding follows */
		if (!fi__disasm_fast(dis, &code, &avail, &addr, &in)) {
			code++, avail--, addr++;
			nring = 0;
			prev_stops = false;
			pad_start = 0;
			continue;
		}
		if (in.addr >= to && in.kind != FI_INSN_PADDING) {
			addr = in.addr; /* the next function: not ours */
			break;
		}
		switch (in.kind) {
		case FI_INSN_JMP_REL:
		case FI_INSN_JCC_REL:
		case FI_INSN_CALL_REL:
		case FI_INSN_OTHER_REL:
			mark_target(s, in.target);
			break;
		default:
			break;
		}
		if (in.kind == FI_INSN_PADDING) {
			if (!pad_start && prev_stops)
				pad_start = in.addr;
		} else if (pad_start) {
			add_pad(s, pad_start, in.addr);
			pad_start = 0;
		}
		if (in.kind == FI_INSN_SYSCALL) {
			if (!fi__pages_grow((void **)&s->wins, &s->capwins,
					    s->nwins + 1, sizeof(*s->wins)))
				return -ENOMEM;
			struct fi__window *w = &s->wins[s->nwins++];
			fi__fill(w, 0, sizeof(*w));
			for (int i = 0; i < nring; i++)
				w->pre[i] = ring[i];
			w->npre = nring;
			w->sys = in;
		}
		if (in.kind != FI_INSN_PADDING || !pad_start)
			prev_stops = stops(&in);
		if (nring == FI_PLAN_MAXPRE) {
			for (int i = 1; i < FI_PLAN_MAXPRE; i++)
				ring[i - 1] = ring[i];
			nring--;
		}
		ring[nring++] = in;
	}
	if (pad_start)
		add_pad(s, pad_start, addr);
	*end = addr;
	return 0;
}

/* Every direct branch encoding anywhere in the region (e8/e9/eb, 7x, 0f 8x,
 * e0-e3), decoded or not, whose target lands in `near` marks a target.
 * Bytes that are not really a branch only make the planner more careful;
 * a real branch from code never decoded (a .cold part, another function)
 * cannot be missed. */
static void scan_branches(struct sweep *s, const uint8_t *near)
{
	/* Opcode byte -> the length of a branch starting with it (0: none).
	 * 0x0f stands for the two-byte jcc rel32 and is checked further. */
	static uint8_t len_of[256];
	const uint8_t *b = (const uint8_t *)s->start;
	size_t n = s->len;

	if (!len_of[0xeb]) {
		for (int op = 0x70; op <= 0x7f; op++)
			len_of[op] = 2;
		for (int op = 0xe0; op <= 0xe3; op++)
			len_of[op] = 2;
		len_of[0xeb] = 2;
		len_of[0xe8] = len_of[0xe9] = 5;
		len_of[0x0f] = 6;
	}
	for (size_t i = 0; i + 2 <= n; i++) {
		unsigned k = len_of[b[i]];
		int64_t t;
		if (!k || i + k > n)
			continue;
		if (k == 2)
			t = (int64_t)(s->start + i + 2) + (int8_t)b[i + 1];
		else if (k == 5)
			t = (int64_t)(s->start + i + 5) + le32(b + i + 1);
		else if ((b[i + 1] & 0xf0) == 0x80)
			t = (int64_t)(s->start + i + 6) + le32(b + i + 2);
		else
			continue;
		uint64_t off = (uint64_t)t - s->start;
		if (off < s->len && (near[off >> 3] & (1u << (off & 7))))
			mark_target(s, t);
	}
}

/* Linear sweep of everything: for code with no CFI to find functions by. */
static int sweep_all(struct sweep *s)
{
	uint64_t end;
	return decode_range(s, s->start, s->start + s->len, s->start + s->len,
			    &end);
}

/* Find the syscalls: look for 0f 05 bytes, decode only the functions that
 * hold them (bounds from .eh_frame), then scan the whole region for
 * branches into the bytes around each site. */
static int sweep(struct sweep *s)
{
	const uint8_t *b = (const uint8_t *)s->start;
	uint64_t done = s->start, lo, hi;
	uint8_t *near;
	size_t nbits = (s->len + 7) / 8 + 1;
	int r = 0;

	s->targets = fi__pages(nbits);
	if (!s->targets)
		return -ENOMEM;
	if (fi__full_sweep)
		return sweep_all(s);
	for (const uint8_t *p = b; p + 2 <= b + s->len; p++) {
		/* memchr is safe here: no locks, and the vector state is
		 * saved when this runs inside the hook. */
		p = memchr(p, 0x0f, (size_t)(b + s->len - 1 - p));
		if (!p)
			break;
		uint64_t a = (uint64_t)p;
		if (p[1] != 0x05 || a < done)
			continue;
		if (!fi__site_function_of(a, &lo, &hi) || lo > a) {
			s->nwins = 0;
			s->npads = 0;
			fi__fill(s->targets, 0, nbits);
			return sweep_all(s);
		}
		if (hi <= a)
			hi = a + 2; /* CFI stops short of the syscall: go on */
		if (lo < s->start)
			lo = s->start;
		if (hi > s->start + s->len)
			hi = s->start + s->len;
		if (lo < done)
			lo = done; /* a boundary the last decode reached */
		r = decode_range(s, lo, hi,
				 hi + 64 < s->start + s->len ? hi + 64
							     : s->start + s->len,
				 &done);
		if (r < 0)
			return r;
	}
	if (s->nwins == 0)
		return 0;

	/* Bytes where a branch would matter: every window's reach and every
	 * padding run. */
	near = fi__pages(nbits);
	if (!near)
		return -ENOMEM;
	for (size_t k = 0; k < s->nwins; k++) {
		const struct fi__window *w = &s->wins[k];
		uint64_t from = w->npre ? w->pre[0].addr : w->sys.addr;
		uint64_t to = w->sys.addr + w->sys.len + FI_PLAN_MAXPOST * 15;
		for (uint64_t a = from; a < to && a < s->start + s->len; a++) {
			uint64_t off = a - s->start;
			near[off >> 3] |= (uint8_t)(1u << (off & 7));
		}
	}
	for (size_t k = 0; k < s->npads; k++)
		for (uint64_t a = s->pads[k].addr;
		     a < s->pads[k].addr + s->pads[k].len; a++) {
			uint64_t off = a - s->start;
			near[off >> 3] |= (uint8_t)(1u << (off & 7));
		}
	scan_branches(s, near);
	fi__pages_free(near, nbits);
	return 0;
}

/* mov $15,%rax; syscall: the bytes unwinders look for to spot a signal
 * frame, whatever the decoder made of them. */
static bool sigreturn_bytes(const struct sweep *s, uint64_t sys)
{
	static const uint8_t mov15[] = {0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0};
	if (sys < s->start + sizeof(mov15))
		return false;
	return !memcmp((const void *)(sys - sizeof(mov15)), mov15, sizeof(mov15));
}

/* Decode a window in detail: RIP-relative operands before the syscall,
 * and the instructions after it. */
static void detail(struct sweep *s, struct fi__window *w)
{
	uint64_t end = s->start + s->len, a;
	for (int i = 0; i < w->npre; i++) {
		struct fi__insn d;
		if (fi__disasm_one(dis, w->pre[i].bytes, w->pre[i].len,
				   w->pre[i].addr, &d))
			w->pre[i] = d;
	}
	a = w->sys.addr + w->sys.len;
	w->npost = 0;
	while (w->npost < FI_PLAN_MAXPOST && a < end) {
		struct fi__insn *p = &w->post[w->npost];
		if (!fi__disasm_one(dis, (const uint8_t *)a, end - a, a, p))
			break;
		w->npost++;
		if (stops(p))
			break;
		a += p->len;
	}
}

/* --- trampoline areas ------------------------------------------------ */

static void *alloc_near_maps(uint64_t lo, uint64_t hi, size_t size);

/* `size` bytes for a trampoline area within 1 GiB of [lo, hi). */
static void *alloc_near(uint64_t lo, uint64_t hi, size_t size)
{
	uint64_t spot = fi__image_spot(lo);

	/* The preferred spot first: it is what images are made for, and it
	 * spares reading the maps. */
	if (spot && fi__map_at(spot, size, PROT_READ | PROT_WRITE,
			       MAP_POPULATE, -1, 0))
		return (void *)spot;
	return alloc_near_maps(lo, hi, size);
}

/* Find `size` free bytes within 1 GiB of [lo, hi) by reading
 * /proc/self/maps with raw syscalls, and map them there. */
static void *alloc_near_maps(uint64_t lo, uint64_t hi, size_t size)
{
	static const char path[] = "/proc/self/maps";
	const size_t cap = 4u << 20;
	char *buf = fi__pages(cap);
	size_t n = 0;
	long fd, r;
	uint64_t prev_end = 0x10000, best = 0, best_dist = ~0ull;
	const uint64_t reach = 1ull << 30;

	if (!buf)
		return NULL;
	fd = fi__raw4(SYS_openat, -100, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		fi__pages_free(buf, cap);
		return NULL;
	}
	while (n < cap - 1 &&
	       (r = fi__raw3(SYS_read, fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	fi__raw1(SYS_close, fd);
	buf[n] = 0;

	/* Gaps between consecutive mappings; take the one closest to the
	 * region whose near edge leaves room for size. */
	for (char *p = buf; p < buf + n;) {
		uint64_t a = 0, b = 0;
		while (*p && *p != '-')
			a = a * 16 + (uint64_t)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10), p++;
		if (*p == '-')
			p++;
		while (*p && *p != ' ')
			b = b * 16 + (uint64_t)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10), p++;
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
		if (a >= prev_end + size) {
			/* gap [prev_end, a) */
			uint64_t cand, dist;
			if (a <= lo) {
				cand = (a - size) & ~(PAGE - 1);
				dist = hi - cand;
			} else if (prev_end >= hi) {
				cand = prev_end;
				dist = cand + size - lo;
			} else {
				cand = 0, dist = ~0ull;
			}
			if (cand && cand >= prev_end && dist < reach &&
			    dist < best_dist)
				best = cand, best_dist = dist;
		}
		if (b > prev_end)
			prev_end = b;
	}
	fi__pages_free(buf, cap);
	if (!best)
		return NULL;
	if (!fi__map_at(best, size, PROT_READ | PROT_WRITE, MAP_POPULATE, -1, 0))
		return NULL;
	return (void *)best;
}

/* --- writing --------------------------------------------------------- */

/* Write every patch of the region while it is writable but not executable.
 * Runs with signals blocked and calls nothing in libc: libc's own text may
 * be what is being rewritten. */
static __attribute__((noinline)) long apply(struct fi__patch_write *pd, size_t n,
					    uint64_t lo, uint64_t hi, int prot)
{
	uint64_t first = lo & ~(PAGE - 1);
	uint64_t last = (hi + PAGE - 1) & ~(PAGE - 1);
	unsigned long all = ~0ul, old = 0;
	long r;

	fi__raw4(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, sizeof(all));
	r = fi__raw3(SYS_mprotect, first, last - first, PROT_READ | PROT_WRITE);
	if (r == 0) {
		for (size_t i = 0; i < n; i++) {
			fi__copy((void *)pd[i].start, pd[i].site, pd[i].len);
			if (pd[i].pad)
				fi__copy((void *)pd[i].pad, pd[i].padjmp,
					 FI_JMP32_LEN);
		}
		r = fi__raw3(SYS_mprotect, first, last - first, prot);
	}
	fi__raw4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, sizeof(old));
	return r;
}

/* Whether the region holds any 0f 05 byte pair at all. */
static bool has_candidates(uint64_t start, size_t len)
{
	const uint8_t *b = (const uint8_t *)start, *p = b;
	while (p + 2 <= b + len &&
	       (p = memchr(p, 0x0f, (size_t)(b + len - 1 - p))) != NULL) {
		if (p[1] == 0x05)
			return true;
		p++;
	}
	return false;
}

/* Sweep and plan a region: every site's plan, or why it was left alone. */
static long plan_region(const struct fi__module *m, uint64_t start, size_t len,
			struct fi__planset *ps)
{
	struct sweep s = {.start = start, .len = len};
	const char *why;
	long r;

	if (!has_candidates(start, len))
		return 0; /* nothing to plan, nor to decode */
	if (!fi__patch_decoder(&why)) {
		if (fi__debug)
			fi__log("  left alone every site of %s: %s", m->name, why);
		fi__cache_want_decoder();
		return -ENOSYS;
	}
	r = sweep(&s);

	if (r < 0 || s.nwins == 0)
		goto out;
	ps->plans = fi__pages(s.nwins * sizeof(*ps->plans));
	ps->refused = fi__pages(s.nwins * sizeof(*ps->refused));
	if (!ps->plans || !ps->refused) {
		r = -ENOMEM;
		goto out;
	}
	ps->capplans = ps->caprefused = s.nwins;
	for (size_t i = 0; i < s.nwins; i++) {
		struct fi__window *w = &s.wins[i];
		const char *no;
		detail(&s, w);
		no = sigreturn_bytes(&s, w->sys.addr)
			     ? "rt_sigreturn trampoline (unwinders recognise its bytes)"
			     : fi__plan_site(w, is_target, &s, s.pads, s.npads,
					     &ps->plans[ps->nplans]);
		if (no) {
			struct fi__refusal *f = &ps->refused[ps->nrefused++];
			f->addr = w->sys.addr;
			snprintf(f->why, sizeof(f->why), "%s", no);
			continue;
		}
		ps->nplans++;
	}
out:
	if (s.targets)
		fi__pages_free(s.targets, (s.len + 7) / 8 + 1);
	if (s.wins)
		fi__pages_free(s.wins, s.capwins * sizeof(*s.wins));
	if (s.pads)
		fi__pages_free(s.pads, s.cappads * sizeof(*s.pads));
	return r;
}

static void refuse(const struct fi__module *m, uint64_t addr, const char *why)
{
	if (fi__debug)
		fi__log("  left alone %s+0x%lx: %s", m->name,
			(unsigned long)(addr - m->base), why);
}

/* A trampoline area: its first page holds the slots the stubs read (the
 * interest table's address, the entries, the id of the area's first site),
 * the stubs follow from the second page on. Only the first page depends on
 * this run, so the stub pages can be kept in the plan cache. */
enum { SLOT_TABLE, SLOT_ENTRY, SLOT_POST, SLOT_BASE };

static struct fi__stub_env area_env(uint64_t area)
{
	struct fi__stub_env env = {
		.table_slot = area + 8 * SLOT_TABLE,
		.entry_slot = area + 8 * SLOT_ENTRY,
		.post_slot = area + 8 * SLOT_POST,
		.base_slot = area + 8 * SLOT_BASE,
	};
	return env;
}

long fi__patch_fill_slots(uint64_t area, uint32_t base)
{
	uint64_t *slot = (uint64_t *)area;
	slot[SLOT_TABLE] = (uint64_t)fi__interest;
	slot[SLOT_ENTRY] = (uint64_t)fi__entry;
	slot[SLOT_POST] = (uint64_t)fi__entry_post;
	slot[SLOT_BASE] = base;
	return fi__raw3(SYS_mprotect, area, PAGE, PROT_READ);
}

/* Write the stubs of every plan into a trampoline area near the region and
 * rewrite the sites. Returns the number of sites patched. */
static long install(uint32_t mod, uint64_t start, size_t len, int prot,
		    const struct fi__planset *ps, unsigned *refused,
		    const struct fi__image_src *src)
{
	const struct fi__module *m = &fi__modules[mod];
	struct fi__patch_write *pd;
	size_t npd = 0, area_len, off = PAGE;
	uint32_t base = __atomic_load_n(&fi__nsites, __ATOMIC_RELAXED);
	uint8_t *area;
	long r;

	area_len = (PAGE + ps->nplans * FI_STUB_MAX + PAGE - 1) & ~(PAGE - 1);
	area = alloc_near(start, start + len, area_len);
	if (!area) {
		fi__log("cannot place trampolines near %s; its %zu sites stay "
			"unpatched", m->name, ps->nplans);
		return -ENOMEM;
	}
	pd = fi__pages(ps->nplans * sizeof(*pd));
	if (!pd) {
		fi__pages_free(area, area_len);
		return -ENOMEM;
	}
	struct fi__stub_env env = area_env((uint64_t)area);
	for (size_t i = 0; i < ps->nplans; i++) {
		struct fi__patch_write *p = &pd[npd];
		struct fi__plan plan;
		uint64_t stub = (uint64_t)area + off;
		const char *why = NULL;
		size_t n;
		if (base + npd >= FI_MAX_SITES)
			break;
		fi__planset_get(ps, i, &plan);
		n = fi__plan_emit_stub(&plan, (uint32_t)npd, stub, &env,
				       area + off, FI_STUB_MAX, &why);
		if (!n) {
			(*refused)++;
			refuse(m, plan.sys, why);
			continue;
		}
		if (fi__debug > 1)
			fi__log("  patching %s+0x%lx", m->name,
				(unsigned long)(plan.sys - m->base));
		fi__plan_emit_patch(&plan, stub, p->site, p->padjmp);
		p->start = plan.start;
		p->len = plan.len;
		p->pad = plan.pad;
		fi__sites[base + npd].addr = plan.sys;
		fi__sites[base + npd].module = mod;
		off += (n + 15) & ~(size_t)15;
		npd++;
	}
	__atomic_store_n(&fi__nsites, base + (uint32_t)npd, __ATOMIC_RELEASE);
	if (fi__patch_fill_slots((uint64_t)area, base) ||
	    fi__raw3(SYS_mprotect, area + PAGE, area_len - PAGE,
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
		fi__image_store(mod, start, len, src, (uint64_t)area, off - PAGE,
				base, pd, npd, ps->refused, ps->nrefused);
out:
	fi__pages_free(pd, ps->nplans * sizeof(*pd));
	return r;
}

long fi__patch_region(uint32_t mod, uint64_t start, size_t len, int prot,
			const struct fi__image_src *src)
{
	const struct fi__module *m = &fi__modules[mod];
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
	if (r == -2)
		src = NULL; /* an image is there, but of no use here */
	r = 0;
	cached = fi__cache_load(m->build_id, m->build_id_len, start - m->base,
				start, len, &ps);
	if (!cached) {
		r = plan_region(m, start, len, &ps);
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
	if (r >= 0 && fi__debug && (r || refused))
		fi__log("patched %s: %ld sites (%u via padding), %u left alone%s",
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
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t end = addr + len;

	if (fi__raw4(SYS_pread64, fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
		return;
	if (fi__raw4(SYS_pread64, fd, ph, eh.e_phnum * sizeof(Elf64_Phdr),
		     eh.e_phoff) != (long)(eh.e_phnum * sizeof(Elf64_Phdr)))
		return;
	uint8_t id[32];
	size_t id_len = 0;
	for (int i = 0; i < eh.e_phnum && !id_len; i++) {
		uint8_t note[256];
		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > sizeof(note) ||
		    fi__raw4(SYS_pread64, fd, note, ph[i].p_filesz,
			     ph[i].p_offset) != (long)ph[i].p_filesz)
			continue;
		id_len = fi__patch_build_id(note, ph[i].p_filesz, id, sizeof(id));
	}
	for (int i = 0; i < eh.e_phnum; i++) {
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
		struct fi__image_src src = {.path = NULL,
					    .fd = fd,
					    .file_off = p->p_offset};
		fi__patch_region(fi__patch_module(path, base, id, id_len), start,
				 n, prot, &src);
	}
}
