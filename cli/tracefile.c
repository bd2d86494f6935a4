/* tracefile.c: the mapped trace made plain (tracefile.h). The rule for
 * what is a record, also in docs/trace.md for readers of a trace that
 * fi-run did not tidy: skip NUL bytes; from a byte that is not NUL, a
 * piece runs to its first newline (included) or the next NUL (excluded);
 * a piece is a record when it starts with '{' and ends with a newline.
 * libfi stores a record's '{' last, so a record cut short is never one.
 *
 * The file is moved down in place with pread and pwrite, a chunk at a
 * time: the records sit in the page cache already, and the kernel copies
 * them through its own mapping of memory. Mapping the file here instead
 * costs a page fault per 4 KiB page, which on a virtual machine was
 * slower than the whole run it tidied (bench/RESULTS.md). */
#include "tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracebuf.h"

/* Bytes read at a time. A piece that does not end within one chunk is
 * kept for the next; one that fills a whole chunk is far longer than any
 * record (at most 4 KiB), so it is dropped unread to its end. */
#define CHUNK (1u << 20)

struct tidy {
	int fd;
	char *buf;
	size_t have;  /* bytes in buf */
	off_t in;     /* file offset of buf[have] */
	off_t out;    /* where the next record goes */
	bool skip;    /* inside a piece too long to be a record */
	size_t *torn; /* pieces dropped */
};

static int pread_all(int fd, char *p, size_t n, off_t at, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = pread(fd, p + *got, n - *got, at + (off_t)*got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int pwrite_all(int fd, const char *p, size_t n, off_t at)
{
	while (n) {
		ssize_t r = pwrite(fd, p, n, at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
		at += r;
	}
	return 0;
}

/* Keep the records of buf[0..have): move them to the front of buf and
 * write them at t->out. A piece cut by the end of the data stays at the
 * front for the next chunk (unless `last`); returns its length in *rest. */
static int keep_records(struct tidy *t, bool last, size_t *rest)
{
	char *b = t->buf, *end = b + t->have, *p = b, *kept = b;
	char *nul = memchr(p, '\0', t->have);
	int r;

	if (!nul)
		nul = end;
	*rest = 0;
	while (p < end) {
		char *nl, *stop;

		if (!*p) { /* between pieces */
			t->skip = false;
			p++;
			if (p > nul)
				nul = memchr(p, '\0', (size_t)(end - p));
			if (!nul)
				nul = end;
			continue;
		}
		nl = memchr(p, '\n', (size_t)(nul - p));
		stop = nl ? nl + 1 : nul;
		if (!nl && nul == end && !last) {
			/* it goes on in the next chunk */
			*rest = (size_t)(end - p);
			break;
		}
		if (t->skip) {
			/* the end of a piece already dropped */
			t->skip = false;
		} else if (nl && *p == '{') {
			if (kept != p)
				memmove(kept, p, (size_t)(stop - p));
			kept += stop - p;
		} else {
			(*t->torn)++;
		}
		p = stop;
	}
	r = pwrite_all(t->fd, b, (size_t)(kept - b), t->out);
	if (r < 0)
		return r;
	t->out += kept - b;
	if (*rest && *rest == t->have) {
		/* one piece fills the chunk: drop it */
		if (!t->skip)
			(*t->torn)++;
		t->skip = true;
		*rest = 0;
	} else if (*rest) {
		memmove(b, end - *rest, *rest);
	}
	return 0;
}

static int tidy(struct tidy *t, off_t size)
{
	for (;;) {
		size_t got, rest;
		bool last;
		int r = pread_all(t->fd, t->buf + t->have, CHUNK - t->have,
				  t->in, &got);

		if (r < 0)
			return r;
		t->in += (off_t)got;
		t->have += got;
		last = got == 0 || t->in >= size;
		r = keep_records(t, last, &rest);
		if (r < 0)
			return r;
		t->have = rest;
		if (last)
			return ftruncate(t->fd, t->out) < 0 ? -errno : 0;
	}
}

int fi__tracefile_tidy(const char *path, size_t *torn)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	char h[FI_TRACEBUF_HDR];
	size_t got;
	int r;

	*torn = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < FI_TRACEBUF_HDR ||
	    pread_all(fd, h, sizeof(h), 0, &got) < 0 || got != sizeof(h) ||
	    memcmp(h, FI_TRACEBUF_MAGIC, strlen(FI_TRACEBUF_MAGIC)) ||
	    h[FI_TRACEBUF_HDR - 1] != '\n') {
		close(fd);
		return 0;
	}
	struct tidy t = {.fd = fd,
			 .buf = malloc(CHUNK),
			 .in = FI_TRACEBUF_HDR,
			 .torn = torn};
	if (!t.buf) {
		close(fd);
		return -ENOMEM;
	}
	r = tidy(&t, st.st_size);
	free(t.buf);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}
