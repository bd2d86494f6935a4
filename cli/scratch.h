/* scratch.h: fi-run's temporary files, removed however fi-run ends. */
#ifndef FI_RUN_SCRATCH_H
#define FI_RUN_SCRATCH_H

/* Where scratch files go: $TMPDIR, or /tmp when TMPDIR is unset or
 * holds a ':'. */
const char *fi__scratch_dir(void);

/* A new empty file "DIR/STEM.XXXXXX" (mode 0600; in /tmp when DIR
 * refuses), removed at exit or by fi__scratch_remove_all. Returns its fd,
 * open for reading and writing, with its path in *path (owned by
 * scratch.c; valid until fi-run ends); or -1 with errno set from DIR. */
int fi__scratch_make(const char *stem, char **path);

/* Remove every scratch file. Async-signal-safe; does nothing in a
 * process forked from fi-run. */
void fi__scratch_remove_all(void);

#endif
