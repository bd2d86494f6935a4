/* sweep_accept.c: the accepted-outcomes file, so that a project adopts
 * the sweep before it fixes everything. One outcome a line:
 *     OUTCOME SYSCALL ERRNO WHERE        # a comment
 * WHERE is a site (prog+0x1a2b), file:line (the file's base name or its
 * whole path), or a function; each field is a glob (fnmatch). A run
 * matching a line is accepted: reported, but it does not fail the
 * sweep. --write-accept writes a line for each failing run. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

struct entry {
	char *f[4]; /* outcome, syscall, errno, where */
};

static bool matches(const struct entry *e, json_t *r)
{
	const char *file = str(r, "file"), *base = strrchr(file, '/');
	json_t *line = json_object_get(r, "line");
	char fl[4200], bl[4200];

	if (fnmatch(e->f[0], str(r, "outcome"), 0) ||
	    fnmatch(e->f[1], str(r, "syscall"), 0) ||
	    fnmatch(e->f[2], str(r, "errno"), 0))
		return false;
	if (!fnmatch(e->f[3], str(r, "site"), 0) ||
	    (*str(r, "function") && !fnmatch(e->f[3], str(r, "function"), 0)))
		return true;
	if (!*file || !json_is_integer(line))
		return false;
	snprintf(fl, sizeof(fl), "%s:%lld", file,
		 (long long)json_integer_value(line));
	snprintf(bl, sizeof(bl), "%s:%lld", base ? base + 1 : file,
		 (long long)json_integer_value(line));
	return !fnmatch(e->f[3], fl, 0) || !fnmatch(e->f[3], bl, 0);
}

int fi__sweep_accept_apply(json_t *report, const char *file)
{
	FILE *f = fopen(file, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, i;
	unsigned lineno = 0;
	struct entry *v = NULL;
	json_t *runs = json_object_get(report, "runs"), *r;
	int rc = 0;
	ssize_t len;

	if (!f) {
		fi__util_error("--accept %s: %s", file, strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	while (!rc && (len = getline(&buf, &cap, f)) >= 0) {
		char *p = buf, *words[5];
		size_t k = 0, col[5];

		lineno++;
		buf[strcspn(buf, "#\n")] = '\0';
		while (k < 5) {
			p += strspn(p, " \t\r");
			if (!*p)
				break;
			col[k] = (size_t)(p - buf) + 1;
			words[k++] = p;
			p += strcspn(p, " \t\r");
			if (*p)
				*p++ = '\0';
		}
		if (k == 0)
			continue;
		if (k != 4) {
			fprintf(stderr,
				"%s:%u:%zu: error: expected OUTCOME SYSCALL ERRNO WHERE, as --write-accept writes them\n",
				file, lineno, k > 4 ? col[4] : (size_t)1);
			rc = FI_RUN_EXIT_USAGE;
			break;
		}
		if (fi__sweep_outcome_nr(words[0]) < 0 &&
		    !strpbrk(words[0], "*?[")) {
			fprintf(stderr,
				"%s:%u:%zu: error: unknown outcome '%s' (handled, recovered, ignored, crash, hang, sanitizer)\n",
				file, lineno, col[0], words[0]);
			rc = FI_RUN_EXIT_USAGE;
			break;
		}
		v = realloc(v, (n + 1) * sizeof(*v));
		if (!v) {
			fi__util_error("out of memory");
			exit(FI_RUN_EXIT_USAGE);
		}
		for (int w = 0; w < 4; w++)
			v[n].f[w] = fi__util_xstrdup(words[w]);
		n++;
	}
	if (!rc && ferror(f)) {
		fi__util_error("--accept %s: %s", file, strerror(errno));
		rc = FI_RUN_EXIT_USAGE;
	}
	fclose(f);
	free(buf);
	json_array_foreach(runs, i, r)
	{
		bool ok = false;

		for (size_t e = 0; !rc && e < n && !ok; e++)
			ok = matches(&v[e], r);
		if (ok)
			json_object_set_new(r, "accepted", json_true());
	}
	for (size_t e = 0; e < n; e++)
		for (int w = 0; w < 4; w++)
			free(v[e].f[w]);
	free(v);
	return rc;
}

int fi__sweep_accept_write(json_t *report, const char *file)
{
	json_t *runs = json_object_get(report, "runs"), *r;
	FILE *f = fopen(file, "w");
	size_t i;

	if (!f) {
		fi__util_error("--write-accept %s: %s", file, strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	fputs("# Accepted outcomes of fi-run --sweep: OUTCOME SYSCALL ERRNO WHERE\n"
	      "# (docs/sweep.md). A run matching a line does not fail the sweep.\n",
	      f);
	json_array_foreach(runs, i, r)
	{
		int o = fi__sweep_outcome_nr(str(r, "outcome"));
		const char *file_ = str(r, "file"), *base = strrchr(file_, '/');
		json_t *line = json_object_get(r, "line"),
		       *fired = json_object_get(r, "fired");
		char where[4200];

		if (o < 0 || !fi__sweep_outcome_bad(o) ||
		    (json_is_integer(fired) && json_integer_value(fired) == 0))
			continue;
		if (*file_ && json_is_integer(line))
			snprintf(where, sizeof(where), "%s:%lld",
				 base ? base + 1 : file_,
				 (long long)json_integer_value(line));
		else
			snprintf(where, sizeof(where), "%s", str(r, "site"));
		fprintf(f, "%s %s %s %s  # %s %s: %s\n", str(r, "outcome"),
			str(r, "syscall"), str(r, "errno"), where,
			*str(r, "function") ? str(r, "function") : "?",
			str(r, "site"), str(r, "detail"));
		json_object_set_new(r, "accepted", json_true());
	}
	if (fclose(f)) {
		fi__util_error("--write-accept %s: %s", file, strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	return 0;
}
