/* sweep_report.c: the sweep's last stage. The JSON report (the merge
 * unit, docs/sweep.md "The JSON report") is summarized, written, and
 * rendered as JUnit XML and as a table for the terminal, worst first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* A run counts against the sweep when its outcome is bad, its rule did
 * fire (or nobody knows: a crash writes no report) and it is not
 * accepted. */
static bool failing(json_t *run)
{
	int o = fi__sweep_outcome_nr(str(run, "outcome"));
	json_t *f = json_object_get(run, "fired");

	return o >= 0 && fi__sweep_outcome_bad(o) &&
	       !json_is_true(json_object_get(run, "accepted")) &&
	       !(json_is_integer(f) && json_integer_value(f) == 0);
}

static bool unreached(json_t *run)
{
	json_t *f = json_object_get(run, "fired");

	return json_is_integer(f) && json_integer_value(f) == 0;
}

size_t fi__sweep_report_summarize(json_t *report)
{
	json_t *runs = json_object_get(report, "runs"), *sum = json_object(),
	       *r;
	size_t count[FI_SWEEP_NOUTCOMES] = {0}, fail = 0, acc = 0, unr = 0, i;

	json_array_foreach(runs, i, r)
	{
		int o = fi__sweep_outcome_nr(str(r, "outcome"));

		if (o >= 0)
			count[o]++;
		fail += failing(r);
		acc += json_is_true(json_object_get(r, "accepted"));
		unr += unreached(r);
	}
	json_object_set_new(sum, "runs",
			    json_integer((json_int_t)json_array_size(runs)));
	for (int o = 0; o < FI_SWEEP_NOUTCOMES; o++)
		json_object_set_new(sum, fi__sweep_outcome_name(o),
				    json_integer((json_int_t)count[o]));
	json_object_set_new(sum, "failing", json_integer((json_int_t)fail));
	json_object_set_new(sum, "accepted", json_integer((json_int_t)acc));
	json_object_set_new(sum, "not_reached", json_integer((json_int_t)unr));
	json_object_set_new(report, "summary", sum);
	return fail;
}

char *fi__sweep_quote(const char *w)
{
	static const char safe[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789_./=:,+-@%^";
	size_t n = strlen(w);
	char *out, *o;

	if (n && strspn(w, safe) == n)
		return fi__util_xstrdup(w);
	o = out = fi__util_xmalloc(4 * n + 3);
	*o++ = '\'';
	for (; *w; w++) {
		if (*w == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *w;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* Where a run's site is, for people: file:line when known, else the
 * site. The file is shown by its base name. */
static void where(json_t *r, char *buf, size_t n)
{
	const char *file = str(r, "file"), *b = strrchr(file, '/');
	json_t *line = json_object_get(r, "line");

	if (*file && json_is_integer(line))
		snprintf(buf, n, "%s:%lld", b ? b + 1 : file,
			 (long long)json_integer_value(line));
	else
		snprintf(buf, n, "%s", str(r, "site"));
}

static int rank_of(json_t *r)
{
	int o = fi__sweep_outcome_nr(str(r, "outcome"));

	/* failing runs first, then accepted or unreached bad ones, then good */
	return (o < 0 ? 6 : fi__sweep_outcome_rank(o)) + (failing(r) ? 0 : 10) -
	       (o >= 0 && !fi__sweep_outcome_bad(o) ? 10 : 0);
}

static int by_rank(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int d = rank_of(x) - rank_of(y);

	if (d)
		return d;
	return (int)(json_integer_value(json_object_get(x, "id")) -
		     json_integer_value(json_object_get(y, "id")));
}

static void table(json_t *report, FILE *out, bool verbose)
{
	json_t *runs = json_object_get(report, "runs"), *sum, *r;
	size_t n = json_array_size(runs), i, hidden = 0;
	json_t **v = fi__util_xmalloc((n + 1) * sizeof(*v));

	json_array_foreach(runs, i, r) v[i] = r;
	qsort(v, n, sizeof(*v), by_rank);
	sum = json_object_get(report, "summary");
	fprintf(out, "%-9s  %-28s %-22s %-12s %-8s %s\n", "OUTCOME", "WHERE",
		"FUNCTION", "SYSCALL", "ERRNO", "WHAT HAPPENED");
	for (i = 0; i < n; i++) {
		char w[256], tag[16];
		int o = fi__sweep_outcome_nr(str(v[i], "outcome"));
		bool bad = o >= 0 && fi__sweep_outcome_bad(o);

		if (!bad && !verbose) {
			hidden++;
			continue;
		}
		where(v[i], w, sizeof(w));
		snprintf(tag, sizeof(tag), "%s%s", str(v[i], "errno"),
			 !strcmp(str(v[i], "when"), "1") ? "" : "*");
		fprintf(out, "%-9s  %-28s %-22s %-12s %-8s %s%s%s\n",
			str(v[i], "outcome"), w,
			*str(v[i], "function") ? str(v[i], "function") : "?",
			str(v[i], "syscall"), tag, str(v[i], "detail"),
			json_is_true(json_object_get(v[i], "accepted"))
				? " [accepted]"
				: "",
			unreached(v[i]) ? " [the rule never fired]" : "");
		if (bad || verbose)
			fprintf(out, "           repro: %s\n",
				str(v[i], "repro"));
	}
	if (hidden)
		fprintf(out,
			"(%zu handled or recovered run%s not shown; -v shows every run)\n",
			hidden, hidden == 1 ? "" : "s");
	fprintf(out,
		"fi-run: sweep: %lld runs: %lld crash, %lld sanitizer, %lld hang, %lld ignored, %lld handled, %lld recovered; %lld failing",
		(long long)json_integer_value(json_object_get(sum, "runs")),
		(long long)json_integer_value(json_object_get(sum, "crash")),
		(long long)json_integer_value(
			json_object_get(sum, "sanitizer")),
		(long long)json_integer_value(json_object_get(sum, "hang")),
		(long long)json_integer_value(json_object_get(sum, "ignored")),
		(long long)json_integer_value(json_object_get(sum, "handled")),
		(long long)json_integer_value(
			json_object_get(sum, "recovered")),
		(long long)json_integer_value(json_object_get(sum, "failing")));
	if (json_integer_value(json_object_get(sum, "accepted")))
		fprintf(out, ", %lld accepted",
			(long long)json_integer_value(
				json_object_get(sum, "accepted")));
	fputs(" (* = a streak or every occurrence, not only the first)\n", out);
	free(v);
}

int fi__sweep_report_write(json_t *report, const char *json_path,
			   const char *junit_path, FILE *out, bool verbose)
{
	if (json_path && json_dump_file(report, json_path,
					JSON_INDENT(1) | JSON_PRESERVE_ORDER)) {
		fi__util_error("--json %s: cannot write it: %s", json_path,
			       strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	if (junit_path && fi__sweep_report_junit(report, junit_path))
		return FI_RUN_EXIT_USAGE;
	if (out)
		table(report, out, verbose);
	return 0;
}
