/* gcov.h: gcov's counts under fi (gcov.c): coverage windows, the counts
 * of the time the API had rules armed, apart, for coverage/fi-coverage.sh
 * (called by api.c, in the program's context; nothing unless
 * FI_COVERAGE_WINDOWS is set and the program exports __gcov_dump and
 * __gcov_reset); and the counts of a sweep's run that a signal ends. */
#ifndef FI_GCOV_H
#define FI_GCOV_H

/* A rule was armed by the code at `caller` (a return address); `rule` is
 * its text. Opens a window when none is open. */
void fi__gcov_armed(const void *caller, const char *rule);

/* fi_reset(): closes the open window, if any. */
void fi__gcov_disarmed(void);

/* From libfi's constructor: with FI_COVERAGE_SIGNALS=1 and a program
 * that exports __gcov_dump, a handler for the fatal signals that nothing
 * else handles (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM) writes
 * the counts before the signal ends the run as it would have. */
void fi__gcov_init(void);

#endif /* FI_GCOV_H */
