/* site.c: call-site identity by unwinding. dispatch (or a rule that needs
 * site=) hands in the registers at a syscall instruction; this walks the
 * stack with the DWARF CFI of .eh_frame to the first frame outside libc,
 * ld.so and libfi. Runs inside the hook: no libc but _dl_find_object
 * (lock-free, async-signal-safe), every stack read bounds-checked. */
#include "site.h"
#include "cfi.h"
#include "xstate.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jsonw.h"
#include "raw.h"
#include "safe_read.h"

/* ---- tables, filled outside the hook ---- */

#define MAX_IGNORED 32
#define MAX_RANGES 16
#define NAME_LEN 64

static char ignored_names[MAX_IGNORED][NAME_LEN];
static unsigned ignored_count;

static struct {
	uint64_t lo, hi;
	unsigned kind;
} ranges[MAX_RANGES];
static unsigned range_count;

static char exe_name[256];
/* Objects the walk passes through: libc, ld.so, and the sanitizer
 * runtimes, whose interceptors sit between the program and libc. */
static const char *const internal_names[] = {
	"libc.so",    "ld-linux-x86-64.so", "libpthread.so", "libasan.so",
	"libtsan.so", "liblsan.so",	    "libubsan.so",   "libhwasan.so",
};
#define MAX_INTERNAL 8
static const struct link_map *internal_maps[MAX_INTERNAL];
static unsigned internal_count;
static const struct link_map *self_map;
static bool inited;

/* The lowest address of the main thread's stack may reach (from
 * RLIMIT_STACK at init); 0 when unknown. */
static uint64_t main_stack_lo;

extern void *__libc_stack_end;

/* name equals pat, or starts with pat followed by '.' */
static bool name_matches(const char *name, const char *pat)
{
	size_t i = 0;

	while (pat[i] && name[i] == pat[i])
		i++;
	return pat[i] == '\0' && (name[i] == '\0' || name[i] == '.');
}

bool fi__site_internal_name(const char *file_name)
{
	for (size_t i = 0;
	     i < sizeof(internal_names) / sizeof(internal_names[0]); i++)
		if (name_matches(file_name, internal_names[i]))
			return true;
	return false;
}

int fi__site_ignore(const char *module)
{
	const char *b;
	unsigned n;

	if (!module)
		return -EINVAL;
	b = fi__site_file_name(module);
	if (!*b || fi__jw_strlen(b) >= NAME_LEN)
		return -EINVAL;
	n = __atomic_load_n(&ignored_count, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (name_matches(b, ignored_names[i]) &&
		    fi__jw_strlen(b) == fi__jw_strlen(ignored_names[i]))
			return 0;
	if (n >= MAX_IGNORED)
		return -ENOSPC;
	for (size_t i = 0; i <= fi__jw_strlen(b); i++)
		ignored_names[n][i] = b[i];
	/* Publish the entry only once it is complete. */
	__atomic_store_n(&ignored_count, n + 1, __ATOMIC_RELEASE);
	fi__site_forget(); /* cached frames of that module are ignored now */
	return 0;
}

int fi__site_add_range(uint64_t lo, uint64_t hi, enum fi__site_kind kind)
{
	unsigned n = __atomic_load_n(&range_count, __ATOMIC_ACQUIRE);

	if (n >= MAX_RANGES)
		return -ENOSPC;
	ranges[n].lo = lo;
	ranges[n].hi = hi;
	ranges[n].kind = kind;
	__atomic_store_n(&range_count, n + 1, __ATOMIC_RELEASE);
	fi__site_forget();
	return 0;
}

const char *fi__exe_path(void)
{
	static char path[512];
	static bool done;
	long n;

	if (!done) {
		n = fi__raw3(SYS_readlink, "/proc/self/exe", path,
			     sizeof(path) - 1);
		path[n > 0 ? n : 0] = 0;
		done = true;
	}
	return path;
}

void fi__site_init(void)
{
	struct dl_find_object o;
	const struct link_map *m;
	struct rlimit rl;

	if (inited)
		return;
	inited = true;
	{
		const char *b = fi__site_file_name(fi__exe_path());
		size_t i;
		for (i = 0; b[i] && i + 1 < sizeof(exe_name); i++)
			exe_name[i] = b[i];
		exe_name[i] = '\0';
	}
	/* Our own object, unless we are linked into the program itself (unit
	 * tests, a static libfi): then the program is not internal. */
	if (_dl_find_object((void *)&fi__site_init, &o) == 0 &&
	    o.dlfo_link_map->l_name[0] != '\0')
		self_map = o.dlfo_link_map;
	/* The internal objects by name, from the loader's list. None of
	 * them can arrive later through dlopen. */
	if (_dl_find_object((void *)&fi__site_init, &o) == 0) {
		m = o.dlfo_link_map;
		while (m->l_prev)
			m = m->l_prev;
		for (; m && internal_count < MAX_INTERNAL; m = m->l_next) {
			if (fi__site_internal_name(
				    fi__site_file_name(m->l_name)))
				internal_maps[internal_count++] = m;
		}
	}
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && __libc_stack_end) {
		uint64_t end = (uint64_t)__libc_stack_end;
		uint64_t size = rl.rlim_cur == RLIM_INFINITY ||
						rl.rlim_cur > (1ull << 30)
					? (1ull << 30)
					: rl.rlim_cur;

		main_stack_lo = end > size ? end - size : 1;
	}
	/* (which also forgets the frames cached so far) */
	fi__site_ignore("libcmocka.so.0");
}

/* ---- objects (hook-safe from here on) ---- */

struct mod {
	const struct link_map *map;
	const char *name;
	const char *path;
	uint64_t bias;
	struct fi__cfi_object cfi; /* the object's mapping and CFI */
};

static bool find_mod(uint64_t pc, struct mod *m)
{
	struct dl_find_object o;
	struct fi__sse sse;
	int r;

	/* ld.so's code may use the XMM registers the program is holding. */
	fi__sse_save(&sse);
	r = _dl_find_object((void *)pc, &o);
	fi__sse_restore(&sse);
	if (r != 0 || !o.dlfo_link_map)
		return false;
	m->map = o.dlfo_link_map;
	m->bias = m->map->l_addr;
	m->name = m->map->l_name && m->map->l_name[0]
			  ? fi__site_file_name(m->map->l_name)
			  : exe_name;
	m->path = m->map->l_name && m->map->l_name[0] ? m->map->l_name
						      : fi__exe_path();
	m->cfi.start = (uint64_t)o.dlfo_map_start;
	m->cfi.end = (uint64_t)o.dlfo_map_end;
	m->cfi.eh_hdr = o.dlfo_eh_frame;
	return true;
}

static unsigned range_kind(uint64_t pc)
{
	unsigned n = __atomic_load_n(&range_count, __ATOMIC_ACQUIRE);
	unsigned kind = 0;

	for (unsigned i = 0; i < n; i++)
		if (pc >= ranges[i].lo && pc < ranges[i].hi)
			kind |= ranges[i].kind;
	return kind;
}

static bool name_ignored(const char *name)
{
	unsigned n = __atomic_load_n(&ignored_count, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (name_matches(name, ignored_names[i]))
			return true;
	return false;
}

static bool mod_internal(const struct mod *m)
{
	for (unsigned i = 0; i < internal_count; i++)
		if (m->map == internal_maps[i])
			return true;
	return self_map && m->map == self_map;
}

bool fi__site_module_of(uint64_t pc, const char **module, unsigned long *offset)
{
	struct mod m;

	if (!find_mod(pc, &m))
		return false;
	*module = m.name;
	*offset = pc - m.bias;
	return true;
}

bool fi__site_is_ignored_pc(uint64_t pc)
{
	struct mod m;

	if (range_kind(pc) & FI_SITE_IGNORED)
		return true;
	if (!find_mod(pc, &m))
		return false;
	return (self_map && m.map == self_map) || name_ignored(m.name);
}

/* ---- the stack and the register set being unwound ---- */

#define NREG FI_CFI_NREG
#define RSP FI_CFI_RSP
#define RA FI_CFI_RA
#define MAX_DEPTH 64
#define STACK_PROBE_MAX (16ull << 20)

struct unw {
	uint64_t r[NREG];
	uint32_t valid;
	uint64_t lo, hi; /* reads allowed in [lo, hi) */
	uint64_t limit;	 /* probing grows hi up to here */
	bool probe;
};

static uint64_t fs_base(void)
{
	uint64_t v;

	/* The TCB's self pointer, at %fs:0 on x86_64. */
	__asm__("mov %%fs:0, %0" : "=r"(v));
	return v;
}

/* This thread's stack, [valid_lo, %fs), once checked to be mapped. */
static __thread uint64_t tls_valid_lo;

/* The readable stack above rsp. The main thread's stack runs up to
 * __libc_stack_end; a glibc thread's up to its TCB (%fs), which is checked
 * once per thread to be mapped. Anything else (an alternate signal stack,
 * a coroutine) is probed page by page as the walk reads it. */
static void stack_bounds(struct unw *u, uint64_t rsp)
{
	uint64_t fs = fs_base();
	uint64_t end = (uint64_t)__libc_stack_end;
	uint64_t page = rsp & ~(FI_PAGE - 1);

	u->lo = rsp > FI_FRAME_REDZONE ? rsp - FI_FRAME_REDZONE : 0;
	u->probe = false;
	u->limit = 0;
	if (main_stack_lo && rsp >= main_stack_lo && rsp < end) {
		u->hi = (end | (FI_PAGE - 1)) + 1;
		return;
	}
	if (rsp < fs && fs - rsp < (64ull << 20)) {
		uint64_t lo = tls_valid_lo;

		if (lo && page >= lo) {
			u->hi = fs;
			return;
		}
		if (fi__safe_mapped(page, lo ? lo : fs)) {
			tls_valid_lo = page;
			u->hi = fs;
			return;
		}
	}
	/* Trust nothing, not even rsp's own page: probe from there. */
	u->probe = true;
	u->lo = page;
	u->hi = page;
	u->limit = page + STACK_PROBE_MAX;
}

static bool read8(struct unw *u, uint64_t addr, uint64_t *out)
{
	if (addr < u->lo || addr > UINT64_MAX - 8)
		return false;
	while (addr + 8 > u->hi) {
		if (!u->probe || u->hi >= u->limit || !fi__safe_readable(u->hi))
			return false;
		u->hi += FI_PAGE;
	}
	*out = *(const volatile uint64_t *)addr;
	return true;
}

/* ---- one frame of the walk ---- */

/* What the walk needs to know of one frame, as a function of its lookup
 * address alone (and of whether it is the syscall's own frame) for as
 * long as the loaded objects, the ranges and the ignored names stay the
 * same: whether it is the site (and its object), whether it is ignored,
 * and otherwise its CFI row, kept as the columns whose rule is not "same
 * value" (the registers of the frame itself are applied in step). */
enum {
	FR_SITE = 1u,	   /* the first frame outside: the site */
	FR_IGNORED = 2u,   /* an ignored range or module, or libfi */
	FR_FIRST = 4u,	   /* looked up as the syscall's own frame */
	FR_SIGNAL = 8u,	   /* a signal frame: the caller's pc is exact */
	FR_RSP_SAME = 16u, /* rsp's rule is "same": the caller's is the CFA */
};

struct frame {
	uint64_t lookup;
	uint32_t flags;
	uint8_t nrules;
	uint8_t cfa_reg;
	int64_t cfa_off;
	/* the site (FR_SITE) */
	const char *name, *path;
	uint64_t bias;
	/* the row: column | rule << 5, and the rule's value */
	uint8_t rule[NREG];
	int64_t val[NREG];
};

#define RULE_COL(b) ((unsigned)(b)&31u)
#define RULE_KIND(b) ((unsigned)(b) >> 5)

/* Fill fr for the frame at lookup. False when the walk must stop there
 * (no object, no usable CFI); FR_IGNORED in fr->flags holds either way. */
static bool frame_of(uint64_t lookup, bool first, struct frame *fr)
{
	unsigned kind = range_kind(lookup);
	struct fi__cfi_row row;
	struct mod m;

	fr->lookup = lookup;
	fr->flags = first ? FR_FIRST : 0;
	fr->nrules = 0;
	fr->cfa_reg = 0;
	fr->cfa_off = 0;
	fr->name = fr->path = NULL;
	fr->bias = 0;
	if (kind & FI_SITE_IGNORED)
		fr->flags |= FR_IGNORED;
	if (!find_mod(lookup, &m))
		return false; /* JIT code, a trampoline, garbage */
	if (self_map && m.map == self_map)
		fr->flags |= FR_IGNORED;
	if (!(kind & FI_SITE_INTERNAL) && !mod_internal(&m)) {
		if (name_ignored(m.name))
			fr->flags |= FR_IGNORED;
		fr->flags |= FR_SITE;
		fr->name = m.name;
		fr->path = m.path;
		fr->bias = m.bias;
		return true;
	}
	/* The syscall's own frame may be glibc's clone or clone3, whose CFI
	 * ends just before the syscall (see step). */
	if (!(first ? fi__cfi_row_past_end(&m.cfi, lookup, &row)
		    : fi__cfi_row_at(&m.cfi, lookup, &row)))
		return false;
	if (row.cfa_bad || row.cfa_reg >= 16)
		return false;
	fr->cfa_reg = (uint8_t)row.cfa_reg;
	fr->cfa_off = row.cfa_off;
	for (unsigned i = 0; i < NREG; i++) {
		if (row.kind[i] == FI_CFI_SAME)
			continue;
		fr->rule[fr->nrules] =
			(uint8_t)(i | (unsigned)row.kind[i] << 5);
		fr->val[fr->nrules++] = row.val[i];
	}
	if (row.kind[RSP] == FI_CFI_SAME)
		fr->flags |= FR_RSP_SAME;
	if (row.signal)
		fr->flags |= FR_SIGNAL;
	return true;
}

/* ---- the frame cache ----
 *
 * Every record of a loop has the same patch point and the same return
 * addresses, so the frames above are cached by lookup address: a hit
 * skips _dl_find_object, the FDE search and the CFA programs, and the
 * walk only applies the row to this call's registers and stack (step).
 *
 * One table for the whole process, each slot a seqlock: a reader takes
 * a slot only when its sequence was even and unchanged around the copy,
 * so a torn slot (another thread, or a signal handler on this one, in
 * the middle of writing it) is a miss, never a wrong frame. A writer
 * claims a slot by moving its sequence from even to odd with one
 * compare-and-swap and skips the slot when that fails: nothing waits.
 * Shared rather than per thread so that a program's threads warm it
 * once, and so that it needs no memory beyond .bss; a fork child keeps a
 * copy that is still right, its objects being the parent's (a slot that
 * the fork caught half written stays odd there: only a miss).
 *
 * A slot also holds the generation it was filled in; fi__site_forget
 * moves the generation on, after which no older slot is taken. It moves
 * when an ignored name or range is added, at every mmap that reaches
 * the hook (JIT code may land where an unloaded library was) and when
 * the patcher registers an object's code (registry.c: a library loaded
 * where another was, whose frames would otherwise keep the old object's
 * name, itself freed by dlclose). That happens before the new code can
 * run, so no return address into it is ever looked up in an older slot.
 * The walk reads the generation once, before it looks anything up, so a
 * slot is never older than the generation it carries. */
#define CACHE_BITS 9
#define CACHE_RULES 8

struct slot {
	uint64_t seq;
	/* lookup, generation, meta (flags, rules, CFA register), then the
	 * site's bias, name and path, or the CFA offset, the rules and
	 * their values */
	uint64_t w[15];
} __attribute__((aligned(64)));

static struct slot cache[1u << CACHE_BITS];
static unsigned cache_mask = (1u << CACHE_BITS) - 1;
/* Starts at 1: an empty slot (generation 0) never matches. */
static uint64_t cache_gen = 1;

void fi__site_forget(void)
{
	__atomic_add_fetch(&cache_gen, 1, __ATOMIC_ACQ_REL);
}

static struct slot *slot_of(uint64_t lookup, bool first)
{
	uint64_t h = (lookup + first) * 0x9e3779b97f4a7c15ull;

	return &cache[(h >> (64 - CACHE_BITS)) & cache_mask];
}

void fi__site_cache_bits(unsigned bits)
{
	if (bits > CACHE_BITS)
		bits = CACHE_BITS;
	__atomic_store_n(&cache_mask, (1u << bits) - 1, __ATOMIC_RELAXED);
	fi__site_forget();
}

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static bool cache_get(uint64_t lookup, bool first, uint64_t gen,
		      struct frame *fr)
{
	struct slot *s = slot_of(lookup, first);
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	uint64_t meta, rules;

	if ((seq & 1) || ld(&s->w[0]) != lookup || ld(&s->w[1]) != gen)
		return false;
	meta = ld(&s->w[2]);
	fr->lookup = lookup;
	fr->flags = (uint32_t)(meta & 0xff);
	fr->nrules = (uint8_t)(meta >> 8);
	fr->cfa_reg = (uint8_t)(meta >> 16);
	if (!(fr->flags & FR_FIRST) != !first || fr->nrules > CACHE_RULES)
		return false;
	fr->bias = fr->cfa_off = 0;
	fr->name = fr->path = NULL;
	if (fr->flags & FR_SITE) {
		fr->bias = ld(&s->w[3]);
		fr->name = (const char *)ld(&s->w[4]);
		fr->path = (const char *)ld(&s->w[5]);
	} else {
		fr->cfa_off = (int64_t)ld(&s->w[3]);
		rules = ld(&s->w[4]);
		for (unsigned k = 0; k < fr->nrules; k++) {
			fr->rule[k] = (uint8_t)(rules >> (8 * k));
			fr->val[k] = (int64_t)ld(&s->w[5 + k]);
		}
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq;
}

static void cache_put(uint64_t gen, const struct frame *fr)
{
	struct slot *s = slot_of(fr->lookup, fr->flags & FR_FIRST);
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED), rules = 0;

	if (fr->nrules > CACHE_RULES || (seq & 1) ||
	    !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	st(&s->w[0], fr->lookup);
	st(&s->w[1], gen);
	st(&s->w[2],
	   fr->flags | (uint64_t)fr->nrules << 8 | (uint64_t)fr->cfa_reg << 16);
	if (fr->flags & FR_SITE) {
		st(&s->w[3], fr->bias);
		st(&s->w[4], (uint64_t)fr->name);
		st(&s->w[5], (uint64_t)fr->path);
	} else {
		st(&s->w[3], (uint64_t)fr->cfa_off);
		for (unsigned k = 0; k < fr->nrules; k++) {
			rules |= (uint64_t)fr->rule[k] << (8 * k);
			st(&s->w[5 + k], (uint64_t)fr->val[k]);
		}
		st(&s->w[4], rules);
	}
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Caller-saved registers hold garbage once we are above the first frame. */
#define CALLER_SAVED                                                           \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) |           \
	 (0xfu << 8))

/* One step: from the frame fr (at u->r[RA], its pc) to its caller.
 * Returns 1 stepped, 0 or -1 when the walk ends there (the outermost
 * frame, or a row this reader does not follow). `first`: the frame of
 * the syscall instruction itself, where glibc's fork-like wrappers bend
 * the rules: clone and clone3 end their CFI just before the syscall (the
 * FDE's last row still holds in the parent: frame_of), and vfork pops its
 * return address into %rdi, so its caller's rsp equals its own. */
static int step(struct unw *u, const struct frame *fr, bool *signal, bool first)
{
	uint64_t cfa, rsp = u->r[RSP], nv[NREG];
	uint32_t nvalid = u->valid;
	unsigned k;

	if (!(u->valid & (1u << fr->cfa_reg)))
		return -1;
	cfa = u->r[fr->cfa_reg] + (uint64_t)fr->cfa_off;
	/* The columns with a rule, from the callee's registers; the others
	 * keep their value ("same value"). Written back only once all are
	 * read, since a rule may name another column's old value. */
	for (k = 0; k < fr->nrules; k++) {
		unsigned i = RULE_COL(fr->rule[k]);
		int64_t v = fr->val[k];

		switch (RULE_KIND(fr->rule[k])) {
		case FI_CFI_UNDEF:
			if (i == RA)
				return 0; /* the outermost frame (_start) */
			nvalid &= ~(1u << i);
			nv[k] = u->r[i];
			break;
		case FI_CFI_OFFSET:
			if (!read8(u, cfa + (uint64_t)v, &nv[k]))
				return -1;
			nvalid |= 1u << i;
			break;
		case FI_CFI_VALOFF:
			nv[k] = cfa + (uint64_t)v;
			nvalid |= 1u << i;
			break;
		case FI_CFI_REG:
			nv[k] = u->r[v];
			nvalid = (nvalid & ~(1u << i)) |
				 (((u->valid >> v) & 1u) << i);
			break;
		default: /* an expression: not followed */
			if (i == RA)
				return -1;
			nvalid &= ~(1u << i);
			nv[k] = u->r[i];
			break;
		}
	}
	for (k = 0; k < fr->nrules; k++)
		u->r[RULE_COL(fr->rule[k])] = nv[k];
	if (fr->flags & FR_RSP_SAME) {
		u->r[RSP] = cfa;
		nvalid |= 1u << RSP;
	}
	if (!(nvalid & (1u << RA)) || !(nvalid & (1u << RSP)) || u->r[RA] == 0)
		return -1;
	/* The stack grows down: callers sit strictly higher (vfork's own
	 * frame aside: it has popped its return address). */
	if (u->r[RSP] < rsp || (u->r[RSP] == rsp && !first))
		return -1;
	u->valid = nvalid & ~(uint32_t)CALLER_SAVED;
	*signal = (fr->flags & FR_SIGNAL) != 0;
	return 1;
}

void fi__site_regs_from_frame(const struct fi__frame *f, uint64_t pc,
			      struct fi__site_regs *r)
{
	r->rip = pc;
	r->gpr[0] = f->rax;
	r->gpr[1] = f->rdx;
	r->gpr[2] = f->rcx;
	r->gpr[3] = f->rbx;
	r->gpr[4] = f->rsi;
	r->gpr[5] = f->rdi;
	r->gpr[6] = f->rbp;
	r->gpr[7] = fi__frame_user_rsp(f);
	r->gpr[8] = f->r8;
	r->gpr[9] = f->r9;
	r->gpr[10] = f->r10;
	r->gpr[11] = f->r11;
	r->gpr[12] = f->r12;
	r->gpr[13] = f->r13;
	r->gpr[14] = f->r14;
	r->gpr[15] = f->r15;
}

bool fi__site_resolve(const struct fi__site_regs *r, struct fi__site_info *out)
{
	struct unw u;
	bool exact = true; /* pc is not a return address */
	uint64_t gen = __atomic_load_n(&cache_gen, __ATOMIC_ACQUIRE);

	out->module = NULL;
	out->path = NULL;
	out->offset = 0;
	out->ignored = false;
#pragma GCC unroll 16
	for (unsigned i = 0; i < 16; i++)
		u.r[i] = r->gpr[i];
	u.r[RA] = r->rip;
	u.valid = (1u << NREG) - 1;
	stack_bounds(&u, r->gpr[RSP]);

	for (unsigned depth = 0; depth < MAX_DEPTH; depth++) {
		uint64_t pc = u.r[RA];
		/* A return address may sit just past its function's end (a
		 * call to a noreturn function): look up the call instead. */
		uint64_t lookup = exact ? pc : pc - 1;
		bool first = depth == 0;
		struct frame fr;

		if (!cache_get(lookup, first, gen, &fr)) {
			bool ok = frame_of(lookup, first, &fr);

			if (!ok) {
				if (fr.flags & FR_IGNORED)
					out->ignored = true;
				return false;
			}
			cache_put(gen, &fr);
		}
		if (fr.flags & FR_IGNORED)
			out->ignored = true;
		if (fr.flags & FR_SITE) {
			out->module = fr.name;
			out->path = fr.path;
			out->offset = pc - fr.bias;
			return true;
		}
		if (step(&u, &fr, &exact, first) <= 0)
			return false;
	}
	return false;
}

bool fi__site_function_of(uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	struct mod m;

	return find_mod(pc, &m) && fi__cfi_function(&m.cfi, pc, lo, hi);
}
