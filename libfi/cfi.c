/* cfi.c: DWARF call frame information (cfi.h). Finds the FDE for a pc
 * through .eh_frame_hdr's sorted table, and runs the CIE's and the FDE's
 * programs to the row for that pc. Used by site.c to unwind, and by the
 * patcher to find the functions that hold syscall instructions. */
#include "cfi.h"

#include <stddef.h>

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
	/* clang-format off */
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
		/* clang-format on */
	}
	switch (enc & 0x70) {
	/* clang-format off */
	case 0x00: break;
	case 0x10: v += here; break;    /* pcrel */
	case 0x30: v += datarel; break; /* datarel */
	default: c->bad = true; return 0;
		/* clang-format on */
	}
	if (enc & PE_INDIRECT)
		c->bad =
			true; /* only personality pointers use it; not needed */
	return v;
}

/* ---- entries ---- */

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
static bool entry_at(const struct fi__cfi_object *m, uint64_t p,
		     struct cur *body, uint64_t *id_pos)
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

static bool parse_cie(const struct fi__cfi_object *m, uint64_t p,
		      struct cie *ci)
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
	return !c.bad && ci->ra == FI_CFI_RA;
}

/* The FDE covering pc, via .eh_frame_hdr's sorted table. */
static bool find_fde(const struct fi__cfi_object *m, uint64_t pc,
		     struct cie *ci, struct fde *fd, bool nearest)
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

#define STATE_STACK 4

/* Run one CFA program until the row for pc. init: the CIE's row, for
 * DW_CFA_restore (NULL while running the CIE itself). */
static bool run_cfa(struct cur c, const struct cie *ci, uint64_t loc,
		    uint64_t pc, struct fi__cfi_row *row,
		    const struct fi__cfi_row *init)
{
	struct fi__cfi_row stack[STATE_STACK];
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
		/* clang-format off */
		case 0x02: delta = get(&c, 1) * ci->caf; goto advance;
		case 0x03: delta = get(&c, 2) * ci->caf; goto advance;
		case 0x04: delta = get(&c, 4) * ci->caf; goto advance;
		/* clang-format on */
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
			if (reg < FI_CFI_NREG)
				row->kind[reg] = op == 0x07 ? FI_CFI_UNDEF
							    : FI_CFI_SAME;
			continue;
		case 0x09: /* register */
			reg = uleb(&c);
			delta = uleb(&c);
			if (reg < FI_CFI_NREG) {
				row->kind[reg] = delta < FI_CFI_NREG
							 ? FI_CFI_REG
							 : FI_CFI_BAD;
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
			if (reg < FI_CFI_NREG)
				row->kind[reg] = FI_CFI_BAD;
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
			if (reg < FI_CFI_NREG) {
				row->kind[reg] = FI_CFI_VALOFF;
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
		if (reg < FI_CFI_NREG) {
			row->kind[reg] = FI_CFI_OFFSET;
			row->val[reg] = off;
		}
		continue;
restore:
		if (!init)
			return false; /* restore inside the CIE itself */
		if (reg < FI_CFI_NREG) {
			row->kind[reg] = init->kind[reg];
			row->val[reg] = init->val[reg];
		}
		continue;
	}
	return !c.bad;
}

/* The row for pc, or with `past_end`, for a pc at most PAST_END_MAX
 * bytes after the end of the FDE before it: that FDE's last row. */
#define PAST_END_MAX 16
static bool row_for(const struct fi__cfi_object *o, uint64_t pc,
		    struct fi__cfi_row *row, bool past_end)
{
	struct cie ci;
	struct fde fd;
	struct fi__cfi_row init = {0};

	if (!find_fde(o, pc, &ci, &fd, past_end))
		return false;
	if (pc >= fd.end) {
		if (pc - fd.end > PAST_END_MAX || fd.end == fd.begin)
			return false;
		pc = fd.end - 1;
	}
	if (!run_cfa(ci.insn, &ci, 0, UINT64_MAX, &init, NULL))
		return false;
	*row = init;
	if (!run_cfa(fd.insn, &ci, fd.begin, pc, row, &init))
		return false;
	row->signal = ci.signal;
	return true;
}

bool fi__cfi_row_at(const struct fi__cfi_object *o, uint64_t pc,
		    struct fi__cfi_row *row)
{
	return row_for(o, pc, row, false);
}

bool fi__cfi_row_past_end(const struct fi__cfi_object *o, uint64_t pc,
			  struct fi__cfi_row *row)
{
	return row_for(o, pc, row, true);
}

bool fi__cfi_function(const struct fi__cfi_object *o, uint64_t pc, uint64_t *lo,
		      uint64_t *hi)
{
	struct cie ci;
	struct fde fd;

	if (!find_fde(o, pc, &ci, &fd, true))
		return false;
	*lo = fd.begin;
	*hi = fd.end;
	return true;
}
