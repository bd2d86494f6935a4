/* sweep_target.c: the program test/sweep sweeps. It writes a few files
 * in its working directory and nothing on stdout, and handles the errors
 * of its syscalls well, except at the lines marked PLANT, each wrong in
 * the way the mark names (one of each outcome class of docs/sweep.md).
 * sweep_test.sh finds the marks by grep, so keep one call per marked
 * line. Built with -O0 -g (and UBSan's bounds check) so that sites map
 * to these lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(const char *what)
{
	dprintf(2, "sweep_target: %s: %s\n", what, strerror(errno));
	return 1;
}

/* The correct handler: every error said and the run failed, EINTR
 * retried. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n); /* handled; EINTR: recovered */

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int save_data(void)
{
	int fd = open("data.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return fail("data.txt");
	if (write_all(fd, "0123456789abcdef\n", 17) < 0) {
		close(fd);
		return fail("data.txt: write");
	}
	if (close(fd))
		return fail("data.txt: close");
	return 0;
}

/* The log's write is not checked: its error is swallowed. */
static int save_log(void)
{
	int fd = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t r;

	if (fd < 0)
		return fail("log.txt");
	r = pwrite(fd, "saved\n", 6, 0); /* PLANT: ignored */
	(void)r;
	if (close(fd))
		return fail("log.txt: close");
	return 0;
}

/* A scratch page, never checked for MAP_FAILED. */
static int scratch_page(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, /* PLANT: crash */
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	p[0] = 1;
	munmap(p, 4096);
	return 0;
}

/* A count indexed by readlink's result: -1 is out of bounds. */
static int link_count(void)
{
	static int counts[8];
	char buf[16];
	ssize_t n;

	if (symlink("abc", "me") && errno != EEXIST)
		return fail("symlink");
	n = readlink("me", buf, sizeof(buf)); /* PLANT: sanitizer */
	counts[n]++;
	if (unlink("me"))
		return fail("unlink");
	return counts[3] == 1 ? 0 : fail("readlink");
}

/* Reads the data back 16 bytes at a time; on an error it moves the
 * offset by -1 and asks again, for ever. */
static int read_back(void)
{
	int fd = open("data.txt", O_RDONLY);
	char buf[16];
	off_t off = 0;
	ssize_t n;

	if (fd < 0)
		return fail("data.txt: reopen");
	while ((n = pread(fd, buf, 16, off)) != 16) /* PLANT: hang */
		off += n;
	close(fd);
	return memcmp(buf, "0123456789abcdef", 16) ? fail("data.txt: content")
						   : 0;
}

int main(void)
{
	if (save_data() || save_log() || scratch_page() || link_count() ||
	    read_back())
		return 1;
	return 0;
}
