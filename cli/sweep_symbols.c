/* sweep_symbols.c: sites (object+0xoffset) into function, file and line,
 * from the object's DWARF through elfutils' libdwfl, after the runs and
 * never in the hook. The only file that includes libdw. The object is
 * the program's ELF when the name matches it, else the library the
 * loader would find by that name for the program (DT_RUNPATH, DT_RPATH,
 * LD_LIBRARY_PATH, the system's directories). Separate debug info is
 * found by build id (/usr/lib/debug/.build-id) and .gnu_debuglink. */
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#include "locate.h"
#include "sweep.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Where the object named in a site lives; a new string or NULL. */
static char *object_path(const char *object, const struct fi__target *t)
{
	if (t->elf && !strcmp(base_name(t->elf), object))
		return fi__util_xstrdup(t->elf);
	if (t->path && !strcmp(base_name(t->path), object))
		return fi__util_xstrdup(t->path);
	return fi__locate_needed(object, t->elf, t->rpath, t->runpath);
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* One object's sites: every site whose object is `object`. */
static void symbolize_object(struct fi__sweep_sites *s, const char *object,
			     const char *path)
{
	Dwfl *d = dwfl_begin(&callbacks);
	Dwfl_Module *m;
	GElf_Addr bias = 0;
	size_t ol = strlen(object);

	if (!d)
		return;
	m = dwfl_report_offline(d, object, path, -1);
	dwfl_report_end(d, NULL, NULL);
	if (!m || !dwfl_module_getelf(m, &bias)) {
		dwfl_end(d);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct fi__sweep_site *e = &s->v[i];
		const char *fn, *file;
		unsigned long long off;
		Dwfl_Line *l;
		Dwarf_Addr a;
		int line = 0;
		char *end;

		if (e->function || e->file || strncmp(e->site, object, ol) ||
		    strncmp(e->site + ol, "+0x", 3))
			continue;
		off = strtoull(e->site + ol + 3, &end, 16);
		if (*end || off == 0)
			continue;
		/* The site is a return address: the call is the byte before. */
		a = bias + off - 1;
		fn = dwfl_module_addrname(m, a);
		if (fn)
			e->function = fi__util_xstrdup(fn);
		l = dwfl_module_getsrc(m, a);
		file = l ? dwfl_lineinfo(l, &a, &line, NULL, NULL, NULL) : NULL;
		if (file && line > 0) {
			e->file = fi__util_xstrdup(file);
			e->line = (unsigned)line;
		}
	}
	dwfl_end(d);
}

/* Whether an earlier site has the same object (it was tried then). */
static bool seen_object(const struct fi__sweep_sites *s, size_t i, size_t ol)
{
	for (size_t j = 0; j < i; j++)
		if (!strncmp(s->v[j].site, s->v[i].site, ol + 3))
			return true;
	return false;
}

void fi__sweep_symbolize(struct fi__sweep_sites *s, const struct fi__target *t)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *plus = strstr(s->v[i].site, "+0x");
		size_t ol = plus ? (size_t)(plus - s->v[i].site) : 0;
		char *object, *path;

		if (!plus || seen_object(s, i, ol))
			continue;
		object = fi__util_xstrdup(s->v[i].site);
		object[ol] = '\0';
		path = object_path(object, t);
		if (path)
			symbolize_object(s, object, path);
		free(path);
		free(object);
	}
}
