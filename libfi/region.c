/* region.c: plans one executable region: finds its syscall instructions,
 * decodes the functions around them and asks plan.c how to patch each.
 * Runs in libfi (at start-up, or in the hook with the vector state saved)
 * and in fi-plan, the out-of-process planner. See region.h. */
#include "region.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "plan.h"

struct scan {
	uint64_t start;
	size_t len;
	struct fi__disasm *dis;
	const struct fi__region_cfi *cfi;
	uint8_t *targets; /* one bit per byte of the region */
	struct fi__window *wins;
	size_t nwins, capwins;
	struct fi__pad *pads;
	size_t npads, cappads;
};

static bool is_target(void *ctx, uint64_t addr)
{
	const struct scan *s = ctx;
	uint64_t off = addr - s->start;
	if (addr < s->start || off >= s->len)
		return false;
	return s->targets[off >> 3] & (1u << (off & 7));
}

static void mark_target(struct scan *s, int64_t addr)
{
	uint64_t off = (uint64_t)addr - s->start;
	if ((uint64_t)addr >= s->start && off < s->len)
		s->targets[off >> 3] |= (uint8_t)(1u << (off & 7));
}

static bool stops(const struct fi__insn *in)
{
	return in->kind == FI_INSN_JMP_REL || in->kind == FI_INSN_END;
}

static void add_pad(struct scan *s, uint64_t from, uint64_t to)
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
static int decode_range(struct scan *s, uint64_t from, uint64_t to,
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
		if (!fi__disasm_fast(s->dis, &code, &avail, &addr, &in)) {
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
static void scan_branches(struct scan *s, const uint8_t *near)
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

/* Linear scan of everything: for code with no CFI to find functions by. */
static int scan_all(struct scan *s)
{
	uint64_t end;
	return decode_range(s, s->start, s->start + s->len, s->start + s->len,
			    &end);
}

/* Find the syscalls: look for 0f 05 bytes, decode only the functions that
 * hold them (bounds from .eh_frame), then scan the whole region for
 * branches into the bytes around each patch point. */
static int scan_region(struct scan *s)
{
	const uint8_t *b = (const uint8_t *)s->start;
	uint64_t done = s->start, lo, hi;
	uint8_t *near;
	size_t nbits = (s->len + 7) / 8 + 1;
	int r = 0;

	s->targets = fi__pages(nbits);
	if (!s->targets)
		return -ENOMEM;
	if (!s->cfi)
		return scan_all(s);
	for (const uint8_t *p = b; p + 2 <= b + s->len; p++) {
		/* memchr is safe here: no locks, and the vector state is
		 * saved when this runs inside the hook. */
		p = memchr(p, 0x0f, (size_t)(b + s->len - 1 - p));
		if (!p)
			break;
		uint64_t a = (uint64_t)p;
		if (p[1] != 0x05 || a < done)
			continue;
		if (!s->cfi->function_of(s->cfi->ctx, a, &lo, &hi) || lo > a) {
			s->nwins = 0;
			s->npads = 0;
			fi__fill(s->targets, 0, nbits);
			return scan_all(s);
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
				 hi + 64 < s->start + s->len
					 ? hi + 64
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
static bool sigreturn_bytes(const struct scan *s, uint64_t sys)
{
	static const uint8_t mov15[] = {0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0};
	if (sys < s->start + sizeof(mov15))
		return false;
	return !memcmp((const void *)(sys - sizeof(mov15)), mov15,
		       sizeof(mov15));
}

/* Decode a window in detail: RIP-relative operands before the syscall,
 * and the instructions after it. */
static void detail(struct scan *s, struct fi__window *w)
{
	uint64_t end = s->start + s->len, a;
	for (int i = 0; i < w->npre; i++) {
		struct fi__insn d;
		if (fi__disasm_one(s->dis, w->pre[i].bytes, w->pre[i].len,
				   w->pre[i].addr, &d))
			w->pre[i] = d;
	}
	a = w->sys.addr + w->sys.len;
	w->npost = 0;
	while (w->npost < FI_PLAN_MAXPOST && a < end) {
		struct fi__insn *p = &w->post[w->npost];
		if (!fi__disasm_one(s->dis, (const uint8_t *)a, end - a, a, p))
			break;
		w->npost++;
		if (stops(p))
			break;
		a += p->len;
	}
}

bool fi__region_has_syscalls(uint64_t start, size_t len)
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

long fi__region_plan(struct fi__disasm *dis, uint64_t start, size_t len,
		     const struct fi__region_cfi *cfi, struct fi__planset *ps)
{
	struct scan s = {.start = start, .len = len, .dis = dis, .cfi = cfi};
	long r;

	if (!fi__region_has_syscalls(start, len))
		return 0; /* nothing to plan, nor to decode */
	r = scan_region(&s);

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
			     : fi__plan_point(w, is_target, &s, s.pads, s.npads,
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
