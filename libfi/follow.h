/* follow.h: will libfi be in the image an execve or execveat starts? The
 * hook asks before the exec (dispatch.c), so that a child fi cannot follow
 * (a static program, an environment without libfi in LD_PRELOAD, a
 * setuid program) is named in fi-run's summary instead of silently
 * escaping the rules and the trace. */
#ifndef FI_FOLLOW_H
#define FI_FOLLOW_H

#include <stddef.h>

/* Why the new image will run without libfi. The names (fi__follow_why)
 * go into the report; fi-run words them (cli/summary.c). */
enum fi__follow_why {
	FI_FOLLOW_YES,	      /* libfi will be there, or fi cannot tell */
	FI_FOLLOW_STATIC,     /* no PT_INTERP: nothing loads LD_PRELOAD */
	FI_FOLLOW_NOT_X86_64, /* another ELF class or machine */
	FI_FOLLOW_SETUID,     /* secure exec: the loader ignores LD_PRELOAD */
	FI_FOLLOW_SETGID,
	FI_FOLLOW_CAPS,	      /* file capabilities, for a non-root user */
	FI_FOLLOW_NO_PRELOAD, /* the new environment has no LD_PRELOAD */
	FI_FOLLOW_NOT_NAMED,  /* ... it has one, which does not name libfi */
	FI_FOLLOW_NO_RULES,   /* ... it drops FI_SCENARIO and FI_RULES */
	FI_FOLLOW_NO_REPORT,  /* ... it drops FI_REPORT */
};

struct fi__follow {
	enum fi__follow_why why;
	/* The file the verdict is about when it is not the exec'd file
	 * itself: a "#!" script's interpreter. Empty otherwise. */
	char interp[256];
};

/* Decide for the exec the program is about to make: nr is SYS_execve or
 * SYS_execveat, args its six arguments as they go to the kernel. The
 * path and the environment are the program's and read only through
 * fi__safe_read; the file is looked at through an fd of libfi's own,
 * opened read-only and closed before returning. A path that does not
 * stat as a regular file answers FI_FOLLOW_YES: the exec will fail, and
 * there is nothing to name. The path as the program passed it goes to
 * path (cap bytes); page (FI_PAGE bytes) is scratch. Uses about 1.5 KiB
 * of stack. Hook-safe: no libc, no allocation. */
void fi__follow_exec(long nr, const long *args, char *path, size_t cap,
		     char *page, struct fi__follow *out);

/* The report's name for why ("static", "setuid", "no_preload", ...). */
const char *fi__follow_why_name(enum fi__follow_why why);

#endif
