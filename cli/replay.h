/* replay.h: fi-run --replay. A trace (fi's JSON Lines, or a log of
 * `strace -f -o`) is read into records (replay_trace.c, replay_strace.c),
 * cut into process images (replay_image.c), compiled into one rule per
 * recorded failure (replay_compile.c), and after the run the live trace
 * is compared with it (replay_diverge.c). */
#ifndef FI_RUN_REPLAY_H
#define FI_RUN_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fi_run.h"

/* One syscall of a trace, as both readers give it. */
struct fi__rrec {
	unsigned line; /* in the file it came from, from 1 */
	int pid, tid;  /* strace logs name threads only: pid is filled later */
	long nr;
	bool has_ret; /* false: the call did not return (exit_group) */
	long ret;     /* raw: -errno on failure */
	bool injected;
	bool has_fd; /* its first fd (or dirfd) argument */
	int fd;
	char *path;	     /* its path argument, as passed; NULL if none */
	char *comm;	     /* fi traces: the process's name; else NULL */
	unsigned long flags; /* clone's flags; vfork gives CLONE_VM|CLONE_VFORK */
	bool new_image; /* strace: execve succeeded, an image starts after */
	unsigned long long seq; /* fi traces: seq */
	unsigned src;		/* its file: files[src] of its trace */
};

struct fi__rtrace {
	const char *file; /* as the user named it (while reading: the file
			   * read, for messages) */
	char **files;	  /* the files read: one, or a strace -ff set */
	size_t nfiles;
	int ff_tid; /* strace -ff: the tid of the file being read */
	bool strace;
	struct fi__rrec *r;
	size_t n, cap;
};

/* Reads FILE, guessing its kind from its first line. Returns 0, or
 * FI_RUN_EXIT_USAGE after printing "FILE:LINE: error: message". */
int fi__replay_read(const char *file, struct fi__rtrace *t);
void fi__replay_free(struct fi__rtrace *t);

/* A strace -ff set: LOG.PID files, when FILE names one or is the LOG
 * they share and does not exist. Returns the count of files (then *files
 * holds them, sorted by pid) or 0 when FILE is a file of its own. */
size_t fi__replay_ff_files(const char *file, char ***files);
/* Read the -ff files into t, records in an order where each process and
 * thread comes right after the call that made it. Returns 0, or
 * FI_RUN_EXIT_USAGE after printing the error. */
int fi__replay_read_ff(char **files, size_t n, struct fi__rtrace *t);
/* strace logs: give each thread's records the pid of its process. */
void fi__replay_strace_threads(struct fi__rtrace *t);

/* The readers (one line at a time, so that a message names its line). */
int fi__replay_read_fi(FILE *f, struct fi__rtrace *t);
int fi__replay_read_strace(FILE *f, struct fi__rtrace *t);
/* A new record at the end of t, zeroed but for line. */
struct fi__rrec *fi__replay_push(struct fi__rtrace *t, unsigned line);
/* "FILE:LINE: error: " + message, to stderr; returns FI_RUN_EXIT_USAGE. */
int fi__replay_error(const struct fi__rtrace *t, unsigned line, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

/* A process image: one process between two execs. */
struct fi__rimage {
	int pid;
	const char *comm; /* NULL if unknown */
	size_t parent;	  /* the image that forked it or exec'd into it */
	bool exec;	  /* it began with an execve of parent */
	bool shares;	  /* a vfork child: counts with its parent */
	size_t counts;	  /* the image whose rule counters it uses */
	size_t order;	  /* among parent's fork children, from 0 */
	size_t first;	  /* its first record to compare (after the loader) */
	size_t *recs;	  /* record indices, in order */
	size_t nrecs;
	int *tids; /* threads in creation order (those made by no record
		    * last, in order of appearance) */
	int *tnum; /* ... and their numbers (thread=), 0 if unknown */
	size_t ntids;
};

struct fi__rimages {
	struct fi__rimage *v;
	size_t n;
};

/* Cut t into images. For a strace log, the calls of the dynamic loader
 * before fi starts (up to the first munmap of an exec'd image) are left
 * out of counting and comparing. */
void fi__replay_images(const struct fi__rtrace *t, struct fi__rimages *im);
void fi__replay_images_free(struct fi__rimages *im);
/* Thread tid's number in image g in creation order (thread= of
 * docs/rules.md), 0 when no record of g made it. */
int fi__replay_thread_number(const struct fi__rimage *g, int tid);
/* Whether record i of image m is one the loader made before fi starts. */
bool fi__replay_in_loader(const struct fi__rimages *im, size_t m, size_t k);

/* Write the rules that replay t's failures into f[src], one .fi per file
 * of t: one rule on the line of the record it replays, so that
 * "FILE:LINE" in the summary names the record. Says on stderr what cannot
 * be replayed (-q does not hide it). Returns the number of rules. */
size_t fi__replay_compile(const struct fi__rtrace *t, FILE *const *f,
			  bool verbose);

/* Compare the live trace with the replayed one, per image and thread, and
 * say where they departed: the first divergence of each process, or all
 * with verbose. Returns the number of divergences. */
size_t fi__replay_diverge(const struct fi__rtrace *want,
			  const struct fi__rtrace *got, bool verbose);

/* fi-run's part (replay_run.c). Before the run: read o->replay and
 * compile it into o->replay_rules, scratch .fi files (one per file read,
 * named in messages as o->replay_names). Returns 0 or
 * FI_RUN_EXIT_USAGE after saying why. */
int fi__replay_prepare(struct fi__run_opts *o);
/* After the run: compare the live trace with the replayed one. Returns
 * the status to exit with: `status`, or FI_RUN_EXIT_USAGE under
 * --replay-strict when the run departed from the trace. */
int fi__replay_after(const struct fi__run_opts *o, const char *live,
		     int status);

/* "write(1)", "openat(\"x.tmp\")": a call, short, into buf. */
void fi__replay_describe(const struct fi__rrec *r, char *buf, size_t len);

#endif
