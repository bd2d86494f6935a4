/* startup_bench: times spawn-to-exit of a short program (/bin/true) in
 * several configurations, interleaved, and reports medians. */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: fi_startup_bench [-n RUNS] [-w WARMUP] [-t SECONDS] CONFIG...
 *   where CONFIG is  -l LABEL [-e VAR=VALUE]... -x ARG [-x ARG]...
 *
 * Every round spawns each configuration once (posix_spawn, then waitpid),
 * the order rotating from round to round. The clock runs from just before
 * posix_spawn to the return of waitpid. The inherited environment is kept,
 * minus LD_PRELOAD, FI_* and FIU_*, so that only -e changes it. With -t,
 * rounds stop once SECONDS have passed (after at least 10 rounds), so that
 * a slow configuration cannot stretch the run beyond its budget.
 *
 * Output, one line per configuration:
 *   fi_startup label=bare runs=500 median_us=612.3 p10_us=580.1
 *              p90_us=700.2 min_us=560.0 failed=0
 */

#define MAX_CONFIGS 16
#define MAX_ITEMS 32

extern char **environ;

struct config {
	const char *label;
	char *argv[MAX_ITEMS + 1];
	int argc;
	char **envp;
	const char *extra_env[MAX_ITEMS];
	int n_env;
	double *us; /* one sample per run */
	int failed; /* runs that did not exit 0 */
};

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fi_startup_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long parse_count(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1000000)
		die("bad count '%s'", s);
	return v;
}

static int is_scrubbed(const char *var)
{
	return strncmp(var, "LD_PRELOAD=", 11) == 0 ||
	       strncmp(var, "FI_", 3) == 0 || strncmp(var, "FIU_", 4) == 0;
}

/* The inherited environment without preloads, plus the config's -e. */
static char **build_env(const struct config *c)
{
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	char **out = calloc(n + (size_t)c->n_env + 1, sizeof *out);
	if (!out)
		die("out of memory");
	size_t k = 0;
	for (char **e = environ; *e; e++)
		if (!is_scrubbed(*e))
			out[k++] = *e;
	for (int i = 0; i < c->n_env; i++)
		out[k++] = (char *)c->extra_env[i];
	out[k] = NULL;
	return out;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Spawns one run; returns its duration in microseconds, or -1 on failure. */
static double run_once(const struct config *c)
{
	pid_t pid;
	int status;
	double t0 = now_us();
	int rc = posix_spawn(&pid, c->argv[0], NULL, NULL, c->argv, c->envp);
	if (rc != 0)
		die("%s: %s", c->argv[0], strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	double t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q)
{
	if (n == 0)
		return 0;
	double pos = q * (n - 1);
	int lo = (int)pos;
	int hi = lo + 1 < n ? lo + 1 : lo;
	return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fi_startup_bench [-n RUNS] [-w WARMUP] [-t SECONDS] "
		"{-l LABEL [-e VAR=VALUE]... -x ARG...}...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct config configs[MAX_CONFIGS];
	int n_configs = 0;
	long runs = 200, warmup = 10, budget_s = 0;
	struct config *cur = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "n:w:t:l:e:x:h")) != -1) {
		switch (opt) {
		case 'n':
			runs = parse_count(optarg);
			break;
		case 'w':
			warmup = parse_count(optarg);
			break;
		case 't':
			budget_s = parse_count(optarg);
			break;
		case 'l':
			if (n_configs == MAX_CONFIGS)
				die("too many configurations");
			cur = &configs[n_configs++];
			cur->label = optarg;
			break;
		case 'e':
			if (!cur || cur->n_env == MAX_ITEMS ||
			    !strchr(optarg, '='))
				usage();
			cur->extra_env[cur->n_env++] = optarg;
			break;
		case 'x':
			if (!cur || cur->argc == MAX_ITEMS)
				usage();
			cur->argv[cur->argc++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || n_configs == 0 || runs == 0)
		usage();
	for (int i = 0; i < n_configs; i++) {
		if (configs[i].argc == 0)
			die("configuration '%s' has no program (-x)",
			    configs[i].label);
		configs[i].envp = build_env(&configs[i]);
		configs[i].us = calloc((size_t)runs, sizeof(double));
		if (!configs[i].us)
			die("out of memory");
	}

	for (long w = 0; w < warmup; w++)
		for (int i = 0; i < n_configs; i++)
			run_once(&configs[i]);

	int ok[MAX_CONFIGS] = {0};
	double start = now_us();
	for (long r = 0; r < runs; r++) {
		if (budget_s && r >= 10 &&
		    now_us() - start > (double)budget_s * 1e6)
			break;
		for (int j = 0; j < n_configs; j++) {
			struct config *c = &configs[(j + r) % n_configs];
			double us = run_once(c);
			if (us < 0)
				c->failed++;
			else
				c->us[ok[c - configs]++] = us;
		}
	}

	for (int i = 0; i < n_configs; i++) {
		struct config *c = &configs[i];
		int n = ok[i];
		qsort(c->us, (size_t)n, sizeof(double), cmp_double);
		printf("fi_startup label=%s runs=%d median_us=%.1f p10_us=%.1f p90_us=%.1f "
		       "min_us=%.1f failed=%d\n",
		       c->label, n, quantile(c->us, n, 0.5),
		       quantile(c->us, n, 0.1), quantile(c->us, n, 0.9),
		       n ? c->us[0] : 0.0, c->failed);
	}
	return 0;
}
