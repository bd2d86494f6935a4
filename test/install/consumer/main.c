/* main.c: links fi::fi from an installed fi and makes one write fail. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fi.h>

int main(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0 || !fi_version()) {
		fprintf(stderr, "consumer: set-up failed\n");
		return 1;
	}
	if (fi_fail_nth("write", 1, ENOSPC) != 0) {
		fprintf(stderr, "consumer: fi_fail_nth: %s\n", fi_last_error());
		return 1;
	}
	n = write(fd, "x", 1);
	err = errno;
	if (n != -1 || err != ENOSPC) {
		fprintf(stderr,
			"consumer: write returned %zd (%s), not ENOSPC\n", n,
			strerror(err));
		return 1;
	}
	if (fi_verify() != 0) {
		fprintf(stderr, "consumer: fi_verify: %s\n", fi_last_error());
		return 1;
	}
	fi_reset();
	close(fd);
	printf("consumer: fi %s injected ENOSPC into write\n", fi_version());
	return 0;
}
