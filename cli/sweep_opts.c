/* sweep_opts.c: the arguments of --sweep's options (-j, --timeout,
 * --shard, ...), checked as they are parsed, for options.c. */
#include "sweep_opts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fi_run.h"

/* A whole number from lo to hi, nothing else. */
static bool number(const char *s, unsigned long lo, unsigned long hi,
		   unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out >= lo && *out <= hi;
}

static int shard(const char *arg, struct fi__sweep_opts *s)
{
	const char *slash = strchr(arg, '/');
	unsigned long k, n;
	char kbuf[32];

	if (!slash || (size_t)(slash - arg) >= sizeof(kbuf)) {
		fi__util_error("--shard: '%s' is not K/N (for example 3/8)",
			       arg);
		return FI_RUN_EXIT_USAGE;
	}
	memcpy(kbuf, arg, (size_t)(slash - arg));
	kbuf[slash - arg] = '\0';
	if (!number(kbuf, 0, 1000000, &k) ||
	    !number(slash + 1, 0, 1000000, &n)) {
		fi__util_error("--shard: '%s' is not K/N (for example 3/8)",
			       arg);
		return FI_RUN_EXIT_USAGE;
	}
	if (n == 0 || k == 0 || k > n) {
		fi__util_error(
			"--shard: '%s': K must be from 1 to N, and N at least 1",
			arg);
		return FI_RUN_EXIT_USAGE;
	}
	s->shard_k = (unsigned)k;
	s->shard_n = (unsigned)n;
	return 0;
}

static int file_arg(const char *opt, const char *arg, const char **dst)
{
	if (!*arg) {
		fi__util_error("%s needs a file name", opt);
		return FI_RUN_EXIT_USAGE;
	}
	*dst = arg;
	return 0;
}

int fi__sweep_opt(int c, const char *arg, struct fi__sweep_opts *s)
{
	unsigned long v;
	char *end;

	switch (c) {
	case FI_SWEEP_OPT_SWEEP:
		s->on = true;
		return 0;
	case FI_SWEEP_OPT_MERGE:
		s->merge = true;
		return 0;
	case 'j':
		if (!number(arg, 1, 1024, &v)) {
			fi__util_error(
				"-j: '%s' is not a number of jobs from 1 to 1024",
				arg);
			return FI_RUN_EXIT_USAGE;
		}
		s->jobs = (unsigned)v;
		return 0;
	case FI_SWEEP_OPT_TIMEOUT:
		errno = 0;
		s->timeout = strtod(arg, &end);
		if (!*arg || *end || errno || !isfinite(s->timeout) ||
		    s->timeout <= 0 || s->timeout > 86400) {
			fi__util_error(
				"--timeout: '%s' is not a number of seconds above 0 and at most 86400",
				arg);
			return FI_RUN_EXIT_USAGE;
		}
		return 0;
	case FI_SWEEP_OPT_JSON:
		return file_arg("--json", arg, &s->json);
	case FI_SWEEP_OPT_JUNIT:
		return file_arg("--junit", arg, &s->junit);
	case FI_SWEEP_OPT_ACCEPT:
		return file_arg("--accept", arg, &s->accept);
	case FI_SWEEP_OPT_WRITE_ACCEPT:
		return file_arg("--write-accept", arg, &s->write_accept);
	case FI_SWEEP_OPT_WORKDIR:
		return file_arg("--workdir", arg, &s->workdir);
	case FI_SWEEP_OPT_SHARD:
		return shard(arg, s);
	case FI_SWEEP_OPT_SYSCALLS:
		s->syscalls = arg;
		return 0;
	case FI_SWEEP_OPT_ERRNOS:
		s->errnos = arg;
		return 0;
	case FI_SWEEP_OPT_MAX_RUNS:
		if (!number(arg, 1, 100000000, &v)) {
			fi__util_error(
				"--max-runs: '%s' is not a number from 1 to 100000000",
				arg);
			return FI_RUN_EXIT_USAGE;
		}
		s->max_runs = v;
		return 0;
	case FI_SWEEP_OPT_PERSISTENT:
		s->persistent = true;
		return 0;
	case FI_SWEEP_OPT_COVERAGE:
		if (!*arg) {
			fi__util_error("--coverage needs a directory name");
			return FI_RUN_EXIT_USAGE;
		}
		s->coverage = arg;
		return 0;
	case FI_SWEEP_OPT_FORCE:
		s->force = true;
		return 0;
	}
	return FI_RUN_EXIT_USAGE;
}

int fi__sweep_opts_check(const struct fi__sweep_opts *s, bool has_rules,
			 bool has_record_or_replay)
{
	bool sweep_only = s->jobs || s->timeout > 0 || s->shard_n ||
			  s->workdir || s->syscalls || s->errnos ||
			  s->max_runs || s->persistent || s->write_accept;
	bool report = s->json || s->junit || s->accept || s->coverage ||
		      s->force;

	if (s->on && s->merge) {
		fi__util_error(
			"--sweep and --merge cannot be combined: merge the reports of sweeps that ran");
		return FI_RUN_EXIT_USAGE;
	}
	if (!s->on && !s->merge && (sweep_only || report)) {
		fi__util_error(
			"-j, --timeout, --shard, --json, --junit, --accept, --write-accept, --workdir, --syscalls, --errnos, --max-runs, --persistent, --coverage and --force need --sweep (or --merge for --json, --junit, --accept, --coverage and --force)");
		return FI_RUN_EXIT_USAGE;
	}
	if (s->merge && sweep_only) {
		fi__util_error(
			"--merge takes only --json, --junit, --accept and --coverage (with --force): the other sweep options act while a sweep runs");
		return FI_RUN_EXIT_USAGE;
	}
	if (s->force && !s->coverage) {
		fi__util_error(
			"--force needs --coverage DIR: it lets the report go into a directory that holds files");
		return FI_RUN_EXIT_USAGE;
	}
	if ((s->on || s->merge) && (has_rules || has_record_or_replay)) {
		fi__util_error(
			"--sweep and --merge make their own rules: -s, -r, -e, --record, --replay and --strict cannot be combined with them");
		return FI_RUN_EXIT_USAGE;
	}
	return 0;
}
