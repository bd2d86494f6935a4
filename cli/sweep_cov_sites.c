/* sweep_cov_sites.c: fi-run --sweep --coverage, the error-path view by
 * site. Each line no run reached goes next to the site that leads there:
 * the last swept site before it in its own function (the call whose
 * failure would run it next), with that site's runs and outcomes. Writes
 * error-paths.txt: per site, what each fault reached; then the lines
 * never reached, by site. Called by sweep_cov_paths.c. */
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

/* The function of `file` that holds `line`: the one that starts last at
 * or before it, from the tracefile's "functions" (gcovr JSON). */
static const char *function_at(json_t *files, const char *file, json_int_t line)
{
	const char *best = NULL;
	json_int_t start = 0;
	json_t *f, *fn;
	size_t i, k;

	json_array_foreach(files, i, f)
	{
		const char *name =
			json_string_value(json_object_get(f, "file"));

		if (!name || strcmp(name, file))
			continue;
		json_array_foreach(json_object_get(f, "functions"), k, fn)
		{
			json_int_t l = json_integer_value(
				json_object_get(fn, "lineno"));

			if (l <= line && l > start) {
				start = l;
				best = json_string_value(
					json_object_get(fn, "name"));
			}
		}
	}
	return best;
}

/* The line of the site that leads to `line` of `file` in `function`:
 * the greatest line of a site the discovery run reached, before it in
 * the same function, or 0. */
static json_int_t site_before(json_t *runs, const char *file,
			      const char *function, json_int_t line)
{
	json_int_t best = 0;
	json_t *r;
	size_t i;

	json_array_foreach(runs, i, r)
	{
		const char *rf = json_string_value(json_object_get(r, "file"));
		const char *fn =
			json_string_value(json_object_get(r, "function"));
		json_int_t l = json_integer_value(json_object_get(r, "line"));

		if (rf && fn && function && !strcmp(rf, file) &&
		    !strcmp(fn, function) && l <= line && l > best)
			best = l;
	}
	return best;
}

/* A site or run of error-paths.json at line `at` of `file`. */
static bool at_place(json_t *r, const char *file, json_int_t at)
{
	const char *rf = json_string_value(json_object_get(r, "file"));

	return at && rf && !strcmp(rf, file) &&
	       json_integer_value(json_object_get(r, "line")) == at;
}

/* The group of never-reached lines of (file, site line), made on first
 * use: {file, line, function, syscalls, runs, lines}. */
static json_t *group(json_t *groups, json_t *sites, json_t *runs,
		     const char *file, json_int_t at, const char *function)
{
	char *k = fi__util_xasprintf("%s\n%lld\n%s", file, (long long)at,
				     function ? function : "");
	json_t *g = json_object_get(groups, k), *r, *sys, *rs;
	size_t i;

	if (!g) {
		g = json_object();
		sys = json_array();
		rs = json_array();
		json_array_foreach(sites, i, r)
		{
			json_t *x, *sc = json_object_get(r, "syscall");
			bool seen = false;
			size_t m;

			if (!at_place(r, file, at))
				continue;
			json_array_foreach(sys, m, x) seen |= json_equal(x, sc);
			if (!seen)
				json_array_append(sys, sc);
		}
		json_array_foreach(runs, i, r)
		{
			if (!at_place(r, file, at))
				continue;
			json_array_append_new(
				rs, json_pack("{s:O, s:O, s:O, s:O}", "id",
					      json_object_get(r, "id"), "errno",
					      json_object_get(r, "errno"),
					      "outcome",
					      json_object_get(r, "outcome"),
					      "counts",
					      json_object_get(r, "counts")));
		}
		json_object_set_new(g, "file", json_string(file));
		json_object_set_new(g, "line",
				    at ? json_integer(at) : json_null());
		json_object_set_new(g, "function",
				    function ? json_string(function)
					     : json_null());
		json_object_set_new(g, "syscalls", sys);
		json_object_set_new(g, "runs", rs);
		json_object_set_new(g, "lines", json_array());
		json_object_set_new(groups, k, g);
	}
	free(k);
	return json_object_get(g, "lines");
}

static int by_place(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "file")),
		       json_string_value(json_object_get(y, "file")));
	json_int_t lx = json_integer_value(json_object_get(x, "line"));
	json_int_t ly = json_integer_value(json_object_get(y, "line"));

	return c ? c : (lx > ly) - (lx < ly);
}

/* Runs by site, syscall, then id. */
static int by_site(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *sx = json_string_value(json_object_get(x, "site"));
	const char *sy = json_string_value(json_object_get(y, "site"));
	const char *cx = json_string_value(json_object_get(x, "syscall"));
	const char *cy = json_string_value(json_object_get(y, "syscall"));
	json_int_t ix = json_integer_value(json_object_get(x, "id"));
	json_int_t iy = json_integer_value(json_object_get(y, "id"));
	int c = strcmp(sx ? sx : "", sy ? sy : "");

	if (!c)
		c = strcmp(cx ? cx : "", cy ? cy : "");
	return c ? c : (ix > iy) - (ix < iy);
}

/* Sort the array `a` in place. */
static void sort_array(json_t *a, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(a), i;
	json_t **v = fi__util_xmalloc((n + 1) * sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(a);
	for (i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

json_t *fi__sweep_cov_by_site(json_t *baseline, json_t *never, json_t *sites,
			      json_t *runs)
{
	json_t *files = json_object_get(baseline, "files"),
	       *groups = json_object();
	json_t *out = json_array(), *lines, *l, *g;
	const char *file, *k;
	size_t i;

	json_object_foreach(never, file, lines)
	{
		json_array_foreach(lines, i, l)
		{
			json_int_t n = json_integer_value(l);
			const char *fn = function_at(files, file, n);

			json_array_append(group(groups, sites, runs, file,
						site_before(sites, file, fn, n),
						fn),
					  l);
		}
	}
	json_object_foreach(groups, k, g) json_array_append(out, g);
	/* By file, then by the site's line (no site first). */
	sort_array(out, by_place);
	json_decref(groups);
	return out;
}

static const char *base_name(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;

	return b ? b + 1 : p ? p : "?";
}

/* "3, 5-7, 9" from a sorted array of line numbers. */
static void ranges(FILE *f, json_t *a)
{
	size_t i, n = json_array_size(a);

	for (i = 0; i < n;) {
		bool first = i == 0;
		json_int_t s = json_integer_value(json_array_get(a, i)), e = s;

		while (i + 1 < n &&
		       json_integer_value(json_array_get(a, i + 1)) == e + 1)
			e = json_integer_value(json_array_get(a, ++i));
		i++;
		fprintf(f, "%s%lld", first ? "" : ", ", (long long)s);
		if (e != s)
			fprintf(f, "-%lld", (long long)e);
	}
}

/* One run's or group's lines, by file: "file.c: 3, 5-7; other.c: 9". */
static void by_file(FILE *f, json_t *lines)
{
	const char *file;
	json_t *a;
	bool first = true;

	json_object_foreach(lines, file, a)
	{
		fprintf(f, "%s%s: ", first ? "" : "; ", base_name(file));
		ranges(f, a);
		first = false;
	}
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "?";
}

int fi__sweep_cov_text(const char *path, json_t *doc)
{
	FILE *f = fopen(path, "w");
	json_t *runs = json_copy(json_object_get(doc, "runs")), *r, *g, *x;
	const char *last = NULL;
	size_t i, k;

	if (!f) {
		json_decref(runs);
		return -1;
	}
	sort_array(runs, by_site);
	fprintf(f,
		"Lines each fault reached that no baseline run did, by site:\n");
	json_array_foreach(runs, i, r)
	{
		char *fault,
			*where = fi__util_xasprintf("%s %s", str(r, "site"),
						    str(r, "syscall"));

		if (!last || strcmp(last, where))
			fprintf(f, "\n%s:%lld %s (%s, %s)\n",
				base_name(str(r, "file")),
				(long long)json_integer_value(
					json_object_get(r, "line")),
				str(r, "syscall"), str(r, "function"),
				str(r, "site"));
		free((char *)last);
		last = where;
		/* when=1 is every run's but a streak's */
		fault = strcmp(str(r, "when"), "1")
				? fi__util_xasprintf("%s when=%s",
						     str(r, "errno"),
						     str(r, "when"))
				: fi__util_xstrdup(str(r, "errno"));
		fprintf(f, "  run %-4lld %-12s %-10s ",
			(long long)json_integer_value(json_object_get(r, "id")),
			fault, str(r, "outcome"));
		free(fault);
		if (!json_is_true(json_object_get(r, "counts")))
			fprintf(f, "no counts: the run was killed");
		else if (!json_object_size(json_object_get(r, "lines")))
			fprintf(f, "nothing the baseline did not reach");
		else
			by_file(f, json_object_get(r, "lines"));
		fprintf(f, "\n");
	}
	free((char *)last);
	fprintf(f,
		"\nNever reached by any run, next to the site that leads there (the last\nsite the discovery run reached before them, in their function):\n");
	if (!json_array_size(json_object_get(doc, "never_reached_by_site")))
		fprintf(f, "  none\n");
	json_array_foreach(json_object_get(doc, "never_reached_by_site"), i, g)
	{
		json_t *fn = json_object_get(g, "function");

		if (json_is_null(json_object_get(g, "line")))
			fprintf(f, "\n%s, no swept site before them in %s\n",
				base_name(str(g, "file")),
				json_is_string(fn) ? json_string_value(fn)
						   : "their function");
		else {
			fprintf(f, "\nafter %s:%lld (%s), ",
				base_name(str(g, "file")),
				(long long)json_integer_value(
					json_object_get(g, "line")),
				json_is_string(fn) ? json_string_value(fn)
						   : "?");
			json_array_foreach(json_object_get(g, "syscalls"), k, x)
				fprintf(f, "%s%s", k ? ", " : "",
					json_string_value(x));
			fprintf(f, ":");
			json_array_foreach(json_object_get(g, "runs"), k, x)
				fprintf(f, "%s run %lld %s %s%s", k ? ";" : "",
					(long long)json_integer_value(
						json_object_get(x, "id")),
					str(x, "errno"), str(x, "outcome"),
					json_is_true(
						json_object_get(x, "counts"))
						? ""
						: " (no counts)");
			if (!json_array_size(json_object_get(g, "runs")))
				fprintf(f,
					" not swept (--syscalls, --errnos, --max-runs, --shard or the errno table)");
			fprintf(f, "\n");
		}
		fprintf(f, "  lines ");
		ranges(f, json_object_get(g, "lines"));
		fprintf(f, "\n");
	}
	json_decref(runs);
	return fclose(f) ? -1 : 0;
}
