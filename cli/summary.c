/* summary.c: the end-of-run summary. Reads the JSON lines libfi appended
 * to FI_REPORT (one per armed rule per process image, and one per process
 * that lost trace records), adds them up per rule and per process over
 * the whole run, and prints one line per rule and per loss. */
#include "summary.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fi_run.h"

/* One rule: its origin, text and place among the rules of its process
 * image ("rule" in the report; -1 when a record has none). The place
 * keeps apart two rules of the same origin and text (-r 'a; a'), and is
 * the same in every image of the run: libfi arms the environment's rules
 * first, in fi-run's order. */
struct agg {
	char *origin, *text;
	long long index;
	unsigned long long matched, fired;
	long long *pids_fired; /* distinct: an exec'd image is the same process */
	size_t procs_fired, pids_cap;
	char *first_site; /* of the first record that fired, or NULL */
	long long first_pid;
	bool expected; /* claimed by an expected rule */
};

/* What one process could not write: the lost lines of one (pid, what). */
struct loss {
	long long pid;
	char *what, *error;
	unsigned long long lost;
};

/* An exec into an image libfi is not in ({"pid":P,"exec":N,"why":W,
 * "unfollowed":PATH}), taken back by {"pid":P,"exec":N,"failed":E} when
 * the exec failed. */
struct unfollowed {
	long long pid, exec;
	char *path, *why, *interp;
	bool failed;
};

struct fi__summary {
	struct unfollowed *unf;
	size_t nunf, unf_cap;
	struct agg *agg;
	size_t nagg, agg_cap;
	struct loss *loss;
	size_t nloss, loss_cap;
	size_t lines, bad; /* non-empty lines; those neither record nor loss */
	const struct fi__summary_rule *rules; /* what fi-run armed */
	size_t nrules;
	size_t *claimed; /* per rule: its aggregate's index, or SIZE_MAX */
};

/* The aggregate of (origin, text, index); index -1 matches any. */
static struct agg *agg_find(struct fi__summary *s, const char *origin,
			    const char *text, long long index)
{
	for (size_t i = 0; i < s->nagg; i++)
		if ((index < 0 || s->agg[i].index == index) &&
		    !strcmp(s->agg[i].origin, origin) &&
		    !strcmp(s->agg[i].text, text))
			return &s->agg[i];
	return NULL;
}

static struct agg *agg_add(struct fi__summary *s, const char *origin,
			   const char *text, long long index)
{
	struct agg *g;

	s->agg = fi__util_xgrow(s->agg, s->nagg, &s->agg_cap, sizeof(*s->agg),
				16);
	g = &s->agg[s->nagg++];
	memset(g, 0, sizeof(*g));
	g->origin = fi__util_xstrdup(origin);
	g->text = fi__util_xstrdup(text);
	g->index = index;
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

static void add_pid(struct agg *g, long long pid)
{
	for (size_t i = 0; i < g->procs_fired; i++)
		if (g->pids_fired[i] == pid)
			return;
	g->pids_fired = fi__util_xgrow(g->pids_fired, g->procs_fired,
				       &g->pids_cap, sizeof(*g->pids_fired),
				       16);
	g->pids_fired[g->procs_fired++] = pid;
}

/* Adds one rule record to the totals; false if it is not one. */
static bool take_rule(struct fi__summary *s, json_t *rec,
		      const struct fi__summary_alias *al, size_t nal)
{
	json_t *origin = json_object_get(rec, "origin");
	json_t *text = json_object_get(rec, "text");
	json_t *site = json_object_get(rec, "site");
	json_t *pid = json_object_get(rec, "pid");
	json_t *rule = json_object_get(rec, "rule");
	unsigned long long matched, fired;
	long long index = rule ? json_integer_value(rule) : -1;
	struct agg *g;
	char *org;

	if (!json_is_string(origin) || !json_is_string(text) ||
	    !get_count(rec, "matched", &matched) ||
	    !get_count(rec, "fired", &fired) || !json_is_integer(pid) ||
	    (site && !json_is_string(site) && !json_is_null(site)) ||
	    (rule && (!json_is_integer(rule) || index < 0)))
		return false;
	org = unalias(json_string_value(origin), al, nal);
	g = agg_find(s, org, json_string_value(text), index);
	if (!g)
		g = agg_add(s, org, json_string_value(text), index);
	free(org);
	g->matched += matched;
	g->fired += fired;
	if (fired && !g->procs_fired) {
		g->first_pid = json_integer_value(pid);
		if (json_is_string(site))
			g->first_site =
				fi__util_xstrdup(json_string_value(site));
	}
	if (fired)
		add_pid(g, json_integer_value(pid));
	return true;
}

/* Adds one loss ({"pid":P,"lost":N,"what":"trace","error":"..."}, or
 * "errno":"ENOSPC") to the losses of its pid; false if it is not one. */
static bool take_loss(struct fi__summary *s, json_t *rec)
{
	json_t *pid = json_object_get(rec, "pid");
	json_t *what = json_object_get(rec, "what");
	json_t *error = json_object_get(rec, "error");
	const char *w;

	/* The reason in words ("error"), or else its errno name. */
	if (!error)
		error = json_object_get(rec, "errno");
	unsigned long long lost;
	struct loss *l = NULL;

	if (!json_is_integer(pid) || !get_count(rec, "lost", &lost) ||
	    !json_is_string(what) || (error && !json_is_string(error)))
		return false;
	w = json_string_value(what);
	for (size_t i = 0; i < s->nloss && !l; i++)
		if (s->loss[i].pid == json_integer_value(pid) &&
		    !strcmp(s->loss[i].what, w))
			l = &s->loss[i];
	if (!l) {
		s->loss = fi__util_xgrow(s->loss, s->nloss, &s->loss_cap,
					 sizeof(*s->loss), 16);
		l = &s->loss[s->nloss++];
		memset(l, 0, sizeof(*l));
		l->pid = json_integer_value(pid);
		l->what = fi__util_xstrdup(w);
	}
	l->lost += lost;
	if (!l->error && error)
		l->error = fi__util_xstrdup(json_string_value(error));
	return true;
}

static bool take_exec(struct fi__summary *s, json_t *rec);

/* One line of the report: a rule record, a loss, or an exec libfi does not
 * follow; false if none. */
static bool take_line(struct fi__summary *s, const char *line,
		      const struct fi__summary_alias *al, size_t nal)
{
	json_error_t jerr;
	json_t *rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	bool ok;

	if (!rec)
		return false;
	ok = json_is_object(rec) &&
	     (json_object_get(rec, "exec")   ? take_exec(s, rec)
	      : json_object_get(rec, "lost") ? take_loss(s, rec)
					     : take_rule(s, rec, al, nal));
	json_decref(rec);
	return ok;
}

static bool is_expected(const struct fi__summary *s, const struct agg *g)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (!strcmp(s->rules[i].origin, g->origin) &&
		    !strcmp(s->rules[i].text, g->text))
			return true;
	return false;
}

/* The aggregate of expected rule r, the index-th fi-run armed: same
 * origin, text and index. Failing that, in a second pass (`loose`): an
 * unclaimed one of the same origin and text; or (libfi named the source
 * differently) a reported rule of the same text that no expected rule
 * names. */
static struct agg *claim(struct fi__summary *s,
			 const struct fi__summary_rule *r, size_t index,
			 bool loose)
{
	struct agg *g = agg_find(s, r->origin, r->text, (long long)index);

	if (g || !loose)
		return g && !g->expected ? g : NULL;
	for (size_t i = 0; i < s->nagg; i++) {
		g = &s->agg[i];
		if (!g->expected && !strcmp(g->origin, r->origin) &&
		    !strcmp(g->text, r->text))
			return g;
	}
	for (size_t i = 0; i < s->nagg; i++) {
		g = &s->agg[i];
		if (!g->expected && !strcmp(g->text, r->text) &&
		    !is_expected(s, g))
			return g;
	}
	return NULL;
}

struct fi__summary *fi__summary_read(FILE *report,
				     const struct fi__summary_rule *rules,
				     size_t nrules,
				     const struct fi__summary_alias *aliases,
				     size_t naliases)
{
	struct fi__summary *s = fi__util_xmalloc(sizeof(*s));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	memset(s, 0, sizeof(*s));
	s->rules = rules;
	s->nrules = nrules;
	while (report && (len = getline(&line, &cap, report)) != -1) {
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		s->lines++;
		if (!take_line(s, line, aliases, naliases))
			s->bad++;
	}
	free(line);

	s->claimed = fi__util_xmalloc((nrules + 1) * sizeof(*s->claimed));
	for (size_t i = 0; i < nrules; i++)
		s->claimed[i] = SIZE_MAX;
	for (int loose = 0; loose < 2; loose++)
		for (size_t i = 0; i < nrules; i++) {
			struct agg *g;

			if (s->claimed[i] != SIZE_MAX)
				continue;
			g = claim(s, &rules[i], i, loose);
			if (g) {
				s->claimed[i] = (size_t)(g - s->agg);
				g->expected = true;
			}
		}
	return s;
}

void fi__summary_free(struct fi__summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nagg; i++) {
		free(s->agg[i].origin);
		free(s->agg[i].text);
		free(s->agg[i].first_site);
		free(s->agg[i].pids_fired);
	}
	for (size_t i = 0; i < s->nloss; i++) {
		free(s->loss[i].what);
		free(s->loss[i].error);
	}
	for (size_t i = 0; i < s->nunf; i++) {
		free(s->unf[i].path);
		free(s->unf[i].why);
		free(s->unf[i].interp);
	}
	free(s->unf);
	free(s->agg);
	free(s->loss);
	free(s->claimed);
	free(s);
}

size_t fi__summary_lines(const struct fi__summary *s)
{
	return s->lines;
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
		fprintf(out, "fired %llu time%s", g->fired,
			g->fired == 1 ? "" : "s");
		if (g->procs_fired > 1)
			fprintf(out, " in %zu processes", g->procs_fired);
		if (g->first_site)
			fprintf(out, " (first at %s, pid %lld)\n",
				g->first_site, g->first_pid);
		else
			fprintf(out, " (first in pid %lld)\n", g->first_pid);
	}
}

size_t fi__summary_rules(const struct fi__summary *s, FILE *out,
			 size_t *unfired)
{
	size_t lines = 0, never = 0, i;

	for (i = 0; i < s->nrules; i++) {
		const struct agg *g = s->claimed[i] == SIZE_MAX
					      ? NULL
					      : &s->agg[s->claimed[i]];

		never += !g || !g->fired;
		if (out)
			print_one(out, s->rules[i].origin, s->rules[i].text, g);
		lines++;
	}
	for (i = 0; i < s->nagg; i++) {
		if (s->agg[i].expected)
			continue;
		never += !s->agg[i].fired;
		if (out)
			print_one(out, s->agg[i].origin, s->agg[i].text,
				  &s->agg[i]);
		lines++;
	}
	if (s->bad) {
		if (out)
			fprintf(out,
				"fi: %zu line%s of the report %s not a rule record; ignored\n",
				s->bad, s->bad == 1 ? "" : "s",
				s->bad == 1 ? "was" : "were");
		lines++;
	}
	if (unfired)
		*unfired = never;
	return out ? lines : 0;
}

unsigned long long fi__summary_lost(const struct fi__summary *s,
				    const char *trace, FILE *out)
{
	unsigned long long total = 0;

	for (size_t i = 0; i < s->nloss; i++) {
		const struct loss *l = &s->loss[i];
		bool named = trace && !strcmp(l->what, "trace");

		if (!l->lost)
			continue;
		total += l->lost;
		fprintf(out,
			"fi-run: the %s%s%s lost %llu record%s (pid %lld: %s)\n",
			l->what, named ? " " : "", named ? trace : "", l->lost,
			l->lost == 1 ? "" : "s", l->pid,
			l->error ? l->error : "no reason given");
	}
	return total;
}

/* An exec libfi does not follow, or the take-back of one that failed;
 * false if the line is neither. */
static bool take_exec(struct fi__summary *s, json_t *rec)
{
	json_t *pid = json_object_get(rec, "pid");
	json_t *path = json_object_get(rec, "unfollowed");
	json_t *why = json_object_get(rec, "why");
	json_t *interp = json_object_get(rec, "interp");
	unsigned long long exec;
	struct unfollowed *u;

	if (!json_is_integer(pid) || !get_count(rec, "exec", &exec))
		return false;
	if (json_is_string(json_object_get(rec, "failed")) && !path) {
		/* The exec's own line comes first in the file. */
		for (size_t i = s->nunf; i-- > 0;)
			if (s->unf[i].pid == json_integer_value(pid) &&
			    s->unf[i].exec == (long long)exec) {
				s->unf[i].failed = true;
				return true;
			}
		return true; /* its line was lost: nothing to take back */
	}
	if (!json_is_string(path) || !json_is_string(why) ||
	    (interp && !json_is_string(interp)))
		return false;
	s->unf = fi__util_xgrow(s->unf, s->nunf, &s->unf_cap, sizeof(*s->unf),
				16);
	u = &s->unf[s->nunf++];
	memset(u, 0, sizeof(*u));
	u->pid = json_integer_value(pid);
	u->exec = (long long)exec;
	u->path = fi__util_xstrdup(json_string_value(path));
	u->why = fi__util_xstrdup(json_string_value(why));
	if (interp)
		u->interp = fi__util_xstrdup(json_string_value(interp));
	return true;
}

/* What libfi's reason (libfi/follow.c, fi__follow_why_name) means. */
static const char *why_words(const char *why)
{
	static const struct {
		const char *name, *words;
	} t[] = {
		{"static",
		 "statically linked, so libfi cannot be preloaded into it"},
		{"not_x86_64",
		 "not an x86_64 program, so libfi cannot be preloaded into it"},
		{"setuid", "setuid, so the loader ignores LD_PRELOAD for it"},
		{"setgid", "setgid, so the loader ignores LD_PRELOAD for it"},
		{"capabilities",
		 "given file capabilities, so the loader ignores LD_PRELOAD for it"},
		{"no_preload",
		 "its environment drops LD_PRELOAD, so libfi is not loaded into it"},
		{"preload_without_libfi",
		 "its LD_PRELOAD does not name libfi, so libfi is not loaded into it"},
		{"no_rules",
		 "its environment drops FI_SCENARIO and FI_RULES, so libfi arms no rules in it"},
		{"no_report",
		 "its environment drops FI_REPORT, so what fi does in it is not in this summary"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, why))
			return t[i].words;
	return why;
}

static bool same_unfollowed(const struct unfollowed *a,
			    const struct unfollowed *b)
{
	return !strcmp(a->path, b->path) && !strcmp(a->why, b->why) &&
	       !a->interp == !b->interp &&
	       (!a->interp || !strcmp(a->interp, b->interp));
}

size_t fi__summary_unfollowed(const struct fi__summary *s, FILE *out)
{
	size_t lines = 0;

	for (size_t i = 0; i < s->nunf; i++) {
		const struct unfollowed *u = &s->unf[i];
		size_t n = 0, j;

		if (u->failed)
			continue;
		/* Once per (file, reason), at its first exec. */
		for (j = 0; j < i; j++)
			if (!s->unf[j].failed && same_unfollowed(&s->unf[j], u))
				break;
		if (j < i)
			continue;
		for (j = i; j < s->nunf; j++)
			n += !s->unf[j].failed &&
			     same_unfollowed(&s->unf[j], u);
		lines++;
		if (!out)
			continue;
		fprintf(out, "fi-run: warning: not followed: %s (", u->path);
		if (n == 1)
			fprintf(out, "pid %lld", u->pid);
		else
			fprintf(out, "%zu execs, the first in pid %lld", n,
				u->pid);
		if (u->interp)
			fprintf(out, "): its interpreter %s is %s\n", u->interp,
				why_words(u->why));
		else
			fprintf(out, "): %s\n", why_words(u->why));
	}
	return lines;
}
