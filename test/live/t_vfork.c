/* t_vfork: vfork then _exit, and vfork then execve of this program (which
 * is intercepted again under libfi). */
#include <sys/wait.h>

#include "live.h"

extern char **environ;

static int child_image(void)
{
	printf("vfork-exec child: running, ppid known %s\n",
	       getppid() > 0 ? "yes" : "no");
	return 5;
}

int main(int argc, char **argv)
{
	live_begin();
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_image();

	volatile int touched = 0;
	int st;
	pid_t a = vfork();
	LIVE_CHECK(a >= 0);
	if (a == 0) {
		/* Shares our memory until _exit: only syscalls and plain stores. */
		touched = 1;
		(void)getpid();
		_exit(3);
	}
	LIVE_CHECK(touched == 1);
	LIVE_CHECK(waitpid(a, &st, 0) == a);
	LIVE_CHECK_EXIT(st, 3);
	printf("vfork+_exit: exit 3, store seen by parent\n");

	char *args[] = {argv[0], "child", NULL};
	pid_t b = vfork();
	LIVE_CHECK(b >= 0);
	if (b == 0) {
		execve("/proc/self/exe", args, environ);
		_exit(127);
	}
	LIVE_CHECK(waitpid(b, &st, 0) == b);
	LIVE_CHECK_EXIT(st, 5);
	printf("vfork+exec: exit 5\n");

	/* An exec that fails in the vfork child: the child reports through _exit. */
	char *bad[] = {"/nonexistent/fi-live", NULL};
	pid_t c = vfork();
	LIVE_CHECK(c >= 0);
	if (c == 0) {
		execve(bad[0], bad, environ);
		_exit(errno == ENOENT ? 40 : 41);
	}
	LIVE_CHECK(waitpid(c, &st, 0) == c);
	LIVE_CHECK_EXIT(st, 40);
	printf("vfork+failed exec: ENOENT seen by the child\n");
	printf("vfork ok\n");
	return 0;
}
