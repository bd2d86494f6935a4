/* plan.c: plans each patch point's patch and writes the bytes of the
 * patch and of the patch point's stub. Pure; see plan.h.
 *
 * A patch point whose `mov $1,%eax` before the syscall can move:
 *
 *     before                         after
 *     b8 01 00 00 00  mov $1,%eax    e9 .. .. .. ..  jmp stub ----.
 *     0f 05           syscall        cc cc           (never run)   |
 *     48 3d 01 f0 ..  cmp ...  <--.  48 3d 01 f0 ..  cmp ...  <--. |
 *                                 |                              | |
 *     stub:  mov $1,%eax   (relocated)  <------------------------|-'
 *            movzwl %ax,%ecx            interest[nr] == 0 ?      |
 *            mov table_slot(%rip),%r11                           |
 *            movzbl (%r11,%rcx),%ecx                             |
 *            jrcxz .Lsys  ------------------------------.        |
 *            lea -128(%rsp),%rsp                        |        |
 *            push base_slot(%rip); push $index          |        |
 *            call *entry_slot(%rip)   dispatch: %rcx =  |        |
 *              (returns with ret $FI_ENTRY_POP) 0 done, 1 post,  |        |
 *            jrcxz .Lafter            2 pass            |        |
 *            loop .Lsys  -------------------------------+        |
 *            syscall; lea/push; call *post_slot(%rip);  |        |
 *            jmp .Lafter                                |        |
 *     .Lsys: syscall  <---------------------------------'        |
 *     .Lafter: (instructions relocated from after the syscall)   |
 *            jmp resume  ----------------------------------------'
 *
 * The fast path uses only %rcx and %r11, which the syscall clobbers
 * anyway, and no flags and no stack. When nothing moves, a 2-byte short
 * jump replaces the syscall and lands on a 5-byte jump in nearby padding.
 */
#include "plan.h"

#include <string.h>

static bool relocatable(const struct fi__insn *in, bool after)
{
	switch (in->kind) {
	case FI_INSN_PLAIN:
	case FI_INSN_PADDING:
	case FI_INSN_RIP_REL:
		return true;
	case FI_INSN_JCC_REL:
		return true; /* re-encoded as rel32 to the same target */
	case FI_INSN_JMP_REL:
	case FI_INSN_END:
		return after; /* the syscall must stay reachable */
	default:
		return false;
	}
}

/* Instructions that end the fall-through path: nothing after them in a
 * window can be reached from the syscall. */
static bool stops(const struct fi__insn *in)
{
	return in->kind == FI_INSN_JMP_REL || in->kind == FI_INSN_END;
}

static bool is_sigreturn(const struct fi__window *w)
{
	static const uint8_t mov15[] = {0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0};
	const struct fi__insn *p;
	if (w->npre < 1)
		return false;
	p = &w->pre[w->npre - 1];
	return p->len == sizeof(mov15) &&
	       !memcmp(p->bytes, mov15, sizeof(mov15));
}

/* Try k instructions before and m after the syscall. */
static const char *try_window(const struct fi__window *w, int k, int m,
			      fi__is_target_fn is_target, void *ctx,
			      struct fi__plan *out)
{
	unsigned len = w->sys.len;
	if (k > w->npre || m > w->npost)
		return "not enough instructions around the syscall";
	for (int i = w->npre - k; i < w->npre; i++) {
		if (!relocatable(&w->pre[i], false))
			return "an instruction next to the syscall cannot move";
		len += w->pre[i].len;
	}
	for (int i = 0; i < m; i++) {
		if (!relocatable(&w->post[i], true))
			return "an instruction next to the syscall cannot move";
		if (i + 1 < m && stops(&w->post[i]))
			return "control leaves before the window ends";
		len += w->post[i].len;
	}
	if (len < FI_JMP32_LEN)
		return "too little room for a jump";
	/* Nothing but the first instruction of the window may be a target. */
	for (int i = w->npre - k + 1; i < w->npre; i++)
		if (is_target(ctx, w->pre[i].addr))
			return "a jump lands inside the window";
	if (k > 0 && is_target(ctx, w->sys.addr))
		return "a jump lands on the syscall";
	for (int i = 0; i < m; i++)
		if (is_target(ctx, w->post[i].addr))
			return "a jump lands inside the window";
	/* Padding sits before labels. What follows it may be reached only
	 * through a pointer (a function entry, a jump table case), which no
	 * direct branch marks: it may start a window, never sit inside one.
	 * Before the syscall, padding is always followed by such code. */
	for (int i = w->npre - k; i < w->npre; i++)
		if (w->pre[i].kind == FI_INSN_PADDING)
			return "code after padding may be a jump target";
	for (int i = 0; i + 1 < m; i++)
		if (w->post[i].kind == FI_INSN_PADDING &&
		    w->post[i + 1].kind != FI_INSN_PADDING)
			return "code after padding may be a jump target";

	memset(out, 0, sizeof(*out));
	out->start = k ? w->pre[w->npre - k].addr : w->sys.addr;
	out->len = (uint8_t)len;
	out->npre = (uint8_t)k;
	out->npost = (uint8_t)m;
	for (int i = 0; i < k; i++)
		out->pre[i] = w->pre[w->npre - k + i];
	for (int i = 0; i < m; i++)
		out->post[i] = w->post[i];
	out->sys = w->sys.addr;
	out->resume = out->start + len;
	out->keep_sys = m == 0 && k > 0 &&
			out->start + FI_JMP32_LEN <= out->sys;
	return NULL;
}

const char *fi__plan_point(const struct fi__window *w,
			   fi__is_target_fn is_target, void *ctx,
			   struct fi__pad *pads, size_t npads,
			   struct fi__plan *out)
{
	/* (k before, m after), in order of preference. */
	static const int shapes[][2] = {
		{1, 0}, {2, 0}, {3, 0}, {0, 1}, {0, 2},
		{0, 3}, {1, 1}, {2, 1}, {1, 2}, {2, 2},
	};
	const char *why = "no room around the syscall";

	if (w->sys.kind != FI_INSN_SYSCALL)
		return "not a syscall instruction";
	if (is_sigreturn(w))
		return "rt_sigreturn trampoline (unwinders recognise its bytes)";

	/* Best: instructions before the syscall that cover the whole jump,
	 * so the syscall itself stays in place (keep_sys). */
	for (int k = 1; k <= FI_PLAN_MAXPRE; k++)
		if (!try_window(w, k, 0, is_target, ctx, out) && out->keep_sys)
			return NULL;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const char *r = try_window(w, shapes[i][0], shapes[i][1],
					   is_target, ctx, out);
		if (!r)
			return NULL;
		/* Keep the most telling reason: a branch target beats a
		 * lack of instructions. */
		if (strstr(r, "jump lands") || strstr(r, "cannot move") ||
		    strstr(r, "jump target"))
			why = r;
	}

	/* Short jump into padding: the syscall alone is replaced. */
	int64_t next = (int64_t)(w->sys.addr + w->sys.len);
	for (size_t i = 0; i < npads; i++) {
		struct fi__pad *pd = &pads[i];
		if (pd->len < FI_JMP32_LEN)
			continue;
		int64_t rel = (int64_t)pd->addr - next;
		bool landed = false;
		if (rel < -128 || rel > 127)
			continue;
		/* a jump into the 5 bytes would run the stub's jmp */
		for (unsigned b = 0; b < FI_JMP32_LEN; b++)
			landed |= is_target(ctx, pd->addr + b);
		if (landed)
			continue;
		memset(out, 0, sizeof(*out));
		out->start = w->sys.addr;
		out->len = w->sys.len;
		out->sys = w->sys.addr;
		out->resume = (uint64_t)next;
		out->pad = pd->addr;
		pd->addr += FI_JMP32_LEN;
		pd->len -= FI_JMP32_LEN;
		return NULL;
	}
	return why;
}

/* --- emitting bytes --------------------------------------------------- */

struct emit {
	uint8_t *buf;
	size_t cap, n;
	uint64_t base; /* address of buf[0] */
	const char *why;
};

static void put(struct emit *e, const void *p, size_t len)
{
	if (e->n + len > e->cap) {
		e->why = "stub too large";
		return;
	}
	memcpy(e->buf + e->n, p, len);
	e->n += len;
}

static void put1(struct emit *e, uint8_t b)
{
	put(e, &b, 1);
}

static void put32(struct emit *e, int32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};
	put(e, b, 4);
}

static uint64_t here(const struct emit *e)
{
	return e->base + e->n;
}

static bool fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* A rel32 from the end of a field of `len` bytes starting here to target. */
static void put_rel32(struct emit *e, uint64_t target)
{
	int64_t rel = (int64_t)target - (int64_t)(here(e) + 4);
	if (!fits32(rel)) {
		e->why = "a relocated instruction cannot reach its target";
		return;
	}
	put32(e, (int32_t)rel);
}

static void relocate(struct emit *e, const struct fi__insn *in)
{
	switch (in->kind) {
	case FI_INSN_JCC_REL:
		put1(e, 0x0f);
		put1(e, (uint8_t)(0x80 | in->cond));
		put_rel32(e, (uint64_t)in->target);
		return;
	case FI_INSN_JMP_REL:
		put1(e, 0xe9);
		put_rel32(e, (uint64_t)in->target);
		return;
	case FI_INSN_RIP_REL: {
		uint8_t b[16];
		int64_t rel = in->target - (int64_t)(here(e) + in->len);
		memcpy(b, in->bytes, in->len);
		if (!fits32(rel)) {
			e->why =
				"a relocated instruction cannot reach its data";
			return;
		}
		b[in->disp_off] = (uint8_t)rel;
		b[in->disp_off + 1] = (uint8_t)(rel >> 8);
		b[in->disp_off + 2] = (uint8_t)(rel >> 16);
		b[in->disp_off + 3] = (uint8_t)(rel >> 24);
		put(e, b, in->len);
		return;
	}
	default:
		put(e, in->bytes, in->len);
		return;
	}
}

/* call *slot(%rip) with the red zone skipped and the patch point pushed
 * as two words: the area's first point id (from base_slot) and the index
 * of this point within the area. Nothing in a stub depends on the ids handed out
 * at run time, so a stub page can be mapped from the plan cache. */
static void call_entry(struct emit *e, uint32_t index, uint64_t base_slot,
		       uint64_t slot)
{
	static const uint8_t skip_rz[] = {0x48, 0x8d, 0x64, 0x24, 0x80};
	put(e, skip_rz, sizeof(skip_rz));
	put1(e, 0xff); /* push base_slot(%rip) */
	put1(e, 0x35);
	put_rel32(e, base_slot);
	put1(e, 0x68);
	put32(e, (int32_t)index);
	put1(e, 0xff);
	put1(e, 0x15);
	put_rel32(e,
		  slot); /* the entry returns with `ret $FI_ENTRY_POP`: the red
			     * zone is back */
}

/* Patch a rel8 placeholder at buf[at] to jump to the current position. */
static void land8(struct emit *e, size_t at)
{
	int64_t rel = (int64_t)e->n - (int64_t)(at + 1);
	if (rel > 127) {
		e->why = "stub layout";
		return;
	}
	if (at < e->cap)
		e->buf[at] = (uint8_t)rel;
}

size_t fi__plan_emit_stub(const struct fi__plan *p, uint32_t index,
			  uint64_t stub_addr, const struct fi__stub_env *env,
			  uint8_t *buf, size_t cap, const char **why)
{
	static const uint8_t check[] = {
		0x0f, 0xb7, 0xc8, /* movzwl %ax,%ecx */
	};
	static const uint8_t load[] = {
		0x41, 0x0f, 0xb6, 0x0c, 0x0b, /* movzbl (%r11,%rcx),%ecx */
	};
	struct emit e = {.buf = buf, .cap = cap, .base = stub_addr};
	size_t j_sys1, j_sys2, j_after1, j_after2;

	for (int i = 0; i < p->npre; i++)
		relocate(&e, &p->pre[i]);

	put(&e, check, sizeof(check));
	put1(&e, 0x4c); /* mov table_slot(%rip),%r11 */
	put1(&e, 0x8b);
	put1(&e, 0x1d);
	put_rel32(&e, env->table_slot);
	put(&e, load, sizeof(load));
	put1(&e, 0xe3); /* jrcxz .Lsys */
	j_sys1 = e.n;
	put1(&e, 0);

	call_entry(&e, index, env->base_slot, env->entry_slot);
	put1(&e, 0xe3); /* jrcxz .Lafter: 0 = done, %rax holds the result */
	j_after1 = e.n;
	put1(&e, 0);
	put1(&e, 0xe2); /* loop .Lsys: 2 = pass */
	j_sys2 = e.n;
	put1(&e, 0);

	/* 1 = pass, then the post hook */
	put1(&e, 0x0f);
	put1(&e, 0x05);
	call_entry(&e, index, env->base_slot, env->post_slot);
	put1(&e, 0xeb);
	j_after2 = e.n;
	put1(&e, 0);

	land8(&e, j_sys1); /* .Lsys: */
	land8(&e, j_sys2);
	if (p->keep_sys) {
		/* back to the syscall in place: after it, execution is home */
		put1(&e, 0xe9);
		put_rel32(&e, p->sys);
	} else {
		put1(&e, 0x0f);
		put1(&e, 0x05);
	}

	land8(&e, j_after1); /* .Lafter: */
	land8(&e, j_after2);
	for (int i = 0; i < p->npost; i++)
		relocate(&e, &p->post[i]);
	put1(&e, 0xe9);
	put_rel32(&e, p->resume);

	if (e.why) {
		*why = e.why;
		return 0;
	}
	return e.n;
}

void fi__plan_emit_patch(const struct fi__plan *p, uint64_t stub_addr,
			 uint8_t *point_bytes, uint8_t *pad_bytes)
{
	uint64_t jmp_at = p->pad ? p->pad : p->start;
	int32_t rel = (int32_t)((int64_t)stub_addr - (int64_t)(jmp_at + 5));
	uint8_t *j = p->pad ? pad_bytes : point_bytes;

	j[0] = 0xe9;
	j[1] = (uint8_t)rel;
	j[2] = (uint8_t)(rel >> 8);
	j[3] = (uint8_t)(rel >> 16);
	j[4] = (uint8_t)(rel >> 24);
	if (p->pad) {
		/* jmp short from the syscall to the pad */
		point_bytes[0] = 0xeb;
		point_bytes[1] = (uint8_t)(p->pad - (p->start + 2));
		return;
	}
	for (unsigned i = 5; i < p->len; i++)
		point_bytes[i] = 0xcc; /* never executed: nothing lands here */
	if (p->keep_sys) {
		point_bytes[p->sys - p->start] = 0x0f;
		point_bytes[p->sys - p->start + 1] = 0x05;
	}
}
