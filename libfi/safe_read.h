/* safe_read.h: reading the program's memory from inside the hook. A
 * pointer the program passes to a syscall may be anything; the kernel
 * answers a bad one with EFAULT, and so must fi: every read of program
 * memory that the hook makes goes through here, never through the raw
 * pointer. */
#ifndef FI_SAFE_READ_H
#define FI_SAFE_READ_H

#include <stdbool.h>
#include <stddef.h>

/* Copy exactly n bytes of the program's memory at `user` into dst, without
 * faulting: process_vm_readv on our own pid, so an unmapped, PROT_NONE or
 * kernel-space address fails instead of raising SIGSEGV.
 *
 * Returns 0 when all n bytes were copied, -EFAULT when some of them are
 * not readable (dst then holds junk), or, when the kernel refuses
 * process_vm_readv itself (a seccomp filter: usually -EPERM, -ENOSYS, or
 * whatever errno the filter chose), that negative errno, so that a caller
 * can tell "the program's pointer is bad" from "fi cannot look". Either
 * way nothing was read: a caller must then leave the call to the kernel
 * as it is, which gives the program its own answer.
 *
 * n == 0 returns 0 without a syscall. Hook-safe: no libc, no allocation,
 * async-signal-safe. */
int fi__safe_read(void *dst, const void *user, size_t n);

/* Write n bytes from src into the program's memory at `user`, without
 * faulting: process_vm_writev on our own pid, a page at a time, for
 * poke_enter= and poke_exit=. Returns 0, -EFAULT when some page is not
 * writable (the pages before it were written, as the kernel would have
 * written them), or the errno of a refused process_vm_writev. Read-only
 * memory stays as it is. Hook-safe. */
int fi__safe_write(void *user, const void *src, size_t n);

/* Copy the NUL-terminated string at `user` (a pointer the program passed,
 * possibly bad) into buf without faulting: process_vm_readv on our own
 * pid, one page at a time, so a string that ends just before an unmapped
 * page still copies. Returns the length (buf NUL-terminated), -EFAULT when
 * some byte before the NUL is unreadable (or process_vm_readv is refused,
 * e.g. by seccomp), -ENAMETOOLONG when no NUL comes within len - 1 bytes
 * (buf then holds the cut string), -EINVAL when len is 0. Hook-safe. */
int fi__safe_copy_str(const void *user, char *buf, size_t len);

/* Is the byte at addr, and so its page, readable? For the unwinder, which
 * probes a stack it knows nothing about page by page. Hook-safe. */
bool fi__safe_readable(unsigned long addr);

/* Is every page of [lo, hi) mapped (mincore, one call per MiB)? Says
 * nothing of protection: for a thread's own stack. Hook-safe. */
bool fi__safe_mapped(unsigned long lo, unsigned long hi);

#endif
