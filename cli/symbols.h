/* symbols.h: site=FILE:LINE, resolved by fi-run from the program's DWARF
 * line tables before it starts (symbols.c; the sweep's sites -> file:line
 * is fi__sweep_symbolize in sweep.h). */
#ifndef FI_RUN_SYMBOLS_H
#define FI_RUN_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>

#include "target.h"

/* The line tables of a program and of the libraries it links, except
 * those no site is ever in (libc, ld.so: fi__site_internal_name). */
struct fi__lines;

/* Read them for t; `shown` names the program in messages. Never NULL:
 * objects without debug info simply have no lines. */
struct fi__lines *fi__lines_open(const struct fi__target *t, const char *shown);
void fi__lines_close(struct fi__lines *l);
/* Add one more library, at `path`: one the program loads with dlopen(),
 * which no DT_NEEDED names (fi__libs_search). It is named by its file
 * name, as libfi names a loaded object; its own DT_NEEDED are not
 * followed. False when it was not added: a name already there, libc or
 * ld.so, or no ELF. */
bool fi__lines_add(struct fi__lines *l, const char *path);

/* The code of FILE:LINE (FILE a base name, or a path that ends the
 * compiled file's path) as site= spans, "MODULE+0xLO..0xHI ...", the
 * offsets of the return addresses of calls made from that line (a new
 * string); or NULL with the reason in why: "no code at foo.c:42 in
 * ./prog; nearest lines with code: 40, 44". */
char *fi__lines_spans(struct fi__lines *l, const char *file_line, char *why,
		      size_t whylen);

#endif
