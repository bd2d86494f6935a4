/* elfobj.h: what fi reads of an ELF object itself: the program headers of a
 * file, and the build-id that names its cache entries (cache.h). Used by
 * scan.c and patch.c in libfi, and by fi-plan. Hook-safe: raw syscalls,
 * no allocation. */
#ifndef FI_ELFOBJ_H
#define FI_ELFOBJ_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

/* The NT_GNU_BUILD_ID in a PT_NOTE's bytes: copied to out, its length, or
 * 0 when there is none or it is longer than cap. */
size_t fi__elfobj_build_id(const uint8_t *note, size_t len, uint8_t *out,
			   size_t cap);

/* The program headers of the 64-bit ELF file open at fd, read into ph:
 * their count, or -1 when fd is not such a file, it has more than cap of
 * them, or a read falls short. */
int fi__elfobj_phdrs(int fd, Elf64_Phdr *ph, int cap);

/* The build-id of the file open at fd, from the first of its n program
 * headers ph (fi__elfobj_phdrs) that is a PT_NOTE holding one; its
 * length, or 0. */
size_t fi__elfobj_file_build_id(int fd, const Elf64_Phdr *ph, int n,
				uint8_t *out, size_t cap);

#endif
