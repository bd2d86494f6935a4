/* elfobj.c: ELF headers and build-ids (elfobj.h), for the scan of loaded
 * objects, the patching of new mappings and fi-plan. */
#include "elfobj.h"

#include <string.h>
#include <sys/syscall.h>

#include "arena.h"
#include "raw.h"

size_t fi__elfobj_build_id(const uint8_t *note, size_t len, uint8_t *out,
			   size_t cap)
{
	size_t at = 0;
	while (at + 12 <= len) {
		uint32_t namesz, descsz, type;
		fi__copy(&namesz, note + at, 4);
		fi__copy(&descsz, note + at + 4, 4);
		fi__copy(&type, note + at + 8, 4);
		size_t name_at = at + 12;
		size_t desc_at = name_at + ((namesz + 3) & ~3u);
		if (desc_at + descsz > len)
			break;
		if (type == NT_GNU_BUILD_ID && namesz == 4 &&
		    !memcmp(note + name_at, "GNU", 4) && descsz <= cap &&
		    descsz > 0) {
			fi__copy(out, note + desc_at, descsz);
			return descsz;
		}
		at = desc_at + ((descsz + 3) & ~3u);
	}
	return 0;
}

int fi__elfobj_phdrs(int fd, Elf64_Phdr *ph, int cap)
{
	Elf64_Ehdr eh;
	long want;

	if (fi__raw4(SYS_pread64, fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > cap)
		return -1;
	want = (long)(eh.e_phnum * sizeof(Elf64_Phdr));
	if (fi__raw4(SYS_pread64, fd, ph, want, eh.e_phoff) != want)
		return -1;
	return eh.e_phnum;
}

size_t fi__elfobj_file_build_id(int fd, const Elf64_Phdr *ph, int n,
				uint8_t *out, size_t cap)
{
	size_t id_len = 0;

	for (int i = 0; i < n && !id_len; i++) {
		uint8_t note[256];

		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > sizeof(note) ||
		    fi__raw4(SYS_pread64, fd, note, ph[i].p_filesz,
			     ph[i].p_offset) != (long)ph[i].p_filesz)
			continue;
		id_len = fi__elfobj_build_id(note, ph[i].p_filesz, out, cap);
	}
	return id_len;
}
