/* save.c: docs/coverage.md's example. Saves a counter through a
 * temporary file and checks every call. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int save(const char *text)
{
	int fd = open("state.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		perror("save: state.tmp");
		return -1;
	}
	if (write(fd, text, strlen(text)) < 0) {
		perror("save: write");
		close(fd);
		unlink("state.tmp");
		return -1;
	}
	if (fsync(fd) < 0) {
		perror("save: fsync");
		close(fd);
		unlink("state.tmp");
		return -1;
	}
	if (close(fd) < 0) {
		perror("save: close");
		unlink("state.tmp");
		return -1;
	}
	if (rename("state.tmp", "state") < 0) {
		perror("save: rename");
		unlink("state.tmp");
		return -1;
	}
	return 0;
}

int main(void)
{
	if (save("42\n") < 0) {
		fprintf(stderr, "state not saved\n");
		return 1;
	}
	return 0;
}
