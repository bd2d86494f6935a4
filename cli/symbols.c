/* symbols.c: DWARF both ways, through elfutils' libdwfl, never in the
 * hook. Sites (object+0xoffset) into function, file and line, for the
 * sweep's reports; and site=FILE:LINE into the offsets of that line's
 * code, for rules, before the program starts. The only file that
 * includes libdw. The objects are the program's ELF and the libraries
 * the loader would find for it by name (DT_RUNPATH, DT_RPATH,
 * LD_LIBRARY_PATH, the system's directories). Separate debug info is
 * found by build id (/usr/lib/debug/.build-id) and .gnu_debuglink, in
 * local files only. */
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "locate.h"
#include "site.h"
#include "sweep.h"
#include "symbols.h"

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

/* Whether fd is the debug file of module m: the same build id when m has
 * one, else the CRC its .gnu_debuglink gives. */
static bool debug_file_of(Dwfl_Module *m, int fd, GElf_Word crc)
{
	const unsigned char *id;
	const void *did;
	GElf_Addr vaddr;
	int idlen = dwfl_module_build_id(m, &id, &vaddr);
	Elf *e;
	bool ok;

	if (idlen <= 0) {
		unsigned char buf[65536];
		uLong c = crc32(0, Z_NULL, 0);
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0)
			c = crc32(c, buf, (uInt)n);
		lseek(fd, 0, SEEK_SET);
		return n == 0 && c == crc;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	ok = e && dwelf_elf_gnu_build_id(e, &did) == idlen &&
	     !memcmp(did, id, (size_t)idlen);
	elf_end(e);
	return ok;
}

/* libdwfl's find_debuginfo, on local files only: by build id under
 * /usr/lib/debug/.build-id, else the .gnu_debuglink file beside the
 * object, in its .debug/ or under /usr/lib/debug. Never debuginfod, where
 * the standard callback ends: loading its client (libcurl, gnutls and 25
 * more) cost fi-run more than the symbols themselves, even with
 * DEBUGINFOD_URLS unset. */
static int find_debuginfo(Dwfl_Module *m, void **user, const char *modname,
			  GElf_Addr base, const char *file,
			  const char *debuglink, GElf_Word crc, char **found)
{
	char *real, *dir;
	int fd = dwfl_build_id_find_debuginfo(m, user, modname, base, file,
					      debuglink, crc, found);

	if (fd >= 0 || !file || !debuglink || !(real = realpath(file, NULL)))
		return fd;
	dir = fi__util_xstrdup(real);
	*strrchr(dir, '/') = '\0';
	for (int i = 0; fd < 0 && i < 3; i++) {
		char *p = i == 0   ? fi__util_xasprintf("%s/%s", dir, debuglink)
			  : i == 1 ? fi__util_xasprintf("%s/.debug/%s", dir,
							debuglink)
				   : fi__util_xasprintf("/usr/lib/debug%s/%s",
							dir, debuglink);
		char *rp = realpath(p, NULL);

		if (rp && strcmp(rp, real) &&
		    (fd = open(rp, O_RDONLY | O_CLOEXEC)) >= 0 &&
		    !debug_file_of(m, fd, crc)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			*found = rp;
		else
			free(rp);
		free(p);
	}
	free(dir);
	free(real);
	return fd;
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_debuginfo,
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

void fi__sweep_symbolize(struct fi__sweep_sites *s, const struct fi__target *t,
			 char *const *libs)
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
		for (size_t k = 0; !path && libs && libs[k]; k++)
			if (!strcmp(base_name(libs[k]), object))
				path = fi__util_xstrdup(libs[k]);
		if (path)
			symbolize_object(s, object, path);
		free(path);
		free(object);
	}
}

/* ---- site=FILE:LINE -> spans ---- */

/* One row of a line table with code: [lo, hi) of the object. */
struct line_row {
	const char *file; /* the compiled file's path, owned by the Dwfl */
	int line;
	unsigned long lo, hi;
	size_t obj;
};

struct fi__lines {
	char *shown;
	Dwfl **dwfls; /* one per object, kept while rows point into them */
	char **names; /* the object's file name, as a site names it */
	size_t nobj;
	struct line_row *rows;
	size_t nrows, caprows;
};

#define MAX_OBJECTS 256

static void add_object(struct fi__lines *l, const char *name, Dwfl *d)
{
	l->dwfls = realloc(l->dwfls, (l->nobj + 1) * sizeof(*l->dwfls));
	l->names = realloc(l->names, (l->nobj + 1) * sizeof(*l->names));
	if (!l->dwfls || !l->names) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	l->dwfls[l->nobj] = d;
	l->names[l->nobj++] = fi__util_xstrdup(name);
}

static void add_row(struct fi__lines *l, const struct line_row *r)
{
	if (l->nrows == l->caprows) {
		l->caprows = l->caprows ? 2 * l->caprows : 1024;
		l->rows = realloc(l->rows, l->caprows * sizeof(*l->rows));
		if (!l->rows) {
			fi__util_error("out of memory");
			exit(FI_RUN_EXIT_USAGE);
		}
	}
	l->rows[l->nrows++] = *r;
}

/* The rows of module m (object number obj) that hold code: each row
 * covers up to the next row's address. */
static void read_rows(struct fi__lines *l, Dwfl_Module *m, GElf_Addr bias,
		      size_t obj)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr cubias;

	while ((cu = dwfl_module_nextcu(m, cu, &cubias))) {
		Dwarf_Lines *lines;
		size_t n;

		if (dwarf_getsrclines(cu, &lines, &n))
			continue;
		for (size_t i = 0; i + 1 < n; i++) {
			Dwarf_Line *a = dwarf_onesrcline(lines, i);
			Dwarf_Line *b = dwarf_onesrcline(lines, i + 1);
			Dwarf_Addr lo, hi;
			bool end = false;
			struct line_row r = {.obj = obj};

			if (!a || !b || dwarf_lineendsequence(a, &end) || end ||
			    dwarf_lineaddr(a, &lo) || dwarf_lineaddr(b, &hi) ||
			    hi <= lo || dwarf_lineno(a, &r.line) || r.line <= 0)
				continue;
			r.file = dwarf_linesrc(a, NULL, NULL);
			if (!r.file)
				continue;
			r.lo = (unsigned long)(lo + cubias - bias);
			r.hi = (unsigned long)(hi + cubias - bias);
			add_row(l, &r);
		}
	}
}

/* The DT_NEEDED names of m's ELF, appended to *v (n of them). */
static void needed(Dwfl_Module *m, char ***v, size_t *n)
{
	GElf_Addr bias;
	Elf *e = dwfl_module_getelf(m, &bias);
	Elf_Scn *scn = NULL;

	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0;
		     sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(data, (int)i, &dyn) ||
			    dyn.d_tag != DT_NEEDED ||
			    !(name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val)))
				continue;
			*v = realloc(*v, (*n + 1) * sizeof(**v));
			if (!*v) {
				fi__util_error("out of memory");
				exit(FI_RUN_EXIT_USAGE);
			}
			(*v)[(*n)++] = fi__util_xstrdup(name);
		}
	}
}

struct fi__lines *fi__lines_open(const struct fi__target *t, const char *shown)
{
	struct fi__lines *l = calloc(1, sizeof(*l));
	char **todo = NULL, *real;
	size_t ntodo = 0;

	if (!l) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	l->shown = fi__util_xstrdup(shown);
	if (!t->elf)
		return l;
	/* The program first, named as libfi names it: the file name of
	 * /proc/self/exe, symbolic links resolved. */
	real = realpath(t->elf, NULL);
	todo = fi__util_xmalloc(sizeof(*todo));
	todo[ntodo++] = real ? real : fi__util_xstrdup(t->elf);
	for (size_t i = 0; i < ntodo && l->nobj < MAX_OBJECTS; i++) {
		const char *name = base_name(todo[i]);
		char *path = i == 0 ? fi__util_xstrdup(todo[0])
				    : fi__locate_needed(todo[i], t->elf,
							t->rpath, t->runpath);
		Dwfl *d = path ? dwfl_begin(&callbacks) : NULL;
		Dwfl_Module *m = NULL;
		GElf_Addr bias = 0;
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(base_name(todo[j]), name);
		if (d && !seen) {
			m = dwfl_report_offline(d, name, path, -1);
			dwfl_report_end(d, NULL, NULL);
		}
		if (!m || !dwfl_module_getelf(m, &bias)) {
			if (d)
				dwfl_end(d);
			free(path);
			continue;
		}
		needed(m, &todo, &ntodo);
		/* No site is ever in libc or ld.so: their lines (libc6-dbg
		 * has many) are never read. */
		if (!fi__site_internal_name(name)) {
			add_object(l, name, d);
			read_rows(l, m, bias, l->nobj - 1);
		} else {
			dwfl_end(d);
		}
		free(path);
	}
	for (size_t i = 0; i < ntodo; i++)
		free(todo[i]);
	free(todo);
	return l;
}

bool fi__lines_add(struct fi__lines *l, const char *path)
{
	const char *name = base_name(path);
	Dwfl *d;
	Dwfl_Module *m;
	GElf_Addr bias = 0;

	for (size_t i = 0; i < l->nobj; i++)
		if (!strcmp(l->names[i], name))
			return false;
	if (fi__site_internal_name(name) || l->nobj >= MAX_OBJECTS ||
	    !(d = dwfl_begin(&callbacks)))
		return false;
	m = dwfl_report_offline(d, name, path, -1);
	dwfl_report_end(d, NULL, NULL);
	if (!m || !dwfl_module_getelf(m, &bias)) {
		dwfl_end(d);
		return false;
	}
	add_object(l, name, d);
	read_rows(l, m, bias, l->nobj - 1);
	return true;
}

void fi__lines_close(struct fi__lines *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nobj; i++) {
		dwfl_end(l->dwfls[i]);
		free(l->names[i]);
	}
	free(l->dwfls);
	free(l->names);
	free(l->rows);
	free(l->shown);
	free(l);
}

/* Whether the compiled file `path` is the `file` of a site=FILE:LINE:
 * the same base name, or for a FILE with a '/', the same path or one
 * that ends in "/FILE" ("./" parts of either left out). */
static bool same_file(const char *path, const char *file)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t la, lb;

	if (!strchr(file, '/'))
		return !strcmp(base_name(path), file);
	for (int k = 0; k < 2; k++) {
		const char *s = k ? file : path;
		char *o = k ? b : a;
		size_t n = 0;

		while (s[0] == '.' && s[1] == '/')
			s += 2;
		for (; *s && n + 1 < PATH_MAX; s++) {
			if (s[0] == '/' && s[1] == '.' && s[2] == '/') {
				s++;
				continue;
			}
			o[n++] = *s;
		}
		o[n] = '\0';
	}
	la = strlen(a);
	lb = strlen(b);
	return la >= lb && !strcmp(a + la - lb, b) &&
	       (la == lb || (b[0] != '/' && a[la - lb - 1] == '/'));
}

struct span {
	size_t obj;
	unsigned long lo, hi; /* site offsets, both in */
};

static int by_place(const void *x, const void *y)
{
	const struct span *a = x, *b = y;

	if (a->obj != b->obj)
		return a->obj < b->obj ? -1 : 1;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* An object's name as a site= glob that matches only it: glob characters
 * quoted, and a blank (which separates spans) matched by '?'. */
static void put_module(char **o, const char *name)
{
	for (const char *p = name; *p; p++) {
		if (strchr("*?[]\\", *p))
			*(*o)++ = '\\';
		*(*o)++ = (*p == ' ' || *p == '\t' || *p == '\n') ? '?' : *p;
	}
}

/* The code of file_line as merged spans, sorted (*n of them, a new
 * array); NULL with why when there is none. */
static struct span *find_spans(struct fi__lines *l, const char *file_line,
			       size_t *nout, char *why, size_t whylen)
{
	const char *colon = strrchr(file_line, ':');
	char *file, *end;
	struct span *v = NULL;
	size_t n = 0;
	long line, below = 0, above = 0;
	bool file_seen = false;

	errno = 0;
	line = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || errno || *end || line <= 0 || line > INT_MAX) {
		snprintf(why, whylen, "bad site= '%s': expected FILE:LINE",
			 file_line);
		return NULL;
	}
	file = fi__util_xstrdup(file_line);
	file[colon - file_line] = '\0';
	for (size_t i = 0; i < l->nrows; i++) {
		const struct line_row *r = &l->rows[i];

		if (!same_file(r->file, file))
			continue;
		file_seen = true;
		if (r->line < line && r->line > below)
			below = r->line;
		if (r->line > line && (!above || r->line < above))
			above = r->line;
		if (r->line != line)
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		if (!v) {
			fi__util_error("out of memory");
			exit(FI_RUN_EXIT_USAGE);
		}
		/* A site is a return address: the call's last byte is in
		 * [lo, hi), so the site is in lo+1 .. hi. */
		v[n++] = (struct span){r->obj, r->lo + 1, r->hi};
	}
	if (!n) {
		if (!l->nrows)
			snprintf(
				why, whylen,
				"no code at %s in %s: it has no debug info (build it with -g), nor do the libraries it links",
				file_line, l->shown);
		else if (!file_seen)
			snprintf(
				why, whylen,
				"no code at %s in %s: no source file %s in its debug info or that of the libraries it links",
				file_line, l->shown, file);
		else if (below && above)
			snprintf(
				why, whylen,
				"no code at %s in %s; nearest lines with code: %ld, %ld",
				file_line, l->shown, below, above);
		else
			snprintf(
				why, whylen,
				"no code at %s in %s; nearest line with code: %ld",
				file_line, l->shown, below ? below : above);
		free(file);
		return NULL;
	}
	free(file);
	qsort(v, n, sizeof(*v), by_place);
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {
		if (v[i].obj == v[k].obj && v[i].lo <= v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	*nout = k + 1;
	return v;
}

char *fi__lines_spans(struct fi__lines *l, const char *file_line, char *why,
		      size_t whylen)
{
	size_t n = 0, size = 1;
	struct span *v = find_spans(l, file_line, &n, why, whylen);
	char *out, *o;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		size += 2 * strlen(l->names[v[i].obj]) + 48;
	out = o = fi__util_xmalloc(size);
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ' ';
		put_module(&o, l->names[v[i].obj]);
		o += sprintf(o, "+0x%lx..0x%lx", v[i].lo, v[i].hi);
	}
	*o = '\0';
	free(v);
	return out;
}

/* Whether spans v[0..n) hold the site "object+0xoffset". */
static bool covers(const struct fi__lines *l, const struct span *v, size_t n,
		   const char *site)
{
	const char *plus = strrchr(site, '+');
	unsigned long off;
	char *end;

	if (!plus || strncmp(plus, "+0x", 3))
		return false;
	off = strtoul(plus + 3, &end, 16);
	if (*end)
		return false;
	for (size_t i = 0; i < n; i++)
		if (off >= v[i].lo && off <= v[i].hi &&
		    strlen(l->names[v[i].obj]) == (size_t)(plus - site) &&
		    !strncmp(l->names[v[i].obj], site, (size_t)(plus - site)))
			return true;
	return false;
}

char *fi__sweep_site_line(struct fi__lines *l, const struct fi__sweep_sites *s,
			  size_t i)
{
	const struct fi__sweep_site *e = &s->v[i];
	char *keys[2], *found = NULL, why[512];

	if (!e->file || !e->line || strpbrk(e->file, " \t\n\"'\\"))
		return NULL;
	keys[0] = fi__util_xasprintf("%s:%u", base_name(e->file), e->line);
	keys[1] = fi__util_xasprintf("%s:%u", e->file, e->line);
	for (size_t k = 0; k < 2 && !found; k++) {
		size_t n = 0;
		struct span *v = find_spans(l, keys[k], &n, why, sizeof(why));
		bool alone = v && covers(l, v, n, e->site);

		for (size_t j = 0; alone && j < s->n; j++)
			if (j != i && !strcmp(s->v[j].syscall, e->syscall) &&
			    covers(l, v, n, s->v[j].site))
				alone = false;
		if (alone)
			found = fi__util_xstrdup(keys[k]);
		free(v);
	}
	free(keys[0]);
	free(keys[1]);
	return found;
}
