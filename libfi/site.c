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

/* Caller-saved registers hold garbage once we are above the first frame. */
#define CALLER_SAVED                                                           \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) |           \
	 (0xfu << 8))

/* One step: from the frame at u->r[RA] (= its pc) to its caller.
 * Returns 1 stepped, 0 end of stack, -1 gave up. `first`: the frame of
 * the syscall instruction itself, where glibc's fork-like wrappers bend
 * the rules: clone and clone3 end their CFI just before the syscall (the
 * FDE's last row still holds in the parent), and vfork pops its return
 * address into %rdi, so its caller's rsp equals its own. */
static int step(struct unw *u, const struct mod *m, uint64_t lookup,
		bool *signal, bool first)
{
	struct fi__cfi_row row;
	uint64_t cfa, nr[NREG];
	uint32_t nvalid = 0;

	if (!(first ? fi__cfi_row_past_end(&m->cfi, lookup, &row)
		    : fi__cfi_row_at(&m->cfi, lookup, &row)))
		return -1;
	if (row.cfa_bad || row.cfa_reg >= 16 ||
	    !(u->valid & (1u << row.cfa_reg)))
		return -1;
	cfa = u->r[row.cfa_reg] + (uint64_t)row.cfa_off;
	for (unsigned i = 0; i < NREG; i++) {
		switch (row.kind[i]) {
		case FI_CFI_SAME:
			nr[i] = u->r[i];
			nvalid |= u->valid & (1u << i);
			break;
		case FI_CFI_UNDEF:
			break;
		case FI_CFI_OFFSET:
			if (!read8(u, cfa + (uint64_t)row.val[i], &nr[i]))
				return -1;
			nvalid |= 1u << i;
			break;
		case FI_CFI_VALOFF:
			nr[i] = cfa + (uint64_t)row.val[i];
			nvalid |= 1u << i;
			break;
		case FI_CFI_REG:
			nr[i] = u->r[row.val[i]];
			if (u->valid & (1u << row.val[i]))
				nvalid |= 1u << i;
			break;
		default:
			if (i == RA)
				return -1;
			break;
		}
	}
	if (row.kind[RA] == FI_CFI_UNDEF)
		return 0; /* the outermost frame (_start, clone's child) */
	if (row.kind[RSP] == FI_CFI_SAME) {
		nr[RSP] = cfa;
		nvalid |= 1u << RSP;
	}
	if (!(nvalid & (1u << RA)) || !(nvalid & (1u << RSP)) || nr[RA] == 0)
		return -1;
	/* The stack grows down: callers sit strictly higher (vfork's own
	 * frame aside: it has popped its return address). */
	if (nr[RSP] < u->r[RSP] || (nr[RSP] == u->r[RSP] && !first))
		return -1;
	nvalid &= ~(uint32_t)CALLER_SAVED;
	for (unsigned i = 0; i < NREG; i++)
		u->r[i] = nr[i];
	u->valid = nvalid;
	*signal = row.signal;
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

	out->module = NULL;
	out->path = NULL;
	out->offset = 0;
	out->ignored = false;
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
		unsigned kind = range_kind(lookup);
		struct mod m;
		bool have = find_mod(lookup, &m);
		int s;

		if (kind & FI_SITE_IGNORED)
			out->ignored = true;
		if (!have)
			return false; /* JIT code, a trampoline, garbage */
		if (self_map && m.map == self_map)
			out->ignored = true;
		if (!(kind & FI_SITE_INTERNAL) && !mod_internal(&m)) {
			if (name_ignored(m.name))
				out->ignored = true;
			out->module = m.name;
			out->path = m.path;
			out->offset = pc - m.bias;
			return true;
		}
		s = step(&u, &m, lookup, &exact, depth == 0);
		if (s <= 0)
			return false;
	}
	return false;
}

bool fi__site_function_of(uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	struct mod m;

	return find_mod(pc, &m) && fi__cfi_function(&m.cfi, pc, lo, hi);
}
