/* site.c: call-site identity by unwinding. dispatch (or a rule that needs
 * site=) hands in the registers at a syscall instruction; this walks the
 * stack with the DWARF CFI of .eh_frame to the first frame outside libc,
 * ld.so and libfi. Runs inside the hook: no libc but _dl_find_object
 * (lock-free, async-signal-safe), every stack read bounds-checked. */
#include "site.h"
#include "xstate.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw.h"

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
	"libc.so", "ld-linux-x86-64.so", "libpthread.so", "libasan.so",
	"libtsan.so", "liblsan.so", "libubsan.so", "libhwasan.so",
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

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static const char *base_name(const char *path)
{
	const char *b = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

/* name equals pat, or starts with pat followed by '.' */
static bool name_matches(const char *name, const char *pat)
{
	size_t i = 0;

	while (pat[i] && name[i] == pat[i])
		i++;
	return pat[i] == '\0' && (name[i] == '\0' || name[i] == '.');
}

int fi__site_ignore(const char *module)
{
	const char *b;
	unsigned n;

	if (!module)
		return -EINVAL;
	b = base_name(module);
	if (!*b || slen(b) >= NAME_LEN)
		return -EINVAL;
	n = __atomic_load_n(&ignored_count, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (name_matches(b, ignored_names[i]) &&
		    slen(b) == slen(ignored_names[i]))
			return 0;
	if (n >= MAX_IGNORED)
		return -ENOSPC;
	for (size_t i = 0; i <= slen(b); i++)
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
		const char *b = base_name(fi__exe_path());
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
			const char *b = base_name(m->l_name);

			for (size_t i = 0; i < sizeof(internal_names) /
						       sizeof(internal_names[0]);
			     i++)
				if (name_matches(b, internal_names[i]))
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
	uint64_t bias;
	uint64_t start, end; /* the object's mapping */
	const uint8_t *eh_hdr;
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
			  ? base_name(m->map->l_name)
			  : exe_name;
	m->start = (uint64_t)o.dlfo_map_start;
	m->end = (uint64_t)o.dlfo_map_end;
	m->eh_hdr = o.dlfo_eh_frame;
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

bool fi__site_module_of(uint64_t pc, const char **module,
			unsigned long *offset)
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

/* ---- bounded reads ---- */

/* Reads inside an object's mapping (CFI data) check [lo, hi). */
struct cur {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get(struct cur *c, unsigned n)
{
	uint64_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

/* A LEB128 number's bits; *shift and *last tell a signed reader where it
 * ended and whether its sign bit was set. */
static uint64_t leb(struct cur *c, unsigned *shift, uint8_t *last)
{
	uint64_t v = 0;
	uint8_t b;

	*shift = 0;
	do {
		b = (uint8_t)get(c, 1);
		if (*shift < 64)
			v |= (uint64_t)(b & 0x7f) << *shift;
		*shift += 7;
	} while ((b & 0x80) && !c->bad);
	*last = b;
	return v;
}

static uint64_t uleb(struct cur *c)
{
	unsigned shift;
	uint8_t last;

	return leb(c, &shift, &last);
}

static int64_t sleb(struct cur *c)
{
	unsigned shift;
	uint8_t last;
	uint64_t v = leb(c, &shift, &last);

	if (shift < 64 && (last & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* DW_EH_PE_* pointer encodings. */
#define PE_OMIT 0xff
#define PE_INDIRECT 0x80

static uint64_t get_enc(struct cur *c, uint8_t enc, uint64_t datarel)
{
	uint64_t here = (uint64_t)c->p, v;

	if (enc == PE_OMIT) {
		c->bad = true;
		return 0;
	}
	switch (enc & 0x0f) {
	case 0x00: v = get(c, 8); break;                     /* absptr */
	case 0x01: v = uleb(c); break;                       /* uleb128 */
	case 0x02: v = get(c, 2); break;                     /* udata2 */
	case 0x03: v = get(c, 4); break;                     /* udata4 */
	case 0x04: v = get(c, 8); break;                     /* udata8 */
	case 0x09: v = (uint64_t)sleb(c); break;             /* sleb128 */
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)get(c, 2); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)get(c, 4); break;
	case 0x0c: v = get(c, 8); break;
	default: c->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0x00: break;
	case 0x10: v += here; break;    /* pcrel */
	case 0x30: v += datarel; break; /* datarel */
	default: c->bad = true; return 0;
	}
	if (enc & PE_INDIRECT)
		c->bad = true; /* only personality pointers use it; not needed */
	return v;
}

/* ---- the stack and the register set being unwound ---- */

#define NREG 17 /* 16 GPRs in DWARF order, then the return address */
#define RSP 7
#define RA 16
#define MAX_DEPTH 64
#define PAGE 4096ull
#define STACK_PROBE_MAX (16ull << 20)

struct unw {
	uint64_t r[NREG];
	uint32_t valid;
	uint64_t lo, hi; /* reads allowed in [lo, hi) */
	uint64_t limit;  /* probing grows hi up to here */
	bool probe;
	long pid;
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

/* Is every page of [lo, hi) mapped? One mincore per MiB. */
static bool range_mapped(uint64_t lo, uint64_t hi)
{
	unsigned char vec[256];

	lo &= ~(PAGE - 1);
	while (lo < hi) {
		uint64_t n = hi - lo;

		if (n > sizeof(vec) * PAGE)
			n = sizeof(vec) * PAGE;
		if (fi__raw3(SYS_mincore, lo, n, vec) != 0)
			return false;
		lo += n;
	}
	return true;
}

/* The readable stack above rsp. The main thread's stack runs up to
 * __libc_stack_end; a glibc thread's up to its TCB (%fs), which is checked
 * once per thread to be mapped. Anything else (an alternate signal stack,
 * a coroutine) is probed page by page as the walk reads it. */
static void stack_bounds(struct unw *u, uint64_t rsp)
{
	uint64_t fs = fs_base();
	uint64_t end = (uint64_t)__libc_stack_end;
	uint64_t page = rsp & ~(PAGE - 1);

	u->lo = rsp > FI_FRAME_REDZONE ? rsp - FI_FRAME_REDZONE : 0;
	u->probe = false;
	u->limit = 0;
	if (main_stack_lo && rsp >= main_stack_lo && rsp < end) {
		u->hi = (end | (PAGE - 1)) + 1;
		return;
	}
	if (rsp < fs && fs - rsp < (64ull << 20)) {
		uint64_t lo = tls_valid_lo;

		if (lo && page >= lo) {
			u->hi = fs;
			return;
		}
		if (range_mapped(page, lo ? lo : fs)) {
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

struct raw_iovec {
	void *base;
	size_t len;
};

/* Is the page at addr readable? process_vm_readv fails instead of
 * faulting. */
static bool page_readable(struct unw *u, uint64_t addr)
{
	struct raw_iovec l, r;
	char b;

	if (!u->pid)
		u->pid = fi__raw0(SYS_getpid);
	l.base = &b;
	l.len = 1;
	r.base = (void *)addr;
	r.len = 1;
	return fi__raw6(SYS_process_vm_readv, u->pid, (long)&l, 1, (long)&r,
			1, 0) == 1;
}

static bool read8(struct unw *u, uint64_t addr, uint64_t *out)
{
	if (addr < u->lo || addr > UINT64_MAX - 8)
		return false;
	while (addr + 8 > u->hi) {
		if (!u->probe || u->hi >= u->limit || !page_readable(u, u->hi))
			return false;
		u->hi += PAGE;
	}
	*out = *(const volatile uint64_t *)addr;
	return true;
}

/* ---- CFI ---- */

struct cie {
	uint64_t caf;
	int64_t daf;
	uint64_t ra;
	uint8_t fde_enc;
	bool aug_z, signal;
	struct cur insn;
};

struct fde {
	uint64_t begin, end;
	struct cur insn;
};

/* A length-prefixed entry of .eh_frame at p; body gets its contents. */
static bool entry_at(const struct mod *m, uint64_t p, struct cur *body,
		     uint64_t *id_pos)
{
	struct cur c = {(const uint8_t *)p, (const uint8_t *)m->end, false};
	uint64_t len;

	if (p < m->start || p >= m->end)
		return false;
	len = get(&c, 4);
	if (len == 0xffffffffu)
		len = get(&c, 8);
	if (c.bad || len == 0 || len > (uint64_t)(c.end - c.p))
		return false;
	*id_pos = (uint64_t)c.p;
	body->p = c.p;
	body->end = c.p + len;
	body->bad = false;
	return true;
}

static bool parse_cie(const struct mod *m, uint64_t p, struct cie *ci)
{
	struct cur c;
	uint64_t id_pos;
	const char *aug;
	uint8_t ver;

	if (!entry_at(m, p, &c, &id_pos) || get(&c, 4) != 0)
		return false;
	ver = (uint8_t)get(&c, 1);
	if (ver != 1 && ver != 3)
		return false;
	aug = (const char *)c.p;
	while (!c.bad && get(&c, 1) != 0)
		;
	ci->caf = uleb(&c);
	ci->daf = sleb(&c);
	ci->ra = ver == 1 ? get(&c, 1) : uleb(&c);
	ci->fde_enc = 0; /* absptr */
	ci->aug_z = false;
	ci->signal = false;
	if (c.bad)
		return false;
	if (aug[0] == 'z') {
		uint64_t alen = uleb(&c);
		struct cur a = {c.p, c.p + alen, false};

		if (c.bad || alen > (uint64_t)(c.end - c.p))
			return false;
		ci->aug_z = true;
		for (const char *s = aug + 1; *s; s++) {
			if (*s == 'R')
				ci->fde_enc = (uint8_t)get(&a, 1);
			else if (*s == 'L')
				get(&a, 1);
			else if (*s == 'P') {
				uint8_t enc = (uint8_t)get(&a, 1);

				/* the pointer itself is not needed */
				get_enc(&a, enc & 0x7f, 0);
			} else if (*s == 'S')
				ci->signal = true;
			else
				break; /* 'z' lets us skip what we do not know */
		}
		c.p += alen;
	} else if (aug[0] != '\0') {
		return false;
	}
	ci->insn = c;
	return !c.bad && ci->ra == RA;
}

/* The FDE covering pc, via .eh_frame_hdr's sorted table. */
static bool find_fde(const struct mod *m, uint64_t pc, struct cie *ci,
		     struct fde *fd, bool nearest)
{
	const uint8_t *hdr = m->eh_hdr;
	struct cur c;
	uint8_t ptr_enc, cnt_enc, tab_enc;
	uint64_t count, lo, hi, fde_at = 0, cie_at, id_pos;
	const int32_t *tab;
	int64_t rel;

	if (!hdr || (uint64_t)hdr < m->start || (uint64_t)hdr >= m->end)
		return false;
	c.p = hdr;
	c.end = (const uint8_t *)m->end;
	c.bad = false;
	if (get(&c, 1) != 1)
		return false;
	ptr_enc = (uint8_t)get(&c, 1);
	cnt_enc = (uint8_t)get(&c, 1);
	tab_enc = (uint8_t)get(&c, 1);
	if (c.bad || cnt_enc == PE_OMIT || tab_enc != 0x3b)
		return false; /* no binary search table: give up */
	get_enc(&c, ptr_enc, (uint64_t)hdr);
	count = get_enc(&c, cnt_enc, (uint64_t)hdr);
	if (c.bad || count == 0 || count > (uint64_t)(c.end - c.p) / 8)
		return false;
	tab = (const int32_t *)c.p;
	rel = (int64_t)(pc - (uint64_t)hdr);
	if (rel < tab[0])
		return false;
	lo = 0;
	hi = count;
	while (hi - lo > 1) { /* last entry with start <= pc */
		uint64_t mid = lo + (hi - lo) / 2;

		if (tab[2 * mid] <= rel)
			lo = mid;
		else
			hi = mid;
	}
	fde_at = (uint64_t)hdr + (uint64_t)(int64_t)tab[2 * lo + 1];

	if (!entry_at(m, fde_at, &c, &id_pos))
		return false;
	rel = (int64_t)get(&c, 4); /* CIE pointer: back from here */
	if (c.bad || rel == 0)
		return false;
	cie_at = id_pos - (uint64_t)rel;
	if (!parse_cie(m, cie_at, ci))
		return false;
	fd->begin = get_enc(&c, ci->fde_enc, (uint64_t)hdr);
	fd->end = fd->begin + get_enc(&c, ci->fde_enc & 0x0f, 0);
	if (ci->aug_z) {
		uint64_t alen = uleb(&c);

		if (alen > (uint64_t)(c.end - c.p))
			return false;
		c.p += alen;
	}
	if (c.bad || pc < fd->begin || (pc >= fd->end && !nearest))
		return false;
	fd->insn = c;
	return true;
}

enum { R_SAME = 0, R_UNDEF, R_OFFSET, R_VALOFF, R_REG, R_BAD };

struct row {
	uint8_t kind[NREG];
	int64_t val[NREG];
	uint64_t cfa_reg;
	int64_t cfa_off;
	bool cfa_bad; /* a CFA expression */
};

#define STATE_STACK 4

/* Run one CFA program until the row for pc. init: the CIE's row, for
 * DW_CFA_restore (NULL while running the CIE itself). */
static bool run_cfa(struct cur c, const struct cie *ci, uint64_t loc,
		    uint64_t pc, struct row *row, const struct row *init)
{
	struct row stack[STATE_STACK];
	unsigned depth = 0;

	while (c.p < c.end && !c.bad) {
		uint8_t op = (uint8_t)get(&c, 1);
		uint64_t reg = 0, delta = 0;
		int64_t off;

		switch (op >> 6) {
		case 1: /* DW_CFA_advance_loc */
			delta = (op & 0x3f) * ci->caf;
			goto advance;
		case 2: /* DW_CFA_offset */
			reg = op & 0x3f;
			off = (int64_t)uleb(&c) * ci->daf;
			goto set_offset;
		case 3: /* DW_CFA_restore */
			reg = op & 0x3f;
			goto restore;
		default:
			break;
		}
		switch (op) {
		case 0x00: /* nop */
			continue;
		case 0x01: /* set_loc */
			delta = get_enc(&c, ci->fde_enc, 0);
			if (delta > pc)
				return !c.bad;
			loc = delta;
			continue;
		case 0x02: delta = get(&c, 1) * ci->caf; goto advance;
		case 0x03: delta = get(&c, 2) * ci->caf; goto advance;
		case 0x04: delta = get(&c, 4) * ci->caf; goto advance;
		case 0x05: /* offset_extended */
			reg = uleb(&c);
			off = (int64_t)uleb(&c) * ci->daf;
			goto set_offset;
		case 0x06: /* restore_extended */
			reg = uleb(&c);
			goto restore;
		case 0x07: /* undefined */
		case 0x08: /* same_value */
			reg = uleb(&c);
			if (reg < NREG)
				row->kind[reg] = op == 0x07 ? R_UNDEF : R_SAME;
			continue;
		case 0x09: /* register */
			reg = uleb(&c);
			delta = uleb(&c);
			if (reg < NREG) {
				row->kind[reg] = delta < NREG ? R_REG : R_BAD;
				row->val[reg] = (int64_t)delta;
			}
			continue;
		case 0x0a: /* remember_state */
			if (depth == STATE_STACK)
				return false;
			stack[depth++] = *row;
			continue;
		case 0x0b: /* restore_state */
			if (depth == 0)
				return false;
			*row = stack[--depth];
			continue;
		case 0x0c: /* def_cfa */
			row->cfa_reg = uleb(&c);
			row->cfa_off = (int64_t)uleb(&c);
			row->cfa_bad = false;
			continue;
		case 0x0d: /* def_cfa_register */
			row->cfa_reg = uleb(&c);
			row->cfa_bad = false;
			continue;
		case 0x0e: /* def_cfa_offset */
			row->cfa_off = (int64_t)uleb(&c);
			continue;
		case 0x0f: /* def_cfa_expression */
			delta = uleb(&c);
			if (delta > (uint64_t)(c.end - c.p))
				return false;
			c.p += delta;
			row->cfa_bad = true;
			continue;
		case 0x10: /* expression */
		case 0x16: /* val_expression */
			reg = uleb(&c);
			delta = uleb(&c);
			if (delta > (uint64_t)(c.end - c.p))
				return false;
			c.p += delta;
			if (reg < NREG)
				row->kind[reg] = R_BAD;
			continue;
		case 0x11: /* offset_extended_sf */
			reg = uleb(&c);
			off = sleb(&c) * ci->daf;
			goto set_offset;
		case 0x12: /* def_cfa_sf */
			row->cfa_reg = uleb(&c);
			row->cfa_off = sleb(&c) * ci->daf;
			row->cfa_bad = false;
			continue;
		case 0x13: /* def_cfa_offset_sf */
			row->cfa_off = sleb(&c) * ci->daf;
			continue;
		case 0x14: /* val_offset */
		case 0x15: /* val_offset_sf */
			reg = uleb(&c);
			off = (op == 0x14 ? (int64_t)uleb(&c) : sleb(&c)) *
			      ci->daf;
			if (reg < NREG) {
				row->kind[reg] = R_VALOFF;
				row->val[reg] = off;
			}
			continue;
		case 0x2e: /* GNU_args_size */
			uleb(&c);
			continue;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = uleb(&c);
			off = -(int64_t)uleb(&c) * ci->daf;
			goto set_offset;
		default:
			return false; /* something odd: give up */
		}
	advance:
		if (loc + delta > pc)
			return !c.bad;
		loc += delta;
		continue;
	set_offset:
		if (reg < NREG) {
			row->kind[reg] = R_OFFSET;
			row->val[reg] = off;
		}
		continue;
	restore:
		if (!init)
			return false; /* restore inside the CIE itself */
		if (reg < NREG) {
			row->kind[reg] = init->kind[reg];
			row->val[reg] = init->val[reg];
		}
		continue;
	}
	return !c.bad;
}

/* Caller-saved registers hold garbage once we are above the first frame. */
#define CALLER_SAVED                                                           \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) |           \
	 (0xfu << 8))

/* One step: from the frame at u->r[RA] (= its pc) to its caller.
 * Returns 1 stepped, 0 end of stack, -1 gave up. */
static int step(struct unw *u, const struct mod *m, uint64_t lookup,
		bool *signal)
{
	struct cie ci;
	struct fde fd;
	struct row init = {0}, row;
	uint64_t cfa, nr[NREG];
	uint32_t nvalid = 0;

	if (!find_fde(m, lookup, &ci, &fd, false))
		return -1;
	if (!run_cfa(ci.insn, &ci, 0, UINT64_MAX, &init, NULL))
		return -1;
	row = init;
	if (!run_cfa(fd.insn, &ci, fd.begin, lookup, &row, &init))
		return -1;
	if (row.cfa_bad || row.cfa_reg >= 16 ||
	    !(u->valid & (1u << row.cfa_reg)))
		return -1;
	cfa = u->r[row.cfa_reg] + (uint64_t)row.cfa_off;
	for (unsigned i = 0; i < NREG; i++) {
		switch (row.kind[i]) {
		case R_SAME:
			nr[i] = u->r[i];
			nvalid |= u->valid & (1u << i);
			break;
		case R_UNDEF:
			break;
		case R_OFFSET:
			if (!read8(u, cfa + (uint64_t)row.val[i], &nr[i]))
				return -1;
			nvalid |= 1u << i;
			break;
		case R_VALOFF:
			nr[i] = cfa + (uint64_t)row.val[i];
			nvalid |= 1u << i;
			break;
		case R_REG:
			nr[i] = u->r[row.val[i]];
			nvalid |= u->valid & (1u << row.val[i]);
			break;
		default:
			if (i == RA)
				return -1;
			break;
		}
	}
	if (row.kind[RA] == R_UNDEF)
		return 0; /* the outermost frame (_start, clone's child) */
	if (row.kind[RSP] == R_SAME) {
		nr[RSP] = cfa;
		nvalid |= 1u << RSP;
	}
	if (!(nvalid & (1u << RA)) || !(nvalid & (1u << RSP)) || nr[RA] == 0)
		return -1;
	/* The stack grows down: callers sit strictly higher. */
	if (nr[RSP] <= u->r[RSP])
		return -1;
	nvalid &= ~(uint32_t)CALLER_SAVED;
	for (unsigned i = 0; i < NREG; i++)
		u->r[i] = nr[i];
	u->valid = nvalid;
	*signal = ci.signal;
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

bool fi__site_resolve(const struct fi__site_regs *r,
		      struct fi__site_info *out)
{
	struct unw u;
	bool exact = true; /* pc is not a return address */

	out->module = NULL;
	out->offset = 0;
	out->ignored = false;
	for (unsigned i = 0; i < 16; i++)
		u.r[i] = r->gpr[i];
	u.r[RA] = r->rip;
	u.valid = (1u << NREG) - 1;
	u.pid = 0;
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
			out->offset = pc - m.bias;
			return true;
		}
		s = step(&u, &m, lookup, &exact);
		if (s <= 0)
			return false;
	}
	return false;
}

bool fi__site_function_of(uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	struct mod m;
	struct cie ci;
	struct fde fd;

	if (!find_mod(pc, &m) || !find_fde(&m, pc, &ci, &fd, true))
		return false;
	*lo = fd.begin;
	*hi = fd.end;
	return true;
}

bool fi__site_function_in(const void *eh_frame_hdr, uint64_t lo, uint64_t hi,
			  uint64_t pc, uint64_t *flo, uint64_t *fhi)
{
	struct mod m = {.start = lo, .end = hi, .eh_hdr = eh_frame_hdr};
	struct cie ci;
	struct fde fd;

	if (!find_fde(&m, pc, &ci, &fd, true))
		return false;
	*flo = fd.begin;
	*fhi = fd.end;
	return true;
}
