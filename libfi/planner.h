/* planner.h: plans made out of the process. libfi does not load the
 * decoder (capstone) into the program unless it must: loading it costs
 * ~10 ms and sets up the program's heap, and it cannot be done at all from
 * inside ld.so (an object being dlopen'ed) or before libc is initialised.
 * So a region without a cached plan is planned by fi-plan, a small program
 * installed beside libfi.so (LIBDIR/fi/fi-plan), built from the same
 * planner (region.c, plan.c, disasm.c):
 *
 *   libfi (the program's thread)
 *     memfd_create, moved to a high fd
 *     clone(CLONE_VM|CLONE_VFORK), exit signal 0, every signal blocked
 *       child: SIGCHLD to default, close-on-exec on every fd but the
 *       memfd and the objects' fds (its own copies of both tables)
 *         clone(CLONE_VM|CLONE_VFORK); execve fi-plan, empty environment
 *           fi-plan: maps each object's file, plans the regions asked
 *           for, writes one record each to the memfd, exits
 *       child: wait4(fi-plan, __WALL), exits with its status
 *     wait4(child, __WALL)
 *     mmap the memfd, close it; each record is checked like a cache entry
 *
 * The program gets no SIGCHLD and its wait(-1) never sees a child: the
 * child that exits to it has exit signal 0 (only __WALL/__WCLONE waits see
 * it), and it is not the one that execs, since exec would turn its exit
 * signal back into SIGCHLD. No handler of the program runs in either
 * (every signal stays blocked in them; fi-plan unblocks its own). Nothing
 * of the program's fd table changes but the one memfd, closed before
 * returning.
 *
 * Raw syscalls only, no allocation but fi__pages: usable inside the hook
 * while ld.so holds its lock, and before libc is initialised. */
#ifndef FI_PLANNER_H
#define FI_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* One region to plan: [off, off+len) from the object's load bias (a
 * segment's p_vaddr), in the file at path, or in the file open as fd
 * (inherited by fi-plan), or in the vDSO when neither is given (fi-plan
 * plans its own: the kernel's vDSO is one image). */
struct fi__plan_request {
	const char *path; /* or NULL */
	int fd;		  /* or -1 */
	uint64_t off, len;
};

/* What one run of fi-plan wrote: a record per request, in order. */
struct fi__planner_out {
	const uint8_t *map; /* the memfd's pages */
	size_t len;
	size_t n; /* requests */
};

/* Learn where fi-plan is: beside the file libfi.so was loaded from
 * (self is an address inside libfi). Not for the hook; no malloc. */
void fi__planner_init(const void *self);

/* The path of fi-plan ("" when unknown). */
const char *fi__planner_path(void);

/* Run fi-plan once for n requests and wait for it. full: decode whole
 * regions (FI_SCAN=full). False with *why when it could not run or
 * failed; out is then empty. FI_DEBUG says what ran and how long it took.
 * Hook-safe; the caller saves the vector state. */
bool fi__planner_run(const struct fi__plan_request *req, size_t n, bool full,
		     struct fi__planner_out *out, const char **why);

/* The plans of request i, for the region now at start in this process, of
 * the object with this build-id: fills ps (which borrows out's pages) and
 * returns true, or false with *why (the record's own reason, or why it
 * does not fit). */
bool fi__planner_take(const struct fi__planner_out *out, size_t i,
		      const uint8_t *build_id, size_t id_len, uint64_t start,
		      struct fi__planset *ps, const char **why);

void fi__planner_free(struct fi__planner_out *out);

/* --- the protocol, shared with fi-plan (fi_plan.c) --- */

#define FI_PLANNER_MAGIC "FIPLREC1"

/* One record: this header, then `size` bytes of a cache entry
 * (fi__cache_write) when err is 0. Sizes are multiples of 8. */
struct fi__planner_record {
	char magic[8];
	int32_t err; /* 0, or a positive errno: see why */
	uint32_t id_len;
	uint8_t build_id[32];
	uint64_t off, len; /* the region, as asked */
	uint64_t size;
	char why[80];
};

#endif
