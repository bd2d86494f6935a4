/* store.h: a tiny record store, the example library whose error paths
 * examples/store/test_store.c checks with fi. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

/* Save n NUL-terminated records to path, one per line, atomically: write a
 * temporary file, fsync it, rename it over path. On failure path keeps its
 * old contents. Returns 0 or a negative errno. */
int store_save(const char *path, const char *const *records, size_t n);

/* Read path into buf (NUL-terminated). Returns the length or a negative
 * errno (-EFBIG when it does not fit). */
long store_load(const char *path, char *buf, size_t cap);

#endif
