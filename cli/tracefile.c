/* tracefile.c: the mapped trace made plain (tracefile.h). The rule for
 * what is a record, also in docs/trace.md for readers of a trace that
 * fi-run did not tidy: skip NUL bytes; from a byte that is not NUL, a
 * piece runs to its first newline (included) or the next NUL (excluded);
 * a piece is a record when it starts with '{' and ends with a newline.
 * libfi stores a record's '{' last, so a record cut short is never one. */
#include "tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracebuf.h"

int fi__tracefile_tidy(const char *path, size_t *torn)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	char *m;
	size_t in, out = 0, n;
	int r = 0;

	*torn = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < FI_TRACEBUF_HDR) {
		close(fd);
		return 0;
	}
	n = (size_t)st.st_size;
	m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	if (memcmp(m, FI_TRACEBUF_MAGIC, strlen(FI_TRACEBUF_MAGIC)) ||
	    m[FI_TRACEBUF_HDR - 1] != '\n') {
		munmap(m, n);
		close(fd);
		return 0;
	}
	for (in = FI_TRACEBUF_HDR; in < n;) {
		size_t start, end;

		if (!m[in]) {
			in++;
			continue;
		}
		start = in;
		while (in < n && m[in] && m[in] != '\n')
			in++;
		if (in < n && m[in] == '\n')
			in++;
		end = in;
		if (m[start] == '{' && m[end - 1] == '\n') {
			memmove(m + out, m + start, end - start);
			out += end - start;
		} else {
			(*torn)++;
		}
	}
	if (munmap(m, n) < 0 || ftruncate(fd, (off_t)out) < 0)
		r = -errno;
	close(fd);
	return r;
}
