/* sweep_classify.c: the sweep's fourth stage. A finished run is sorted
 * into one outcome by comparing it with the baseline runs:
 *   hang       it outlived --timeout (its process group was killed)
 *   sanitizer  its stderr holds an ASan, UBSan, LSan, MSan or TSan report
 *              that no baseline run printed
 *   crash      a signal killed it
 *   handled    it exited non-zero (the detail says whether stderr says why)
 *   recovered  it exited 0 and its outputs match the baseline's
 *   ignored    it exited 0 but its stdout or files differ: the error was
 *              swallowed and data was lost
 * in that order: a sanitizer that aborts is a sanitizer, not a crash. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "names.h"
#include "sweep.h"

static const char *const names[FI_SWEEP_NOUTCOMES] = {
	[FI_SWEEP_HANDLED] = "handled", [FI_SWEEP_RECOVERED] = "recovered",
	[FI_SWEEP_IGNORED] = "ignored", [FI_SWEEP_CRASH] = "crash",
	[FI_SWEEP_HANG] = "hang",	[FI_SWEEP_SANITIZER] = "sanitizer",
};

const char *fi__sweep_outcome_name(enum fi__sweep_outcome o)
{
	return o < FI_SWEEP_NOUTCOMES ? names[o] : "?";
}

int fi__sweep_outcome_nr(const char *name)
{
	for (int i = 0; i < FI_SWEEP_NOUTCOMES; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

bool fi__sweep_outcome_bad(enum fi__sweep_outcome o)
{
	return o == FI_SWEEP_CRASH || o == FI_SWEEP_HANG ||
	       o == FI_SWEEP_SANITIZER || o == FI_SWEEP_IGNORED;
}

int fi__sweep_outcome_rank(enum fi__sweep_outcome o)
{
	static const int rank[FI_SWEEP_NOUTCOMES] = {
		[FI_SWEEP_CRASH] = 0,	[FI_SWEEP_SANITIZER] = 1,
		[FI_SWEEP_HANG] = 2,	[FI_SWEEP_IGNORED] = 3,
		[FI_SWEEP_HANDLED] = 4, [FI_SWEEP_RECOVERED] = 5,
	};

	return o < FI_SWEEP_NOUTCOMES ? rank[o] : 6;
}

const char *fi__sweep_sanitizer_line(const char *text)
{
	static const char *const marks[] = {
		"ERROR: AddressSanitizer",  "ERROR: LeakSanitizer",
		"ERROR: MemorySanitizer",   "ERROR: HWAddressSanitizer",
		"WARNING: ThreadSanitizer", ": runtime error: ",
	};
	const char *best = NULL;

	for (size_t i = 0; text && i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(text, marks[i]);

		if (p && (!best || p < best))
			best = p;
	}
	if (!best)
		return NULL;
	while (best > text && best[-1] != '\n')
		best--;
	return best;
}

/* A copy of the line at p, without its newline, at most 200 bytes. */
static char *line_at(const char *p)
{
	size_t n = strcspn(p, "\n");
	char *s;

	if (n > 200)
		n = 200;
	s = fi__util_xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Whether text holds the line p (n bytes, without its newline). */
static bool has_line(const char *text, const char *p, size_t n)
{
	for (const char *q = text; q && *q;) {
		size_t m = strcspn(q, "\n");

		if (m == n && !strncmp(q, p, n))
			return true;
		q += m;
		q += *q == '\n';
	}
	return false;
}

/* The first line of err that no baseline's stderr holds, and that is
 * not one of libfi's own ("fi: ..."); NULL when there is none. */
static const char *new_message(const struct fi__sweep_base *b, const char *err)
{
	for (const char *p = err; p && *p;) {
		size_t n = strcspn(p, "\n");
		bool known = n == 0 || !strncmp(p, "fi: ", 4);

		for (size_t i = 0; i < b->n && !known; i++)
			known = has_line(b->err[i], p, n);
		if (!known)
			return p;
		p += n;
		p += *p == '\n';
	}
	return NULL;
}

enum fi__sweep_outcome fi__sweep_classify(const struct fi__sweep_base *b,
					  const struct fi__sweep_job *j,
					  char **detail)
{
	size_t elen;
	char *err = fi__sweep_slurp_file(&j->err, 1 << 20, &elen), *diff;
	const char *san, *msg;
	enum fi__sweep_outcome o;
	struct fi__sweep_snap s;

	san = fi__sweep_sanitizer_line(err);
	for (size_t i = 0; san && i < b->n; i++)
		if (fi__sweep_sanitizer_line(b->err[i]))
			san = NULL; /* the baseline has one too: not ours */
	msg = new_message(b, err);
	if (j->timed_out) {
		o = FI_SWEEP_HANG;
		*detail = fi__util_xasprintf(
			"timed out after %.0f s; its process group was killed",
			j->secs);
	} else if (san) {
		o = FI_SWEEP_SANITIZER;
		*detail = line_at(san);
	} else if (WIFSIGNALED(j->status)) {
		const char *sig = fi__names_signal(WTERMSIG(j->status));

		o = FI_SWEEP_CRASH;
		*detail = fi__util_xasprintf("killed by signal %d (%s)",
					     WTERMSIG(j->status),
					     sig ? sig : "?");
	} else if (WEXITSTATUS(j->status) != 0) {
		char *m = msg ? line_at(msg) : NULL;

		o = FI_SWEEP_HANDLED;
		*detail = m ? fi__util_xasprintf("exit %d: %s",
						 WEXITSTATUS(j->status), m)
			    : fi__util_xasprintf(
				      "exit %d, with no message on stderr",
				      WEXITSTATUS(j->status));
		free(m);
	} else {
		fi__sweep_snap_take(j, &s);
		diff = fi__sweep_snap_differs(b->snap, b->n, &s);
		fi__sweep_snap_free(&s);
		if (diff) {
			o = FI_SWEEP_IGNORED;
			*detail = fi__util_xasprintf("exit 0, but %s", diff);
			free(diff);
		} else {
			o = FI_SWEEP_RECOVERED;
			*detail = fi__util_xstrdup(
				"exit 0, outputs as the baseline's");
		}
	}
	free(err);
	return o;
}
