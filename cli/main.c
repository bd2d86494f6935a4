/* main.c: fi-run, which runs a program with libfi preloaded and a
 * scenario armed: options -> validate rules -> locate libfi -> check the
 * program -> run it -> summary of what fired. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "early.h"
#include "fi_run.h"
#include "launch.h"
#include "locate.h"
#include "replay.h"
#include "scratch.h"
#include "summary.h"
#include "sweep.h"
#include "target.h"
#include "tracefile.h"
#include "validate.h"

extern char **environ;

/* LD_PRELOAD splits on spaces and colons, so a path with one cannot go
 * there. */
static int check_preloadable(const char *path)
{
	if (strpbrk(path, " :\t\n")) {
		fi__util_error(
			"%s: a path with a space or ':' cannot go into LD_PRELOAD",
			path);
		return FI_RUN_EXIT_USAGE;
	}
	return 0;
}

/* The paths of the libraries the program links itself (those found),
 * NULL-ended: their static TLS must fit the early start's reserve. */
static char **needed_paths(const struct fi__target *t)
{
	size_t n = 0, k = 0;
	char **v;

	while (t->needed && t->needed[n])
		n++;
	v = fi__util_xmalloc((n + 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		char *p = fi__locate_needed(t->needed[i], t->elf, t->rpath,
					    t->runpath);

		if (p)
			v[k++] = p;
	}
	v[k] = NULL;
	return v;
}

/* The libraries to put first in LD_PRELOAD: libasan when the program
 * needs it (ASan insists on coming first), then libfi. */
static char *preload_list(const char *libfi, const struct fi__target *t,
			  bool verbose)
{
	char *asan, *list;
	const char *parts[2];

	if (!t->asan)
		return fi__util_xstrdup(libfi);
	asan = fi__locate_needed(t->asan, t->elf, t->rpath, t->runpath);
	/* Not found: the bare name, for the loader to search like DT_NEEDED. */
	parts[0] = asan ? asan : t->asan;
	parts[1] = libfi;
	list = fi__util_join(parts, 2, " ");
	if (verbose)
		fprintf(stderr,
			"fi-run: the program uses ASan; preloading %s first\n",
			parts[0]);
	free(asan);
	return list;
}

/* Opens FILE for --record now, so that a bad path stops fi-run before
 * the program runs; libfi then writes it. A write of no bytes shows a
 * file that takes no data at all (/dev/full) and changes nothing else. */
static int prepare_trace(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0 || write(fd, "", 0) < 0) {
		fi__util_error("--record %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return FI_RUN_EXIT_USAGE;
	}
	close(fd);
	return 0;
}

/* A report file for libfi to append to; NULL (and no summary) if none
 * can be made. Removed with the other scratch files. */
static char *make_report(void)
{
	char *path;
	int fd = fi__scratch_make("fi-run-report", &path);

	if (fd < 0) {
		fi__util_error(
			"warning: no summary: cannot create a report file in %s: %s",
			fi__scratch_dir(), strerror(errno));
		return NULL;
	}
	close(fd);
	return path;
}

/* fi-run replaces these with what its options say; say so rather than
 * drop a user's rules without a word. */
static void warn_inherited(void)
{
	static const char *const vars[] = {"FI_SCENARIO", "FI_RULES",
					   "FI_TRACE"};

	/* -q hides the summary, never a warning */
	if (getenv("FI_TRACE_APPEND")) /* under fi-run */
		return;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]))
			fi__util_error(
				"warning: ignoring %s from the environment; use -s, -r or --record",
				vars[i]);
}

/* Whether the trace ends with a whole record. A regular file that is
 * not empty must end in a newline; an empty one means that nothing was
 * recorded. Other files (a device, a pipe) cannot be checked here. */
static bool trace_whole(const char *path, const char *shown)
{
	struct stat st;
	char last;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = true;

	if (fd < 0) {
		fi__util_error("the trace %s: %s", shown, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (st.st_size == 0) {
			fi__util_error(
				"the trace %s is empty: libfi recorded nothing",
				shown);
			ok = false;
		} else if (pread(fd, &last, 1, st.st_size - 1) == 1 &&
			   last != '\n') {
			fi__util_error(
				"the trace %s ends in a partial record: its last line has no newline",
				shown);
			ok = false;
		}
	}
	close(fd);
	return ok;
}

/* Whether processes of the program still run once it has ended: each
 * live libfi holds a shared lock on the report. A process that ends
 * within 200 ms still reports in time. The lock must be free three times
 * in 10 ms: a process between its exec and its new libfi's start holds
 * none for a few milliseconds. */
static bool outlived(const char *report)
{
	int fd = open(report, O_RDONLY | O_CLOEXEC);
	int free_in_row = 0;

	if (fd < 0)
		return false;
	for (int i = 0; i < 40 && free_in_row < 3; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			flock(fd, LOCK_UN);
			free_in_row++;
		} else if (errno == EWOULDBLOCK) {
			free_in_row = 0;
		} else {
			break; /* no locks here: cannot tell */
		}
		nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
	}
	close(fd);
	return free_in_row == 0;
}

/* After the run: the summary, then what the report and the trace say
 * about libfi itself. Returns the status to exit with: the program's own
 * when it failed, else 125 when libfi did not act or lost records, else
 * 1 when --strict finds a rule that never fired. */
static int after_run(const struct fi__run_opts *o,
		     const struct fi__validated *v, const char *report,
		     const char *trace, const char *libfi, int status)
{
	bool late = report && outlived(report);
	FILE *f = report ? fopen(report, "re") : NULL;
	struct fi__summary *s = fi__summary_read(f, v->rules, v->nrules,
						 v->aliases, v->naliases);
	size_t unfired = 0;
	bool broken = false;

	if (late)
		fi__util_error(
			"warning: processes of the program still run after it ended; what their rules do is not in this summary");

	if (f)
		fclose(f);
	fi__summary_rules(s, o->quiet ? NULL : stderr, &unfired);
	/* A warning, so also with -q: rules silently stopped applying. */
	fi__summary_unfollowed(s, stderr);
	if (fi__summary_lost(s, o->record ? o->record : trace, stderr))
		broken = true;
	if (trace) {
		const char *shown = o->record ? o->record : trace;
		size_t torn = 0;
		int r = fi__tracefile_tidy(trace, &torn);

		if (r < 0) {
			fi__util_error(
				"the trace %s: cannot remove its header: %s",
				shown, strerror(-r));
			broken = true;
		} else if (torn) {
			fi__util_error(
				"the trace %s: %zu record%s cut short by a killed process dropped",
				shown, torn, torn == 1 ? "" : "s");
		}
	}
	if (trace && !trace_whole(trace, o->record ? o->record : trace))
		broken = true;
	if (report && v->nrules && status == 0 && fi__summary_lines(s) == 0) {
		fi__util_error(
			"libfi did not act: the program exited 0, but no process reported on the rules (was %s loaded?)",
			libfi);
		broken = true;
	}
	fi__summary_free(s);
	if (status != 0)
		return status;
	if (broken)
		return FI_RUN_EXIT_USAGE;
	if (o->strict && unfired) {
		fi__util_error("--strict: %zu rule%s never fired", unfired,
			       unfired == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/* A failed run that drew from prob= rules says which seed repeats it. */
static void say_seed(const struct fi__validated *v, const char *opt_seed,
		     bool quiet)
{
	const char *seed = opt_seed ? opt_seed : getenv("FI_SEED");
	bool prob = false;

	for (size_t i = 0; i < v->nrules; i++)
		prob |= v->rules[i].text && strstr(v->rules[i].text, "prob=");
	if (!prob || quiet)
		return;
	fprintf(stderr,
		"fi: prob= rules drew from seed %s; --seed %s repeats this run\n",
		seed && *seed ? seed : "0", seed && *seed ? seed : "0");
}

int main(int argc, char **argv)
{
	struct fi__run_opts o;
	struct fi__validated v = {0};
	struct fi__target t = {0};
	struct fi__launch_env e = {0};
	struct fi__early early = {0};
	char *libfi = NULL, *trace = NULL, *report = NULL, *preload = NULL;
	char **envp;
	bool ran = false;
	int rc;

	rc = fi__opts_parse(argc, argv, &o);
	if (rc >= 0)
		goto out;
	if (o.sweep.merge) {
		rc = fi__sweep_merge(&o);
		goto out;
	}
	fi__launch_signals();
	if (o.replay && (rc = fi__replay_prepare(&o)))
		goto out;
	rc = fi__validate(&o, &v);
	if (rc)
		goto out;
	warn_inherited();
	if (o.record) {
		trace = fi__util_abspath(o.record);
		rc = prepare_trace(trace);
		if (rc)
			goto out;
	} else if (o.replay) { /* the live run, to compare with the trace */
		char *live;
		int fd = fi__scratch_make("fi-run-trace", &live);

		if (fd < 0) {
			fi__util_error(
				"--replay: cannot make a trace in %s: %s",
				fi__scratch_dir(), strerror(errno));
			rc = FI_RUN_EXIT_USAGE;
			goto out;
		}
		close(fd);
		trace = fi__util_xstrdup(live);
	}
	rc = fi__target_check(o.argv[0], &t);
	if (rc)
		goto out;
	libfi = fi__locate_libfi(o.verbose);
	rc = libfi ? check_preloadable(libfi) : FI_RUN_EXIT_USAGE;
	if (rc == 0)
		rc = fi__locate_check_libfi(libfi);
	if (rc)
		goto out;
	if (o.verbose)
		fprintf(stderr, "fi-run: running %s\n", t.path);

	e.preload = preload = preload_list(libfi, &t, o.verbose);
	{
		char **libs = needed_paths(&t);

		if (fi__early_env(libfi, libs, o.verbose, &early)) {
			e.audit = early.audit;
			e.tunables = early.tunables;
		}
		for (size_t i = 0; libs[i]; i++)
			free(libs[i]);
		free(libs);
	}
	if (o.sweep.on) {
		rc = fi__sweep(&o, &t, &e);
		goto out;
	}
	e.scenario = v.scenario_env;
	e.rules = v.rules_env;
	e.sites = v.sites_env;
	e.trace = trace;
	e.seed = o.seed;
	e.debug = o.verbose ? "1" : NULL;
	/* The report says what the rules did and whether the trace lost
	 * records; a run with neither needs none. */
	if (v.nrules || trace)
		report = make_report();
	e.report = report;
	envp = fi__launch_make_env(environ, &e);

	rc = fi__launch_run(t.path, o.argv, envp, o.argv[0], &ran);

	fi__launch_free_env(envp, environ);
	if (ran) {
		int status = rc;

		rc = after_run(&o, &v, report, trace, libfi, status);
		if (o.replay)
			rc = fi__replay_after(&o, trace, rc);
		if (status != 0)
			say_seed(&v, o.seed, o.quiet);
	}
	fi__scratch_remove_all();
out:
	free(preload);
	fi__early_free(&early);
	free(libfi);
	free(trace);
	fi__target_free(&t);
	fi__validate_free(&v);
	fi__opts_free(&o);
	return rc;
}
