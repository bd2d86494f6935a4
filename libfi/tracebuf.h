/* tracebuf.h: the trace as a shared mapping of its own file. Every
 * process of the tree maps the JSON Lines file (MAP_SHARED) and copies
 * each record into it at an offset it reserved with one compare-and-swap
 * on a counter in the file's first line; no syscall per record. The
 * kernel keeps the pages, so records survive a crash, SIGKILL and exec.
 * Format and rules for readers: docs/trace.md. */
#ifndef FI_TRACEBUF_H
#define FI_TRACEBUF_H

#include <stdbool.h>
#include <stddef.h>

/* The first line of a mapped trace: a JSON object of this many bytes
 * (newline included) that starts with FI_TRACEBUF_MAGIC and holds the
 * shared counters as 8 digits of base 64 each. fi-run removes it. */
#define FI_TRACEBUF_HDR 128
#define FI_TRACEBUF_MAGIC "{\"fi_trace\":1,"

/* Map the trace open at fd (fds.c's, opened read-write). `first`: the
 * file was just truncated; lay out the header. Otherwise join the mapping
 * a first process laid out. Returns 1 when records go to the mapping, 0
 * when they go through write(2) instead (not a regular file, no
 * fallocate, no header), or a negative errno when this process cannot
 * join a mapped trace. Not for the hook. */
int fi__tracebuf_open(int fd, bool first);

/* True once fi__tracebuf_open() returned 1. Hook-safe. */
bool fi__tracebuf_on(void);

/* Append one record (it starts with '{' and ends with '\n'): reserve
 * len bytes, grow the file first when they lie past the reserved blocks
 * (fallocate, under a short lock in the header), copy, then store the
 * record's first byte last, so a record cut short by a kill never starts
 * with '{'. Returns 0 or a negative errno (the record is lost). Hook-safe,
 * async-signal-safe, allocation-free. */
int fi__tracebuf_append(const char *rec, size_t len);

/* The process is ending (exit_group): give back the blocks reserved past
 * the last record, so that the file ends with it. Safe while other
 * processes go on recording: they grow the file again. Hook-safe. */
void fi__tracebuf_trim(void);

#endif
