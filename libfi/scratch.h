/* scratch.h: each thread's scratch memory for the full path (paths, fd
 * paths, trace records), mapped on its first use instead of kept in
 * thread-local arrays. Hook-safe. */
#ifndef FI_SCRATCH_H
#define FI_SCRATCH_H

#include <stdbool.h>

/* The hook's nesting: a signal handler may take it once more while it
 * runs, with scratch of its own. */
#define FI_SCRATCH_DEPTH 2
#define FI_SCRATCH_PATH 4096
#define FI_SCRATCH_RECORD 4096
#define FI_SCRATCH_ARGV 1024
#define FI_SCRATCH_PAGE 4096

struct fi__scratch {
	char path[FI_SCRATCH_DEPTH][FI_SCRATCH_PATH];
	char fdpath[FI_SCRATCH_DEPTH][FI_SCRATCH_PATH];
	/* The path of the fd a call closes (close, dup2's new fd...),
	 * read before the call and kept until its post hook; two, so that
	 * a signal handler's close in between has one of its own
	 * (dispatch.c, path_before). */
	char fdpath_before[2][FI_SCRATCH_PATH];
	char record[FI_SCRATCH_DEPTH][FI_SCRATCH_RECORD];
	char argv[FI_SCRATCH_DEPTH][FI_SCRATCH_ARGV];
	/* A page of the program's memory: follow.c's reads of the
	 * environment an exec passes (touched only at an exec). */
	char page[FI_SCRATCH_DEPTH][FI_SCRATCH_PAGE];
	int owner; /* the thread it was mapped for (tid) */
};

/* This thread's scratch for one pass of the full path (or of the post
 * hook), NULL when there is no memory for one: then the call passes
 * untouched. Pair each non-NULL result with fi__scratch_end. */
struct fi__scratch *fi__scratch_begin(void);
void fi__scratch_end(struct fi__scratch *s);

/* The scratch the current pass holds (for the recorder), or NULL. */
struct fi__scratch *fi__scratch_current(void);

/* The thread is about to exit (SYS_exit): its scratch goes back to the
 * pool, unless the caller is not the thread it was mapped for (a vfork
 * child, or a clone without a TLS of its own, runs on another's). */
void fi__scratch_thread_exit(void);

/* In a fork child: the scratch now belongs to the child's thread. */
void fi__scratch_forked(int tid);

#endif
