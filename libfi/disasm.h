/* disasm.h: instruction decoding for the patcher. disasm.c is the only file
 * that includes capstone; everything else sees struct fi__insn. */
#ifndef FI_DISASM_H
#define FI_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fi__insn_kind {
	FI_INSN_PLAIN = 0, /* position-independent, falls through */
	FI_INSN_SYSCALL,   /* 0f 05 */
	FI_INSN_JMP_REL,   /* jmp rel8/rel32: no fall-through */
	FI_INSN_JCC_REL,   /* jcc rel8/rel32 */
	FI_INSN_CALL_REL,  /* call rel32 */
	FI_INSN_OTHER_REL, /* loop, jrcxz: relative, not relocatable */
	FI_INSN_RIP_REL,   /* a memory operand relative to %rip */
	FI_INSN_END,	   /* ret, indirect jmp, ud2, hlt: no fall-through */
	FI_INSN_CONTROL,   /* indirect call, int, sysenter: not relocatable */
	FI_INSN_PADDING,   /* nop or int3 */
	FI_INSN_BAD,	   /* undecodable */
};

struct fi__insn {
	uint64_t addr;
	uint8_t len;
	uint8_t kind;	  /* enum fi__insn_kind */
	uint8_t disp_off; /* RIP_REL: offset of the disp32 in bytes[] */
	uint8_t cond;	  /* JCC_REL: condition code (0..15, as in 0x7X) */
	int64_t target;	  /* *_REL: absolute branch or memory target */
	uint8_t bytes[16];
};

struct fi__disasm;

/* Make capstone available (libfi.so loads it on first need; not from the
 * hook). False with *why when it cannot. Idempotent. */
bool fi__disasm_load(const char **why);

/* Set while libc's own constructor has not run (libfi started early, by
 * libfi_audit.so): the decoder then loads into a link-map namespace of its
 * own (dlmopen), with a libc of its own, so that loading it runs none of
 * the program's constructors out of their order. */
extern bool fi__disasm_own_namespace;
bool fi__disasm_ready(void);

/* Decoders are not thread-safe; use one per thread. Detailed decoding
 * (fi__disasm_one) classifies RIP-relative operands; fast decoding
 * (fi__disasm_fast) is for scanning whole segments and classifies
 * branches, syscalls and padding only. Both return false on bad bytes. */
struct fi__disasm *fi__disasm_open(void);
void fi__disasm_close(struct fi__disasm *d);
bool fi__disasm_one(struct fi__disasm *d, const uint8_t *code, size_t avail,
		    uint64_t addr, struct fi__insn *out);
bool fi__disasm_fast(struct fi__disasm *d, const uint8_t **code, size_t *avail,
		     uint64_t *addr, struct fi__insn *out);

/* Route capstone's allocations (it allocates in cs_open and per decoder)
 * to the given functions, so that the patcher can run inside the hook. */
struct fi__disasm_mem {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	int (*vsnprintf)(char *, size_t, const char *, __builtin_va_list);
};
bool fi__disasm_set_mem(const struct fi__disasm_mem *mem);

#endif
