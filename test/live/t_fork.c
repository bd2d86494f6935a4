/* t_fork: fork two children; each makes syscalls and exits with a status
 * that the parent checks; one reports through a pipe. */
#include <signal.h>
#include <sys/wait.h>

#include "live.h"

int main(void)
{
	live_begin();
	pid_t parent = getpid();
	int p[2];
	LIVE_CHECK(pipe(p) == 0);

	pid_t a = fork();
	LIVE_CHECK(a >= 0);
	if (a == 0) {
		close(p[0]);
		char msg[64];
		int ok = getppid() == parent && getpid() != parent;
		int len = snprintf(msg, sizeof msg, "child a: ppid %s\n",
				   ok ? "right" : "WRONG");
		live_write_all(p[1], msg, (size_t)len);
		_exit(7);
	}
	close(p[1]);
	char buf[64] = {0};
	size_t got = 0;
	for (;;) {
		ssize_t n = read(p[0], buf + got, sizeof buf - 1 - got);
		LIVE_CHECK(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	fputs(buf, stdout);
	int st;
	LIVE_CHECK(waitpid(a, &st, 0) == a);
	LIVE_CHECK_EXIT(st, 7);
	printf("child a: exit 7\n");

	/* A child that exits through exit(): atexit handlers and stdio flush. */
	pid_t b = fork();
	LIVE_CHECK(b >= 0);
	if (b == 0) {
		printf("child b: hello from the child\n");
		exit(0);
	}
	LIVE_CHECK(waitpid(b, &st, 0) == b);
	LIVE_CHECK_EXIT(st, 0);
	printf("child b: exit 0\n");

	/* A child killed by a signal: the parent sees it. */
	pid_t c = fork();
	LIVE_CHECK(c >= 0);
	if (c == 0) {
		raise(SIGTERM);
		_exit(99);
	}
	LIVE_CHECK(waitpid(c, &st, 0) == c);
	LIVE_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	printf("child c: killed by SIGTERM\n");
	printf("fork ok\n");
	return 0;
}
