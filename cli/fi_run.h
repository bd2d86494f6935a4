/* fi_run.h: what the parts of fi-run share: its options, its exit
 * statuses and small helpers. main.c drives options -> validate ->
 * locate -> target -> launch -> summary, and checks after the run what
 * libfi reported; scratch.c keeps the temporary files. */
#ifndef FI_RUN_H
#define FI_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "sweep_opts.h"

/* The exit statuses of fi-run's own failures (docs/fi-run.md). */
enum {
	FI_RUN_EXIT_USAGE =
		125, /* bad option, scenario or rule; libfi failed */
	FI_RUN_EXIT_CANNOT_RUN = 126, /* the program exists but cannot run */
	FI_RUN_EXIT_NOT_FOUND = 127,  /* the program does not exist */
};

/* The command line, as given. Strings point into argv. */
struct fi__run_opts {
	const char **scenarios; /* -s, in order */
	size_t nscenarios;
	const char **rules; /* -r and -e, in order */
	size_t nrules;
	const char *record;  /* --record, or NULL */
	const char *replay;  /* --replay, or NULL */
	char **replay_rules; /* the rules compiled from it (replay_run.c), */
	char **replay_names; /* ... per file read, as messages name it */
	size_t nreplay;
	bool replay_strict;
	const char *seed; /* --seed, checked to be a number, or NULL */
	bool verbose, quiet, strict;
	const char **libs; /* --lib: libraries the program may dlopen() */
	size_t nlibs;
	struct fi__sweep_opts sweep; /* --sweep, --merge and theirs */
	char **argv; /* the program and its arguments, NULL-terminated */
};

/* Parse the command line. Returns -1 when fi-run should go on, otherwise
 * the status to exit with (0 after --help or --version; 125 after a
 * usage error, whose message was printed). */
int fi__opts_parse(int argc, char **argv, struct fi__run_opts *o);

void fi__opts_free(struct fi__run_opts *o);

/* Helpers (util.c). Allocation failure ends fi-run with status 125. */
void *fi__util_xmalloc(size_t n);
char *fi__util_xstrdup(const char *s);
/* Room for one more element of `size` bytes in the array v, of which n
 * are used and *cap allocated: v, or v moved to twice the room (`first`
 * elements the first time). */
void *fi__util_xgrow(void *v, size_t n, size_t *cap, size_t size, size_t first);
/* printf into a new string. */
char *fi__util_xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* `path` made absolute against the working directory, without resolving
 * symbolic links and without requiring that it exists. */
char *fi__util_abspath(const char *path);
/* The strings joined with sep in between; a new string. */
char *fi__util_join(const char *const *parts, size_t n, const char *sep);
/* printf to stderr, prefixed by "fi-run: " and ended by a newline. */
void fi__util_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
