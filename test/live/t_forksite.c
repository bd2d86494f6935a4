/* t_forksite: one fork-like call through glibc's wrapper, named by argv[1]:
 * fork, vfork, posix_spawn (clone3 or clone with CLONE_VFORK inside glibc)
 * or thread (pthread_create, clone3). Prints "MODE: ok" when the call
 * succeeded, "MODE: EAGAIN" when it failed with EAGAIN (what a rule
 * `@fork site=live_forksite error=EAGAIN` must make of each: the site is
 * this program, not libc), and exits 0 either way; anything else is 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *thread_main(void *arg)
{
	return arg;
}

static int report(const char *mode, int err)
{
	if (err == 0)
		printf("%s: ok\n", mode);
	else
		printf("%s: %s\n", mode,
		       err == EAGAIN ? "EAGAIN" : strerror(err));
	return err == 0 || err == EAGAIN ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int status;
	pid_t pid;

	if (!strcmp(mode, "fork") || !strcmp(mode, "vfork")) {
		pid = mode[0] == 'v' ? vfork() : fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			return report(mode, errno);
		waitpid(pid, &status, 0);
		return report(mode, 0);
	}
	if (!strcmp(mode, "posix_spawn")) {
		char *args[] = {"true", NULL};
		int err = posix_spawn(&pid, "/bin/true", NULL, NULL, args,
				      environ);

		if (err == 0)
			waitpid(pid, &status, 0);
		return report(mode, err);
	}
	if (!strcmp(mode, "thread")) {
		pthread_t t;
		int err = pthread_create(&t, NULL, thread_main, NULL);

		if (err == 0)
			pthread_join(t, NULL);
		return report(mode, err);
	}
	fprintf(stderr, "usage: live_forksite fork|vfork|posix_spawn|thread\n");
	return 2;
}
