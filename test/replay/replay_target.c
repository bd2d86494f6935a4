/* replay_target.c: a program for test/replay whose writes go to known
 * fds from known threads and processes, and which says each failure on
 * stderr, so that a replay can be checked by its output.
 *   threads:  thread 1 writes 5 lines to a.out, thread 2 to b.out
 *   threads1: the same, both to stdout: one fd for both
 *   fork:     the parent writes 2 lines to stdout, its child 3
 *   fork1:    the parent writes 3 lines to stdout, then its child 3 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void put(int fd, const char *who, int n)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "%s line %d\n", who, n);

	if (write(fd, line, (size_t)len) != len) {
		fprintf(stderr, "%s write %d: %s\n", who, n, strerror(errno));
		__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	}
}

struct job {
	const char *who;
	int fd;
};

static void *writer(void *arg)
{
	struct job *j = arg;

	for (int i = 1; i <= 5; i++)
		put(j->fd, j->who, i);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strncmp(argv[1], "threads", 7)) {
		bool one = !strcmp(argv[1], "threads1");
		struct job a = {"t1",
				one ? 1
				    : open("a.out",
					   O_WRONLY | O_CREAT | O_TRUNC, 0644)};
		struct job b = {"t2",
				one ? 1
				    : open("b.out",
					   O_WRONLY | O_CREAT | O_TRUNC, 0644)};
		pthread_t ta, tb;

		if (a.fd < 0 || b.fd < 0)
			return 2;
		pthread_create(&ta, NULL, writer, &a);
		pthread_join(ta, NULL);
		pthread_create(&tb, NULL, writer, &b);
		pthread_join(tb, NULL);
		return failures ? 1 : 0;
	}
	if (argc > 1 && !strncmp(argv[1], "fork", 4)) {
		bool one = !strcmp(argv[1], "fork1");
		int st;
		pid_t pid;

		put(1, "parent", 1);
		for (int i = 2; one && i <= 3; i++)
			put(1, "parent", i);
		pid = fork();
		if (pid == 0) {
			for (int i = 1; i <= 3; i++)
				put(1, "child", i);
			_exit(failures ? 3 : 0);
		}
		waitpid(pid, &st, 0);
		if (!one)
			put(1, "parent", 2);
		return WIFEXITED(st) ? WEXITSTATUS(st) + failures : 4;
	}
	fputs("usage: replay_target threads|threads1|fork|fork1\n", stderr);
	return 2;
}
