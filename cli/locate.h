/* locate.h: finding the libraries fi-run preloads: libfi.so itself and,
 * for programs built with ASan, the libasan they need. */
#ifndef FI_RUN_LOCATE_H
#define FI_RUN_LOCATE_H

#include <stdbool.h>

/* The absolute path of the libfi.so to preload: $FI_LIBRARY if set, else
 * next to this fi-run (installed layout, then build tree). NULL after
 * printing why to stderr. A new string. */
char *fi__locate_libfi(bool verbose);

/* The directory of the bundled scenarios: share/fi/scenarios of the
 * prefix fi-run is installed in (found relative to fi-run), or the source
 * tree's scenarios/ when fi-run runs from the build tree. A new string,
 * or NULL when there is none. */
char *fi__locate_scenarios(void);

/* Whether `path` can be libfi: an x86_64 ELF shared object whose dynamic
 * symbol table defines fi_version. Returns 0, or 125 after printing
 * "fi-run: PATH is ..., so it is not libfi ..." to stderr. */
int fi__locate_check_libfi(const char *path);

/* Where the loader would find `soname` for the program at prog_path, given
 * its DT_RUNPATH / DT_RPATH (colon lists, $ORIGIN allowed; may be NULL):
 * those, LD_LIBRARY_PATH, then the system's library directories. A new
 * string, or NULL when none has it. */
char *fi__locate_needed(const char *soname, const char *prog_path,
			const char *rpath, const char *runpath);

#endif
