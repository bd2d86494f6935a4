/* target.h: what fi-run checks about the program before running it:
 * where it is (PATH, as execvp), whether it can run at all, and whether
 * a preloaded library can reach it (not static, not secure-exec). */
#ifndef FI_RUN_TARGET_H
#define FI_RUN_TARGET_H

struct fi__target {
	char *path; /* what to execve: the program as found */
	char *elf;  /* the ELF that will run: path, or a script's interpreter */
	char *asan; /* DT_NEEDED libasan soname of that ELF, or NULL */
	char **needed;	       /* its DT_NEEDED sonames, NULL-ended; or NULL */
	char *rpath, *runpath; /* its DT_RPATH / DT_RUNPATH, or NULL */
};

/* Resolve and check `prog`. Returns 0 with t filled, or the exit status
 * (126, 127) after printing "fi-run: PROG: reason" to stderr. A file that
 * is neither ELF nor script passes: execve decides. */
int fi__target_check(const char *prog, struct fi__target *t);
void fi__target_free(struct fi__target *t);

#endif
