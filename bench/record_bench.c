/* record_bench.c: the recorder's benchmark loop (issue 16): N one-byte
 * writes to /dev/null, run bare, under fi-run --record and under
 * strace -f -o by bench/record.py. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	long n = argc > 1 ? strtol(argv[1], &end, 10) : 200000;
	int fd;

	if (argc > 1 && (*end || n < 0)) {
		fprintf(stderr, "usage: %s [N]\n", argv[0]);
		return 2;
	}
	fd = open("/dev/null", O_WRONLY);
	if (fd < 0)
		return 1;
	for (long i = 0; i < n; i++)
		if (write(fd, "x", 1) != 1)
			return 1;
	return 0;
}
