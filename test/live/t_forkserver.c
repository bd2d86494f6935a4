/* t_forkserver.c: what a run forked by libfi's fork server sees
 * (forkserver_test.py). Each line it prints is one fact the test checks:
 * its constructor ran in the run, its working directory, its process
 * group and parent-death signal, glibc's idea of its thread id, the
 * environment, a rule's effect on it and on a program it execs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t ctor_pid;

__attribute__((constructor)) static void ctor(void)
{
	ctor_pid = getpid();
}

static void try_open(const char *who)
{
	int fd = open("probe.in", O_RDONLY);

	if (fd < 0)
		printf("%s open: %s\n", who, strerrorname_np(errno));
	else
		printf("%s open: ok\n", who);
	if (fd >= 0)
		close(fd);
}

static void *thread_tid(void *arg)
{
	(void)arg;
	return (void *)(long)gettid();
}

int main(int argc, char **argv)
{
	char cwd[4096];
	int sig = 0;
	void *head = NULL, *t = NULL;
	size_t len = 0;
	pthread_t th;
	pthread_mutex_t m;
	pthread_mutexattr_t ma;

	if (argc > 1 && !strcmp(argv[1], "child")) {
		try_open("child");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "sleep")) {
		printf("sleeping %d\n", (int)getpid());
		fflush(stdout);
		pause();
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&m, &ma);
	printf("ctor in run: %s\n", ctor_pid == getpid() ? "yes" : "no");
	printf("cwd: %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	printf("own group: %s\n", getpgrp() == getpid() ? "yes" : "no");
	prctl(PR_GET_PDEATHSIG, &sig);
	printf("pdeathsig: %d\n", sig);
	/* a mutex's owner is glibc's copy of the thread id */
	pthread_mutex_lock(&m);
	printf("tid: %s\n", m.__data.__owner == gettid() ? "glibc's" : "stale");
	pthread_mutex_unlock(&m);
	syscall(SYS_get_robust_list, 0, &head, &len);
	printf("robust list: %s\n", head ? "set" : "unset");
	pthread_create(&th, NULL, thread_tid, NULL);
	pthread_join(th, &t);
	printf("thread: %s\n", (long)t != gettid() ? "ok" : "bad");
	printf("FI_FORKSERVER: %s\n",
	       getenv("FI_FORKSERVER") ? "set" : "unset");
	printf("FI_RULES: %s\n", getenv("FI_RULES") ? getenv("FI_RULES") : "");
	try_open("run");
	fflush(stdout);
	fprintf(stderr, "to stderr\n");
	if (fork() == 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(127);
	}
	wait(NULL);
	return 3;
}
