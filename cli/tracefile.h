/* tracefile.h: after the run, fi-run turns a mapped trace (libfi's
 * tracebuf.h) into plain JSON Lines: the header line goes, and so do the
 * bytes no record holds (blocks reserved past the last record, records a
 * killed process left unfinished). */
#ifndef FI_RUN_TRACEFILE_H
#define FI_RUN_TRACEFILE_H

#include <stddef.h>

/* Rewrite path in place when it starts with libfi's trace header; a file
 * without one is left alone. *torn counts the unfinished records dropped.
 * Returns 0, or -errno (the file is then as libfi left it). */
int fi__tracefile_tidy(const char *path, size_t *torn);

#endif
