/* sweep_main.c: fi-run --sweep, the driver. Three baseline runs (the
 * first recorded: discovery), the plan, one run per fault (-j at a time),
 * a streak run after each transient errno that recovered, then the JSON
 * report every renderer reads, and the exit status. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libsearch.h"
#include "names.h"
#include "scratch.h"
#include "sweep.h"
#include "symbols.h"

#define BASELINE_TIMEOUT 120.0 /* seconds, when --timeout is not given */

struct ctx {
	const struct fi__run_opts *o;
	struct fi__sweep_exec x;
	struct fi__sweep_sites sites;
	struct fi__sweep_plan plan;
	struct fi__sweep_base base;
	struct fi__sweep_cov cov; /* --coverage; cov.dir NULL without */
	size_t done, total;
	double t0, last_line;
	bool tty;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A bar with an ETA on a terminal; a line every tenth otherwise. */
static void progress(struct ctx *c)
{
	double el = now() - c->t0;
	double eta =
		c->done ? el / (double)c->done * (double)(c->total - c->done)
			: 0;
	unsigned width = 30,
		 fill = c->total ? (unsigned)(width * c->done / c->total)
				 : width;
	char bar[64];

	if (c->o->quiet)
		return;
	if (c->tty) {
		for (unsigned i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[width] = '\0';
		fprintf(stderr,
			"\rfi-run: sweep [%s] %zu/%zu runs, ETA %d:%02d ", bar,
			c->done, c->total, (int)eta / 60, (int)eta % 60);
		if (c->done == c->total)
			fputc('\n', stderr);
	} else if (c->done == c->total ||
		   c->done * 10 / c->total != (c->done - 1) * 10 / c->total) {
		fprintf(stderr,
			"fi-run: sweep: %zu/%zu runs, %.0f s, ETA %.0f s\n",
			c->done, c->total, el, eta);
	}
	fflush(stderr);
}

/* The rule's fired count from the run's report; -1 when none came. */
static long fired(const struct fi__sweep_job *j)
{
	size_t n = strlen(j->dir) + 8, len;
	char *path = fi__util_xmalloc(n), *data, *line;
	long sum = -1;

	snprintf(path, n, "%s/report", j->dir);
	data = fi__sweep_slurp(path, 1 << 20, &len);
	free(path);
	for (line = data; line && *line;
	     line += strcspn(line, "\n"), line += *line == '\n') {
		json_t *r = json_loadb(line, strcspn(line, "\n"), 0, NULL);
		json_t *f = json_object_get(r, "fired");

		if (json_is_integer(f))
			sum = (sum < 0 ? 0 : sum) + (long)json_integer_value(f);
		json_decref(r);
	}
	free(data);
	return sum;
}

/* The rule with its site= value replaced by line_site (NULL: as it is);
 * a new string. */
static char *repro_rule(const char *rule, const char *line_site)
{
	const char *p = strstr(rule, " site="), *e;

	if (!line_site || !p)
		return fi__util_xstrdup(rule);
	e = p + strcspn(p + 1, " ") + 1;
	return fi__util_xasprintf("%.*s site=%s%s", (int)(p - rule), rule,
				  line_site, e);
}

/* The one-line repro: fi-run -r 'RULE' -- PROGRAM ARGS, with {} as ".",
 * the site as FILE:LINE when that names it alone (then with the sweep's
 * --lib options, where FILE:LINE may be). */
static char *repro(const char *rule, const char *line_site,
		   const struct fi__run_opts *o)
{
	char **v = fi__sweep_expand(o->argv, ".");
	size_t n = 0, k = 0, nl = line_site ? o->nlibs : 0;
	char *rr = repro_rule(rule, line_site);
	char **q, *rq = fi__sweep_quote(rr), *line;
	const char **parts;

	while (v[n])
		n++;
	q = fi__util_xmalloc((n + nl + 1) * sizeof(*q));
	parts = fi__util_xmalloc((n + 2 * nl + 4) * sizeof(*parts));
	parts[k++] = "fi-run";
	for (size_t i = 0; i < nl; i++) {
		parts[k++] = "--lib";
		parts[k++] = q[n + i] = fi__sweep_quote(o->libs[i]);
	}
	parts[k++] = "-r";
	parts[k++] = rq;
	parts[k++] = "--";
	for (size_t i = 0; i < n; i++)
		parts[k++] = q[i] = fi__sweep_quote(v[i]);
	line = fi__util_join(parts, k, " ");
	for (size_t i = 0; i < n + nl; i++)
		free(q[i]);
	free(q);
	free(parts);
	free(rq);
	free(rr);
	fi__sweep_strv_free(v);
	return line;
}

/* v as a JSON string; bytes of a program's output that are not UTF-8
 * read as '?'. */
static void set_str(json_t *o, const char *k, const char *v)
{
	json_t *j = v ? json_string(v) : json_null();

	if (!j) {
		char *c = fi__util_xstrdup(v);

		for (char *p = c; *p; p++)
			if ((unsigned char)*p >= 0x80 ||
			    (unsigned char)*p < 0x20)
				*p = '?';
		j = json_string(c);
		free(c);
	}
	json_object_set_new(o, k, j);
}

static void run_done(struct fi__sweep_job *j, void *arg)
{
	struct ctx *c = arg;
	struct fi__sweep_run *r = &c->plan.v[(uintptr_t)j->owner];
	const struct fi__sweep_site *s = &c->sites.v[r->site];
	static const char *const whens[] = {"1", "1+", "1..16"};
	enum fi__sweep_outcome o;
	char *detail, *rp;
	json_t *js;

	if (c->x.stop_signal)
		return;
	r->status = j->status;
	r->timed_out = j->timed_out;
	r->secs = j->secs;
	r->fired = j->timed_out ? -1 : fired(j);
	o = fi__sweep_classify(&c->base, j, &detail);
	rp = repro(r->rule, s->line_site, c->o);
	js = json_object();
	json_object_set_new(js, "id", json_integer((json_int_t)r->id));
	set_str(js, "syscall", s->syscall);
	set_str(js, "errno", r->err);
	json_object_set_new(js, "nth", json_integer(1));
	set_str(js, "when", whens[r->kind]);
	set_str(js, "site", s->site);
	set_str(js, "file", s->file);
	json_object_set_new(js, "line",
			    s->line ? json_integer(s->line) : json_null());
	set_str(js, "function", s->function);
	set_str(js, "rule", r->rule);
	set_str(js, "outcome", fi__sweep_outcome_name(o));
	set_str(js, "detail", detail);
	json_object_set_new(js, "exit",
			    !j->timed_out && WIFEXITED(j->status)
				    ? json_integer(WEXITSTATUS(j->status))
				    : json_null());
	set_str(js, "signal",
		!j->timed_out && WIFSIGNALED(j->status)
			? fi__names_signal(WTERMSIG(j->status))
			: NULL);
	json_object_set_new(js, "fired",
			    r->fired >= 0 ? json_integer(r->fired)
					  : json_null());
	json_object_set_new(js, "seconds",
			    json_real((double)(long)(j->secs * 1000) / 1000));
	set_str(js, "repro", rp);
	json_object_set_new(js, "accepted", json_false());
	r->result = js;
	free(detail);
	free(rp);
	fi__sweep_release(&c->x, j);
	c->done++;
	progress(c);
}

/* The status when the runs stopped early: 128+N after signal N, 125
 * when a run could not start (the message is out). */
static int stopped(const struct ctx *c)
{
	return c->x.stop_signal ? 128 + c->x.stop_signal : FI_RUN_EXIT_USAGE;
}

/* Run plan.v[from..to) as jobs. */
static int run_range(struct ctx *c, size_t from, size_t to)
{
	struct fi__sweep_job *jobs = calloc(to - from + 1, sizeof(*jobs));
	int rc;

	for (size_t i = from; i < to; i++) {
		jobs[i - from].rules = c->plan.v[i].rule;
		jobs[i - from].owner = (void *)(uintptr_t)i;
		if (c->cov.dir) {
			char name[32];

			snprintf(name, sizeof(name), "run-%zu",
				 c->plan.v[i].id);
			jobs[i - from].gcov = fi__sweep_cov_tree(&c->cov, name);
		}
	}
	c->x.done = run_done;
	c->x.arg = c;
	rc = fi__sweep_exec_all(&c->x, jobs, to - from);
	for (size_t i = 0; i < to - from; i++)
		free(jobs[i].gcov);
	free(jobs);
	return rc;
}

/* Why a baseline run failed, with the end of its stderr; 125. */
static int baseline_failed(const struct fi__sweep_job *j, double timeout,
			   bool workdir)
{
	size_t n = strlen(j->dir) + 5, len;
	char *path = fi__util_xmalloc(n), *err;

	snprintf(path, n, "%s/err", j->dir);
	err = fi__sweep_slurp(path, 1 << 16, &len);
	free(path);
	if (j->timed_out)
		fi__util_error(
			"--sweep: the program did not end within %.0f s without any fault, so a sweep cannot start (raise --timeout)",
			timeout);
	else if (WIFSIGNALED(j->status))
		fi__util_error(
			"--sweep: the program was killed by signal %d (%s) without any fault, so a sweep has nothing to compare with",
			WTERMSIG(j->status),
			fi__names_signal(WTERMSIG(j->status))
				? fi__names_signal(WTERMSIG(j->status))
				: "?");
	else
		fi__util_error(
			"--sweep: the program exits %d without any fault, so a sweep has nothing to compare with; it must exit 0 first",
			WEXITSTATUS(j->status));
	if (err && *err) {
		const char *tail = len > 2000 ? err + len - 2000 : err;

		fprintf(stderr, "fi-run: its stderr:\n%s%s", tail,
			err[len - 1] == '\n' ? "" : "\n");
	}
	free(err);
	if (!workdir && !j->timed_out)
		fi__util_error(
			"--sweep: each run starts in an empty scratch directory of its own; give the files the program needs with --workdir DIR (copied for each run) or absolute paths");
	return FI_RUN_EXIT_USAGE;
}

/* The three baseline runs; the first is recorded. 0 or a status. */
static int baseline(struct ctx *c, json_t *report)
{
	struct fi__sweep_job jobs[3];
	double slowest = 0, timeout = c->x.timeout;
	size_t len;
	char *trace;
	json_t *b;
	int rc = 0;

	memset(jobs, 0, sizeof(jobs));
	jobs[0].record = true;
	for (size_t i = 0; i < 3 && c->cov.dir; i++) {
		char name[16];

		snprintf(name, sizeof(name), "base/%zu", i);
		jobs[i].gcov = fi__sweep_cov_tree(&c->cov, name);
	}
	c->x.done = NULL;
	if (timeout <= 0)
		c->x.timeout = BASELINE_TIMEOUT;
	if (fi__sweep_exec_all(&c->x, jobs, 3))
		rc = stopped(c);
	for (size_t i = 0; i < 3 && !rc; i++) {
		if (jobs[i].timed_out || !WIFEXITED(jobs[i].status) ||
		    WEXITSTATUS(jobs[i].status))
			rc = baseline_failed(&jobs[i], c->x.timeout,
					     c->x.workdir != NULL);
		if (jobs[i].secs > slowest)
			slowest = jobs[i].secs;
	}
	if (!rc) {
		c->base.n = 3;
		for (size_t i = 0; i < 3; i++) {
			size_t n = strlen(jobs[i].dir) + 5;
			char *p = fi__util_xmalloc(n);

			snprintf(p, n, "%s/err", jobs[i].dir);
			c->base.err[i] = fi__sweep_slurp(p, 1 << 20, &len);
			free(p);
			fi__sweep_snap_take(&jobs[i], &c->base.snap[i]);
		}
		trace = fi__util_xmalloc(strlen(jobs[0].dir) + 16);
		sprintf(trace, "%s/trace.jsonl", jobs[0].dir);
		rc = fi__sweep_discover(trace, &c->sites);
		free(trace);
	}
	/* Hangs cost a whole timeout: ten times the slowest baseline run,
	 * and at least 5 s, unless --timeout says. */
	c->x.timeout = timeout > 0	  ? timeout
		       : slowest * 10 > 5 ? slowest * 10
					  : 5;
	if (!rc) {
		b = json_object();
		json_object_set_new(b, "exit", json_integer(0));
		json_object_set_new(b, "runs", json_integer(3));
		json_object_set_new(
			b, "seconds",
			json_real((double)(long)(slowest * 1000) / 1000));
		json_object_set_new(b, "outputs",
				    fi__sweep_snap_digests(&c->base.snap[0]));
		json_object_set_new(b, "masked",
				    fi__sweep_snap_masked(c->base.snap, 3));
		json_object_set_new(b, "calls",
				    json_integer((json_int_t)c->sites.calls));
		json_object_set_new(b, "calls_without_site",
				    json_integer((json_int_t)c->sites.no_site));
		json_object_set_new(b, "calls_from_runtime",
				    json_integer((json_int_t)c->sites.runtime));
		json_object_set_new(report, "baseline", b);
	}
	for (size_t i = 0; i < 3; i++) {
		if (jobs[i].dir)
			fi__sweep_release(&c->x, &jobs[i]);
		free(jobs[i].gcov);
	}
	return rc;
}

/* Whether a site is in the object whose file is `path`. */
static bool site_in(const struct fi__sweep_sites *s, const char *path)
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(b);

	for (size_t i = 0; i < s->n; i++)
		if (!strncmp(s->v[i].site, b, n) &&
		    !strncmp(s->v[i].site + n, "+0x", 3))
			return true;
	return false;
}

/* Function, file and line of each site, and the FILE:LINE its repro
 * names it by. A site in a library the program dlopen()ed is found in
 * the libraries the trace saw opened, --lib, or the program's directory
 * tree; its repro names FILE:LINE only when fi-run -r finds that
 * library too (the last two: fi__libs_search). */
static void symbolize(struct ctx *c, const struct fi__target *t)
{
	char **found = fi__libs_search(t->path, c->o->libs, c->o->nlibs);
	size_t nf = 0, nt = 0;
	char **all;
	struct fi__lines *lines;

	while (found[nf])
		nf++;
	while (c->sites.libs && c->sites.libs[nt])
		nt++;
	all = fi__util_xmalloc((nf + nt + 1) * sizeof(*all));
	for (size_t i = 0; i < nt; i++)
		all[i] = c->sites.libs[i];
	for (size_t i = 0; i <= nf; i++)
		all[nt + i] = found[i];
	fi__sweep_symbolize(&c->sites, t, all);
	free(all);
	lines = fi__lines_open(t, c->o->argv[0]);
	for (size_t i = 0; i < nf; i++)
		if (site_in(&c->sites, found[i]))
			fi__lines_add(lines, found[i]);
	for (size_t i = 0; i < c->sites.n; i++)
		c->sites.v[i].line_site =
			fi__sweep_site_line(lines, &c->sites, i);
	fi__lines_close(lines);
	fi__libs_free(found);
}

static json_t *sites_json(const struct fi__sweep_sites *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n; i++) {
		json_t *o = json_object();

		set_str(o, "syscall", s->v[i].syscall);
		set_str(o, "site", s->v[i].site);
		set_str(o, "file", s->v[i].file);
		json_object_set_new(o, "line",
				    s->v[i].line ? json_integer(s->v[i].line)
						 : json_null());
		set_str(o, "function", s->v[i].function);
		json_object_set_new(o, "count",
				    json_integer((json_int_t)s->v[i].count));
		json_object_set_new(
			o, "swept",
			json_boolean(fi__sweep_site_swept(&s->v[i])));
		json_array_append_new(a, o);
	}
	return a;
}

static int by_id(const void *a, const void *b)
{
	const struct fi__sweep_run *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The faults, then a streak after each transient one that recovered. */
static int run_plan(struct ctx *c)
{
	size_t n = c->plan.n;

	c->total = n;
	c->t0 = now();
	if (n && run_range(c, 0, n))
		return stopped(c);
	for (size_t i = 0; i < n; i++) {
		struct fi__sweep_run *r = &c->plan.v[i];
		const char *o = json_string_value(
			json_object_get(r->result, "outcome"));

		if (r->kind == FI_SWEEP_ONCE && fi__sweep_transient(r->err) &&
		    r->fired > 0 && o && !strcmp(o, "recovered"))
			fi__sweep_plan_repeat(&c->plan, &c->sites, i);
	}
	c->total = c->plan.n;
	if (c->plan.n > n && run_range(c, n, c->plan.n))
		return stopped(c);
	qsort(c->plan.v, c->plan.n, sizeof(*c->plan.v), by_id);
	return 0;
}

int fi__sweep(const struct fi__run_opts *o, const struct fi__target *t,
	      const struct fi__launch_env *env)
{
	const struct fi__sweep_opts *so = &o->sweep;
	struct ctx c;
	struct fi__target tt;
	char root[4096], shard[32];
	json_t *report = json_object(), *cmd = json_array(), *runs;
	size_t failing;
	int rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.tty = isatty(2);
	snprintf(root, sizeof(root), "%s/fi-sweep.XXXXXX", fi__scratch_dir());
	if (!mkdtemp(root)) {
		fi__util_error("--sweep: cannot make a directory in %s: %s",
			       fi__scratch_dir(), strerror(errno));
		json_decref(report);
		json_decref(cmd);
		return FI_RUN_EXIT_USAGE;
	}
	memset(&tt, 0, sizeof(tt));
	/* Each run starts in its own directory: a relative path would not
	 * name the program there. */
	tt = *t;
	tt.path = fi__util_abspath(t->path);
	c.x.t = &tt;
	c.x.argv = o->argv;
	c.x.env = env;
	c.x.root = root;
	c.x.workdir = so->workdir;
	c.x.jobs = so->jobs ? so->jobs : 1;
	c.x.timeout = so->timeout;
	c.x.verbose = o->verbose;
	if (so->coverage && (rc = fi__sweep_cov_check(so, t, root, &c.cov))) {
		fi__sweep_rmtree(root);
		free(tt.path);
		json_decref(report);
		json_decref(cmd);
		return rc;
	}

	json_object_set_new(report, "fi_sweep", json_integer(1));
	for (size_t i = 0; o->argv[i]; i++)
		json_array_append_new(cmd, json_string(o->argv[i]));
	json_object_set_new(report, "command", cmd);
	set_str(report, "workdir", so->workdir);
	snprintf(shard, sizeof(shard), "%u/%u", so->shard_n ? so->shard_k : 1,
		 so->shard_n ? so->shard_n : 1);
	set_str(report, "shard", shard);
	/* where --merge --coverage finds this shard's tracefiles */
	set_str(report, "coverage", so->coverage);

	rc = baseline(&c, report);
	if (!rc) {
		symbolize(&c, t);
		if (c.cov.dir)
			fi__sweep_cov_drop_gcov(&c.sites);
		json_object_set_new(report, "sites", sites_json(&c.sites));
		rc = fi__sweep_plan(&c.sites, so, &c.plan);
	}
	if (!rc) {
		json_object_set_new(report, "plan_size",
				    json_integer((json_int_t)c.plan.total));
		json_object_set_new(report, "timeout", json_real(c.x.timeout));
		if (!o->quiet)
			fprintf(stderr,
				"fi-run: sweep: %zu sites reached (%zu calls), %zu faults planned%s%s, -j %u, timeout %.1f s\n",
				c.sites.n, (size_t)c.sites.calls, c.plan.n,
				so->shard_n ? " in shard " : "",
				so->shard_n ? shard : "", c.x.jobs,
				c.x.timeout);
		rc = run_plan(&c);
	}
	if (!rc) {
		runs = json_array();
		for (size_t i = 0; i < c.plan.n; i++)
			if (c.plan.v[i].result)
				json_array_append(runs, c.plan.v[i].result);
		json_object_set_new(report, "runs", runs);
		if (so->accept)
			rc = fi__sweep_accept_apply(report, so->accept);
	}
	if (!rc) {
		failing = fi__sweep_report_summarize(report);
		/* What --write-accept writes is accepted from now on. */
		if (so->write_accept &&
		    !(rc = fi__sweep_accept_write(report, so->write_accept)))
			failing = fi__sweep_report_summarize(report);
		if (!rc)
			rc = fi__sweep_report_write(report, so->json, so->junit,
						    o->quiet ? NULL : stdout,
						    o->verbose);
		if (!rc)
			rc = failing ? 1 : 0;
	}
	fi__sweep_exec_end(&c.x);
	/* The coverage report comes last: its summary ends the run. */
	if ((rc == 0 || rc == 1) && c.cov.dir) {
		int crc = fi__sweep_cov_tracefiles(&c.cov, report);

		if (!crc)
			crc = fi__sweep_cov_html(&c.cov, report);
		if (!crc)
			crc = fi__sweep_cov_paths(&c.cov, report,
						  o->quiet ? NULL : stdout);
		if (crc)
			rc = crc;
	}
	fi__sweep_rmtree(root);
	fi__sweep_exec_free(&c.x);
	free(tt.path);
	for (size_t i = 0; i < c.base.n; i++) {
		fi__sweep_snap_free(&c.base.snap[i]);
		free(c.base.err[i]);
	}
	fi__sweep_cov_free(&c.cov);
	fi__sweep_plan_free(&c.plan);
	fi__sweep_sites_free(&c.sites);
	json_decref(report);
	return rc;
}
