/* libsearch.h: the libraries a program may dlopen(), for site=FILE:LINE
 * (libsearch.c). */
#ifndef FI_RUN_LIBSEARCH_H
#define FI_RUN_LIBSEARCH_H

#include <stdbool.h>
#include <stddef.h>

/* The paths of the libraries to search after the program (its file,
 * `prog`) and the libraries it links: each of `libs` (--lib: a library,
 * or the libraries of a directory and of its subdirectories, three
 * levels down), then those of the program's own directory and its
 * subdirectories, three levels down, symbolic links of the program
 * resolved. At most 64, by file name (*.so, *.so.N). A new
 * NULL-terminated vector: fi__libs_free. */
char **fi__libs_search(const char *prog, const char *const *libs, size_t nlibs);
void fi__libs_free(char **v);
/* Whether a file name is a library's: "libplug.so",
 * "_json.cpython-311-x86_64-linux-gnu.so", "libz.so.1.3". */
bool fi__libs_name(const char *file_name);

#endif
