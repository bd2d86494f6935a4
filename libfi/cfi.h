/* cfi.h: DWARF call frame information, read from an object's .eh_frame
 * through its .eh_frame_hdr table. site.c unwinds the stack with the rows
 * it yields; the patcher (region.c, fi-plan) asks it where functions begin
 * and end. Hook-safe: no libc, and every read stays inside the object. */
#ifndef FI_CFI_H
#define FI_CFI_H

#include <stdbool.h>
#include <stdint.h>

/* Where an object's CFI lies: all of .eh_frame_hdr and .eh_frame are in
 * [start, end), its mapping, and eh_hdr points at .eh_frame_hdr (NULL
 * when it has none). */
struct fi__cfi_object {
	uint64_t start, end;
	const uint8_t *eh_hdr;
};

/* Registers as CFI numbers them on x86_64: the 16 general registers in
 * DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8..r15), then the return
 * address column. */
#define FI_CFI_NREG 17
#define FI_CFI_RSP 7
#define FI_CFI_RA 16

/* How to find a register's value in the caller's frame. */
enum fi__cfi_rule {
	FI_CFI_SAME = 0, /* unchanged */
	FI_CFI_UNDEF,	 /* lost (the return address: the outermost frame) */
	FI_CFI_OFFSET,	 /* saved at CFA + val */
	FI_CFI_VALOFF,	 /* is CFA + val */
	FI_CFI_REG,	 /* is in register val */
	FI_CFI_BAD,	 /* a DWARF expression: not followed */
};

/* One row of the CFI table: the rules at one pc. */
struct fi__cfi_row {
	uint8_t kind[FI_CFI_NREG]; /* enum fi__cfi_rule */
	int64_t val[FI_CFI_NREG];
	uint64_t cfa_reg;
	int64_t cfa_off;
	bool cfa_bad; /* the CFA is an expression */
	bool signal;  /* the frame is a signal frame ('S' augmentation) */
};

/* The row for pc, from the FDE that covers it. False when no FDE covers
 * pc or its CFI holds something this reader does not follow. Hook-safe. */
bool fi__cfi_row_at(const struct fi__cfi_object *o, uint64_t pc,
		    struct fi__cfi_row *row);

/* The same, and for a pc just past the end of an FDE (up to 16 bytes),
 * that FDE's last row. glibc's clone and clone3 end their CFI on purpose
 * right before the syscall (the child's frame would be wrong); in the
 * parent the last row still describes the caller. Only for the frame of
 * the syscall itself. Hook-safe. */
bool fi__cfi_row_past_end(const struct fi__cfi_object *o, uint64_t pc,
			  struct fi__cfi_row *row);

/* The function around pc, from its FDE: [lo, hi). When the FDE ends
 * before pc (clone's CFI stops short on purpose), the nearest one before
 * pc, so hi <= pc. False when the object has no CFI before pc. Hook-safe. */
bool fi__cfi_function(const struct fi__cfi_object *o, uint64_t pc, uint64_t *lo,
		      uint64_t *hi);

#endif
