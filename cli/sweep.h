/* sweep.h: fi-run --sweep (docs/sweep.md). The stages, one file each:
 *   sweep_main.c      the driver: baseline, plan, runs, report, status
 *   sweep_discover.c  the recorded run's trace -> (syscall, site) pairs
 *   sweep_errnos.c    which errnos each syscall can return, ranked
 *   sweep_plan.c      sites x errnos -> one rule per run; filters, shards
 *   sweep_exec.c      runs in parallel: scratch dirs, {}, timeouts, pgids
 *   sweep_outputs.c   what a run left (stdout, files) and the masked diff
 *   sweep_classify.c  a run against the baseline -> an outcome
 *   symbols.c         sites -> function, file and line (libdw)
 *   sweep_report.c    the JSON report -> JUnit XML and the terminal table
 *   sweep_accept.c    --accept and --write-accept
 *   sweep_merge.c     fi-run --merge of shard reports
 *   sweep_cov_check.c --coverage: the program's .gcno files, gcovr, DIR
 *   sweep_cov_gcovr.c --coverage: each run's .gcda tree -> a tracefile
 *                     (gcovr JSON); the tracefiles -> gcovr's HTML
 *   sweep_cov_paths.c --coverage: tracefiles -> error-paths.json, totals
 *   sweep_cov_sites.c --coverage: never-reached lines by the site that
 *                     leads there; error-paths.txt
 *   sweep_cov_merge.c --merge --coverage: the shards' tracefiles, one
 *                     report
 * The JSON report (jansson) is the unit every renderer reads. */
#ifndef FI_RUN_SWEEP_H
#define FI_RUN_SWEEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "fi_run.h"
#include "launch.h"
#include "target.h"

#include "sweep_errnos.h"

/* --- discovery (sweep_discover.c) --- */

struct fi__sweep_site {
	char *syscall;
	char *site;	       /* object+0xoffset */
	char *line_site;       /* FILE:LINE naming only this site, or NULL */
	unsigned long count;   /* calls in the recorded run */
	char *function, *file; /* NULL until symbolized, or when unknown */
	unsigned line;
	struct fi__sweep_call call; /* its first call; call.path is owned */
};

struct fi__sweep_sites {
	struct fi__sweep_site *v;
	size_t n, cap;
	unsigned long calls;   /* records read */
	unsigned long no_site; /* calls whose stack could not be walked */
	unsigned long runtime; /* calls from ld.so, libc or libfi itself */
	char **libs; /* libraries the run opened (absolute paths), NULL-ended */
};

/* Read a trace into its (syscall, site) pairs, in order of first
 * appearance, each with the arguments of its first call. Returns 0, or
 * 125 after a message. */
int fi__sweep_discover(const char *trace, struct fi__sweep_sites *out);
void fi__sweep_sites_free(struct fi__sweep_sites *s);

/* --- symbols (symbols.c) --- */

/* Fill function, file and line where DWARF allows. `elf` is the
 * program's ELF (t->elf); libraries are found as the loader would, else
 * among `libs` by file name (libraries the program may dlopen(): from
 * the trace, --lib, its directory tree; NULL-ended, or NULL). */
void fi__sweep_symbolize(struct fi__sweep_sites *s, const struct fi__target *t,
			 char *const *libs);
struct fi__lines;
/* The site= value repro lines give site i: "file.c:42" (or the file's
 * whole path) when that line's code holds site i and no other site of
 * the same syscall, so that the rule fails the same calls; else NULL
 * (object+0xoffset it is). A new string. */
char *fi__sweep_site_line(struct fi__lines *l, const struct fi__sweep_sites *s,
			  size_t i);

/* A run's outcome (sweep_classify.c) */
enum fi__sweep_outcome {
	FI_SWEEP_HANDLED,
	FI_SWEEP_RECOVERED,
	FI_SWEEP_IGNORED,
	FI_SWEEP_CRASH,
	FI_SWEEP_HANG,
	FI_SWEEP_SANITIZER,
	FI_SWEEP_NOUTCOMES
};

/* --- the plan (sweep_plan.c) --- */

enum fi__sweep_kind {
	FI_SWEEP_ONCE,	     /* the first occurrence fails */
	FI_SWEEP_PERSISTENT, /* every occurrence from the first on */
	FI_SWEEP_REPEAT,     /* a streak, after a transient errno recovered */
};
#define FI_SWEEP_STREAK 16 /* the streak of a FI_SWEEP_REPEAT run */

struct fi__sweep_run {
	size_t id;   /* index in the whole plan; repeats: plan size + parent */
	size_t site; /* index in the sites */
	const char *err;
	enum fi__sweep_kind kind;
	char *rule;
	/* results, filled by exec and classify */
	int status; /* wait status */
	bool timed_out;
	double secs;
	long fired; /* from the run's report; -1: unknown */
	bool ended; /* classified: outcome and detail are set */
	enum fi__sweep_outcome outcome;
	char *detail;
	json_t *result; /* the run's object in the report */
};

struct fi__sweep_plan {
	struct fi__sweep_run *v;
	size_t n, cap;
	size_t total; /* runs in the whole plan, before --shard */
};

/* Every site x its errnos, ranked (the first errno of every site, then
 * the second...), narrowed by --syscalls/--errnos, cut at --max-runs,
 * then the shard's slice: run i goes to shard (i mod N) + 1. Returns 0
 * or 125 after a message (an unknown name in --syscalls, say). */
int fi__sweep_plan(const struct fi__sweep_sites *s,
		   const struct fi__sweep_opts *o, struct fi__sweep_plan *p);
/* Whether any errno of the site's syscall fits its call (sweep.json's
 * "swept"). */
bool fi__sweep_site_swept(const struct fi__sweep_site *s);
/* Append the streak run of a transient fault that recovered. */
struct fi__sweep_run *fi__sweep_plan_repeat(struct fi__sweep_plan *p,
					    const struct fi__sweep_sites *s,
					    size_t parent);
void fi__sweep_plan_free(struct fi__sweep_plan *p);

/* --- running (sweep_exec.c) --- */

/* A run's stdout, stderr or report: a memfd of fi-run's, which the run
 * opens by its /proc path, or a file (fd -1). */
struct fi__sweep_file {
	const char *path;
	int fd;
};

/* One program run: what it is given and how it ended. */
struct fi__sweep_job {
	const char *rules; /* FI_RULES, or NULL */
	bool record;	   /* write a trace to dir/trace.jsonl */
	char *gcov;	   /* GCOV_PREFIX (--coverage), or NULL; caller's */
	void *owner;	   /* the caller's */
	/* filled */
	const char *dir;  /* its scratch slot: work/ (and a trace) */
	const char *work; /* its working directory, what {} names */
	/* its stdout, stderr and libfi's report */
	struct fi__sweep_file out, err, report;
	size_t slot;
	pid_t pid;
	int status;
	bool timed_out;
	double secs;
};

struct fi__sweep_slot;

struct fi__sweep_exec {
	const struct fi__target *t;
	char **argv;			  /* with {} unexpanded */
	const struct fi__launch_env *env; /* preload, audit, tunables */
	const char *root;		  /* the sweep's scratch root */
	const char *workdir; /* --workdir, copied per run; or NULL */
	unsigned jobs;
	double timeout;
	struct fi__sweep_slot *slots; /* ROOT/slot-K, reused (sweep_exec.c) */
	size_t nslots;
	bool verbose;
	bool no_server; /* every run is exec'd (--coverage) */
	/* the fork server (sweep_server.c), started beside the first run;
	 * NULL when none could start or serve */
	struct fi__sweep_server *server;
	bool server_tried;
	int stop_signal; /* set when a signal ended the sweep */
	/* The next job to start, asked whenever a run may start; NULL when
	 * there is none now (done may make more). */
	struct fi__sweep_job *(*next)(void *arg);
	/* called in the parent as each job ends; it may set stop */
	void (*done)(struct fi__sweep_job *j, void *arg);
	void *arg;
	bool stop; /* the runs still running are killed, no more start */
};

/* Run the jobs x->next gives, at most x->jobs at a time, each in its own
 * process group, killed with it after x->timeout seconds (read anew as
 * they run), until none runs and x->next gives none. Returns 0, or -1
 * when a run could not start (after a message), when done set x->stop,
 * or when SIGINT, SIGTERM or SIGHUP stopped the sweep (x->stop_signal);
 * every started group is killed and reaped by then. */
int fi__sweep_exec_run(struct fi__sweep_exec *x);
/* Give a job's slot back once its outputs are read: its files go, its
 * work/ is emptied for the next run. */
void fi__sweep_release(struct fi__sweep_exec *x, const struct fi__sweep_job *j);
/* Free the slots' names (the directories go with the root). */
void fi__sweep_exec_free(struct fi__sweep_exec *x);
/* Stop the fork server, if one was started. */
void fi__sweep_exec_end(struct fi__sweep_exec *x);

/* --- the fork server (sweep_server.c) --- */

struct fi__sweep_server;
/* Start the program as a fork server for x's runs, without waiting for
 * it; NULL (and every run exec'd) when it cannot start. mask: the runs'
 * signal mask. */
struct fi__sweep_server *fi__sweep_server_start(const struct fi__sweep_exec *x,
						const sigset_t *mask);
/* Whether the server answered that it serves; waits for its first
 * answer (its start) once. When false, stop it: every run is exec'd. */
bool fi__sweep_server_ready(struct fi__sweep_server *s, bool verbose);
/* A run forked by the server, a child of fi-run's, in its own process
 * group: its pid, or -1 with errno (the server is then of no more use). */
pid_t fi__sweep_server_fork(struct fi__sweep_server *s, const char *rules,
			    const char *report, const char *work,
			    const char *out, const char *err);
void fi__sweep_server_stop(struct fi__sweep_server *s);

/* The argument vector with every {} replaced by `work`. */
char **fi__sweep_expand(char *const *argv, const char *work);
void fi__sweep_strv_free(char **v);
/* rm -r; quiet. */
void fi__sweep_rmtree(const char *path);

/* --- outputs (sweep_outputs.c) --- */

/* One output of a run: stdout, or a file of its working directory. */
struct fi__sweep_blob {
	char *name; /* "stdout", or the file's path under the work dir */
	char *data; /* the run's own work dir path replaced by "{}" */
	size_t len;
};

struct fi__sweep_snap {
	struct fi__sweep_blob *v;
	size_t n;
};

/* What a job left: its stdout and the files under its work dir. */
void fi__sweep_snap_take(const struct fi__sweep_job *j,
			 struct fi__sweep_snap *s);
void fi__sweep_snap_free(struct fi__sweep_snap *s);
/* NULL when s matches the baselines b[0..nb) outside what differs among
 * them (masked); else a new string saying what differs. */
char *fi__sweep_snap_differs(const struct fi__sweep_snap *b, size_t nb,
			     const struct fi__sweep_snap *s);
/* The names of the outputs that differ among the baselines (a new JSON
 * array), and "fnv1a64:..." digests of baseline 0 (a new object). */
json_t *fi__sweep_snap_masked(const struct fi__sweep_snap *b, size_t nb);
json_t *fi__sweep_snap_digests(const struct fi__sweep_snap *b);
/* A file's whole content, or NULL; *len its size. */
char *fi__sweep_slurp(const char *path, size_t max, size_t *len);
/* The same for a run's own stdout, stderr or report. */
char *fi__sweep_slurp_file(const struct fi__sweep_file *f, size_t max,
			   size_t *len);

/* --- classify (sweep_classify.c) --- */

const char *fi__sweep_outcome_name(enum fi__sweep_outcome o);
int fi__sweep_outcome_nr(const char *name); /* -1 if none */
/* crash, hang, sanitizer and ignored fail a sweep. */
bool fi__sweep_outcome_bad(enum fi__sweep_outcome o);
/* Worst first: crash, sanitizer, hang, ignored, handled, recovered. */
int fi__sweep_outcome_rank(enum fi__sweep_outcome o);

struct fi__sweep_base {
	struct fi__sweep_snap snap[3];
	char *err[3]; /* stderr */
	size_t n;
};

/* Classify job j (finished) against the baseline; fills the outcome
 * and a new string saying why (*detail). */
enum fi__sweep_outcome fi__sweep_classify(const struct fi__sweep_base *b,
					  const struct fi__sweep_job *j,
					  char **detail);
/* The first line of a sanitizer report in text, or NULL. */
const char *fi__sweep_sanitizer_line(const char *text);

/* --- reports (sweep_report.c, sweep_accept.c, sweep_merge.c) --- */

/* Recount report's summary from its runs, accepted ones apart. Returns
 * the runs that fail the sweep (bad, reached and not accepted). */
size_t fi__sweep_report_summarize(json_t *report);
/* Write --json, --junit and the table to out. Returns 0 or 125. */
int fi__sweep_report_write(json_t *report, const char *json_path,
			   const char *junit_path, FILE *out, bool verbose);
int fi__sweep_report_junit(json_t *report, const char *path);
/* The shell-quoted word (a new string). */
char *fi__sweep_quote(const char *word);

/* Mark the runs --accept FILE lists ("accepted": true). Returns 0 or
 * 125 after "FILE:LINE:COL: error: message". */
int fi__sweep_accept_apply(json_t *report, const char *file);
/* Write every failing run as an accept line. Returns 0 or 125. */
int fi__sweep_accept_write(json_t *report, const char *file);

/* --- coverage (sweep_cov_check.c, sweep_cov_gcovr.c, sweep_cov_paths.c) --- */

struct fi__sweep_cov {
	const char *dir; /* --coverage DIR */
	char *gcovr;	 /* gcovr, as found on PATH */
	char *trees;	 /* ROOT/cov: one .gcda tree per run */
	unsigned jobs;	 /* gcovr processes at a time */
};

/* Before any run: the program names .gcda files whose .gcno notes
 * exist, gcovr is on PATH, DIR is new or empty (or --force); then DIR
 * and ROOT/cov are made. Returns 0, or 125 after the reason. */
int fi__sweep_cov_check(const struct fi__sweep_opts *so,
			const struct fi__target *t, const char *root,
			struct fi__sweep_cov *cv);
/* Leave out the sites of libgcov itself (it writes the counts at exit:
 * failing it only spoils the measure). Returns how many. */
size_t fi__sweep_cov_drop_gcov(struct fi__sweep_sites *s);
/* The GCOV_PREFIX of a run: ROOT/cov/NAME (a new string). */
char *fi__sweep_cov_tree(const struct fi__sweep_cov *cv, const char *name);
/* gcovr over the trees: DIR/tracefiles/baseline.json from base-0..2 and
 * run-ID.json for each run of the report that left counts ("coverage":
 * true or false in its object). Returns 0 or 125. */
int fi__sweep_cov_tracefiles(const struct fi__sweep_cov *cv, json_t *report);
/* DIR/index.html (with a page per file) from every tracefile. */
int fi__sweep_cov_html(const struct fi__sweep_cov *cv, json_t *report);
/* DIR/error-paths.json from the tracefiles, and the summary line to out
 * (NULL: none). Returns 0 or 125. */
int fi__sweep_cov_paths(const struct fi__sweep_cov *cv, json_t *report,
			FILE *out);
/* The never-reached lines (`never`: by file) in groups by the site that
 * leads there: [{file, line, function, syscalls, runs, lines}], line null
 * when no site the discovery reached comes before them in their
 * function. `baseline` is the baseline's tracefile (gcovr JSON), `sites`
 * the report's, `runs` error-paths.json's. A new array. */
json_t *fi__sweep_cov_by_site(json_t *baseline, json_t *never, json_t *sites,
			      json_t *runs);
/* gcovr on PATH, DIR new or empty (or --force, made when missing): the
 * checks of --coverage DIR that --merge shares. 0, or 125 after why. */
int fi__sweep_cov_out(const struct fi__sweep_opts *so,
		      struct fi__sweep_cov *cv);
/* --merge --coverage: the tracefiles of each shard (inputs[i], whose
 * report's "coverage" is dirs[i]) into cv->dir, then the HTML and the
 * error-path view of `merged`. Sets cv->trees. 0, or 125 after why. */
int fi__sweep_cov_merge(struct fi__sweep_cov *cv, const char **inputs,
			json_t *dirs, json_t *merged, FILE *out);
/* error-paths.txt from error-paths.json's document; 0 or -1 (errno). */
int fi__sweep_cov_text(const char *path, json_t *doc);
void fi__sweep_cov_free(struct fi__sweep_cov *cv);
/* Run argv with stdout and stderr to `log`; its exit status, or -1. */
int fi__sweep_cov_spawn(char *const *argv, const char *log);

/* fi-run --merge. Returns the exit status. */
int fi__sweep_merge(const struct fi__run_opts *o);

/* fi-run --sweep: the whole sweep, from main.c once the program was
 * checked and libfi located; env holds LD_PRELOAD, LD_AUDIT and
 * GLIBC_TUNABLES. Returns the exit status. */
int fi__sweep(const struct fi__run_opts *o, const struct fi__target *t,
	      const struct fi__launch_env *env);

#endif
