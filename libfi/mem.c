/* mem.c: libfi's own allocator (mem.h), for the rules, the parser and the
 * API. Blocks of 32 bytes to 32 KiB, in powers of two, are carved from
 * 1 MiB chunks of fresh pages and kept on a free list per size once freed;
 * a larger block is a mapping of its own. Each block starts with a 16-byte
 * header: what it can hold, and a mark that catches a pointer from another
 * allocator and a second free.
 *
 * LeakSanitizer does not see these pages: a block of libfi's that is never
 * freed is no longer reported by the sanitized unit tests. That is the
 * price of leaving the program's heap alone. */
#include "mem.h"

#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "arena.h"
#include "raw.h"

#define HEADER 16
#define MIN_SHIFT 5 /* the smallest block, header included: 32 bytes */
#define NCLASS 11   /* up to 32 KiB */
#define CHUNK ((size_t)1 << 20)
#define PAGE ((size_t)4096)
#define LIVE 0x66696d656d6c6976ull /* "fimemliv" */
#define DEAD 0x66696d656d646561ull /* "fimemdea" */

struct header {
	size_t cap; /* bytes the caller may use */
	uint64_t mark;
};

struct free_block {
	struct free_block *next;
};

static struct free_block *free_list[NCLASS];
static char *chunk;
static size_t chunk_left;
static int lock;

static void take(void)
{
	while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		fi__raw0(SYS_sched_yield);
}

static void give(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

void fi__mem_forked(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

static size_t class_size(int c)
{
	return (size_t)1 << (MIN_SHIFT + c);
}

/* The smallest class whose blocks hold n bytes after the header, or
 * NCLASS when none does. */
static int class_of(size_t n)
{
	int c = 0;

	while (c < NCLASS && class_size(c) - HEADER < n)
		c++;
	return c;
}

static struct header *small_block(int c)
{
	size_t size = class_size(c);
	struct header *h;

	take();
	if (free_list[c]) {
		h = (struct header *)free_list[c];
		free_list[c] = free_list[c]->next;
	} else {
		if (chunk_left < size) {
			chunk = fi__pages(CHUNK);
			chunk_left = chunk ? CHUNK : 0;
		}
		h = NULL;
		if (chunk_left >= size) {
			h = (struct header *)chunk;
			chunk += size;
			chunk_left -= size;
		}
	}
	give();
	if (h)
		h->cap = size - HEADER;
	return h;
}

static struct header *large_block(size_t n)
{
	size_t len;
	struct header *h;

	if (n > SIZE_MAX - HEADER - PAGE)
		return NULL;
	len = (n + HEADER + PAGE - 1) & ~(PAGE - 1);
	h = fi__pages(len);
	if (h)
		h->cap = len - HEADER;
	return h;
}

void *fi__mem_malloc(size_t n)
{
	int c = class_of(n);
	struct header *h = c < NCLASS ? small_block(c) : large_block(n);

	if (!h)
		return NULL;
	h->mark = LIVE;
	return h + 1;
}

void *fi__mem_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = fi__mem_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static struct header *header_of(void *p)
{
	struct header *h = (struct header *)p - 1;

	/* Not ours, or freed already: stop here rather than corrupt. */
	if (h->mark != LIVE)
		__builtin_trap();
	return h;
}

void fi__mem_free(void *p)
{
	struct header *h;
	int c;

	if (!p)
		return;
	h = header_of(p);
	h->mark = DEAD;
	c = class_of(h->cap);
	if (c == NCLASS) {
		fi__pages_free(h, h->cap + HEADER);
		return;
	}
	take();
	((struct free_block *)h)->next = free_list[c];
	free_list[c] = (struct free_block *)h;
	give();
}

void *fi__mem_realloc(void *p, size_t n)
{
	struct header *h;
	void *q;

	if (!p)
		return fi__mem_malloc(n);
	h = header_of(p);
	if (n <= h->cap)
		return p;
	q = fi__mem_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->cap);
	fi__mem_free(p);
	return q;
}

static char *copy(const char *s, size_t len)
{
	char *d = fi__mem_malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

char *fi__mem_strndup(const char *s, size_t n)
{
	return copy(s, strnlen(s, n));
}

char *fi__mem_strdup(const char *s)
{
	return copy(s, strlen(s));
}
