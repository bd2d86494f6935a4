/* gcov.c: gcov's counts under fi (docs/coverage.md): coverage windows for
 * coverage/fi-coverage.sh, and the counts of a sweep's run that a signal
 * ends. Runs in the program's context, from the API (api.c), libfi's
 * constructor (init.c) and a signal handler; never in the hook.
 *
 * With FI_COVERAGE_WINDOWS=DIR in the environment, and a program built with
 * --coverage that exports libgcov's __gcov_dump and __gcov_reset, the
 * counts of each stretch of time during which the API had rules armed (a
 * window: from the first fi_rule, fi_fail_nth, fi_expect or
 * fi_load_scenario to the next fi_reset) go to a tree of their own:
 *
 *     counts before the window -> where they always go (dumped, then reset)
 *     counts of the window     -> DIR/PID-N/<absolute object dir>/x.gcda
 *     DIR/PID-N.rules          -> one line per rule armed in it:
 *                                 "caller-object+0xoffset<TAB>rule"
 *
 * GCOV_PREFIX (and GCOV_PREFIX_STRIP) name the window's tree while it is
 * open, since libgcov reads them at every dump: a child forked or a program
 * executed inside the window writes its counts there too, and so does the
 * exit of a program that ends with rules armed. Their earlier values come
 * back when the window closes. Without FI_COVERAGE_WINDOWS nothing here
 * runs. A program that does not export the two functions is left alone,
 * and DIR/PID.nodump names it, so that the script can say why its counts
 * were not split.
 *
 * With FI_COVERAGE_SIGNALS=1 (fi-run --sweep --coverage sets it in each
 * run), a program that exports __gcov_dump keeps the counts of a run
 * that a fatal signal ends: see fi__gcov_init. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "dispatch.h"
#include "gcov.h"
#include "mem.h"
#include "raw.h"

static struct {
	int state; /* 0: environment not read; 1: off; 2: on */
	const char *dir;
	void (*dump)(void);
	void (*reset)(void);
	bool open;	      /* a window is open */
	pid_t pid;	      /* the process that opened it */
	unsigned n;	      /* windows opened by this process */
	char *prefix, *strip; /* GCOV_PREFIX, GCOV_PREFIX_STRIP before */
} cw;

static char *dup_env(const char *name)
{
	const char *v = getenv(name);

	return v ? fi__mem_strdup(v) : NULL;
}

static void restore_env(const char *name, const char *v)
{
	if (v)
		fi__env_set(name, v);
	else
		fi__env_unset(name);
}

/* Append one line to DIR/NAME. */
static void note(const char *name, const char *line)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", cw.dir, name) >=
	    (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0) {
		/* nothing to do: the window's counts are still there */
	}
	close(fd);
}

static bool on(void)
{
	if (!cw.state) {
		const char *d = getenv("FI_COVERAGE_WINDOWS");

		cw.state = 1;
		if (!d || !*d)
			return false;
		cw.dir = fi__mem_strdup(d);
		cw.dump = (void (*)(void))dlsym(RTLD_DEFAULT, "__gcov_dump");
		cw.reset = (void (*)(void))dlsym(RTLD_DEFAULT, "__gcov_reset");
		if (cw.dir && cw.dump && cw.reset) {
			cw.state = 2;
		} else if (cw.dir) {
			char name[64], exe[PATH_MAX];
			ssize_t l = readlink("/proc/self/exe", exe,
					     sizeof(exe) - 2);

			if (l < 0)
				l = 0;
			exe[l++] = '\n';
			exe[l] = '\0';
			snprintf(name, sizeof(name), "%d.nodump",
				 (int)getpid());
			note(name, exe);
		}
	}
	return cw.state == 2;
}

/* The counts so far go where GCOV_PREFIX now says; counting restarts. */
static void flush(void)
{
	cw.dump();
	cw.reset();
}

void fi__gcov_armed(const void *caller, const char *rule)
{
	char name[64], line[PATH_MAX + 600], exe[PATH_MAX];
	const char *obj = "?";
	unsigned long off = 0;
	struct link_map *map = NULL;
	Dl_info info;

	if (!on())
		return;
	if (!cw.open || cw.pid != getpid()) {
		char tree[PATH_MAX];

		flush();
		if (!cw.open) {
			cw.prefix = dup_env("GCOV_PREFIX");
			cw.strip = dup_env("GCOV_PREFIX_STRIP");
		}
		cw.open = true;
		cw.pid = getpid();
		snprintf(tree, sizeof(tree), "%s/%d-%u", cw.dir, (int)cw.pid,
			 cw.n++);
		fi__env_set("GCOV_PREFIX", tree);
		fi__env_set("GCOV_PREFIX_STRIP", "0");
	}
	/* The caller as addr2line takes it: the object's file and the
	 * address in it of the return address less one (inside the call, on
	 * its line). The program itself has no name in the link map. */
	if (caller && dladdr1(caller, &info, (void **)&map, RTLD_DL_LINKMAP) &&
	    map) {
		ssize_t l;

		obj = map->l_name;
		if (!*obj && (l = readlink("/proc/self/exe", exe,
					   sizeof(exe) - 1)) > 0) {
			exe[l] = '\0';
			obj = exe;
		}
		off = (unsigned long)caller - map->l_addr - 1;
	}
	snprintf(name, sizeof(name), "%d-%u.rules", (int)cw.pid, cw.n - 1);
	snprintf(line, sizeof(line), "%s+0x%lx\t%s\n", obj, off, rule);
	note(name, line);
}

void fi__gcov_disarmed(void)
{
	if (cw.state != 2 || !cw.open)
		return;
	flush();
	restore_env("GCOV_PREFIX", cw.prefix);
	restore_env("GCOV_PREFIX_STRIP", cw.strip);
	fi__mem_free(cw.prefix);
	fi__mem_free(cw.strip);
	cw.prefix = cw.strip = NULL;
	cw.open = false;
}

/* --- the counts of a run that a signal ends --- */

static void (*signal_dump)(void);

/* The signals that end a sweep's run without exit: a crash, an abort,
 * and the SIGTERM fi-run sends a run past its timeout before SIGKILL. */
static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM};

/* A fatal signal arrived. A copy of the process (a raw clone, like fork
 * but without atfork handlers and without SIGCHLD to the program) writes
 * the counts with __gcov_dump, its stderr on /dev/null; the process
 * itself waits up to 2 s for it and kills it after that (libgcov
 * allocates: a crash inside malloc can hang the copy, never this one).
 * Then the signal again, with the default action SA_RESETHAND put back:
 * the run ends as it would have. Only raw syscalls here. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	long pid = fi__raw6(SYS_clone, 0, 0, 0, 0, 0, 0);
	int st;

	(void)si;
	(void)uc;
	if (pid == 0) {
		long fd = fi__raw3(SYS_open, "/dev/null", O_WRONLY, 0);

		if (fd >= 0)
			fi__raw2(SYS_dup2, fd, 2);
		signal_dump();
		fi__raw1(SYS_exit_group, 0);
	}
	if (pid > 0) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		int i;

		for (i = 0; i < 200; i++) {
			if (fi__raw4(SYS_wait4, pid, &st, WNOHANG | __WCLONE,
				     0) != 0)
				break;
			fi__raw4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts,
				 0);
		}
		if (i == 200) {
			fi__raw2(SYS_kill, pid, SIGKILL);
			fi__raw4(SYS_wait4, pid, &st, __WCLONE, 0);
		}
	}
	fi__raw3(SYS_tgkill, fi__raw0(SYS_getpid), fi__raw0(SYS_gettid), sig);
}

void fi__gcov_init(void)
{
	const char *v = getenv("FI_COVERAGE_SIGNALS");
	struct sigaction sa, old;

	if (!v || strcmp(v, "1"))
		return;
	/* libfi's own calls: never counted, recorded or failed. */
	fi__dispatch_suspend();
	signal_dump = (void (*)(void))dlsym(RTLD_DEFAULT, "__gcov_dump");
	if (!signal_dump) {
		fi__dispatch_resume();
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	/* Only where nothing else handles the signal: a sanitizer's or the
	 * program's own handler stays as it is. */
	for (size_t i = 0; i < sizeof(fatal) / sizeof(*fatal); i++)
		if (!sigaction(fatal[i], NULL, &old) &&
		    !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
			sigaction(fatal[i], &sa, NULL);
	fi__dispatch_resume();
}
