/* site.h: call-site identity. From the registers at a syscall instruction,
 * unwind (DWARF CFI from .eh_frame) to the first frame outside libc, ld.so
 * and libfi, and name it "module+0xoffset". Also tells whether the call
 * comes from an ignored module (the test harness: libcmocka by default). */
#ifndef FI_SITE_H
#define FI_SITE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

/* The file name part of path: the name a site gives its object
 * ("libstore.so.1" for "/usr/lib/libstore.so.1"). Hook-safe; inline, so
 * that the rule engine matches site= without linking the unwinder. */
static inline const char *fi__site_file_name(const char *path)
{
	const char *b = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

/* Registers at the syscall instruction. */
struct fi__site_regs {
	uint64_t rip; /* the syscall instruction itself, not a return address */
	uint64_t gpr[16]; /* DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 */
};

struct fi__site_info {
	/* File name of the object ("libstore.so.1"; the program's own file
	 * name for the main executable), NULL when unknown (no CFI, a CFA
	 * expression, a signal frame, a bad stack, JIT code). Points into the
	 * loader's data: valid while the object stays loaded. */
	const char *module;
	/* The object's full path, as the loader has it ("/usr/lib/x86_64-
	 * linux-gnu/libstore.so.1"; fi__exe_path() for the main executable),
	 * for site= patterns with a '/'. NULL exactly when module is. */
	const char *path;
	/* The site's address minus the object's load bias: the return address
	 * of the call out of that object (for addr2line, subtract 1), or the
	 * syscall instruction when the syscall is in the object itself. */
	unsigned long offset;
	/* Some frame from the syscall up to and including the site is in an
	 * ignored module (fi__site_ignore) or in libfi itself: the harness or
	 * fi made the call, so no rule may count or fail it. */
	bool ignored;
};

/* Once at load, outside the hook: learns the program's file name and the
 * internal objects, and ignores libcmocka.so.0. Idempotent. */
void fi__site_init(void);

/* Ignore calls from the object whose file name is `module` (a path's last
 * component is used). A name also matches the file names that extend it
 * with a '.' ("libcmocka.so" matches "libcmocka.so.0"). Outside the hook;
 * safe while hooks run. Returns 0, -EINVAL, or -ENOSPC (table full). */
int fi__site_ignore(const char *module);

/* Whether an object of this file name ("libc.so.6") is one the walk
 * passes through (libc, ld.so, the sanitizer runtimes), so that no site
 * is ever in it. Pure; outside the hook. */
bool fi__site_internal_name(const char *file_name);

/* Treat code in [lo, hi) as part of libc (walked through, never a site)
 * or as an ignored module: for code that is in no object (trampolines)
 * and for tests. Outside the hook. Returns 0 or -ENOSPC. */
enum fi__site_kind {
	FI_SITE_INTERNAL = 1,
	FI_SITE_IGNORED = 2,
};
int fi__site_add_range(uint64_t lo, uint64_t hi, enum fi__site_kind kind);

/* The loaded code may have changed (an object registered, an mmap):
 * call sites cached before are not used again. Hook-safe, lock-free. */
void fi__site_forget(void);

/* For tests: use only the first 2^bits slots of the call-site cache (0:
 * one slot, so that every frame evicts every other). */
void fi__site_cache_bits(unsigned bits);

/* Fill r from the registers entry.S saved, for the syscall at pc. */
void fi__site_regs_from_frame(const struct fi__frame *f, uint64_t pc,
			      struct fi__site_regs *r);

/* Find the call site of the syscall whose registers are r. Returns true
 * when out->module is known; out->ignored is meaningful either way (it
 * covers the frames walked). Walks at most 64 frames and reads memory only
 * inside the current thread's stack. Hook-safe, async-signal-safe, lock-
 * free (glibc's _dl_find_object). */
bool fi__site_resolve(const struct fi__site_regs *r, struct fi__site_info *out);

/* The object containing pc: file name and offset. False if none. Hook-safe. */
bool fi__site_module_of(uint64_t pc, const char **module,
			unsigned long *offset);

/* The function around pc, from its .eh_frame FDE (fi__cfi_function in the
 * object that holds pc). False when the object is not registered with the
 * loader yet or has no CFI before pc.
 * Hook-safe; the patcher uses it to decode only functions with syscalls. */
bool fi__site_function_of(uint64_t pc, uint64_t *lo, uint64_t *hi);

/* Whether the code at pc belongs to an ignored module. Hook-safe. */
bool fi__site_is_ignored_pc(uint64_t pc);

/* The program's path (/proc/self/exe), read once; "" when unreadable.
 * The first call is not for the hook. */
const char *fi__exe_path(void);

#endif
