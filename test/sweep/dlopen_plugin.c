/* dlopen_plugin.c: a plugin that dlopen_main loads; its write is the
 * site the test fails by its source line. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int plugin_save(const char *path);

int plugin_save(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		perror("plugin: open");
		return -1;
	}
	if (write(fd, "data\n", 5) != 5) { /* SITE: plugin write */
		perror("plugin: write");
		close(fd);
		return -1;
	}
	return close(fd);
}
