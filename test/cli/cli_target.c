/* cli_target.c: the program the fi-run tests run. It obeys a list of
 * commands from argv, in order:
 *   touch FILE    create FILE (proof that the program started)
 *   env VAR       print "VAR=value" or "VAR unset" on stdout
 *   write         write one byte to stdout; on failure print the errno
 *                 name's strerror and exit 1
 *   wait FILE     create FILE, then wait for a signal
 *   kill SIG      raise signal number SIG
 *   exit N        exit with status N
 *   ppid          print "ppid ok", or "ppid failed" when getppid() <= 0
 *   overflow      write past a 4-byte heap block (an ASan report)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 255) {
		fprintf(stderr, "cli_target: bad number '%s'\n", s);
		exit(99);
	}
	return (int)v;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		perror(path);
		exit(98);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *cmd = argv[i],
			   *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(cmd, "write")) {
			if (write(1, "x", 1) != 1) {
				printf("write: %s\n", strerror(errno));
				return 1;
			}
			continue;
		}
		if (!strcmp(cmd, "ppid")) {
			long p = (long)getppid();

			printf("ppid %s\n", p > 0 ? "ok" : "failed");
			fflush(stdout);
			continue;
		}
		if (!strcmp(cmd, "overflow")) {
			volatile char *p = malloc(4);

			for (int k = 0; p && k <= 4; k++)
				p[k] = 'x';
			free((void *)p);
			continue;
		}
		if (!arg) {
			fprintf(stderr, "cli_target: '%s' needs an argument\n",
				cmd);
			return 99;
		}
		i++;
		if (!strcmp(cmd, "touch")) {
			touch(arg);
		} else if (!strcmp(cmd, "env")) {
			const char *v = getenv(arg);

			if (v)
				printf("%s=%s\n", arg, v);
			else
				printf("%s unset\n", arg);
			fflush(stdout);
		} else if (!strcmp(cmd, "wait")) {
			touch(arg);
			for (;;)
				pause();
		} else if (!strcmp(cmd, "kill")) {
			raise(number(arg));
		} else if (!strcmp(cmd, "exit")) {
			return number(arg);
		} else {
			fprintf(stderr, "cli_target: unknown command '%s'\n",
				cmd);
			return 99;
		}
	}
	return 0;
}
