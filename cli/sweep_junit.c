/* sweep_junit.c: the JSON report as JUnit XML, the form CI systems
 * show: one testsuite, one testcase per run, a failure for each failing
 * run (crash, hang, sanitizer, ignored), skipped for accepted ones, and
 * the repro line in every testcase. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* XML text or attribute: the five entities; control characters, which
 * XML 1.0 cannot hold, as '?'. */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(c < 0x20 && c != '\t' && c != '\n' ? '?' : c, f);
		}
	}
}

/* A bad outcome that does not fail the sweep. */
static bool skipped(json_t *r)
{
	int o = fi__sweep_outcome_nr(str(r, "outcome"));
	json_t *fired = json_object_get(r, "fired");

	return o >= 0 && fi__sweep_outcome_bad(o) &&
	       (json_is_true(json_object_get(r, "accepted")) ||
		(json_is_integer(fired) && json_integer_value(fired) == 0));
}

static void testcase(FILE *f, json_t *r)
{
	const char *outcome = str(r, "outcome"), *file = str(r, "file");
	int o = fi__sweep_outcome_nr(outcome);
	bool bad = o >= 0 && fi__sweep_outcome_bad(o);
	bool accepted = json_is_true(json_object_get(r, "accepted"));
	json_t *fired = json_object_get(r, "fired");
	bool unreached = json_is_integer(fired) &&
			 json_integer_value(fired) == 0;
	json_t *line = json_object_get(r, "line");

	fputs("    <testcase classname=\"fi.sweep.", f);
	esc(f, str(r, "syscall"));
	fputs("\" name=\"", f);
	esc(f, str(r, "errno"));
	fputs(" when=", f);
	esc(f, str(r, "when"));
	fputs(" at ", f);
	esc(f, str(r, "site"));
	if (*file && json_is_integer(line)) {
		fputs(" (", f);
		esc(f, file);
		fprintf(f, ":%lld)", (long long)json_integer_value(line));
	}
	fprintf(f, "\" time=\"%.3f\">\n",
		json_number_value(json_object_get(r, "seconds")));
	if (bad && !accepted && !unreached) {
		fputs("      <failure type=\"", f);
		esc(f, outcome);
		fputs("\" message=\"", f);
		esc(f, outcome);
		fputs(": ", f);
		esc(f, str(r, "detail"));
		fputs("\">repro: ", f);
		esc(f, str(r, "repro"));
		fputs("</failure>\n", f);
	} else if (bad) {
		fprintf(f, "      <skipped message=\"%s\"/>\n",
			accepted ? "accepted (--accept)"
				 : "the rule never fired");
	}
	fputs("      <system-out>outcome: ", f);
	esc(f, outcome);
	fputs("\n", f);
	esc(f, str(r, "detail"));
	fputs("\nrepro: ", f);
	esc(f, str(r, "repro"));
	fputs("</system-out>\n    </testcase>\n", f);
}

int fi__sweep_report_junit(json_t *report, const char *path)
{
	json_t *runs = json_object_get(report, "runs"), *sum, *r, *cmd, *w;
	FILE *f = fopen(path, "w");
	double secs = 0;
	size_t i, skip = 0;

	if (!f) {
		fi__util_error("--junit %s: %s", path, strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	sum = json_object_get(report, "summary");
	json_array_foreach(runs, i, r)
	{
		secs += json_number_value(json_object_get(r, "seconds"));
		skip += skipped(r);
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<testsuites name=\"fi-run --sweep\" tests=\"%zu\" failures=\"%lld\" time=\"%.3f\">\n",
		json_array_size(runs),
		(long long)json_integer_value(json_object_get(sum, "failing")),
		secs);
	fputs("  <testsuite name=\"sweep:", f);
	cmd = json_object_get(report, "command");
	json_array_foreach(cmd, i, w)
	{
		fputc(' ', f);
		esc(f, json_string_value(w) ? json_string_value(w) : "");
	}
	fprintf(f,
		"\" tests=\"%zu\" failures=\"%lld\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
		json_array_size(runs),
		(long long)json_integer_value(json_object_get(sum, "failing")),
		skip, secs);
	json_array_foreach(runs, i, r) testcase(f, r);
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (fclose(f)) {
		fi__util_error("--junit %s: %s", path, strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	return 0;
}
