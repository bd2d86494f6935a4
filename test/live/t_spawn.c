/* t_spawn: posix_spawn of this program (glibc spawns through
 * clone(CLONE_VM|CLONE_VFORK) on a stack of its own), with and without file
 * actions; the parent checks exit statuses and the child's output. */
#include <spawn.h>
#include <sys/wait.h>

#include "live.h"

extern char **environ;

int main(int argc, char **argv)
{
	live_begin();
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("spawned child: %s\n", argc > 2 ? argv[2] : "-");
		return argc > 2 ? 22 : 21;
	}

	char *args1[] = {argv[0], "child", NULL};
	pid_t pid;
	int st;
	LIVE_CHECK(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args1,
			       environ) == 0);
	LIVE_CHECK(waitpid(pid, &st, 0) == pid);
	LIVE_CHECK_EXIT(st, 21);
	printf("posix_spawn: exit 21\n");

	/* The child's stdout goes into a pipe that the parent reads. */
	int p[2];
	LIVE_CHECK(pipe(p) == 0);
	posix_spawn_file_actions_t fa;
	LIVE_CHECK(posix_spawn_file_actions_init(&fa) == 0);
	LIVE_CHECK(posix_spawn_file_actions_adddup2(&fa, p[1], 1) == 0);
	LIVE_CHECK(posix_spawn_file_actions_addclose(&fa, p[0]) == 0);
	char *args2[] = {argv[0], "child", "piped", NULL};
	LIVE_CHECK(posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args2,
			       environ) == 0);
	close(p[1]);
	char buf[128] = {0};
	size_t got = 0;
	for (;;) {
		ssize_t n = read(p[0], buf + got, sizeof buf - 1 - got);
		LIVE_CHECK(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	LIVE_CHECK(waitpid(pid, &st, 0) == pid);
	LIVE_CHECK_EXIT(st, 22);
	LIVE_CHECK(strcmp(buf, "spawned child: piped\n") == 0);
	printf("posix_spawn with file actions: exit 22, output through the pipe\n");
	posix_spawn_file_actions_destroy(&fa);

	/* A spawn that cannot exec reports the error to the parent. */
	char *bad[] = {"/nonexistent/fi-live", NULL};
	int rc = posix_spawn(&pid, bad[0], NULL, NULL, bad, environ);
	LIVE_CHECK(rc == ENOENT);
	printf("posix_spawn of a missing file: ENOENT\n");
	printf("spawn ok\n");
	return 0;
}
