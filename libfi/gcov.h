/* gcov.h: coverage windows (gcov.c): the counts of the time the API had
 * rules armed, apart, for coverage/fi-coverage.sh. Called by api.c only,
 * in the program's context; both do nothing unless FI_COVERAGE_WINDOWS is
 * set and the program exports __gcov_dump and __gcov_reset. */
#ifndef FI_GCOV_H
#define FI_GCOV_H

/* A rule was armed by the code at `caller` (a return address); `rule` is
 * its text. Opens a window when none is open. */
void fi__gcov_armed(const void *caller, const char *rule);

/* fi_reset(): closes the open window, if any. */
void fi__gcov_disarmed(void);

#endif /* FI_GCOV_H */
