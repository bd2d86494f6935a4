/* libsearch.c: the libraries a program may load with dlopen(), which
 * site=FILE:LINE and the sweep's symbols search after the program and
 * the libraries it links (symbols.c): those named by --lib, then those
 * in the program's own directory tree (docs/rules.md, "Libraries loaded
 * with dlopen()"). A library is found by its file name (*.so, *.so.N),
 * never by opening every file. */
#include "libsearch.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fi_run.h"

#define MAX_LIBS 64   /* libraries taken in all */
#define MAX_DEPTH 3   /* directories below the program's */
#define MAX_SEEN 4096 /* directory entries looked at in the tree */

struct found {
	char **v;
	size_t n;
	size_t seen;
};

bool fi__libs_name(const char *name)
{
	size_t n = strlen(name);
	const char *so = strstr(name, ".so");

	if (n > 3 && !strcmp(name + n - 3, ".so"))
		return true;
	return so && so[3] == '.' && so[4] >= '0' && so[4] <= '9';
}

static void take(struct found *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i], path))
			return;
	if (f->n >= MAX_LIBS)
		return;
	f->v = realloc(f->v, (f->n + 2) * sizeof(*f->v));
	if (!f->v) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	f->v[f->n++] = fi__util_xstrdup(path);
	f->v[f->n] = NULL;
}

/* The libraries under dir, depth directories down; hidden directories
 * are skipped. */
static void walk(struct found *f, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && f->seen++ < MAX_SEEN && f->n < MAX_LIBS) {
		char *p;
		struct stat st;

		/* A file not named as a library is never stat'ed: a program
		 * in /usr/bin has a thousand neighbours. */
		if (e->d_name[0] == '.' ||
		    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN &&
		     !fi__libs_name(e->d_name)))
			continue;
		p = fi__util_xasprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0) {
			if (S_ISREG(st.st_mode) && fi__libs_name(e->d_name))
				take(f, p);
			else if (S_ISDIR(st.st_mode) && depth > 0 &&
				 e->d_type != DT_LNK)
				walk(f, p, depth - 1);
		}
		free(p);
	}
	closedir(d);
}

char **fi__libs_search(const char *prog, const char *const *libs, size_t nlibs)
{
	struct found f = {0};
	char *real, *slash;

	for (size_t i = 0; i < nlibs; i++) {
		struct stat st;

		if (stat(libs[i], &st) == 0 && S_ISDIR(st.st_mode))
			walk(&f, libs[i], MAX_DEPTH);
		else
			take(&f, libs[i]);
	}
	real = prog ? realpath(prog, NULL) : NULL;
	slash = real ? strrchr(real, '/') : NULL;
	if (slash) {
		*slash = '\0';
		f.seen = 0;
		walk(&f, slash == real ? "/" : real, MAX_DEPTH);
	}
	free(real);
	if (!f.v) {
		f.v = fi__util_xmalloc(sizeof(*f.v));
		f.v[0] = NULL;
	}
	return f.v;
}

void fi__libs_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
