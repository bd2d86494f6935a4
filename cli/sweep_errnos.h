/* sweep_errnos.h: the errno table of fi-run --sweep (sweep_errnos.c). */
#ifndef FI_RUN_SWEEP_ERRNOS_H
#define FI_RUN_SWEEP_ERRNOS_H

#include <stdbool.h>
#include <stddef.h>

/* The errnos `syscall` can really return, most plausible first, as a
 * NULL-terminated list of names; NULL when the sweep leaves it alone. */
const char *const *fi__sweep_errnos(const char *syscall);
/* Transient errnos (EINTR, EAGAIN) are injected once, then in a row. */
bool fi__sweep_transient(const char *err);
/* The table itself, for the test that checks every name. */
struct fi__sweep_errno_row {
	const char *syscall;
	const char *errnos[6];
};
extern const struct fi__sweep_errno_row fi__sweep_errno_table[];
extern const size_t fi__sweep_errno_rows;

#endif
