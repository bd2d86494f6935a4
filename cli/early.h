/* early.h: the environment that starts libfi before every constructor:
 * LD_AUDIT with libfi_audit.so and the static TLS reserve it needs. */
#ifndef FI_RUN_EARLY_H
#define FI_RUN_EARLY_H

#include <stdbool.h>

struct fi__early {
	char *audit;	/* the whole LD_AUDIT value */
	char *tunables; /* the whole GLIBC_TUNABLES value */
};

/* Fill out for libfi at path `libfi`, the program's own libraries being
 * `libs` (paths, NULL-ended, or NULL; libasan among them when the program
 * links it). False, with out empty, when FI_EARLY=0 or libfi_audit.so is
 * not beside libfi (said when verbose): libfi then starts in its own
 * constructor, after the constructors of the libraries the program
 * links. Existing LD_AUDIT entries and tunables are kept. */
bool fi__early_env(const char *libfi, char *const *libs, bool verbose,
		   struct fi__early *out);
void fi__early_free(struct fi__early *e);

#endif
