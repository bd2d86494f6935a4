/* abort_suite.c: a test program that aborts while an fi rule is armed,
 * for coverage.script_abort: the window's counts must survive the abort
 * (libfi writes them on SIGABRT, FI_COVERAGE_SIGNALS). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fi.h>

int main(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || fi_fail_nth("write", 1, EIO) < 0)
		return 2;
	if (write(fd, "x", 1) < 0) {
		fputs("abort_suite: write failed\n", stderr); /* HANDLER */
		abort();
	}
	return 0;
}
