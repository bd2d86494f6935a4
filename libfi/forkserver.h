/* forkserver.h: a sweep's runs forked from one started program. fi-run
 * starts the program once with FI_FORKSERVER; libfi's early start stops
 * it there, after the patching and before any constructor, and forks one
 * run per request of fi-run's, each a child of fi-run's own (CLONE_PARENT)
 * that goes on from that point with its own rules, report, working
 * directory and standard streams. A run so started skips exec, ld.so and
 * libfi's start; what it does from its first constructor on is what an
 * exec'd run does. The server forks each run before its request comes
 * (the run waits in the server's process group for it), so that the
 * fork is not on fi-run's path. The protocol is fi-run's too:
 * cli/sweep_server.c. */
#ifndef FI_FORKSERVER_H
#define FI_FORKSERVER_H

#include <stdbool.h>

/* The environment variable: "REQ_FD,REPLY_FD". */
#define FI_FORKSERVER_ENV "FI_FORKSERVER"

/* What one request carries, in this order, each string NUL-terminated,
 * after a 4-byte length of the whole: the rules (FI_RULES, may be
 * empty), the report's path, the working directory, the stdout and the
 * stderr files' paths. The reply is a 4-byte int: the run's pid, or a
 * negative errno when it could not be forked. The first reply, before
 * any request, is the server's pid (0: it cannot serve). */
#define FI_FORKSERVER_FIELDS 5
#define FI_FORKSERVER_MAX 32768

/* What a forked run is given. Its strings live in the server's buffer,
 * which the run keeps (its own copy of memory). */
struct fi__forkserver_run {
	const char *rules;
	const char *report;
};

/* True when FI_FORKSERVER names this process a server. */
bool fi__forkserver_wanted(void);

/* Serve requests until fi-run closes the pipe (then _exit(0)). Returns
 * only in a forked run, its set-up done: process group, parent-death
 * signal, working directory and streams; the caller arms *run. */
void fi__forkserver_serve(struct fi__forkserver_run *run);

/* A server asked for where it cannot serve (no early start: constructors
 * have run): say so to fi-run and _exit(0). */
void fi__forkserver_refuse(void);

#endif
