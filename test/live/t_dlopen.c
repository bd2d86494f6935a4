/* t_dlopen: dlopen a library whose constructor makes syscalls (one of them
 * an inline `syscall` in the library itself), call into it, dlclose it.
 * Whatever libfi does to plan the new library (it may run fi-plan, a
 * process of its own) must not show: no SIGCHLD, and wait(-1) finds no
 * child. Under `getpid retval=4242` every getpid, the library's inline
 * one included, must say 4242 (late_test.sh). */
#include <dlfcn.h>
#include <signal.h>
#include <sys/wait.h>

#include "live.h"

#ifndef LIVE_DSO_PATH
#error "LIVE_DSO_PATH must name the built live_dso library"
#endif

static volatile sig_atomic_t sigchld;

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld = 1;
}

int main(void)
{
	live_begin();
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	LIVE_CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	void *h = dlopen(LIVE_DSO_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fprintf(stderr, "dlopen: %s\n", dlerror());
	LIVE_CHECK(h != NULL);
	LIVE_CHECK(!sigchld);
	errno = 0;
	LIVE_CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	int (*report)(int *, int *, int *);
	*(void **)&report = dlsym(h, "live_dso_report");
	LIVE_CHECK(report != NULL);
	int pid_ok = 0, devnull_ok = 0, asm_ok = 0;
	LIVE_CHECK(report(&pid_ok, &devnull_ok, &asm_ok) == getpid());
	LIVE_CHECK(pid_ok && devnull_ok && asm_ok);
	printf("constructor: getpid, open/write/close /dev/null, inline syscall ok\n");
	LIVE_CHECK(dlclose(h) == 0);
	printf("dlclose ok\n");
	printf("dlopen ok\n");
	return 0;
}
