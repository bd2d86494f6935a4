/* sweep_opts.h: the command line of fi-run --sweep and --merge
 * (docs/sweep.md), parsed by sweep_opts.c for options.c. */
#ifndef FI_RUN_SWEEP_OPTS_H
#define FI_RUN_SWEEP_OPTS_H

#include <stdbool.h>
#include <stddef.h>

struct fi__sweep_opts {
	bool on;	     /* --sweep */
	bool merge;	     /* --merge: files are in inputs */
	const char **inputs; /* --merge's reports */
	size_t ninputs;
	unsigned jobs;		  /* -j, 0: not given (1) */
	double timeout;		  /* --timeout, seconds; 0: from the baseline */
	const char *json, *junit; /* --json, --junit */
	const char *accept;	  /* --accept */
	const char *write_accept; /* --write-accept */
	const char *workdir;	  /* --workdir */
	unsigned shard_k, shard_n;     /* --shard K/N; 0/0: the whole plan */
	const char *syscalls, *errnos; /* --syscalls, --errnos: comma lists */
	unsigned long max_runs;	       /* --max-runs, 0: no limit */
	bool persistent;	       /* --persistent */
	const char *coverage;	       /* --coverage DIR */
	bool force;		       /* --force: DIR may hold files */
};

/* getopt values of the sweep's long options, beyond options.c's own. */
enum {
	FI_SWEEP_OPT_SWEEP = 400,
	FI_SWEEP_OPT_MERGE,
	FI_SWEEP_OPT_TIMEOUT,
	FI_SWEEP_OPT_JSON,
	FI_SWEEP_OPT_JUNIT,
	FI_SWEEP_OPT_ACCEPT,
	FI_SWEEP_OPT_WRITE_ACCEPT,
	FI_SWEEP_OPT_WORKDIR,
	FI_SWEEP_OPT_SHARD,
	FI_SWEEP_OPT_SYSCALLS,
	FI_SWEEP_OPT_ERRNOS,
	FI_SWEEP_OPT_MAX_RUNS,
	FI_SWEEP_OPT_PERSISTENT,
	FI_SWEEP_OPT_COVERAGE,
	FI_SWEEP_OPT_FORCE,
};

/* Entries for options.c's struct option table; -j is a short option. */
#define FI_SWEEP_LONG_OPTIONS                                                  \
	{"sweep", no_argument, NULL, FI_SWEEP_OPT_SWEEP},                      \
		{"merge", no_argument, NULL, FI_SWEEP_OPT_MERGE},              \
		{"jobs", required_argument, NULL, 'j'},                        \
		{"timeout", required_argument, NULL, FI_SWEEP_OPT_TIMEOUT},    \
		{"json", required_argument, NULL, FI_SWEEP_OPT_JSON},          \
		{"junit", required_argument, NULL, FI_SWEEP_OPT_JUNIT},        \
		{"accept", required_argument, NULL, FI_SWEEP_OPT_ACCEPT},      \
		{"write-accept", required_argument, NULL,                      \
		 FI_SWEEP_OPT_WRITE_ACCEPT},                                   \
		{"workdir", required_argument, NULL, FI_SWEEP_OPT_WORKDIR},    \
		{"shard", required_argument, NULL, FI_SWEEP_OPT_SHARD},        \
		{"syscalls", required_argument, NULL, FI_SWEEP_OPT_SYSCALLS},  \
		{"errnos", required_argument, NULL, FI_SWEEP_OPT_ERRNOS},      \
		{"max-runs", required_argument, NULL, FI_SWEEP_OPT_MAX_RUNS},  \
		{"coverage", required_argument, NULL, FI_SWEEP_OPT_COVERAGE},  \
		{"force", no_argument, NULL, FI_SWEEP_OPT_FORCE},              \
	{                                                                      \
		"persistent", no_argument, NULL, FI_SWEEP_OPT_PERSISTENT       \
	}

/* One sweep option (c is 'j' or an FI_SWEEP_OPT_*). Returns 0, or 125
 * after printing why the argument is wrong. */
int fi__sweep_opt(int c, const char *arg, struct fi__sweep_opts *s);

/* After parsing: options that need --sweep or --merge, and combinations
 * that make no sense. Returns 0 or 125 after the message. */
int fi__sweep_opts_check(const struct fi__sweep_opts *s, bool has_rules,
			 bool has_record_or_replay);

#endif
