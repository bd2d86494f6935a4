/* mem.h: libfi's own malloc, on pages of its own. The rules, the parser
 * and the API allocate here, never from the program's heap: libfi must not
 * set up the program's heap at load (glibc's first malloc makes brk and
 * getrandom calls, which would then happen inside libfi's start, before
 * the patching, out of every rule's reach), nor change its layout later.
 *
 * Thread-safe (one lock); not async-signal-safe and never called from
 * the hook. Works without the runtime (only mmap), so the unit tests and
 * fi-run use it through the same files. Memory from here goes back with
 * fi__mem_free, never free(), and the other way round. */
#ifndef FI_MEM_H
#define FI_MEM_H

#include <stddef.h>

void *fi__mem_malloc(size_t n);
void *fi__mem_calloc(size_t n, size_t size);
void *fi__mem_realloc(void *p, size_t n);
void fi__mem_free(void *p);
char *fi__mem_strdup(const char *s);
char *fi__mem_strndup(const char *s, size_t n);

/* In a fork child: the lock starts free (a thread of the parent that held
 * it does not exist there). Only an atomic store: safe in the hook. */
void fi__mem_forked(void);

#endif
