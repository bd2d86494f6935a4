/* t_execve: the program re-execs itself once with an argument, so that under
 * libfi the new image is patched (and traced) again. */
#include <fcntl.h>

#include "live.h"

extern char **environ;

int main(int argc, char **argv)
{
	live_begin();
	if (argc > 1 && strcmp(argv[1], "second") == 0) {
		/* The descriptor left open across exec is still there. */
		LIVE_CHECK(fcntl(7, F_GETFD) == 0);
		char c;
		LIVE_CHECK(read(7, &c, 1) == 1 && c == 'x');
		printf("second image: fd 7 inherited, read ok\n");
		printf("execve ok\n");
		return 0;
	}
	printf("first image: exec'ing myself\n");
	int p[2];
	LIVE_CHECK(pipe(p) == 0);
	LIVE_CHECK(dup2(p[0], 7) == 7);
	LIVE_CHECK(write(p[1], "x", 1) == 1);
	char *args[] = {argv[0], "second", NULL};
	execve("/proc/self/exe", args, environ);
	LIVE_CHECK(!"execve returned");
	return 1;
}
