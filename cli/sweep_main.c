/* sweep_main.c: fi-run --sweep, the driver. Three baseline runs (the
 * first recorded: discovery), the plan, one run per fault (-j at a time),
 * a streak run after each transient errno that recovered, then the JSON
 * report every renderer reads, and the exit status.
 *
 * The stages overlap: the fault runs start as soon as the recorded run
 * has given the plan, behind the other two baseline runs; a fault run
 * that ends before those is classified once they have (their outputs
 * say what differs by itself). Sites are symbolized on a thread of their
 * own while the runs run. */
#include <errno.h>
#include <pthread.h>
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
	const struct fi__target *t;
	struct fi__sweep_exec x;
	struct fi__sweep_sites sites;
	struct fi__sweep_plan plan;
	struct fi__sweep_base base;
	struct fi__sweep_cov cov; /* --coverage; cov.dir NULL without */
	struct fi__sweep_job base_jobs[3];
	size_t base_started, base_ended;
	double slowest;	     /* of the baseline runs */
	double user_timeout; /* --timeout, or 0 */
	bool planned;	     /* the recorded run gave the plan */
	size_t next_run;     /* plan.v[next_run] starts next */
	/* fault runs that ended before the baseline did: classified then */
	struct fi__sweep_job **waiting;
	size_t nwaiting;
	pthread_t symbols;
	bool symbols_running;
	int rc; /* a baseline run failed, or discovery: the status */
	size_t done, total;
	double t0;
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
	size_t len;
	char *data = fi__sweep_slurp_file(&j->report, 1 << 20, &len), *line;
	long sum = -1;

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

/* The run's object in the report; after the symbols. */
static json_t *run_json(const struct ctx *c, const struct fi__sweep_run *r)
{
	const struct fi__sweep_site *s = &c->sites.v[r->site];
	static const char *const whens[] = {"1", "1+", "1..16"};
	char *rp = repro(r->rule, s->line_site, c->o);
	json_t *js = json_object();

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
	set_str(js, "outcome", fi__sweep_outcome_name(r->outcome));
	set_str(js, "detail", r->detail);
	json_object_set_new(js, "exit",
			    !r->timed_out && WIFEXITED(r->status)
				    ? json_integer(WEXITSTATUS(r->status))
				    : json_null());
	set_str(js, "signal",
		!r->timed_out && WIFSIGNALED(r->status)
			? fi__names_signal(WTERMSIG(r->status))
			: NULL);
	json_object_set_new(js, "fired",
			    r->fired >= 0 ? json_integer(r->fired)
					  : json_null());
	json_object_set_new(js, "seconds",
			    json_real((double)(long)(r->secs * 1000) / 1000));
	set_str(js, "repro", rp);
	json_object_set_new(js, "accepted", json_false());
	free(rp);
	return js;
}

/* A fault run that ended, against the complete baseline: its outcome,
 * its slot given back; a streak after a transient fault it recovered
 * from. */
static void finish_run(struct ctx *c, struct fi__sweep_job *j)
{
	size_t i = (uintptr_t)j->owner;
	struct fi__sweep_run *r = &c->plan.v[i];

	r->status = j->status;
	r->timed_out = j->timed_out;
	r->secs = j->secs;
	r->fired = j->timed_out ? -1 : fired(j);
	r->outcome = fi__sweep_classify(&c->base, j, &r->detail);
	r->ended = true;
	fi__sweep_release(&c->x, j);
	free(j->gcov);
	free(j);
	if (r->kind == FI_SWEEP_ONCE && fi__sweep_transient(r->err) &&
	    r->fired > 0 && r->outcome == FI_SWEEP_RECOVERED) {
		fi__sweep_plan_repeat(&c->plan, &c->sites, i);
		c->total++;
	}
	c->done++;
	progress(c);
}

/* The status when the runs stopped early: 128+N after signal N, 125
 * when a run could not start (the message is out). */
static int stopped(const struct ctx *c)
{
	return c->x.stop_signal ? 128 + c->x.stop_signal : FI_RUN_EXIT_USAGE;
}

/* Why a baseline run failed, with the end of its stderr; 125. */
static int baseline_failed(const struct fi__sweep_job *j, double timeout,
			   bool workdir)
{
	size_t len;
	char *err = fi__sweep_slurp_file(&j->err, 1 << 16, &len);

	if (j->timed_out)
		fi__util_error(
			"--sweep: the program did not end within %g s without any fault, so a sweep cannot start (raise --timeout)",
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

static void *symbolize_thread(void *arg)
{
	struct ctx *c = arg;

	symbolize(c, c->t);
	return NULL;
}

/* The recorded run ended well: its trace gives the sites, they give
 * the plan. 0 or a status. */
static int discover(struct ctx *c, const struct fi__sweep_job *j)
{
	char *trace = fi__util_xasprintf("%s/trace.jsonl", j->dir);
	int rc = fi__sweep_discover(trace, &c->sites);

	free(trace);
	if (rc)
		return rc;
	/* --coverage drops gcov's own sites by their function's name: the
	 * symbols come first. Else they come on a thread of their own. */
	if (c->cov.dir) {
		symbolize(c, c->t);
		fi__sweep_cov_drop_gcov(&c->sites);
	} else if (!pthread_create(&c->symbols, NULL, symbolize_thread, c)) {
		c->symbols_running = true;
	} else {
		symbolize(c, c->t);
	}
	rc = fi__sweep_plan(&c->sites, &c->o->sweep, &c->plan);
	c->planned = !rc;
	c->total = c->plan.n;
	return rc;
}

/* What the sweep says once its baseline is complete. */
static void announce(const struct ctx *c)
{
	const struct fi__sweep_opts *so = &c->o->sweep;
	char shard[32];

	if (c->o->quiet)
		return;
	snprintf(shard, sizeof(shard), "%u/%u", so->shard_k, so->shard_n);
	fprintf(stderr,
		"fi-run: sweep: %zu sites reached (%zu calls), %zu faults planned%s%s, -j %u, timeout %.1f s\n",
		c->sites.n, (size_t)c->sites.calls, c->plan.n,
		so->shard_n ? " in shard " : "", so->shard_n ? shard : "",
		c->x.jobs, c->x.timeout);
}

/* Baseline run i ended: a failure stops the sweep; else its outputs
 * are kept. Once all three have, the runs that waited are classified
 * and hangs get the sweep's timeout. */
static void baseline_ended(struct ctx *c, struct fi__sweep_job *j, size_t i)
{
	size_t len;

	if (j->timed_out || !WIFEXITED(j->status) || WEXITSTATUS(j->status)) {
		c->rc = baseline_failed(j, c->x.timeout, c->x.workdir != NULL);
		c->x.stop = true;
		return;
	}
	if (j->secs > c->slowest)
		c->slowest = j->secs;
	c->base.err[i] = fi__sweep_slurp_file(&j->err, 1 << 20, &len);
	fi__sweep_snap_take(j, &c->base.snap[i]);
	if (i == 0 && (c->rc = discover(c, j))) {
		c->x.stop = true;
		return;
	}
	fi__sweep_release(&c->x, j);
	if (++c->base_ended < 3)
		return;
	c->base.n = 3;
	/* Hangs cost a whole timeout: ten times the slowest baseline run,
	 * and at least 5 s, unless --timeout says. */
	c->x.timeout = c->user_timeout > 0   ? c->user_timeout
		       : c->slowest * 10 > 5 ? c->slowest * 10
					     : 5;
	announce(c);
	c->t0 = now();
	for (size_t k = 0; k < c->nwaiting; k++)
		finish_run(c, c->waiting[k]);
	c->nwaiting = 0;
}

/* x.next: the baseline runs, then each fault of the plan, then the
 * streaks that the faults' outcomes add. */
static struct fi__sweep_job *next_job(void *arg)
{
	struct ctx *c = arg;
	struct fi__sweep_job *j;
	struct fi__sweep_run *r;

	if (c->rc)
		return NULL;
	if (c->base_started < 3)
		return &c->base_jobs[c->base_started++];
	if (!c->planned || c->next_run >= c->plan.n)
		return NULL;
	r = &c->plan.v[c->next_run];
	j = fi__util_xmalloc(sizeof(*j));
	memset(j, 0, sizeof(*j));
	j->rules = r->rule;
	j->owner = (void *)(uintptr_t)c->next_run++;
	if (c->cov.dir) {
		char name[32];

		snprintf(name, sizeof(name), "run-%zu", r->id);
		j->gcov = fi__sweep_cov_tree(&c->cov, name);
	}
	return j;
}

/* x.done */
static void job_ended(struct fi__sweep_job *j, void *arg)
{
	struct ctx *c = arg;

	if (j >= c->base_jobs && j < c->base_jobs + 3) {
		baseline_ended(c, j, (size_t)(j - c->base_jobs));
	} else if (c->base_ended < 3) {
		c->waiting = realloc(c->waiting,
				     (c->nwaiting + 1) * sizeof(*c->waiting));
		if (!c->waiting) {
			fi__util_error("out of memory");
			exit(FI_RUN_EXIT_USAGE);
		}
		c->waiting[c->nwaiting++] = j;
	} else {
		finish_run(c, j);
	}
}

/* The baseline, the plan and every run. 0 or a status. */
static int run_all(struct ctx *c)
{
	int rc;

	memset(c->base_jobs, 0, sizeof(c->base_jobs));
	c->base_jobs[0].record = true;
	for (size_t i = 0; i < 3 && c->cov.dir; i++) {
		char name[16];

		snprintf(name, sizeof(name), "base/%zu", i);
		c->base_jobs[i].gcov = fi__sweep_cov_tree(&c->cov, name);
	}
	c->user_timeout = c->x.timeout;
	if (c->x.timeout <= 0)
		c->x.timeout = BASELINE_TIMEOUT;
	c->x.next = next_job;
	c->x.done = job_ended;
	c->x.arg = c;
	c->x.no_server = c->cov.dir != NULL;
	rc = fi__sweep_exec_run(&c->x);
	for (size_t i = 0; i < 3; i++)
		free(c->base_jobs[i].gcov);
	/* runs killed before they were classified */
	for (size_t i = 0; i < c->nwaiting; i++)
		free(c->waiting[i]->gcov), free(c->waiting[i]);
	free(c->waiting);
	c->waiting = NULL;
	c->nwaiting = 0;
	if (c->symbols_running) {
		pthread_join(c->symbols, NULL);
		c->symbols_running = false;
	}
	if (c->rc)
		return c->rc;
	if (rc)
		return stopped(c);
	qsort(c->plan.v, c->plan.n, sizeof(*c->plan.v), by_id);
	return 0;
}

/* The baseline's object in the report. */
static json_t *baseline_json(const struct ctx *c)
{
	json_t *b = json_object();

	json_object_set_new(b, "exit", json_integer(0));
	json_object_set_new(b, "runs", json_integer(3));
	json_object_set_new(
		b, "seconds",
		json_real((double)(long)(c->slowest * 1000) / 1000));
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
	return b;
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
	c.t = t;
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

	rc = run_all(&c);
	if (!rc) {
		json_object_set_new(report, "baseline", baseline_json(&c));
		json_object_set_new(report, "sites", sites_json(&c.sites));
		json_object_set_new(report, "plan_size",
				    json_integer((json_int_t)c.plan.total));
		json_object_set_new(report, "timeout", json_real(c.x.timeout));
		runs = json_array();
		for (size_t i = 0; i < c.plan.n; i++)
			if (c.plan.v[i].ended) {
				c.plan.v[i].result = run_json(&c, &c.plan.v[i]);
				json_array_append(runs, c.plan.v[i].result);
			}
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
