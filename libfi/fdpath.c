/* fdpath.c: the path of a program's fd (fdpath.h): one readlink of
 * /proc/thread-self/fd/N (fi__fdpath_read: a rule's path= on an fd, the
 * file of a new mapping), and the recorder's cache of them, which
 * reads a path once and keeps it until a call that may close or replace
 * an fd.
 *
 * Concurrency: `state` holds a generation (high bits) and the number of
 * fd-closing calls in flight (low 16 bits). A call with !fdclose adds one
 * of each before it runs and, after, takes the count back and adds
 * another generation; so a path read before or during such a call is
 * never answered after it. A slot is a small seqlock: `seq` is odd while
 * one thread fills it (claimed by compare-and-swap), and a reader that
 * sees `seq` change during its copy misses. A slot answers only when its
 * generation is the current one and no closing call is in flight.
 *
 * Whose fd table: the cache belongs to process `owner`. A vfork child
 * shares our memory but has its own fd table: it reads, and never
 * fills. A forked child takes the copy over (fi__fdpath_forked). */
#include "fdpath.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "jsonw.h"
#include "names.h"
#include "raw.h"

#define CLOSING_MASK 0xffffull
#define GEN_ONE 0x10000ull

struct slot {
	uint64_t seq;
	uint64_t gen;
	uint64_t len;
	/* the path, read and written in words (the seqlock's copies) */
	union {
		char path[FI_FDPATH_LEN];
		uint64_t words[FI_FDPATH_LEN / 8];
	};
};

static struct slot slots[FI_FDPATH_FDS];
static uint64_t state = GEN_ONE;
static int owner;
static bool off; /* an !fdunseen call was made: read every time */

/* The slot's path into buf: its length, or -1 (a miss). */
static int lookup(struct slot *s, uint64_t st, char *buf, size_t len)
{
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	size_t n;

	if ((seq & 1) || !seq ||
	    __atomic_load_n(&s->gen, __ATOMIC_RELAXED) != st / GEN_ONE)
		return -1;
	n = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
	if (n >= len || n >= FI_FDPATH_LEN)
		return -1;
	for (size_t i = 0; i < n; i += 8) {
		typedef uint64_t __attribute__((may_alias, aligned(1))) u64_u;
		uint64_t w =
			__atomic_load_n(&s->words[i / 8], __ATOMIC_RELAXED);

		if (i + 8 <= len) {
			*(u64_u *)(buf + i) = w; /* bytes past n: cut below */
			continue;
		}
		for (size_t k = 0; k < 8 && i + k < n; k++, w >>= 8)
			buf[i + k] = (char)w;
	}
	buf[n] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq ? (int)n : -1;
}

static void fill(struct slot *s, uint64_t st, const char *path, int n)
{
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	if ((seq & 1) ||
	    !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return; /* another thread fills it */
	for (int i = 0; i < n; i += 8) {
		uint64_t w = 0;

		for (int k = 7; k >= 0; k--)
			w = w << 8 |
			    (i + k < n ? (unsigned char)path[i + k] : 0);
		__atomic_store_n(&s->words[i / 8], w, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->len, (uint64_t)n, __ATOMIC_RELAXED);
	__atomic_store_n(&s->gen, st / GEN_ONE, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* 1: /proc/thread-self exists, -1: it does not (Linux before 3.17, or
 * no /proc), 0: not asked yet. */
static int thread_self;

int fi__fdpath_read(int fd, char *buf, size_t len)
{
	static const char *const dirs[] = {"/proc/thread-self/fd/",
					   "/proc/self/fd/"};
	int ts = __atomic_load_n(&thread_self, __ATOMIC_RELAXED);
	const char *dir;
	char link[48];
	size_t n = 0;
	long r;

	if (fd < 0 || len < 2)
		return -1;
	if (!ts) {
		/* once: then a closed fd costs one readlink, not two */
		ts = fi__raw3(SYS_readlink, "/proc/thread-self", link,
			      sizeof(link)) >= 0
			     ? 1
			     : -1;
		__atomic_store_n(&thread_self, ts, __ATOMIC_RELAXED);
	}
	dir = dirs[ts < 0];
	for (; dir[n]; n++)
		link[n] = dir[n];
	fi__fmt_long(link + n, fd);
	r = fi__raw3(SYS_readlink, link, buf, len - 1);
	if (r < 0 || (size_t)r >= len - 1)
		return -1; /* no path, or it may have been cut */
	buf[r] = '\0';
	return (int)r;
}

int fi__fdpath_get(int pid, int fd, char *buf, size_t len)
{
	uint64_t st = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	bool usable = fd >= 0 && fd < FI_FDPATH_FDS &&
		      !__atomic_load_n(&off, __ATOMIC_RELAXED) &&
		      !(st & CLOSING_MASK);
	int o = __atomic_load_n(&owner, __ATOMIC_RELAXED), n;

	if (!o) {
		__atomic_compare_exchange_n(&owner, &o, pid, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		o = __atomic_load_n(&owner, __ATOMIC_RELAXED);
	}
	usable = usable && o == pid;
	if (usable && (n = lookup(&slots[fd], st, buf, len)) > 0)
		return n;
	n = fi__fdpath_read(fd, buf, len);
	if (usable && n > 0 && n < FI_FDPATH_LEN)
		fill(&slots[fd], st, buf, n);
	return n;
}

void fi__fdpath_begin(long nr)
{
	const struct fi__sysinfo *si = fi__names_sys(nr);

	if (si && (si->facts & FI_FACT_FDUNSEEN))
		__atomic_store_n(&off, true, __ATOMIC_RELAXED);
	if (si && (si->facts & FI_FACT_FDCLOSE))
		__atomic_add_fetch(&state, GEN_ONE + 1, __ATOMIC_SEQ_CST);
}

void fi__fdpath_end(long nr)
{
	const struct fi__sysinfo *si = fi__names_sys(nr);

	if (si && (si->facts & FI_FACT_FDCLOSE))
		__atomic_add_fetch(&state, GEN_ONE - 1, __ATOMIC_SEQ_CST);
}

void fi__fdpath_forked(int pid)
{
	__atomic_store_n(&owner, pid, __ATOMIC_RELAXED);
}

void fi__fdpath_forget(void)
{
	__atomic_add_fetch(&state, GEN_ONE, __ATOMIC_SEQ_CST);
}
