/* summary.c: the end-of-run summary. Reads the JSON lines libfi appended
 * to FI_REPORT (one per armed rule per process image), adds them up per
 * rule over all processes and prints one line per rule. */
#include "summary.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fi_run.h"

struct agg {
	char *origin, *text;
	unsigned long long matched, fired;
	size_t procs_fired;
	char *first_site; /* of the first record that fired, or NULL */
	long long first_pid;
	bool expected; /* claimed by an expected rule */
};

struct aggs {
	struct agg *v;
	size_t n, cap;
};

static struct agg *aggs_find(struct aggs *a, const char *origin,
			     const char *text)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].origin, origin) && !strcmp(a->v[i].text, text))
			return &a->v[i];
	return NULL;
}

static struct agg *aggs_add(struct aggs *a, const char *origin,
			    const char *text)
{
	struct agg *g;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		struct agg *v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			fputs("fi-run: out of memory\n", stderr);
			exit(FI_RUN_EXIT_USAGE);
		}
		a->v = v;
		a->cap = cap;
	}
	g = &a->v[a->n++];
	memset(g, 0, sizeof(*g));
	g->origin = fi__util_xstrdup(origin);
	g->text = fi__util_xstrdup(text);
	return g;
}

/* "ABS:3" becomes "typed:3" when an alias maps ABS to what was typed. */
static char *unalias(const char *origin, const struct fi__summary_alias *al,
		     size_t nal)
{
	size_t i;

	for (i = 0; i < nal; i++) {
		size_t l = strlen(al[i].from);

		if (!strncmp(origin, al[i].from, l) &&
		    (origin[l] == ':' || origin[l] == '\0')) {
			size_t tl = strlen(al[i].to), rl = strlen(origin + l);
			char *s = fi__util_xmalloc(tl + rl + 1);

			memcpy(s, al[i].to, tl);
			memcpy(s + tl, origin + l, rl + 1);
			return s;
		}
	}
	return fi__util_xstrdup(origin);
}

static bool get_count(json_t *obj, const char *key, unsigned long long *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (unsigned long long)json_integer_value(v);
	return true;
}

/* Adds one record to the totals; false if the line is not a record. */
static bool take_record(struct aggs *a, const char *line,
			const struct fi__summary_alias *al, size_t nal)
{
	json_error_t jerr;
	json_t *rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	json_t *origin, *text, *site, *pid;
	unsigned long long matched, fired;
	struct agg *g;
	char *org;

	if (!rec)
		return false;
	origin = json_object_get(rec, "origin");
	text = json_object_get(rec, "text");
	site = json_object_get(rec, "site");
	pid = json_object_get(rec, "pid");
	if (!json_is_object(rec) || !json_is_string(origin) ||
	    !json_is_string(text) || !get_count(rec, "matched", &matched) ||
	    !get_count(rec, "fired", &fired) || !json_is_integer(pid) ||
	    (site && !json_is_string(site) && !json_is_null(site))) {
		json_decref(rec);
		return false;
	}
	org = unalias(json_string_value(origin), al, nal);
	g = aggs_find(a, org, json_string_value(text));
	if (!g)
		g = aggs_add(a, org, json_string_value(text));
	free(org);
	g->matched += matched;
	g->fired += fired;
	if (fired) {
		if (!g->procs_fired++) {
			g->first_pid = json_integer_value(pid);
			if (json_is_string(site))
				g->first_site = fi__util_xstrdup(json_string_value(site));
		}
	}
	json_decref(rec);
	return true;
}

static void print_one(FILE *out, const char *origin, const char *text,
		      const struct agg *g)
{
	fprintf(out, "fi: %s: %s: ", origin, text);
	if (!g) {
		fputs("no report from the program\n", out);
	} else if (!g->fired) {
		fprintf(out, "never fired (%llu matching call%s)\n", g->matched,
			g->matched == 1 ? "" : "s");
	} else {
		fprintf(out, "fired %llu time%s", g->fired, g->fired == 1 ? "" : "s");
		if (g->procs_fired > 1)
			fprintf(out, " in %zu processes", g->procs_fired);
		if (g->first_site)
			fprintf(out, " (first at %s, pid %lld)\n", g->first_site,
				g->first_pid);
		else
			fprintf(out, " (first in pid %lld)\n", g->first_pid);
	}
}

static bool is_expected(const struct fi__summary_rule *rules, size_t n,
			const struct agg *g)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(rules[i].origin, g->origin) &&
		    !strcmp(rules[i].text, g->text))
			return true;
	return false;
}

/* The aggregate of expected rule r: same origin and text; failing that
 * (libfi named the source differently), a reported rule of the same text
 * that no expected rule names. */
static struct agg *claim(struct aggs *a, const struct fi__summary_rule *rules,
			 size_t n, const struct fi__summary_rule *r)
{
	struct agg *g = aggs_find(a, r->origin, r->text);
	size_t i;

	if (g)
		return g->expected ? NULL : g;
	for (i = 0; i < a->n; i++) {
		g = &a->v[i];
		if (!g->expected && !strcmp(g->text, r->text) &&
		    !is_expected(rules, n, g))
			return g;
	}
	return NULL;
}

size_t fi__summary_print(FILE *report, const struct fi__summary_rule *rules,
			 size_t nrules, const struct fi__summary_alias *aliases,
			 size_t naliases, FILE *out)
{
	struct aggs a = { 0 };
	char *line = NULL;
	size_t cap = 0, bad = 0, lines = 0, i;
	ssize_t len;

	while (report && (len = getline(&line, &cap, report)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (!take_record(&a, line, aliases, naliases))
			bad++;
	}
	free(line);

	for (i = 0; i < nrules; i++) {
		struct agg *g = claim(&a, rules, nrules, &rules[i]);

		if (g)
			g->expected = true;
		print_one(out, rules[i].origin, rules[i].text, g);
		lines++;
	}
	for (i = 0; i < a.n; i++) {
		if (a.v[i].expected)
			continue;
		print_one(out, a.v[i].origin, a.v[i].text, &a.v[i]);
		lines++;
	}
	if (bad) {
		fprintf(out, "fi: %zu line%s of the report %s not a rule record; ignored\n",
			bad, bad == 1 ? "" : "s", bad == 1 ? "was" : "were");
		lines++;
	}

	for (i = 0; i < a.n; i++) {
		free(a.v[i].origin);
		free(a.v[i].text);
		free(a.v[i].first_site);
	}
	free(a.v);
	return lines;
}
