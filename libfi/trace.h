/* trace.h: the recorder (FI_TRACE=FILE, fi-run --record FILE). One JSON
 * Lines record per syscall, written with one write(2) to an O_APPEND file
 * that every process of the tree shares. Format: docs/trace.md. Also the
 * hook-safe memory helpers that dispatch needs to describe a call. */
#ifndef FI_TRACE_H
#define FI_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

/* Pass as `ret` for a call whose result is not known when the record is
 * written (exit_group, a successful execve): the record says "ret":null. */
#define FI_TRACE_RET_NONE (-0x7fffffffffffffffL - 1)

/* Start recording into path (FI_TRACE; absolute: fi may reopen it),
 * truncating it first when `truncate`. The fd is fi's own (fds.h).
 * Returns 0 or a negative errno. Not for the hook. */
int fi__trace_open(const char *path, bool truncate);

/* True once fi__trace_open() succeeded, even if the program took the file
 * away since (records are then counted as lost). Hook-safe. */
bool fi__trace_enabled(void);

/* Append one record for a finished call: ret is the raw result (-errno on
 * failure, or FI_TRACE_RET_NONE), injected is true when fi decided the
 * result, site_module/site_offset the call site (module NULL: unknown),
 * fd_path the path of the call's fd (NULL: none or unknown; used only
 * for calls without a path argument). One write(2); never blocks on a lock;
 * hook-safe, async-signal-safe. Uses about 4.5 KiB of stack. */
void fi__trace_write(const struct fi__call *c, long ret, bool injected,
		     const char *site_module, unsigned long site_offset,
		     const char *fd_path);

/* The same, returning the record's seq (0 when nothing was written). With
 * resumes != 0 the record completes the earlier record of that seq (an
 * execve recorded before it ran, which failed): same seq, "resumed":true.
 * A signal handler may record while a record is being written (one
 * level deep). */
unsigned long fi__trace_write_seq(const struct fi__call *c, long ret,
				  bool injected, const char *site_module,
				  unsigned long site_offset,
				  const char *fd_path, unsigned long resumes);

/* What a record says beyond the call itself: what fi changed in it, and
 * the argv of an execve. Zeroed: nothing. */
struct fi__trace_more {
	bool has_short;		   /* short=: the kernel was given short_to */
	long short_to;		   /* bytes */
	const char *redirected_to; /* redirect=: the path used instead */
	const void *argv;	   /* execve(at): the program's argv pointer,
				    * read through fi__safe_read */
	long ran_instead;	   /* syscall=: the syscall run, or 0 */
	const struct fi__pokes *poked_enter, *poked_exit; /* poke_*= done */
	unsigned poke_failed; /* bit i: poked_enter's p[i] not written;
				    * bit 8 + i: poked_exit's */
};

/* fi__trace_write_seq with more (NULL: nothing more). Hook-safe. */
unsigned long fi__trace_write_more(const struct fi__call *c, long ret,
				   bool injected, const char *site_module,
				   unsigned long site_offset,
				   const char *fd_path, unsigned long resumes,
				   const struct fi__trace_more *more);

/* Process pid is about to end (exit_group, after its record): its other
 * threads' records are let finish, none is begun, and the trace ends
 * with the last record written (tracebuf.h). Hook-safe. */
void fi__trace_exit(int pid);

#endif
