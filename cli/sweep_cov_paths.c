/* sweep_cov_paths.c: fi-run --sweep --coverage, the error-path view.
 * From the tracefiles (sweep_cov_gcovr.c): for each fault, the lines
 * and branches it reached that no baseline run did; the lines no run
 * reached; the totals. Writes DIR/error-paths.json and the summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"

/* Sets of "file\nline" and "file\nline\nbranch" keys: jansson objects
 * are hash tables. */
struct sets {
	json_t *lines, *base, *any;	 /* every code line; reached */
	json_t *branches, *bbase, *bany; /* the same for branches */
};

static char *key(const char *file, json_int_t line, long branch)
{
	size_t n = strlen(file) + 48;
	char *k = fi__util_xmalloc(n);

	if (branch < 0)
		snprintf(k, n, "%s\n%lld", file, (long long)line);
	else
		snprintf(k, n, "%s\n%lld\n%ld", file, (long long)line, branch);
	return k;
}

/* Add to a file's array in `by_file` (a new one when needed). */
static void add(json_t *by_file, const char *file, json_t *v)
{
	json_t *a = json_object_get(by_file, file);

	if (!a) {
		a = json_array();
		json_object_set_new(by_file, file, a);
	}
	json_array_append_new(a, v);
}

/* Call fn for each line of each file of a gcovr JSON tracefile, in
 * the file's order: the one walk that the sums and never() share. */
static void each_line(json_t *t,
		      void (*fn)(const char *file, json_int_t n, json_t *l,
				 void *arg),
		      void *arg)
{
	json_t *f, *l;
	size_t i, k;

	json_array_foreach(json_object_get(t, "files"), i, f)
	{
		const char *file =
			json_string_value(json_object_get(f, "file"));

		if (!file)
			continue;
		json_array_foreach(json_object_get(f, "lines"), k, l)
		{
			json_int_t n = json_integer_value(
				json_object_get(l, "line_number"));

			fn(file, n, l, arg);
		}
	}
}

/* What one tracefile adds to the sets: `hit` and `bhit` take what the
 * baseline reached (NULL for a run); `only_lines` and `only_br` what a
 * run reached that the baseline did not, by file (NULL for the
 * baseline). */
struct sum {
	struct sets *s;
	json_t *hit, *bhit, *only_lines, *only_br;
};

static void sum_line(const char *file, json_int_t n, json_t *l, void *arg)
{
	struct sum *u = arg;
	struct sets *s = u->s;
	json_t *b;
	size_t m;
	char *kl;

	if (json_is_true(json_object_get(l, "gcovr/noncode")) ||
	    json_is_true(json_object_get(l, "gcovr/excluded")))
		return;
	kl = key(file, n, -1);
	json_object_set_new(s->lines, kl, json_true());
	if (json_integer_value(json_object_get(l, "count")) > 0) {
		if (u->only_lines && !json_object_get(s->base, kl))
			add(u->only_lines, file, json_integer(n));
		if (u->hit)
			json_object_set_new(u->hit, kl, json_true());
		json_object_set_new(s->any, kl, json_true());
	}
	free(kl);
	json_array_foreach(json_object_get(l, "branches"), m, b)
	{
		char *kb = key(file, n, (long)m);

		json_object_set_new(s->branches, kb, json_true());
		if (json_integer_value(json_object_get(b, "count")) > 0) {
			if (u->only_br && !json_object_get(s->bbase, kb)) {
				char v[48];

				snprintf(v, sizeof(v), "%lld/%zu", (long long)n,
					 m);
				add(u->only_br, file, json_string(v));
			}
			if (u->bhit)
				json_object_set_new(u->bhit, kb, json_true());
			json_object_set_new(s->bany, kb, json_true());
		}
		free(kb);
	}
}

/* A tracefile, or NULL after saying why. */
static json_t *load(const char *path)
{
	json_error_t e;
	json_t *t = json_load_file(path, 0, &e);

	if (!t)
		fi__util_error("--coverage: %s: %s (line %d)", path, e.text,
			       e.line);
	return t;
}

static const char *const copied[] = {"id",	"syscall", "errno", "when",
				     "site",	"file",	   "line",  "function",
				     "outcome", "detail",  "rule",  "repro"};

struct never {
	const struct sets *s;
	json_t *out;
};

static void never_line(const char *file, json_int_t n, json_t *l, void *arg)
{
	struct never *v = arg;
	char *kl = key(file, n, -1);

	(void)l;
	if (json_object_get(v->s->lines, kl) && !json_object_get(v->s->any, kl))
		add(v->out, file, json_integer(n));
	free(kl);
}

/* Lines of the baseline's files that no run reached, by file. */
static json_t *never(json_t *baseline, const struct sets *s)
{
	struct never v = {s, json_object()};

	each_line(baseline, never_line, &v);
	return v.out;
}

int fi__sweep_cov_paths(const struct fi__sweep_cov *cv, json_t *report,
			FILE *out)
{
	struct sets s = {json_object(), json_object(), json_object(),
			 json_object(), json_object(), json_object()};
	json_t *doc = json_object(), *runs = json_array(), *r, *totals, *bt;
	size_t n = strlen(cv->dir) + 48, i, nolines = 0, only = 0;
	char *path = fi__util_xmalloc(n), *base = fi__util_xmalloc(n),
	     *text = fi__util_xmalloc(n);
	int rc = 0;

	snprintf(base, n, "%s/tracefiles/baseline.json", cv->dir);
	bt = load(base);
	if (bt)
		each_line(bt, sum_line,
			  &(struct sum){&s, s.base, s.bbase, NULL, NULL});
	else
		rc = FI_RUN_EXIT_USAGE;
	if (!rc && !json_object_size(s.lines)) {
		/* gcov opens a relative source name from its own working
		 * directory, never the compiler's. */
		fi__util_error(
			"--coverage: gcov found no source file for the program's counts; compile it with absolute source paths (gcc --coverage -O0 -g \"$PWD/prog.c\"; CMake does so), see docs/coverage.md");
		rc = FI_RUN_EXIT_USAGE;
	}
	json_object_update(s.any, s.base);
	json_object_update(s.bany, s.bbase);
	json_array_foreach(json_object_get(report, "runs"), i, r)
	{
		json_t *o, *ol, *ob, *t;
		bool counts;

		if (rc)
			break;
		o = json_object();
		ol = json_object();
		ob = json_object();
		for (size_t k = 0; k < sizeof(copied) / sizeof(*copied); k++)
			json_object_set(o, copied[k],
					json_object_get(r, copied[k]));
		snprintf(path, n, "%s/tracefiles/run-%lld.json", cv->dir,
			 json_integer_value(json_object_get(r, "id")));
		counts = !access(path, R_OK);
		if (!counts)
			nolines++;
		else if ((t = load(path))) {
			each_line(t, sum_line,
				  &(struct sum){&s, NULL, NULL, ol, ob});
			json_decref(t);
		} else
			rc = FI_RUN_EXIT_USAGE;
		/* A run killed by a signal or the timeout writes no counts:
		 * what it reached is unknown, not nothing. */
		json_object_set_new(o, "counts", json_boolean(counts));
		json_object_set_new(o, "lines", ol);
		json_object_set_new(o, "branches", ob);
		json_array_append_new(runs, o);
	}
	only = json_object_size(s.any) - json_object_size(s.base);
	totals = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"lines", (json_int_t)json_object_size(s.lines),
		"lines_baseline", (json_int_t)json_object_size(s.base),
		"lines_with_faults", (json_int_t)json_object_size(s.any),
		"lines_only_under_faults", (json_int_t)only,
		"lines_never_reached",
		(json_int_t)(json_object_size(s.lines) -
			     json_object_size(s.any)),
		"branches", (json_int_t)json_object_size(s.branches),
		"branches_baseline", (json_int_t)json_object_size(s.bbase),
		"branches_with_faults", (json_int_t)json_object_size(s.bany),
		"branches_only_under_faults",
		(json_int_t)(json_object_size(s.bany) -
			     json_object_size(s.bbase)),
		"runs", (json_int_t)json_array_size(runs),
		"runs_without_counts", (json_int_t)nolines);
	json_object_set_new(doc, "fi_coverage", json_integer(1));
	json_object_set(doc, "command", json_object_get(report, "command"));
	json_object_set_new(doc, "html", json_string("index.html"));
	json_object_set_new(doc, "totals", totals);
	json_object_set_new(doc, "runs", runs);
	if (!rc) {
		json_t *nv = never(bt, &s);

		json_object_set_new(doc, "never_reached", nv);
		json_object_set_new(
			doc, "never_reached_by_site",
			fi__sweep_cov_by_site(bt, nv,
					      json_object_get(report, "sites"),
					      runs));
	}
	snprintf(path, n, "%s/error-paths.json", cv->dir);
	if (!rc &&
	    json_dump_file(doc, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) {
		fi__util_error("--coverage: cannot write %s: %s", path,
			       strerror(errno));
		rc = FI_RUN_EXIT_USAGE;
	}
	snprintf(text, n, "%s/error-paths.txt", cv->dir);
	if (!rc && fi__sweep_cov_text(text, doc)) {
		fi__util_error("--coverage: cannot write %s: %s", text,
			       strerror(errno));
		rc = FI_RUN_EXIT_USAGE;
	}
	if (!rc && out) {
		fprintf(out,
			"error paths: %zu lines reached only under faults (baseline %zu/%zu lines, with faults %zu/%zu); %zu never reached\n",
			only, json_object_size(s.base),
			json_object_size(s.lines), json_object_size(s.any),
			json_object_size(s.lines),
			json_object_size(s.lines) - json_object_size(s.any));
		if (nolines)
			fprintf(out,
				"error paths: %zu runs left no counts (killed by a signal or the timeout: gcov writes at exit; a program that exports __gcov_dump keeps them, see docs/coverage.md)\n",
				nolines);
		fprintf(out,
			"error paths: report in %s/index.html, %s and %s\n",
			cv->dir, text, path);
	}
	json_decref(doc);
	json_decref(bt);
	json_decref(s.lines);
	json_decref(s.base);
	json_decref(s.any);
	json_decref(s.branches);
	json_decref(s.bbase);
	json_decref(s.bany);
	free(path);
	free(base);
	free(text);
	return rc;
}
