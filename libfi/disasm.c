/* disasm.c: the capstone wrapper. The scanner reads executable segments
 * with the fast decoder; the planner decodes the few instructions around
 * each syscall in detail. No other file includes capstone. */
#include "disasm.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>
#ifdef FI_LAZY_CAPSTONE
#include <dlfcn.h>
#endif

/* The allocator capstone uses; the decoder struct comes from it too. */
static void *(*mem_calloc)(size_t, size_t) = calloc;
static void (*mem_free)(void *) = free;
static bool apply_mem(void);

/* Capstone's functions. libfi.so loads capstone only when some plan is
 * not in the cache (FI_LAZY_CAPSTONE): mapping and relocating it costs
 * about 10 ms, five times everything else libfi does at start-up. */
static struct {
	bool ready;
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc)(csh);
	bool (*iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free)(cs_insn *, size_t);
	cs_err (*close)(csh *);
} cs;

bool fi__disasm_own_namespace;

bool fi__disasm_load(const char **why)
{
	if (cs.ready)
		return true;
#ifdef FI_LAZY_CAPSTONE
	/* dlopen would run the constructors of capstone's dependencies, libc
	 * among them, now; before libc's turn, that runs it without argv. */
	void *h = fi__disasm_own_namespace
			  ? dlmopen(LM_ID_NEWLM, FI_CAPSTONE_SONAME,
				    RTLD_NOW | RTLD_LOCAL)
			  : dlopen(FI_CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*why = "cannot load " FI_CAPSTONE_SONAME;
		return false;
	}
	cs.open = (cs_err(*)(cs_arch, cs_mode, csh *))dlsym(h, "cs_open");
	cs.option = (cs_err(*)(csh, cs_opt_type, size_t))dlsym(h, "cs_option");
	cs.malloc = (cs_insn * (*)(csh)) dlsym(h, "cs_malloc");
	cs.iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *,
			    cs_insn *))dlsym(h, "cs_disasm_iter");
	cs.free = (void (*)(cs_insn *, size_t))dlsym(h, "cs_free");
	cs.close = (cs_err(*)(csh *))dlsym(h, "cs_close");
	if (!cs.open || !cs.option || !cs.malloc || !cs.iter || !cs.free ||
	    !cs.close) {
		*why = FI_CAPSTONE_SONAME " lacks a function fi needs";
		return false;
	}
#else
	cs.open = cs_open;
	cs.option = cs_option;
	cs.malloc = cs_malloc;
	cs.iter = cs_disasm_iter;
	cs.free = cs_free;
	cs.close = cs_close;
#endif
	__atomic_store_n(&cs.ready, true, __ATOMIC_RELEASE);
	if (!apply_mem()) {
		*why = "capstone refused fi's allocator";
		return false;
	}
	return true;
}

bool fi__disasm_ready(void)
{
	return __atomic_load_n(&cs.ready, __ATOMIC_ACQUIRE);
}

struct fi__disasm {
	csh fast; /* detail off: scanning */
	csh full; /* detail on: the window around a site */
	cs_insn *fast_insn;
	cs_insn *full_insn;
};

struct fi__disasm *fi__disasm_open(void)
{
	const char *why;
	if (!fi__disasm_load(&why))
		return NULL;
	struct fi__disasm *d = mem_calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &d->fast) != CS_ERR_OK) {
		mem_free(d);
		return NULL;
	}
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &d->full) != CS_ERR_OK) {
		cs.close(&d->fast);
		mem_free(d);
		return NULL;
	}
	cs.option(d->full, CS_OPT_DETAIL, CS_OPT_ON);
	d->fast_insn = cs.malloc(d->fast);
	d->full_insn = cs.malloc(d->full);
	if (!d->fast_insn || !d->full_insn) {
		fi__disasm_close(d);
		return NULL;
	}
	return d;
}

void fi__disasm_close(struct fi__disasm *d)
{
	if (!d)
		return;
	if (d->fast_insn)
		cs.free(d->fast_insn, 1);
	if (d->full_insn)
		cs.free(d->full_insn, 1);
	cs.close(&d->fast);
	cs.close(&d->full);
	mem_free(d);
}

static struct fi__disasm_mem want_mem;

static bool apply_mem(void)
{
	cs_opt_mem m = {
		.malloc = want_mem.malloc,
		.calloc = want_mem.calloc,
		.realloc = want_mem.realloc,
		.free = want_mem.free,
		.vsnprintf = want_mem.vsnprintf,
	};
	if (!want_mem.malloc)
		return true;
	if (cs.option(0, CS_OPT_MEM, (size_t)&m) != CS_ERR_OK)
		return false;
	mem_calloc = want_mem.calloc;
	mem_free = want_mem.free;
	return true;
}

bool fi__disasm_set_mem(const struct fi__disasm_mem *mem)
{
	want_mem = *mem;
	return !fi__disasm_ready() || apply_mem();
}

static bool is_prefix(uint8_t b)
{
	switch (b) {
	/* clang-format off */
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		/* clang-format on */
		return true;
	default:
		return (b & 0xf0) == 0x40; /* REX */
	}
}

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Classify by id and bytes; relative branches decode their own target. */
static void classify(const cs_insn *in, struct fi__insn *out)
{
	const uint8_t *b = in->bytes;
	unsigned n = in->size, i = 0;

	out->addr = in->address;
	out->len = (uint8_t)n;
	out->kind = FI_INSN_PLAIN;
	out->disp_off = 0;
	out->cond = 0;
	out->target = 0;
	memcpy(out->bytes, b, n);

	while (i < n && is_prefix(b[i]))
		i++;
	if (i < n) {
		uint8_t op = b[i];
		int64_t next = (int64_t)(in->address + n);
		if (op == 0xeb || op == 0xe9) {
			out->kind = FI_INSN_JMP_REL;
			out->target = next + (op == 0xeb ? (int8_t)b[n - 1]
							 : le32(b + n - 4));
			return;
		}
		if (op >= 0x70 && op <= 0x7f) {
			out->kind = FI_INSN_JCC_REL;
			out->cond = op & 0x0f;
			out->target = next + (int8_t)b[n - 1];
			return;
		}
		if (op == 0x0f && i + 1 < n && b[i + 1] >= 0x80 &&
		    b[i + 1] <= 0x8f) {
			out->kind = FI_INSN_JCC_REL;
			out->cond = b[i + 1] & 0x0f;
			out->target = next + le32(b + n - 4);
			return;
		}
		if (op == 0xe8) {
			out->kind = FI_INSN_CALL_REL;
			out->target = next + le32(b + n - 4);
			return;
		}
		if (op >= 0xe0 && op <= 0xe3) {
			out->kind = FI_INSN_OTHER_REL;
			out->target = next + (int8_t)b[n - 1];
			return;
		}
	}

	switch (in->id) {
	case X86_INS_SYSCALL:
		out->kind = FI_INSN_SYSCALL;
		break;
	case X86_INS_NOP:
	case X86_INS_INT3:
		out->kind = FI_INSN_PADDING;
		break;
	case X86_INS_RET:
	case X86_INS_RETF:
	case X86_INS_RETFQ:
	case X86_INS_IRET:
	case X86_INS_IRETD:
	case X86_INS_IRETQ:
	case X86_INS_JMP: /* relative forms were handled above */
	case X86_INS_LJMP:
	case X86_INS_UD2:
	case X86_INS_HLT:
		out->kind = FI_INSN_END;
		break;
	case X86_INS_CALL:
	case X86_INS_LCALL:
	case X86_INS_INT:
	case X86_INS_INT1:
	case X86_INS_INTO:
	case X86_INS_SYSENTER:
	case X86_INS_SYSEXIT:
	case X86_INS_SYSRET:
		out->kind = FI_INSN_CONTROL;
		break;
	default:
		break;
	}
}

bool fi__disasm_fast(struct fi__disasm *d, const uint8_t **code, size_t *avail,
		     uint64_t *addr, struct fi__insn *out)
{
	if (!cs.iter(d->fast, code, avail, addr, d->fast_insn))
		return false;
	classify(d->fast_insn, out);
	return true;
}

bool fi__disasm_one(struct fi__disasm *d, const uint8_t *code, size_t avail,
		    uint64_t addr, struct fi__insn *out)
{
	const uint8_t *p = code;
	size_t n = avail;
	uint64_t a = addr;
	if (!cs.iter(d->full, &p, &n, &a, d->full_insn))
		return false;
	classify(d->full_insn, out);
	if (out->kind != FI_INSN_PLAIN && out->kind != FI_INSN_END &&
	    out->kind != FI_INSN_CONTROL)
		return true;

	const cs_x86 *x = &d->full_insn->detail->x86;
	for (unsigned i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP)
			continue;
		/* Find the disp32 in the encoding: capstone 4 does not say
		 * where it is. It follows the ModRM byte, so search from the
		 * end, before any immediate; refuse when ambiguous. */
		int32_t disp = (int32_t)op->mem.disp;
		int found = -1, count = 0;
		for (int off = 1; off + 4 <= out->len; off++) {
			if (le32(out->bytes + off) == disp) {
				found = off;
				count++;
			}
		}
		if (count != 1 || out->kind != FI_INSN_PLAIN) {
			out->kind = FI_INSN_CONTROL; /* not relocatable */
			return true;
		}
		out->kind = FI_INSN_RIP_REL;
		out->disp_off = (uint8_t)found;
		out->target = (int64_t)(out->addr + out->len) + disp;
		return true;
	}
	return true;
}
