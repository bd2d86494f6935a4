/* audit.c: libfi_audit.so, the LD_AUDIT module fi-run loads beside the
 * preloaded libfi.so. Its one job is to start libfi early: when ld.so has
 * loaded and relocated every object of the program and runs no
 * constructor yet (LA_ACT_CONSISTENT at start-up), it calls libfi's
 * fi__audit_start, so that the syscalls of every library's constructor,
 * however early it runs, pass through fi.
 *
 * ld.so loads an audit module into a namespace of its own, with its own
 * libc if it links one. This module links nothing (-nostdlib) and finds
 * libfi's entry in libfi's own dynamic symbol table, so it costs the
 * program one small mapping and no second libc. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

static struct link_map *libfi;
static int started;

EXPORT unsigned int la_version(unsigned int version)
{
	return version < LAV_CURRENT ? version : LAV_CURRENT;
}

/* Does path name libfi.so (any directory, any version suffix)? */
static int is_libfi(const char *path)
{
	static const char want[] = "libfi.so";
	const char *base = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			base = p + 1;
	for (size_t i = 0; i < sizeof(want) - 1; i++)
		if (base[i] != want[i])
			return 0;
	return base[sizeof(want) - 1] == '\0' || base[sizeof(want) - 1] == '.';
}

EXPORT unsigned int la_objopen(struct link_map *map, Lmid_t lmid,
			       uintptr_t *cookie)
{
	(void)cookie;
	if (lmid == LM_ID_BASE && !libfi && map->l_name &&
	    is_libfi(map->l_name))
		libfi = map;
	return 0; /* no symbol binding audit: nothing slows down */
}

/* The number of dynamic symbols, from the GNU hash table: one past the
 * last symbol of the longest chain. */
static size_t gnu_hash_count(const uint32_t *h)
{
	uint32_t nbuckets = h[0], symoffset = h[1], bloom = h[2];
	const uint32_t *buckets = h + 4 + bloom * (sizeof(size_t) / 4);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0;

	for (uint32_t i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The address of the defined symbol `name` in map, or NULL. */
static void *lookup(struct link_map *map, const char *name)
{
	const ElfW(Sym) *sym = NULL;
	const char *str = NULL;
	size_t n = 0;

	for (const ElfW(Dyn) *d = map->l_ld; d->d_tag != DT_NULL; d++) {
		/* ld.so relocates these entries to addresses where the
		 * dynamic section is writable (x86_64); not elsewhere. */
		uintptr_t a = d->d_un.d_ptr < map->l_addr
				      ? d->d_un.d_ptr + map->l_addr
				      : d->d_un.d_ptr;

		if (d->d_tag == DT_SYMTAB)
			sym = (const ElfW(Sym) *)a;
		else if (d->d_tag == DT_STRTAB)
			str = (const char *)a;
		else if (d->d_tag == DT_GNU_HASH)
			n = gnu_hash_count((const uint32_t *)a);
		else if (d->d_tag == DT_HASH && !n)
			n = ((const uint32_t *)a)[1];
	}
	if (!sym || !str)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if (sym[i].st_shndx != SHN_UNDEF &&
		    ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC &&
		    same(str + sym[i].st_name, name))
			return (void *)(map->l_addr + sym[i].st_value);
	return NULL;
}

EXPORT void la_activity(uintptr_t *cookie, unsigned int flag)
{
	void (*start)(void);

	(void)cookie;
	if (flag != LA_ACT_CONSISTENT || started || !libfi)
		return;
	started = 1;
	start = (void (*)(void))lookup(libfi, "fi__audit_start");
	if (start)
		start();
}
