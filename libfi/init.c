/* init.c: libfi's load-time constructor. Reads the environment, arms the
 * start-up rules, opens the recorder and the report, then patches every
 * loaded object. Everything the hook needs is prepared here. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "area.h"
#include "arena.h"
#include "cache.h"
#include "disasm.h"
#include "gcov.h"
#include "entry.h"
#include "forkserver.h"
#include "log.h"
#include "mem.h"
#include "patch.h"
#include "raw.h"
#include "report.h"
#include "rules.h"
#include "runtime.h"
#include "safe_read.h"
#include "scan.h"
#include "scenario.h"
#include "site.h"
#include "trace.h"

/* fi's own set-up errors end the run with a distinctive status. */
#define FI_EXIT_SETUP 125

static void fatal(const char *msg)
{
	fi__raw3(SYS_write, 2, msg, strlen(msg));
	fi__raw3(SYS_write, 2, "\n", 1);
	fi__raw1(SYS_exit_group, FI_EXIT_SETUP);
}

static void arm_from_env(void)
{
	struct fi__scn_error err;
	const char *v, *seed = getenv("FI_SEED");
	const char *scn = getenv("FI_SCENARIO"), *rules = getenv("FI_RULES");

	if (!(seed && *seed) && !(scn && *scn) && !(rules && *rules))
		return;
	if (!fi__runtime_rules())
		fatal("fi: out of memory at start-up");

	v = getenv("FI_SEED");
	if (v && *v) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 0);
		if (errno || *end) {
			fatal("fi: FI_SEED: not a number");
		}
		fi__rules_seed(fi__rs, n);
	}
	v = getenv("FI_SCENARIO");
	if (v && *v) {
		/* Several files are separated by ':' (fi-run -s ... -s ...). */
		char *list = fi__mem_strdup(v), *save = NULL;
		for (char *p = strtok_r(list, ":", &save); p;
		     p = strtok_r(NULL, ":", &save))
			if (fi__scn_load_file(fi__rs, p, &err) < 0)
				fatal(err.msg);
		fi__mem_free(list);
	}
	v = getenv("FI_RULES");
	if (v && *v && fi__scn_load_list(fi__rs, v, "FI_RULES", &err) < 0)
		fatal(err.msg);
	fi__rules_keep_base(fi__rs);
}

/* The trace and the report, at absolute paths (fi may reopen them, and
 * exec'd children re-open them after a chdir). */
static char trace_path[PATH_MAX], report_path[PATH_MAX];

static bool absolute(const char *path, char *out)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return fi__str_add(out, PATH_MAX, 0, path) < PATH_MAX;
	return getcwd(cwd, sizeof(cwd)) &&
	       fi__str_add(out, PATH_MAX,
			   fi__str_add(out, PATH_MAX,
				       fi__str_add(out, PATH_MAX, 0, cwd), "/"),
			   path) < PATH_MAX;
}

static bool env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

static void open_channels(void)
{
	const char *v = getenv("FI_TRACE");
	int r;

	if (v && *v) {
		/* The first process stops on a trace it cannot write; a
		 * program it ran (which may have dropped privileges or
		 * lowered its fd limit) goes on, unrecorded, and says so. */
		bool child = env_is("FI_TRACE_APPEND", "1");

		r = absolute(v, trace_path) ? fi__trace_open(trace_path, !child)
					    : -ENAMETOOLONG;
		if (r < 0 && !child) {
			fi__log("cannot record to %s: %s", v, strerror(-r));
			fi__raw1(SYS_exit_group, FI_EXIT_SETUP);
		} else if (r < 0) {
			fi__log("warning: pid %d is not recorded: cannot open %s: %s",
				(int)getpid(), v, strerror(-r));
		}
	}
	v = getenv("FI_REPORT");
	if (v && *v && absolute(v, report_path))
		fi__report_open(report_path, !env_is("FI_REPORT_APPEND", "1"));
}

/* Children that exec re-open the trace and report from the environment:
 * they must append, at the same absolute paths. */
static void publish_env(void)
{
	if (fi__trace_enabled()) {
		fi__env_set("FI_TRACE_APPEND", "1");
		if (!env_is("FI_TRACE", trace_path))
			fi__env_set("FI_TRACE", trace_path);
	}
	if (fi__report_enabled()) {
		fi__env_set("FI_REPORT_APPEND", "1");
		if (!env_is("FI_REPORT", report_path))
			fi__env_set("FI_REPORT", report_path);
	}
}

/* FI_DEBUG: what this kernel offers that fi uses or could use, so that a
 * missing feature is said rather than silently degrading. */
static void say_features(void)
{
	char buf[8];
	long clone3 = fi__raw2(SYS_clone3, 0, 0);
	long sud = fi__raw6(SYS_prctl, 59 /* PR_SET_SYSCALL_USER_DISPATCH */,
			    0 /* PR_SYS_DISPATCH_OFF */, 0, 0, 0, 0);

	fi__log("kernel features: clone3 %s; reading the program's memory safely (process_vm_readv) %s; Syscall User Dispatch %s",
		clone3 == -ENOSYS ? "missing (glibc falls back to clone)"
				  : "present",
		fi__safe_copy_str("probe", buf, sizeof(buf)) == 5
			? "works"
			: "refused (path= rules and recorded paths will not match)",
		sud == 0 ? "available (fi does not use it yet)"
			 : "missing (kernel older than 5.11)");
}

/* A run a fork server made (forkserver.h): its rules and report arrive
 * in its request, not in the environment it was started with. */
static struct fi__forkserver_run served;

/* Arm the run as start() arms an exec'd one; set FI_RULES and FI_REPORT
 * in the environment that its exec'd children inherit. */
static void arm_served(void)
{
	fi__env_unset(FI_FORKSERVER_ENV);
	if (*served.rules)
		fi__env_set("FI_RULES", served.rules);
	if (*served.report)
		fi__env_set("FI_REPORT", served.report);
	open_channels();
	fi__runtime_set_channels(fi__trace_enabled(), fi__report_enabled());
	arm_from_env();
	fi__runtime_rules_changed();
}

/* libc's constructor set environ back to the kernel's array: again what
 * the run's children inherit. */
static void publish_served(void)
{
	fi__env_unset(FI_FORKSERVER_ENV);
	if (*served.rules)
		fi__env_set("FI_RULES", served.rules);
}

/* 0: not started; 1: started by the audit module, before libc's own
 * constructor; 2: done. */
static int started;

static void start(bool early)
{
	const char *v;
	unsigned nobjects;
	long n;

	v = getenv("FI_DEBUG");
	fi__log_debug = v && *v && strcmp(v, "0") ? (strcmp(v, "2") ? 1 : 2)
						  : 0;
	/* FI_SCAN=full; FI_SWEEP=full is its old name, still read. */
	v = getenv("FI_SCAN");
	if (!v || !*v)
		v = getenv("FI_SWEEP");
	fi__patch_full_scan = v && !strcmp(v, "full");
	fi__cache_init();
	fi__area_set_entries(fi__entry, fi__entry_post);
	if (fi__patch_init() < 0)
		fatal("fi: out of memory at start-up");
	fi__site_init();

	open_channels();
	fi__runtime_set_channels(fi__trace_enabled(), fi__report_enabled());
	/* libc's constructor will set environ again, to the array the kernel
	 * gave: changes made now would be lost. */
	if (!early)
		publish_env();
	arm_from_env();
	fi__runtime_rules_changed();

	n = fi__scan_loaded(&nobjects);
	fi__runtime_set_active(n > 0);
	/* From now on every object arrives through ld.so's mmap, in the hook. */
	fi__patch_in_hook = true;
	if (fi__log_debug) {
		fi__log("%ld patch points in %u objects%s", n, nobjects,
			early ? ", before any constructor (LD_AUDIT)" : "");
		say_features();
	}
}

/* Called by libfi_audit.so (audit.c) once ld.so has relocated every
 * object at start-up and before it runs any constructor: libfi's, libc's
 * and those of every other library. libc's has not set environ yet; the
 * environment is where the kernel put it, after argv on the initial
 * stack, which __libc_stack_end marks. */
extern void *__libc_stack_end;

__attribute__((visibility("default"))) void fi__audit_start(void);
void fi__audit_start(void)
{
	long *sp = __libc_stack_end;

	if (started || !sp)
		return;
	started = 1;
	if (!environ)
		environ = (char **)(sp + 1 + sp[0] + 1);
	fi__disasm_own_namespace = true;
	start(true);
	fi__disasm_own_namespace = false;
	if (fi__forkserver_wanted()) {
		/* Returns in each forked run, never in the server. */
		fi__forkserver_serve(&served);
		arm_served();
	}
}

__attribute__((constructor)) static void fi_init(void)
{
	if (started == 1) {
		publish_env();
		if (served.report)
			publish_served();
	} else if (!started) {
		/* Constructors have run: too late to fork runs from. */
		if (fi__forkserver_wanted())
			fi__forkserver_refuse();
		start(false);
	}
	started = 2;
	fi__gcov_init(); /* after libc's own start: it uses dlsym */
}
