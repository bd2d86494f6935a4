/* util.c: allocation, path and message helpers for fi-run. */
#include "fi_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *fi__util_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	return p;
}

char *fi__util_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(fi__util_xmalloc(n), s, n);
}

void *fi__util_xgrow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : first;
	v = realloc(v, *cap * size);
	if (!v) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	return v;
}

char *fi__util_abspath(const char *path)
{
	char *cwd, *out;
	size_t n;

	if (path[0] == '/')
		return fi__util_xstrdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		/* The directory was removed under us; the path stays relative
		 * and the runtime reports what it cannot open. */
		return fi__util_xstrdup(path);
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	n = strlen(cwd) + 1 + strlen(path) + 1;
	out = fi__util_xmalloc(n);
	snprintf(out, n, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
	free(cwd);
	return out;
}

char *fi__util_join(const char *const *parts, size_t n, const char *sep)
{
	size_t len = 1, seplen = strlen(sep), i;
	char *out, *p;

	for (i = 0; i < n; i++)
		len += strlen(parts[i]) + seplen;
	p = out = fi__util_xmalloc(len);
	for (i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);

		if (i) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		memcpy(p, parts[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

void fi__util_error(const char *fmt, ...)
{
	va_list ap;

	fputs("fi-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

char *fi__util_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	return s;
}
