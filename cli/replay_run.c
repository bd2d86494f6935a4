/* replay_run.c: --replay in fi-run's flow. Before the run the trace is
 * read and compiled into a scratch .fi file, armed like a scenario named
 * after the trace; the run is recorded (to --record's FILE, or to a
 * scratch trace); after it, the two traces are compared. */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"

int fi__replay_prepare(struct fi__run_opts *o)
{
	struct fi__rtrace t;
	FILE **f;
	int rc;

	rc = fi__replay_read(o->replay, &t);
	if (rc)
		return rc;
	/* One .fi per file read, so that a rule's origin is its record's
	 * file and line. */
	f = fi__util_xmalloc(t.nfiles * sizeof(*f));
	o->replay_rules = fi__util_xmalloc(t.nfiles * sizeof(char *));
	o->replay_names = fi__util_xmalloc(t.nfiles * sizeof(char *));
	for (o->nreplay = 0; o->nreplay < t.nfiles; o->nreplay++) {
		size_t i = o->nreplay;
		int fd = fi__scratch_make("fi-run-replay", &o->replay_rules[i]);

		f[i] = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!f[i]) {
			fi__util_error(
				"--replay: cannot write the rules in %s: %s",
				fi__scratch_dir(), strerror(errno));
			if (fd >= 0)
				close(fd);
			rc = FI_RUN_EXIT_USAGE;
			break;
		}
		o->replay_names[i] = fi__util_xstrdup(t.files[i]);
	}
	if (rc == 0)
		fi__replay_compile(&t, f, o->verbose);
	for (size_t i = 0; i < o->nreplay; i++) {
		if (fclose(f[i]) && rc == 0) {
			fi__util_error(
				"--replay: cannot write the rules to %s: %s",
				o->replay_rules[i], strerror(errno));
			rc = FI_RUN_EXIT_USAGE;
		}
		if (o->verbose && rc == 0)
			fprintf(stderr, "fi-run: replay: %s compiled to %s\n",
				t.files[i], o->replay_rules[i]);
	}
	free(f);
	fi__replay_free(&t);
	return rc;
}

int fi__replay_after(const struct fi__run_opts *o, const char *live, int status)
{
	struct fi__rtrace want, got;
	size_t n;

	/* Both were read or written by now; a failure here is fi-run's. */
	if (fi__replay_read(o->replay, &want))
		return FI_RUN_EXIT_USAGE;
	if (fi__replay_read(live, &got)) {
		fi__replay_free(&want);
		return status ? status : FI_RUN_EXIT_USAGE;
	}
	n = fi__replay_diverge(&want, &got, o->verbose);
	fi__replay_free(&want);
	fi__replay_free(&got);
	if (n && o->replay_strict) {
		fi__util_error(
			"--replay-strict: the run departed from %s (%zu divergence%s)",
			o->replay, n, n == 1 ? "" : "s");
		return FI_RUN_EXIT_USAGE;
	}
	return status;
}
