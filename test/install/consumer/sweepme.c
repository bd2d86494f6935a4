/* sweepme.c: a program with careful error handling, swept by the
 * consumer's fi_add_sweep() test: it writes its argument's file and says
 * so on stderr when anything fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "ok\n", 3) != 3 || close(fd)) {
		fprintf(stderr, "sweepme: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
