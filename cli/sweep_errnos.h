/* sweep_errnos.h: the errno table of fi-run --sweep (sweep_errnos.c). */
#ifndef FI_RUN_SWEEP_ERRNOS_H
#define FI_RUN_SWEEP_ERRNOS_H

#include <stdbool.h>
#include <stddef.h>

/* The errnos `syscall` can really return, most plausible first, as a
 * NULL-terminated list of names; NULL when the sweep leaves it alone. */
const char *const *fi__sweep_errnos(const char *syscall);
/* The call a site made in the discovery run, as its trace record tells:
 * what the argument conditions of the table look at (docs/sweep.md, "The
 * errno table"). */
struct fi__sweep_call {
	bool known;	   /* false: no record; every errno of the row fits */
	long long args[6]; /* the raw arguments of the site's first call */
	const char *path;  /* its path or its fd's ("pipe:[7]"), or NULL */
	long long pid;	   /* the process that made it */
	bool threaded;	   /* that process ran a second thread */
};
/* Whether `syscall` could really fail with `err` when called as `c`
 * was: false when the arguments rule the errno out (dup2 onto an fd
 * below RLIMIT_NOFILE never gives EMFILE; poll with a zero timeout never
 * sleeps, so never EINTR). An errno the table does not list for the
 * syscall is not checked here. */
bool fi__sweep_errno_fits(const char *syscall, const char *err,
			  const struct fi__sweep_call *c);
/* Transient errnos (EINTR, EAGAIN) are injected once, then in a row. */
bool fi__sweep_transient(const char *err);
/* The table itself, for the test that checks every name. */
struct fi__sweep_errno_row {
	const char *syscall;
	const char *errnos[6];
};
extern const struct fi__sweep_errno_row fi__sweep_errno_table[];
extern const size_t fi__sweep_errno_rows;
/* The conditions: errno `err` of `syscall` fits a call only when fits()
 * says so. */
struct fi__sweep_errno_condition {
	const char *syscall, *err;
	bool (*fits)(const struct fi__sweep_call *c);
};
extern const struct fi__sweep_errno_condition fi__sweep_errno_conditions[];
extern const size_t fi__sweep_errno_nconditions;

#endif
