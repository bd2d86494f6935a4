/* sweep_merge.c: fi-run --merge a.json b.json ... joins the JSON reports
 * of the shards of one sweep into one report (and JUnit, and the table),
 * as if one job had run the whole plan. Reports of different commands or
 * plans, the same run twice, or a file that is no sweep report stop it
 * with status 125. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static int by_id(const void *a, const void *b)
{
	json_int_t x = num(*(json_t *const *)a, "id");
	json_int_t y = num(*(json_t *const *)b, "id");

	return x < y ? -1 : x > y;
}

/* Read and check one report. */
static json_t *load(const char *path)
{
	json_error_t e;
	FILE *f = fopen(path, "re");
	json_t *r;

	if (!f) {
		fprintf(stderr, "%s: error: cannot read: %s\n", path,
			strerror(errno));
		return NULL;
	}
	r = json_loadf(f, 0, &e);
	if (!r && ferror(f)) { /* a directory: EISDIR */
		fprintf(stderr, "%s: error: cannot read: %s\n", path,
			strerror(errno));
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (!r) {
		fprintf(stderr, "%s:%d:%d: error: %s\n", path, e.line, e.column,
			e.text);
		return NULL;
	}
	if (num(r, "fi_sweep") != 1 ||
	    !json_is_array(json_object_get(r, "runs")) ||
	    !json_is_array(json_object_get(r, "command"))) {
		fi__util_error(
			"--merge: %s is not the JSON report of fi-run --sweep (no fi_sweep, command or runs)",
			path);
		json_decref(r);
		return NULL;
	}
	return r;
}

static char *command_line(json_t *report)
{
	json_t *cmd = json_object_get(report, "command");
	char *s = json_dumps(cmd, JSON_COMPACT);

	return s ? s : fi__util_xstrdup("?");
}

int fi__sweep_merge(const struct fi__run_opts *o)
{
	const struct fi__sweep_opts *so = &o->sweep;
	json_t *first = NULL, *all = json_array(), **v, *r, *run;
	json_t *covs = json_array(); /* each report's "coverage" */
	struct fi__sweep_cov cv;
	json_int_t plan = 0;
	size_t i, n, main_runs = 0;
	int rc = 0;

	memset(&cv, 0, sizeof(cv));
	if (so->coverage && (rc = fi__sweep_cov_out(so, &cv))) {
		json_decref(all);
		json_decref(covs);
		fi__sweep_cov_free(&cv);
		return rc;
	}

	for (size_t f = 0; f < so->ninputs && !rc; f++) {
		if (!(r = load(so->inputs[f]))) {
			rc = FI_RUN_EXIT_USAGE;
			break;
		}
		if (!first) {
			first = r;
			plan = num(r, "plan_size");
		} else {
			if (!json_equal(json_object_get(r, "command"),
					json_object_get(first, "command")) ||
			    !json_equal(json_object_get(r, "workdir"),
					json_object_get(first, "workdir"))) {
				char *a = command_line(first),
				     *b = command_line(r);

				fi__util_error(
					"--merge: %s and %s are reports of different commands (%s and %s)",
					so->inputs[0], so->inputs[f], a, b);
				free(a);
				free(b);
				rc = FI_RUN_EXIT_USAGE;
			} else if (num(r, "plan_size") != plan) {
				fi__util_error(
					"--merge: %s and %s come from different plans (%lld and %lld runs): the program reached other sites, or --syscalls, --errnos or --max-runs differ",
					so->inputs[0], so->inputs[f],
					(long long)plan,
					(long long)num(r, "plan_size"));
				rc = FI_RUN_EXIT_USAGE;
			}
		}
		json_array_foreach(json_object_get(r, "runs"), i, run)
			json_array_append(all, run);
		json_array_append(covs, json_object_get(r, "coverage")
						? json_object_get(r, "coverage")
						: json_null());
		if (r != first)
			json_decref(r);
	}
	n = json_array_size(all);
	v = fi__util_xmalloc((n + 1) * sizeof(*v));
	json_array_foreach(all, i, run) v[i] = run;
	qsort(v, n, sizeof(*v), by_id);
	for (i = 0; !rc && i < n; i++) {
		if (i && num(v[i], "id") == num(v[i - 1], "id")) {
			fi__util_error(
				"--merge: run %lld is in two reports: was one shard merged twice?",
				(long long)num(v[i], "id"));
			rc = FI_RUN_EXIT_USAGE;
		}
		main_runs += num(v[i], "id") < plan;
	}
	if (!rc) {
		json_t *runs = json_array();

		for (i = 0; i < n; i++)
			json_array_append(runs, v[i]);
		json_object_set_new(first, "runs", runs);
		json_object_set_new(first, "shard", json_string("merged"));
		/* The shards' coverage directories are theirs, not this one's. */
		json_object_set_new(first, "coverage",
				    so->coverage ? json_string(so->coverage)
						 : json_null());
		json_object_set_new(first, "merged",
				    json_integer((json_int_t)so->ninputs));
		if (main_runs < (size_t)plan)
			fi__util_error(
				"warning: --merge: the reports hold %zu of the plan's %lld runs: a shard is missing",
				main_runs, (long long)plan);
		if (so->accept)
			rc = fi__sweep_accept_apply(first, so->accept);
	}
	if (!rc) {
		size_t failing = fi__sweep_report_summarize(first);

		rc = fi__sweep_report_write(first, so->json, so->junit,
					    o->quiet ? NULL : stdout,
					    o->verbose);
		if (!rc)
			rc = failing ? 1 : 0;
	}
	/* The coverage report comes last: its summary ends the run. */
	if ((rc == 0 || rc == 1) && so->coverage) {
		int crc = fi__sweep_cov_merge(&cv, so->inputs, covs, first,
					      o->quiet ? NULL : stdout);

		if (crc)
			rc = crc;
	}
	fi__sweep_cov_free(&cv);
	json_decref(covs);
	free(v);
	json_decref(all);
	json_decref(first);
	return rc;
}
