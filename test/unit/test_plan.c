/* test_plan.c: golden tests for the patch-point planner (libfi/plan.c).
 * Each case is a piece of machine code at a made-up address. The test
 * scans it the way libfi/region.c scans real memory, plans one patch
 * point, writes the patch and the stub into buffers and compares them with
 * the expected bytes, or checks the exact reason the point is refused.
 * Nothing is patched or executed here. */
#include <inttypes.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disasm.h"
#include "plan.h"

#define BASE 0x401000u /* where a case's code pretends to be */
#define STUB 0x500000u /* where its stub pretends to be */
#define POINT_ID 42u   /* index pushed by the stub: 68 2a 00 00 00 */
#define MAXCODE 1024
#define MAXPAD 16 /* pads of one golden case */

/* The part of every stub between the instructions relocated from before
 * the syscall and those relocated from after it (diagram in plan.c), but
 * for its last instruction, .Lsys: the syscall itself, or, when the plan
 * keeps the syscall in place, a jump back to it.
 * "@N" names the N-th instruction of this block; [name] a RIP-relative
 * operand that resolves to that slot. */
#define COMMON                                                                 \
	"0f b7 c8 | 4c 8b 1d [table] | 41 0f b6 0c 0b | e3 ->@16 | "           \
	"48 8d 64 24 80 | ff 35 [base] | 68 2a 00 00 00 | ff 15 [entry] | "    \
	"e3 ->@17 | e2 ->@16 | "                                               \
	"0f 05 | 48 8d 64 24 80 | ff 35 [base] | 68 2a 00 00 00 | "            \
	"ff 15 [post] | eb ->@17"

/* ---- a sweep over a byte buffer, as patch.c does over memory ---- */

struct image {
	uint64_t base;
	const uint8_t *code;
	size_t len;
	uint8_t *own;	  /* code parsed from hex, or NULL */
	uint8_t *targets; /* a bit per byte: some direct branch lands here */
	uint8_t *starts;  /* a bit per byte: the sweep decoded an insn here */
	struct fi__pad *pads;
	size_t npads;
	struct fi__window *wins;
	size_t nwins;
};

/* Hex bytes separated by spaces; "XX*N" repeats a byte. */
static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*s) {
		char *end;
		unsigned long b, rep = 1;
		if (*s == ' ' || *s == '|') {
			s++;
			continue;
		}
		b = strtoul(s, &end, 16);
		assert_true(end == s + 2 && b <= 0xff);
		s = end;
		if (*s == '*') {
			rep = strtoul(s + 1, &end, 10);
			assert_true(end != s + 1 && rep > 0);
			s = end;
		}
		for (unsigned long i = 0; i < rep; i++) {
			assert_true(n < cap);
			out[n++] = (uint8_t)b;
		}
	}
	return n;
}

static bool bit(const struct image *im, const uint8_t *bits, uint64_t addr)
{
	uint64_t off = addr - im->base;
	return addr >= im->base && off < im->len &&
	       (bits[off >> 3] >> (off & 7) & 1);
}

static void set_bit(const struct image *im, uint8_t *bits, uint64_t addr)
{
	uint64_t off = addr - im->base;
	if (addr >= im->base && off < im->len)
		bits[off >> 3] |= (uint8_t)(1u << (off & 7));
}

static bool is_target(void *ctx, uint64_t addr)
{
	const struct image *im = ctx;
	return bit(im, im->targets, addr);
}

static bool stops(const struct fi__insn *in)
{
	return in->kind == FI_INSN_JMP_REL || in->kind == FI_INSN_END;
}

static void *grow(void *arr, size_t n, size_t elem)
{
	/* capacities are powers of two, starting at 8 */
	if (n >= 8 && (n & (n - 1)))
		return arr;
	arr = realloc(arr, (n < 8 ? 8 : 2 * n) * elem);
	assert_non_null(arr);
	return arr;
}

static void add_pad(struct image *im, uint64_t addr, uint64_t end)
{
	im->pads = grow(im->pads, im->npads, sizeof(*im->pads));
	im->pads[im->npads].addr = addr;
	im->pads[im->npads++].len = (uint32_t)(end - addr);
}

/* The instructions after a syscall, decoded in detail up to the first one
 * that does not fall through. */
static void detail_post(struct fi__disasm *d, const struct image *im,
			struct fi__window *w)
{
	uint64_t a = w->sys.addr + w->sys.len, end = im->base + im->len;
	w->npost = 0;
	while (w->npost < FI_PLAN_MAXPOST && a < end) {
		struct fi__insn *p = &w->post[w->npost];
		if (!fi__disasm_one(d, im->code + (a - im->base), end - a, a,
				    p))
			break;
		w->npost++;
		if (stops(p))
			break;
		a += p->len;
	}
}

/* One linear pass: branch targets, padding runs after an instruction that
 * does not fall through, and a window around each syscall. */
static void sweep(struct fi__disasm *d, struct image *im)
{
	const uint8_t *code = im->code;
	size_t avail = im->len;
	uint64_t addr = im->base, pad_start = 0;
	struct fi__insn ring[FI_PLAN_MAXPRE], in;
	int nring = 0;
	bool prev_stops = false;

	im->targets = calloc(im->len / 8 + 1, 1);
	im->starts = calloc(im->len / 8 + 1, 1);
	assert_non_null(im->targets);
	assert_non_null(im->starts);
	while (avail) {
		if (!fi__disasm_fast(d, &code, &avail, &addr, &in)) {
			code++, avail--, addr++;
			nring = 0;
			prev_stops = false;
			pad_start = 0;
			continue;
		}
		set_bit(im, im->starts, in.addr);
		if (in.kind == FI_INSN_JMP_REL || in.kind == FI_INSN_JCC_REL ||
		    in.kind == FI_INSN_CALL_REL || in.kind == FI_INSN_OTHER_REL)
			set_bit(im, im->targets, (uint64_t)in.target);
		if (in.kind == FI_INSN_PADDING) {
			if (!pad_start && prev_stops)
				pad_start = in.addr;
		} else if (pad_start) {
			add_pad(im, pad_start, in.addr);
			pad_start = 0;
		}
		if (in.kind == FI_INSN_SYSCALL) {
			struct fi__window *w;
			im->wins = grow(im->wins, im->nwins, sizeof(*im->wins));
			w = &im->wins[im->nwins++];
			memset(w, 0, sizeof(*w));
			for (int i = 0; i < nring; i++)
				assert_true(fi__disasm_one(
					d, ring[i].bytes, ring[i].len,
					ring[i].addr, &w->pre[i]));
			w->npre = nring;
			w->sys = in;
			detail_post(d, im, w);
		}
		if (in.kind != FI_INSN_PADDING || !pad_start)
			prev_stops = stops(&in);
		if (nring == FI_PLAN_MAXPRE) {
			memmove(ring, ring + 1, sizeof(ring[0]) * (nring - 1));
			nring--;
		}
		ring[nring++] = in;
	}
	if (pad_start)
		add_pad(im, pad_start, addr);
}

static struct image *load_bytes(struct fi__disasm *d, uint64_t base,
				const uint8_t *code, size_t len)
{
	struct image *im = calloc(1, sizeof(*im));
	assert_non_null(im);
	im->base = base;
	im->code = code;
	im->len = len;
	sweep(d, im);
	return im;
}

static struct image *load(struct fi__disasm *d, uint64_t base, const char *hex)
{
	uint8_t *buf = malloc(MAXCODE);
	struct image *im;
	assert_non_null(buf);
	im = load_bytes(d, base, buf, parse_hex(hex, buf, MAXCODE));
	im->own = buf;
	return im;
}

static void unload(struct image *im)
{
	free(im->own);
	free(im->targets);
	free(im->starts);
	free(im->pads);
	free(im->wins);
	free(im);
}

static struct fi__window *window_at(struct image *im, uint64_t sys)
{
	for (size_t i = 0; i < im->nwins; i++)
		if (im->wins[i].sys.addr == sys)
			return &im->wins[i];
	return NULL;
}

/* ---- rendering a stub as text ---- */

struct render {
	char *out;
	size_t cap, n;
};

static void say(struct render *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct render *r, const char *fmt, ...)
{
	va_list ap;
	int k;
	if (r->n >= r->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(r->out + r->n, r->cap - r->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		r->n += (size_t)k;
}

static void say_bytes(struct render *r, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		say(r, "%s%02x", i ? " " : "", b[i]);
}

/* Name an absolute address that a stub refers to: one of its slots, an
 * instruction of the stub itself (@N, counted from the first instruction
 * after the relocated-before ones), or a plain address elsewhere. */
static void say_target(struct render *r, uint64_t t, uint64_t stub,
		       const struct fi__stub_env *env, const uint64_t *starts,
		       size_t nstarts, int npre)
{
	if (t == env->table_slot)
		say(r, "table");
	else if (t == env->entry_slot)
		say(r, "entry");
	else if (t == env->post_slot)
		say(r, "post");
	else if (t == env->base_slot)
		say(r, "base");
	else if (t >= stub && t < stub + FI_STUB_MAX) {
		for (size_t i = 0; i < nstarts; i++)
			if (starts[i] == t) {
				say(r, "@%d", (int)i - npre);
				return;
			}
		say(r, "@?+%" PRIu64, t - stub);
	} else
		say(r, "0x%" PRIx64, t);
}

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Decode the stub and write one token per instruction, " | " between
 * them: its bytes, with every rel8/rel32 and RIP-relative displacement
 * replaced by the name of the absolute address it resolves to. Returns
 * false when the stub does not decode to exactly n bytes. */
static bool render_stub(struct fi__disasm *d, const uint8_t *buf, size_t n,
			uint64_t stub, const struct fi__stub_env *env, int npre,
			char *out, size_t cap)
{
	struct render r = {.out = out, .cap = cap};
	struct fi__insn ins[64];
	uint64_t starts[64];
	size_t ni = 0, off = 0;

	out[0] = 0;
	while (off < n) {
		if (ni == 64 || !fi__disasm_one(d, buf + off, n - off,
						stub + off, &ins[ni]))
			return false;
		starts[ni] = stub + off;
		off += ins[ni++].len;
	}
	if (off != n)
		return false;
	for (size_t i = 0; i < ni; i++) {
		const struct fi__insn *in = &ins[i];
		int disp_off = -1;
		if (i)
			say(&r, " | ");
		switch (in->kind) {
		case FI_INSN_JMP_REL:
		case FI_INSN_JCC_REL:
		case FI_INSN_CALL_REL:
		case FI_INSN_OTHER_REL: {
			size_t rel = in->len >= 5 ? 4 : 1;
			say_bytes(&r, in->bytes, in->len - rel);
			say(&r, " ->");
			say_target(&r, (uint64_t)in->target, stub, env, starts,
				   ni, npre);
			continue;
		}
		case FI_INSN_RIP_REL:
			disp_off = in->disp_off;
			break;
		default:
			/* call/jmp *disp(%rip): disasm.c calls them control */
			if (in->len == 6 && in->bytes[0] == 0xff &&
			    (in->bytes[1] == 0x15 || in->bytes[1] == 0x25))
				disp_off = 2;
			break;
		}
		if (disp_off < 0) {
			say_bytes(&r, in->bytes, in->len);
			continue;
		}
		say_bytes(&r, in->bytes, (size_t)disp_off);
		say(&r, " [");
		say_target(
			&r,
			in->addr + in->len +
				(uint64_t)(int64_t)le32(in->bytes + disp_off),
			stub, env, starts, ni, npre);
		say(&r, "]");
		if ((size_t)disp_off + 4 < in->len) {
			say(&r, " ");
			say_bytes(&r, in->bytes + disp_off + 4,
				  in->len - disp_off - 4u);
		}
	}
	return r.n < r.cap;
}

/* ---- the golden table ---- */

struct plan_case {
	const char *name;
	const char *code; /* hex bytes */
	uint64_t base;	  /* 0: BASE */
	int sys;	  /* offset of the syscall planned */
	int targets[4];	  /* offsets jumped to from outside the code */
	int ntargets;
	uint64_t stub; /* 0: STUB */
	/* refused by fi__plan_point, with this reason: */
	const char *why;
	/* else planned (offsets from base): */
	int start, npre, npost, resume, pad;
	const char *point;     /* the bytes written at start */
	const char *padjmp;    /* the 5 bytes written at pad */
	bool keep;	       /* the syscall stays in place (plan.keep_sys) */
	const char *stub_pre;  /* the stub before COMMON */
	const char *stub_post; /* ... and after it */
	/* or refused by fi__plan_emit_stub, with this reason: */
	const char *emit_why;
};

static const struct plan_case cases[] = {
	{
		/* write(2): mov $1,%eax; syscall; cmp $-4095,%rax; jae; ret */
		.name = "glibc: mov $N,%eax moves before the syscall",
		.code = "b8 01 00 00 00 | 0f 05 | 48 3d 01 f0 ff ff | 73 01 |"
			" c3 | c3",
		.sys = 5,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 7,
		.point = "e9 fb ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "b8 01 00 00 00",
		.stub_post = "e9 ->0x401007",
	},
	{
		/* read(2): mov %fs:0x18,%eax; test; jne; xor %eax,%eax;
		 * syscall; cmp $-4096,%rax; ja; ret. The xor alone is too
		 * short: test, jne (as a rel32 to the same target) and xor
		 * move, which cover the jump, so the syscall stays. */
		.name = "glibc: test, jne and xor move, the syscall stays",
		.code = "64 8b 04 25 18 00 00 00 | 85 c0 | 75 0d | 31 c0 |"
			" 0f 05 | 48 3d 00 f0 ff ff | 77 02 | c3 | c3 | c3",
		.sys = 0x0e,
		.start = 0x08,
		.npre = 3,
		.npost = 0,
		.resume = 0x10,
		.point = "e9 f3 ef 0f 00 cc 0f 05",
		.keep = true,
		.stub_pre = "85 c0 | 0f 85 ->0x401019 | 31 c0",
		.stub_post = "e9 ->0x401010",
	},
	{
		/* The same with the syscall a jump target: nothing may move
		 * before it, so the cmp after it moves. */
		.name = "glibc: the syscall a target, the cmp after moves",
		.code = "64 8b 04 25 18 00 00 00 | 85 c0 | 75 0d | 31 c0 |"
			" 0f 05 | 48 3d 00 f0 ff ff | 77 02 | c3 | c3 | c3",
		.targets = {0x0e},
		.ntargets = 1,
		.sys = 0x0e,
		.start = 0x0e,
		.npre = 0,
		.npost = 1,
		.resume = 0x16,
		.point = "e9 ed ef 0f 00 cc cc cc",
		.stub_pre = "",
		.stub_post = "48 3d 00 f0 ff ff | e9 ->0x401016",
	},
	{
		/* 1: mov $7,%eax; syscall; cmp $-4,%eax; je 1b; ret. A jump
		 * onto the first byte of the window reaches the new jmp. */
		.name = "retry loop back to the mov: still moved before",
		.code = "b8 07 00 00 00 | 0f 05 | 83 f8 fc | 74 f4 | c3",
		.sys = 5,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 7,
		.point = "e9 fb ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "b8 07 00 00 00",
		.stub_post = "e9 ->0x401007",
	},
	{
		/* mov $7,%eax; 1: syscall; test %eax,%eax; js 2f; jmp 1b;
		 * ret; 2: ret. The js becomes a rel32 jcc to its target. */
		.name = "syscall is a target: test and js move after, js as rel32",
		.code = "b8 07 00 00 00 | 0f 05 | 85 c0 | 78 03 | eb f8 | c3 |"
			" c3",
		.sys = 5,
		.start = 5,
		.npre = 0,
		.npost = 2,
		.resume = 0x0b,
		.point = "e9 f6 ef 0f 00 cc",
		.stub_pre = "",
		.stub_post = "85 c0 | 0f 88 ->0x40100e | e9 ->0x40100b",
	},
	{
		/* pwrite64: mov %rcx,%r10; mov $18,%eax; syscall */
		.name = "mov %rcx,%r10; mov $N,%eax: only the mov moves",
		.code = "49 89 ca | b8 12 00 00 00 | 0f 05 | 48 3d 01 f0 ff ff |"
			" c3",
		.sys = 8,
		.start = 3,
		.npre = 1,
		.npost = 0,
		.resume = 0x0a,
		.point = "e9 f8 ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "b8 12 00 00 00",
		.stub_post = "e9 ->0x40100a",
	},
	{
		.name = "mov %rcx,%r10; mov %edi,%eax: two move before",
		.code = "49 89 ca | 89 f8 | 0f 05 | 48 3d 01 f0 ff ff | c3",
		.sys = 5,
		.start = 0,
		.npre = 2,
		.npost = 0,
		.resume = 7,
		.point = "e9 fb ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "49 89 ca | 89 f8",
		.stub_post = "e9 ->0x401007",
	},
	{
		/* mov %rdi,%rax; push %rsi; pop %rsi; syscall */
		.name = "three short instructions move before",
		.code = "48 89 f8 | 56 | 5e | 0f 05 | c3",
		.sys = 5,
		.start = 0,
		.npre = 3,
		.npost = 0,
		.resume = 7,
		.point = "e9 fb ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "48 89 f8 | 56 | 5e",
		.stub_post = "e9 ->0x401007",
	},
	{
		/* mov %rcx,%r10; 1: mov %edi,%eax; syscall; test; jne 1b */
		.name = "target inside the before-window: the after-window moves",
		.code = "49 89 ca | 89 f8 | 0f 05 | 85 c0 | 75 f8 | c3",
		.sys = 5,
		.start = 5,
		.npre = 0,
		.npost = 2,
		.resume = 0x0b,
		.point = "e9 f6 ef 0f 00 cc",
		.stub_pre = "",
		.stub_post = "85 c0 | 0f 85 ->0x401003 | e9 ->0x40100b",
	},
	{
		.name = "targets inside both windows: refused",
		.code = "49 89 ca | 89 f8 | 0f 05 | 85 c0 | 75 f8 | c3",
		.sys = 5,
		.targets = {7},
		.ntargets = 1,
		.why = "a jump lands inside the window",
	},
	{
		/* mov $7,%eax; syscall; cmp $-4,%eax: the cmp is a target */
		.name = "target right after the syscall: moved before",
		.code = "b8 07 00 00 00 | 0f 05 | 83 f8 fc | c3",
		.sys = 5,
		.targets = {7},
		.ntargets = 1,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 7,
		.point = "e9 fb ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "b8 07 00 00 00",
		.stub_post = "e9 ->0x401007",
	},
	{
		/* mov $1,%eax; 1: syscall; jmp 1b */
		.name = "target on the syscall, nothing after can move: refused",
		.code = "b8 01 00 00 00 | 0f 05 | eb fc",
		.sys = 5,
		.why = "a jump lands on the syscall",
	},
	{
		/* syscall at the region's first byte; mov 0x1234(%rip),%rdx */
		.name = "RIP-relative after the syscall keeps its address",
		.code = "0f 05 | 48 8b 15 34 12 00 00 | c3",
		.sys = 0,
		.start = 0,
		.npre = 0,
		.npost = 1,
		.resume = 9,
		.point = "e9 fb ef 0f 00 cc cc cc cc",
		.stub_pre = "",
		.stub_post = "48 8b 15 [0x40223d] | e9 ->0x401009",
	},
	{
		/* mov 0x10(%rip),%eax; syscall */
		.name = "RIP-relative before the syscall keeps its address",
		.code = "8b 05 10 00 00 00 | 0f 05 | c3",
		.sys = 6,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 8,
		.point = "e9 fb ef 0f 00 cc 0f 05",
		.keep = true,
		.stub_pre = "8b 05 [0x401016]",
		.stub_post = "e9 ->0x401008",
	},
	{
		/* cmpl $0x7,0x100(%rip): an immediate after the disp32 */
		.name = "RIP-relative with an immediate after the displacement",
		.code = "0f 05 | 83 3d 00 01 00 00 07 | c3",
		.sys = 0,
		.start = 0,
		.npre = 0,
		.npost = 1,
		.resume = 9,
		.point = "e9 fb ef 0f 00 cc cc cc cc",
		.stub_pre = "",
		.stub_post = "83 3d [0x401109] 07 | e9 ->0x401009",
	},
	{
		/* movl $0,0(%rip): the displacement's bytes occur twice in
		 * the encoding, so disasm.c cannot tell where it is */
		.name = "RIP-relative with an ambiguous displacement: refused",
		.code = "0f 05 | c7 05 00 00 00 00 00 00 00 00 | c3",
		.sys = 0,
		.why = "an instruction next to the syscall cannot move",
	},
	{
		/* mov 0x7ffffff0(%rip),%rdx: data at 0x80400ff9, the stub
		 * 1 MiB below the code */
		.name = "RIP-relative data out of the stub's reach",
		.code = "0f 05 | 48 8b 15 f0 ff ff 7f | c3",
		.sys = 0,
		.stub = 0x301000,
		.start = 0,
		.npre = 0,
		.npost = 1,
		.resume = 9,
		.emit_why = "a relocated instruction cannot reach its data",
	},
	{
		.name = "stub beyond 2 GiB: the jumps back cannot reach",
		.code = "b8 07 00 00 00 | 0f 05 | 85 c0 | 78 03 | eb f8 | c3 |"
			" c3",
		.sys = 5,
		.stub = 0x80402000,
		.start = 5,
		.npre = 0,
		.npost = 2,
		.resume = 0x0b,
		.emit_why = "a relocated instruction cannot reach its target",
	},
	{
		/* call f; syscall; call g; ret */
		.name = "call rel32 on both sides: refused",
		.code = "e8 00 00 00 00 | 0f 05 | e8 00 00 00 00 | c3",
		.sys = 5,
		.why = "an instruction next to the syscall cannot move",
	},
	{
		.name = "call rel32 before, cmp after: the cmp moves",
		.code = "e8 00 00 00 00 | 0f 05 | 48 3d 01 f0 ff ff | c3",
		.sys = 5,
		.start = 5,
		.npre = 0,
		.npost = 1,
		.resume = 0x0d,
		.point = "e9 f6 ef 0f 00 cc cc cc",
		.stub_pre = "",
		.stub_post = "48 3d 01 f0 ff ff | e9 ->0x40100d",
	},
	{
		/* syscall; jrcxz 1f: relative but not relocatable */
		.name = "jrcxz after the syscall: refused",
		.code = "0f 05 | e3 02 | 90 90 | c3",
		.sys = 0,
		.why = "an instruction next to the syscall cannot move",
	},
	{
		/* xor %eax,%eax; [T] syscall; [T] ret; nopw %cs:0(%rax,%rax);
		 * nop: the syscall alone jumps short into the padding. */
		.name = "padding: short jump forward into the nopw after ret",
		.code = "31 c0 | 0f 05 | c3 | 66 2e 0f 1f 84 00 00 00 00 00 |"
			" 90 | c3",
		.sys = 2,
		.targets = {2, 4},
		.ntargets = 2,
		.start = 2,
		.npre = 0,
		.npost = 0,
		.resume = 4,
		.pad = 5,
		.point = "eb 01",
		.padjmp = "e9 f6 ef 0f 00",
		.stub_pre = "",
		.stub_post = "e9 ->0x401004",
	},
	{
		/* ret; nopl 0(%rax); xor %eax,%eax; [T] syscall; ret */
		.name = "padding: short jump back into the nopl before",
		.code = "c3 | 0f 1f 80 00 00 00 00 | 31 c0 | 0f 05 | c3",
		.sys = 0x0a,
		.targets = {0x0a},
		.ntargets = 1,
		.start = 0x0a,
		.npre = 0,
		.npost = 0,
		.resume = 0x0c,
		.pad = 1,
		.point = "eb f5",
		.padjmp = "e9 fa ef 0f 00",
		.stub_pre = "",
		.stub_post = "e9 ->0x40100c",
	},
	{
		/* as above, with 126 pushes between the ret and the pad: the
		 * pad starts 128 bytes after the syscall's end */
		.name = "padding out of short-jump reach is not used",
		.code = "31 c0 | 0f 05 | c3 | 50*126 | c3 | 0f 1f 40 00 90 | c3",
		.sys = 2,
		.targets = {2},
		.ntargets = 1,
		.why = "a jump lands on the syscall",
	},
	{
		.name = "padding just in short-jump reach is used",
		.code = "31 c0 | 0f 05 | c3 | 50*125 | c3 | 0f 1f 40 00 90 | c3",
		.sys = 2,
		.targets = {2},
		.ntargets = 1,
		.start = 2,
		.npre = 0,
		.npost = 0,
		.resume = 4,
		.pad = 0x83,
		.point = "eb 7f",
		.padjmp = "e9 78 ef 0f 00",
		.stub_pre = "",
		.stub_post = "e9 ->0x401004",
	},
	{
		/* __restore_rt: mov $15,%rax; syscall */
		.name = "rt_sigreturn trampoline: refused",
		.code = "48 c7 c0 0f 00 00 00 | 0f 05 | 0f 1f 40 00 | c3 |"
			" 0f 1f 40 00",
		.sys = 7,
		.why = "rt_sigreturn trampoline (unwinders recognise its bytes)",
	},
	{
		/* mov $14,%rax; syscall: the same shape, another syscall */
		.name = "mov $14,%rax; syscall is no trampoline",
		.code = "48 c7 c0 0e 00 00 00 | 0f 05 | c3",
		.sys = 7,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 9,
		.point = "e9 fb ef 0f 00 cc cc 0f 05",
		.keep = true,
		.stub_pre = "48 c7 c0 0e 00 00 00",
		.stub_post = "e9 ->0x401009",
	},
	{
		/* mov $60,%eax; syscall, and the region ends */
		.name = "syscall at the very end of the region",
		.code = "b8 3c 00 00 00 | 0f 05",
		.sys = 5,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 7,
		.point = "e9 fb ef 0f 00 0f 05",
		.keep = true,
		.stub_pre = "b8 3c 00 00 00",
		.stub_post = "e9 ->0x401007",
	},
	{
		.name = "syscall alone in its region: refused",
		.code = "0f 05",
		.sys = 0,
		.why = "no room around the syscall",
	},
	{
		/* the syscall's two bytes are 0x401fff and 0x402000 */
		.name = "syscall straddling a page: moved before",
		.code = "b8 01 00 00 00 | 0f 05 | 48 3d 01 f0 ff ff | c3",
		.base = 0x401ffa,
		.sys = 5,
		.start = 0,
		.npre = 1,
		.npost = 0,
		.resume = 7,
		.point = "e9 01 e0 0f 00 0f 05",
		.keep = true,
		.stub_pre = "b8 01 00 00 00",
		.stub_post = "e9 ->0x402001",
	},
	{
		.name = "syscall straddling a page: moved after",
		.code = "b8 01 00 00 00 | 0f 05 | 48 3d 01 f0 ff ff | c3",
		.base = 0x401ffa,
		.sys = 5,
		.targets = {5},
		.ntargets = 1,
		.start = 5,
		.npre = 0,
		.npost = 1,
		.resume = 0x0d,
		.point = "e9 fc df 0f 00 cc cc cc",
		.stub_pre = "",
		.stub_post = "48 3d 01 f0 ff ff | e9 ->0x402007",
	},
	{
		/* syscall; test %eax,%eax; jmp 1f: the jmp may end the
		 * window, and becomes a rel32 jmp */
		.name = "jmp rel8 last in the after-window",
		.code = "0f 05 | 85 c0 | eb 10 | c3",
		.sys = 0,
		.start = 0,
		.npre = 0,
		.npost = 2,
		.resume = 6,
		.point = "e9 fb ef 0f 00 cc",
		.stub_pre = "",
		.stub_post = "85 c0 | e9 ->0x401016 | e9 ->0x401006",
	},
	{
		/* syscall; test %eax,%eax; ret */
		.name = "ret last in the after-window",
		.code = "0f 05 | 85 c0 | c3",
		.sys = 0,
		.start = 0,
		.npre = 0,
		.npost = 2,
		.resume = 5,
		.point = "e9 fb ef 0f 00",
		.stub_pre = "",
		.stub_post = "85 c0 | c3 | e9 ->0x401005",
	},
	{
		/* f: ret; nopl 0(%rax); g: xor %eax,%eax; syscall; ret. g is
		 * reached through a pointer: the window may not start inside
		 * f's padding and cover g's first byte. */
		.name = "code after padding stays first in the window",
		.code = "c3 | 0f 1f 80 00 00 00 00 | 31 c0 | 0f 05 | c3",
		.sys = 0x0a,
		.start = 8,
		.npre = 1,
		.npost = 1,
		.resume = 0x0d,
		.point = "e9 f3 ef 0f 00",
		.stub_pre = "31 c0",
		.stub_post = "c3 | e9 ->0x40100d",
	},
	{
		/* syscall; nop; mov %eax,%edi; ret: the mov could be a label */
		.name = "code after padding after the syscall: refused",
		.code = "0f 05 | 90 | 89 c7 | c3",
		.sys = 0,
		.why = "code after padding may be a jump target",
	},
	{
		/* syscall; nop; nop; nop, and the region ends */
		.name = "padding that ends the after-window moves",
		.code = "0f 05 | 90 | 90 | 90",
		.sys = 0,
		.start = 0,
		.npre = 0,
		.npost = 3,
		.resume = 5,
		.point = "e9 fb ef 0f 00",
		.stub_pre = "",
		.stub_post = "90 | 90 | 90 | e9 ->0x401005",
	},
	{
		/* xor; [T] syscall; ret; nopw; nop, with a jump into the pad
		 * that the short jump would borrow */
		.name = "padding that a jump lands in is not borrowed",
		.code = "31 c0 | 0f 05 | c3 | 66 2e 0f 1f 84 00 00 00 00 00 |"
			" 90 | c3",
		.sys = 2,
		.targets = {2, 7},
		.ntargets = 2,
		.why = "a jump lands on the syscall",
	},
};

#define FAIL(...)                                                              \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return false;                                                  \
	} while (0)

static bool bytes_equal(const uint8_t *got, const char *want, size_t n,
			char *err, size_t errlen, const char *what)
{
	uint8_t w[32];
	size_t wn = parse_hex(want, w, sizeof(w));
	char g[100] = "";
	struct render r = {.out = g, .cap = sizeof(g)};
	if (wn == n && !memcmp(got, w, n))
		return true;
	say_bytes(&r, got, n);
	FAIL("%s: got \"%s\", want \"%s\"", what, g, want);
}

/* Plan, emit and compare one case. Returns false with a message in err. */
static bool run_case(struct fi__disasm *d, const struct plan_case *c, char *err,
		     size_t errlen)
{
	uint64_t base = c->base ? c->base : BASE;
	uint64_t stub = c->stub ? c->stub : STUB;
	struct fi__stub_env env = {stub - 64, stub - 56, stub - 48, stub - 40};
	struct image *im = load(d, base, c->code);
	struct fi__pad pads_before[MAXPAD];
	struct fi__window *w;
	struct fi__plan p;
	const char *why, *ewhy = NULL;
	uint8_t buf[FI_STUB_MAX], point[16], padb[8];
	char text[2048], want[2048], lsys[64];
	size_t n;
	bool ok = false;

	for (int i = 0; i < c->ntargets; i++)
		set_bit(im, im->targets, base + (uint64_t)c->targets[i]);
	assert_true(im->npads <= MAXPAD);
	if (im->npads)
		memcpy(pads_before, im->pads, im->npads * sizeof(*im->pads));
	w = window_at(im, base + (uint64_t)c->sys);
	if (!w) {
		snprintf(err, errlen, "no syscall at +%#x", c->sys);
		goto out;
	}
	why = fi__plan_point(w, is_target, im, im->pads, im->npads, &p);
	if (c->why || why) {
		if (!why || !c->why || strcmp(why, c->why)) {
			snprintf(err, errlen, "plan: got \"%s\", want \"%s\"",
				 why ? why : "(planned)",
				 c->why ? c->why : "(planned)");
			goto out;
		}
		if (im->npads && memcmp(pads_before, im->pads,
					im->npads * sizeof(*im->pads))) {
			snprintf(err, errlen,
				 "a refused patch point consumed padding");
			goto out;
		}
		ok = true;
		goto out;
	}
	if (p.start != base + (uint64_t)c->start || p.npre != c->npre ||
	    p.npost != c->npost || p.resume != base + (uint64_t)c->resume ||
	    p.sys != base + (uint64_t)c->sys ||
	    p.pad != (c->pad ? base + (uint64_t)c->pad : 0)) {
		snprintf(err, errlen,
			 "plan: got start +%#" PRIx64
			 " npre %u npost %u resume "
			 "+%#" PRIx64 " pad %#" PRIx64 ", want start +%#x npre "
			 "%d npost %d resume +%#x pad +%#x",
			 p.start - base, p.npre, p.npost, p.resume - base,
			 p.pad ? p.pad - base : 0, c->start, c->npre, c->npost,
			 c->resume, c->pad);
		goto out;
	}
	/* the relocated instructions are the window's, in order */
	for (int i = 0; i < p.npre; i++)
		if (p.pre[i].addr != w->pre[w->npre - p.npre + i].addr) {
			snprintf(err, errlen, "pre[%d] is not the window's", i);
			goto out;
		}
	for (int i = 0; i < p.npost; i++)
		if (p.post[i].addr != w->post[i].addr) {
			snprintf(err, errlen, "post[%d] is not the window's",
				 i);
			goto out;
		}
	/* only a padding plan takes padding, 5 bytes of it */
	for (size_t i = 0; i < im->npads; i++) {
		struct fi__pad want_pad = pads_before[i];
		if (c->pad && want_pad.addr == base + (uint64_t)c->pad) {
			want_pad.addr += FI_JMP32_LEN;
			want_pad.len -= FI_JMP32_LEN;
		}
		if (im->pads[i].addr != want_pad.addr ||
		    im->pads[i].len != want_pad.len) {
			snprintf(err, errlen, "pad %zu: got %#" PRIx64 "/%u", i,
				 im->pads[i].addr, im->pads[i].len);
			goto out;
		}
	}

	memset(buf, 0xaa, sizeof(buf));
	n = fi__plan_emit_stub(&p, POINT_ID, stub, &env, buf, sizeof(buf),
			       &ewhy);
	if (c->emit_why || !n) {
		if (n || !ewhy || !c->emit_why || strcmp(ewhy, c->emit_why)) {
			snprintf(err, errlen, "emit: got \"%s\", want \"%s\"",
				 n	? "(emitted)"
				 : ewhy ? ewhy
					: "(null)",
				 c->emit_why ? c->emit_why : "(emitted)");
			goto out;
		}
		ok = true;
		goto out;
	}
	if (!render_stub(d, buf, n, stub, &env, p.npre, text, sizeof(text))) {
		snprintf(err, errlen, "the stub does not decode");
		goto out;
	}
	if (p.keep_sys != c->keep) {
		snprintf(err, errlen, "keep_sys %d, expected %d", p.keep_sys,
			 c->keep);
		goto out;
	}
	if (c->keep)
		snprintf(lsys, sizeof(lsys), "e9 ->0x%" PRIx64,
			 base + (uint64_t)c->sys);
	else
		snprintf(lsys, sizeof(lsys), "0f 05");
	snprintf(want, sizeof(want), "%s%s" COMMON " | %s | %s", c->stub_pre,
		 *c->stub_pre ? " | " : "", lsys, c->stub_post);
	if (strcmp(text, want)) {
		snprintf(err, errlen, "stub:\n  got  %.1500s\n  want %.1500s",
			 text, want);
		goto out;
	}

	memset(point, 0xaa, sizeof(point));
	memset(padb, 0xaa, sizeof(padb));
	fi__plan_emit_patch(&p, stub, point, padb);
	if (!bytes_equal(point, c->point, p.len, err, errlen, "point") ||
	    !bytes_equal(padb, c->pad ? c->padjmp : "", c->pad ? 5 : 0, err,
			 errlen, "pad"))
		goto out;
	for (size_t i = p.len; i < sizeof(point); i++)
		if (point[i] != 0xaa) {
			snprintf(err, errlen, "point: byte %zu written", i);
			goto out;
		}
	for (size_t i = c->pad ? 5 : 0; i < sizeof(padb); i++)
		if (padb[i] != 0xaa) {
			snprintf(err, errlen, "pad: byte %zu written", i);
			goto out;
		}
	ok = true;
out:
	unload(im);
	return ok;
}

static int setup(void **state)
{
	*state = fi__disasm_open();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fi__disasm_close(*state);
	return 0;
}

static void test_golden(void **state)
{
	int failed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[4096] = "";
		if (!run_case(*state, &cases[i], err, sizeof(err))) {
			print_error("case \"%s\": %s\n", cases[i].name, err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* The checker itself: one wrong detail in an expectation makes a case
 * fail, whichever detail it is. */
static void test_golden_detects_mismatch(void **state)
{
	char err[4096];
	struct plan_case c;
	const struct plan_case *planned = &cases[0], *refused = NULL,
			       *padded = NULL, *emit_refused = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].why && !refused)
			refused = &cases[i];
		if (cases[i].pad && !padded)
			padded = &cases[i];
		if (cases[i].emit_why && !emit_refused)
			emit_refused = &cases[i];
	}
	assert_non_null(refused);
	assert_non_null(padded);
	assert_non_null(emit_refused);
	assert_true(run_case(*state, planned, err, sizeof(err)));

	c = *planned;
	c.point = "e9 fb ef 0f 00 0f 90";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	assert_non_null(strstr(err, "point: got \"e9 fb ef 0f 00 0f 05\""));
	c = *planned;
	c.keep = false;
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *planned;
	c.point = "e9 fb ef 0f 00 0f";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *planned;
	c.npre = 2;
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *planned;
	c.resume = 8;
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *planned;
	c.stub_pre = "b8 02 00 00 00";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *planned;
	c.stub_post = "e9 ->0x401008";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *planned;
	c.why = "a jump lands on the syscall";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	assert_string_equal(err, "plan: got \"(planned)\", want \"a jump lands "
				 "on the syscall\"");

	c = *refused;
	c.why = "no room around the syscall";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *refused;
	c.why = NULL;
	assert_false(run_case(*state, &c, err, sizeof(err)));

	c = *padded;
	c.padjmp = "e9 f6 ef 0f 01";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *padded;
	c.pad++;
	assert_false(run_case(*state, &c, err, sizeof(err)));

	c = *emit_refused;
	c.emit_why = "stub too large";
	assert_false(run_case(*state, &c, err, sizeof(err)));
	c = *emit_refused;
	c.stub = 0;
	assert_false(run_case(*state, &c, err, sizeof(err)));
}

/* ---- padding, one pad at a time ---- */

/* xor %eax,%eax; [T] syscall; ret: only a short jump can patch it. */
static const char *plan_with_pads(struct fi__disasm *d, struct fi__pad *pads,
				  size_t npads, struct fi__plan *p)
{
	struct image *im = load(d, BASE, "31 c0 | 0f 05 | c3");
	const char *why;
	set_bit(im, im->targets, BASE + 2);
	why = fi__plan_point(window_at(im, BASE + 2), is_target, im, pads,
			     npads, p);
	unload(im);
	return why;
}

static void test_pad_reach(void **state)
{
	static const struct {
		int64_t at; /* pad address - the syscall's end */
		uint32_t len;
		bool used;
		uint8_t rel8;
	} rows[] = {
		{127, 5, true, 0x7f},  {128, 5, false, 0},
		{-128, 5, true, 0x80}, {-129, 5, false, 0},
		{0x10, 4, false, 0},   {0x10, 64, true, 0x10},
	};
	const uint64_t next = BASE + 4;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fi__pad pad = {next + (uint64_t)rows[i].at, rows[i].len};
		struct fi__plan p;
		uint8_t point[2], jmp[5];
		const char *why = plan_with_pads(*state, &pad, 1, &p);
		if (!rows[i].used) {
			assert_string_equal(why, "a jump lands on the syscall");
			assert_int_equal(pad.addr, next + (uint64_t)rows[i].at);
			assert_int_equal(pad.len, rows[i].len);
			continue;
		}
		assert_null(why);
		assert_int_equal(p.pad, next + (uint64_t)rows[i].at);
		assert_int_equal(p.start, BASE + 2);
		assert_int_equal(p.len, 2);
		assert_int_equal(p.resume, next);
		assert_int_equal(pad.addr, p.pad + 5);
		assert_int_equal(pad.len, rows[i].len - 5);
		fi__plan_emit_patch(&p, p.pad + 0x1000, point, jmp);
		assert_int_equal(point[0], 0xeb);
		assert_int_equal(point[1], rows[i].rel8);
		assert_memory_equal(jmp, "\xe9\xfb\x0f\x00\x00", 5);
	}
}

/* Patch points share a pad 5 bytes at a time, in the order they are planned,
 * and the first pad that fits is taken. */
static void test_pad_sharing(void **state)
{
	const uint64_t next = BASE + 4;
	struct fi__pad pads[] = {
		{next + 200, 64}, /* out of reach */
		{next + 20, 3},	  /* too short */
		{next + 40, 12},
		{next + 60, 5},
	};
	static const uint64_t want[] = {40, 45, 60};
	struct fi__plan p;

	for (size_t i = 0; i < 3; i++) {
		assert_null(plan_with_pads(*state, pads, 4, &p));
		assert_int_equal(p.pad, next + want[i]);
	}
	assert_int_equal(pads[2].addr, next + 50);
	assert_int_equal(pads[2].len, 2);
	assert_int_equal(pads[3].len, 0);
	assert_string_equal(plan_with_pads(*state, pads, 4, &p),
			    "a jump lands on the syscall");
	assert_int_equal(pads[0].len, 64);
	assert_int_equal(pads[1].len, 3);
}

/* ---- windows the sweep would not build ---- */

static void test_not_a_syscall(void **state)
{
	struct image *im = load(*state, BASE, "b8 01 00 00 00 | 90 90 | c3");
	struct fi__window w = {.npre = 1};
	struct fi__plan p;
	struct fi__pad pad = {BASE + 16, 16};

	assert_true(fi__disasm_one(*state, im->code, im->len, BASE, &w.pre[0]));
	assert_true(fi__disasm_one(*state, im->code + 5, 2, BASE + 5, &w.sys));
	assert_string_equal(fi__plan_point(&w, is_target, im, &pad, 1, &p),
			    "not a syscall instruction");
	/* the same window with the syscall it should have */
	memcpy(im->own + 5, "\x0f\x05", 2);
	assert_true(fi__disasm_one(*state, im->code + 5, 2, BASE + 5, &w.sys));
	assert_null(fi__plan_point(&w, is_target, im, &pad, 1, &p));
	assert_int_equal(p.npre, 1);
	unload(im);
}

/* [T] syscall; jmp 1f; cmp $-4095,%rax: nothing after the jmp may join
 * the window, even when the window builder offers it. */
static void test_control_leaves(void **state)
{
	struct image *im =
		load(*state, BASE, "0f 05 | eb 06 | 48 3d 01 f0 ff ff");
	struct fi__window w = {0};
	struct fi__plan p;

	assert_true(fi__disasm_one(*state, im->code, 2, BASE, &w.sys));
	assert_true(
		fi__disasm_one(*state, im->code + 2, 2, BASE + 2, &w.post[0]));
	assert_true(
		fi__disasm_one(*state, im->code + 4, 6, BASE + 4, &w.post[1]));
	w.npost = 2;
	assert_string_equal(fi__plan_point(&w, is_target, im, NULL, 0, &p),
			    "no room around the syscall");
	/* with a test in place of the jmp, both join */
	memcpy(im->own + 2, "\x85\xc0", 2);
	assert_true(
		fi__disasm_one(*state, im->code + 2, 2, BASE + 2, &w.post[0]));
	assert_null(fi__plan_point(&w, is_target, im, NULL, 0, &p));
	assert_int_equal(p.npost, 2);
	unload(im);
}

/* ---- emitting: limits ---- */

/* Plan "syscall; mov disp(%rip),%rdx; ret" at base and emit its stub at
 * stub; returns the stub's length, 0 with *why on refusal. */
static size_t emit_rip(struct fi__disasm *d, uint64_t base, int32_t disp,
		       uint64_t stub, size_t cap, const char **why)
{
	uint8_t code[] = {0x0f, 0x05, 0x48, 0x8b, 0x15, 0, 0, 0, 0, 0xc3};
	uint8_t buf[FI_STUB_MAX];
	struct fi__stub_env env = {stub - 64, stub - 56, stub - 48, stub - 40};
	struct image *im;
	struct fi__plan p;
	size_t n;

	memcpy(code + 5, &disp, 4);
	im = load_bytes(d, base, code, sizeof(code));
	assert_int_equal(im->nwins, 1);
	assert_int_equal(im->wins[0].post[0].kind, FI_INSN_RIP_REL);
	assert_null(fi__plan_point(&im->wins[0], is_target, im, NULL, 0, &p));
	assert_int_equal(p.npost, 1);
	*why = NULL;
	n = fi__plan_emit_stub(&p, POINT_ID, stub, &env, buf, cap, why);
	unload(im);
	return n;
}

static void test_emit_reach(void **state)
{
	const uint64_t near = 0x7f0000001000;
	const char *why;
	size_t n =
		emit_rip(*state, near, 0, near + 0x100000, FI_STUB_MAX, &why);
	/* the relocated mov is the stub's last instruction but the jmp */
	const uint64_t at = n - 5 - 7;
	uint64_t data, stub;

	assert_true(n > 12);
	/* data above: rel32 = INT32_MAX is the farthest that reaches */
	data = near + 9 + 0x7ffffff0;
	stub = data - 0x7fffffff - at - 7;
	assert_true(emit_rip(*state, near, 0x7ffffff0, stub, FI_STUB_MAX,
			     &why) == n);
	assert_int_equal(emit_rip(*state, near, 0x7ffffff0, stub - 1,
				  FI_STUB_MAX, &why),
			 0);
	assert_string_equal(why,
			    "a relocated instruction cannot reach its data");
	/* data below: rel32 = INT32_MIN */
	data = near + 9 - 0x7ffffff0;
	stub = data + 0x80000000 - at - 7;
	assert_true(emit_rip(*state, near, -0x7ffffff0, stub, FI_STUB_MAX,
			     &why) == n);
	assert_int_equal(emit_rip(*state, near, -0x7ffffff0, stub + 1,
				  FI_STUB_MAX, &why),
			 0);
	assert_string_equal(why,
			    "a relocated instruction cannot reach its data");
	/* a buffer one byte short */
	assert_int_equal(
		emit_rip(*state, near, 0, near + 0x100000, n - 1, &why), 0);
	assert_string_equal(why, "stub too large");
	assert_int_equal(emit_rip(*state, near, 0, near + 0x100000, n, &why),
			 n);
}

/* ---- end to end: every patch point of a region, as patch.c does it ---- */

/* What the stub's copy of a relocated instruction renders to. */
static void say_copy(struct render *r, const struct fi__insn *in)
{
	switch (in->kind) {
	case FI_INSN_JCC_REL:
		say(r, "0f %02x ->0x%" PRIx64, 0x80 | in->cond,
		    (uint64_t)in->target);
		return;
	case FI_INSN_JMP_REL:
		say(r, "e9 ->0x%" PRIx64, (uint64_t)in->target);
		return;
	case FI_INSN_RIP_REL:
		say_bytes(r, in->bytes, in->disp_off);
		say(r, " [0x%" PRIx64 "]", (uint64_t)in->target);
		if (in->disp_off + 4 < in->len) {
			say(r, " ");
			say_bytes(r, in->bytes + in->disp_off + 4,
				  in->len - in->disp_off - 4u);
		}
		return;
	default:
		say_bytes(r, in->bytes, in->len);
		return;
	}
}

struct tally {
	size_t planned, padded, refused;
};

static const char *const known_reasons[] = {
	"rt_sigreturn trampoline (unwinders recognise its bytes)",
	"a jump lands inside the window",
	"a jump lands on the syscall",
	"an instruction next to the syscall cannot move",
	"code after padding may be a jump target",
	"no room around the syscall",
};

/* Plan every patch point of im in address order, sharing its pads; emit the stubs
 * one after another from area + 64 and the patches into a copy of the
 * code. Checks each stub against the plan, and that the patches overlap
 * neither each other nor a branch target, and change nothing else.
 * Appends one line per patch point to log: "+off shape". */
static void plan_image(struct fi__disasm *d, struct image *im, uint64_t area,
		       struct render *log, struct tally *t)
{
	struct fi__stub_env env = {area, area + 8, area + 16, area + 24};
	uint8_t *patched = malloc(im->len), *written = calloc(im->len, 1);
	uint64_t off = 64;

	assert_non_null(patched);
	assert_non_null(written);
	memcpy(patched, im->code, im->len);
	for (size_t i = 0; i < im->nwins; i++) {
		const struct fi__window *w = &im->wins[i];
		struct fi__plan p;
		const char *why = fi__plan_point(w, is_target, im, im->pads,
						 im->npads, &p);
		uint8_t buf[FI_STUB_MAX], point[16], jmp[5];
		char got[2048], want[2048];
		struct render r = {.out = want, .cap = sizeof(want)};
		uint64_t stub = area + off;
		size_t n;
		bool known = false;

		say(log, "+%#" PRIx64 " ", w->sys.addr - im->base);
		if (why) {
			for (size_t k = 0; k < sizeof(known_reasons) /
						       sizeof(known_reasons[0]);
			     k++)
				known |= !strcmp(why, known_reasons[k]);
			if (!known)
				fail_msg("+%#" PRIx64 ": unexpected reason %s",
					 w->sys.addr - im->base, why);
			say(log, "refused: %s\n", why);
			t->refused++;
			continue;
		}
		n = fi__plan_emit_stub(&p, POINT_ID, stub, &env, buf,
				       sizeof(buf), &why);
		if (!n)
			fail_msg("+%#" PRIx64 ": emit: %s",
				 w->sys.addr - im->base, why);
		assert_true(render_stub(d, buf, n, stub, &env, p.npre, got,
					sizeof(got)));
		for (int k = 0; k < p.npre; k++) {
			say_copy(&r, &p.pre[k]);
			say(&r, " | ");
		}
		say(&r, "%s", COMMON);
		if (p.keep_sys)
			say(&r, " | e9 ->0x%" PRIx64, p.sys);
		else
			say(&r, " | 0f 05");
		for (int k = 0; k < p.npost; k++) {
			say(&r, " | ");
			say_copy(&r, &p.post[k]);
		}
		say(&r, " | e9 ->0x%" PRIx64, p.resume);
		assert_string_equal(got, want);

		fi__plan_emit_patch(&p, stub, point, jmp);
		if (p.pad) {
			assert_int_equal(p.len, 2);
			assert_int_equal(point[0], 0xeb);
			assert_int_equal(p.start + 2 +
						 (uint64_t)(int8_t)point[1],
					 p.pad);
			assert_int_equal(jmp[0], 0xe9);
			assert_int_equal(
				p.pad + 5 + (uint64_t)(int64_t)le32(jmp + 1),
				stub);
		} else {
			assert_int_equal(point[0], 0xe9);
			assert_int_equal(
				p.start + 5 +
					(uint64_t)(int64_t)le32(point + 1),
				stub);
			/* int3 up to the end, or up to the syscall that
			 * stays in place */
			for (unsigned k = 5; k < p.len; k++)
				assert_int_equal(
					point[k],
					p.keep_sys && p.start + k >= p.sys
						? (p.start + k == p.sys ? 0x0f
									: 0x05)
						: 0xcc);
		}
		/* no jump lands inside what is overwritten */
		for (uint64_t a = p.start + 1; a < p.start + p.len; a++)
			assert_false(is_target(im, a));
		for (uint64_t a = p.pad; p.pad && a < p.pad + 5; a++)
			assert_false(is_target(im, a));
		/* the stub returns to an instruction boundary */
		assert_true(bit(im, im->starts, p.resume) ||
			    p.resume == im->base + im->len);
		/* no two patches share a byte */
		for (unsigned k = 0; k < p.len; k++) {
			uint64_t o = p.start - im->base + k;
			assert_true(o < im->len && !written[o]);
			written[o] = 1;
			patched[o] = point[k];
		}
		for (unsigned k = 0; p.pad && k < 5; k++) {
			uint64_t o = p.pad - im->base + k;
			assert_true(o < im->len && !written[o]);
			written[o] = 1;
			patched[o] = jmp[k];
		}
		if (p.pad)
			say(log, "pad +%#" PRIx64 "\n", p.pad - im->base);
		else if (p.npre && p.npost)
			say(log, "pre %u post %u\n", p.npre, p.npost);
		else if (p.npre)
			say(log, "pre %u\n", p.npre);
		else
			say(log, "post %u\n", p.npost);
		t->planned++;
		t->padded += p.pad != 0;
		off += (n + 15) & ~(size_t)15;
	}
	for (size_t i = 0; i < im->len; i++)
		if (!written[i])
			assert_int_equal(patched[i], im->code[i]);
	free(patched);
	free(written);
}

static void test_end_to_end(void **state)
{
	static const char code[] =
		/* 0x00 write: moved before */
		"b8 01 00 00 00 | 0f 05 | 48 3d 01 f0 ff ff | 73 01 | c3 | c3 |"
		/* 0x11 padding, 12 bytes */
		"0f 1f 80 00 00 00 00 | 0f 1f 40 00 | 90 |"
		/* 0x1d read: test, jne and xor move, the syscall stays */
		"64 8b 04 25 18 00 00 00 | 85 c0 | 75 0d | 31 c0 | 0f 05 |"
		"48 3d 00 f0 ff ff | 77 02 | c3 | c3 | c3 |"
		/* 0x38 jmp onto the syscall: short jump into 0x11 */
		"31 c0 | eb 00 | 0f 05 | c3 |"
		/* 0x3f __restore_rt */
		"48 c7 c0 0f 00 00 00 | 0f 05 | 0f 1f 00 | c3 |"
		/* 0x4c padding; an entry after it: xor and ret move */
		"0f 1f 80 00 00 00 00 | 31 c0 | 0f 05 | c3 |"
		/* 0x58 the same as at 0x38: short jump into 0x16 */
		"31 c0 | eb 00 | 0f 05 | c3 |"
		/* 0x5f and again: into the padding at 0x4c */
		"31 c0 | eb 00 | 0f 05 | c3 |"
		/* 0x66 once more: no pad has 5 bytes left */
		"31 c0 | eb 00 | 0f 05 | c3";
	struct image *im = load(*state, BASE, code);
	char text[1024];
	struct render log = {.out = text, .cap = sizeof(text)};
	struct tally t = {0};

	plan_image(*state, im, STUB, &log, &t);
	assert_string_equal(text,
			    "+0x5 pre 1\n"
			    "+0x2b pre 3\n"
			    "+0x3c pad +0x11\n"
			    "+0x46 refused: rt_sigreturn trampoline (unwinders "
			    "recognise its bytes)\n"
			    "+0x55 pre 1 post 1\n"
			    "+0x5c pad +0x16\n"
			    "+0x63 pad +0x4c\n"
			    "+0x6a refused: an instruction next to the syscall "
			    "cannot move\n");
	assert_int_equal(t.planned, 6);
	assert_int_equal(t.padded, 3);
	assert_int_equal(t.refused, 2);
	unload(im);
}

/* The executable segment of the libc this test runs on, read in place (it
 * is never written): every patch point is planned and emitted, with stubs 1 MiB
 * past the segment's end, and the same checks as above. */
struct segment {
	uint64_t addr;
	size_t len;
};

static int find_libc(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct segment *seg = ctx;
	(void)size;
	if (!strstr(info->dlpi_name, "/libc.so"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			seg->addr = info->dlpi_addr + ph->p_vaddr;
			seg->len = ph->p_filesz;
			return 1;
		}
	}
	return 0;
}

static void test_system_libc(void **state)
{
	struct segment seg = {0};
	struct image *im;
	struct tally t = {0};
	static char text[1 << 16];
	struct render log = {.out = text, .cap = sizeof(text)};

	assert_int_equal(dl_iterate_phdr(find_libc, &seg), 1);
	im = load_bytes(*state, seg.addr, (const uint8_t *)seg.addr, seg.len);
	plan_image(*state, im, (seg.addr + seg.len + (2u << 20)) & ~0xfffull,
		   &log, &t);
	print_message("libc: %zu patch points, %zu planned (%zu through "
		      "padding), %zu refused\n",
		      im->nwins, t.planned, t.padded, t.refused);
	if (getenv("FI_PLAN_VERBOSE"))
		fputs(text, stdout);
	/* libc makes its syscalls in a few hundred places, nearly all of
	 * them plannable */
	assert_true(im->nwins >= 100);
	assert_true(t.refused * 20 <= im->nwins);
	unload(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_golden_detects_mismatch),
		cmocka_unit_test(test_pad_reach),
		cmocka_unit_test(test_pad_sharing),
		cmocka_unit_test(test_not_a_syscall),
		cmocka_unit_test(test_control_leaves),
		cmocka_unit_test(test_emit_reach),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_system_libc),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
