/* tracebuf.c: the mapped trace (tracebuf.h). trace.c formats a record
 * and hands it here; this copies it into the file's pages.
 *
 *   offset 0            FI_TRACEBUF_HDR                tail        cap     window
 *   | {"fi_trace":1,"tail":"..","cap":"..","lock":".."} | records... | zeros | (unmapped
 *   |<--------------- one JSON line ------------------>|            |       |  pages)
 *
 * - tail: bytes reserved so far; a writer reserves [tail, tail + len) with
 *   one compare-and-swap. cap: bytes the file is known to hold with their
 *   blocks reserved (fallocate), so a store below cap never faults (no
 *   SIGBUS on a full disk). lock: the thread id that grows or trims the
 *   file, or zero. The three are 8 digits of base 64 each (the 64
 *   characters of base64url, in ASCII order, so that two counters compare
 *   as their bytes do), inside a JSON string, at 8-byte-aligned offsets:
 *   the first line stays JSON while they change under it.
 * - A process joins the mapping at start (fork inherits it, an exec'd
 *   image maps the file again from FI_TRACE). The window is mapped once,
 *   larger than the file will grow; only pages below cap are touched.
 * - Growing and trimming hold the lock; a writer that finds its record
 *   below cap never takes it. Trim sets cap to tail, then checks tail did
 *   not move (every reserve reads cap after moving tail), and only then
 *   cuts the file: a writer past the new cap waits for the lock and grows
 *   the file again.
 * - A holder killed with the lock held: after a bounded wait a waiter
 *   takes it over when the holder no longer exists.
 * - The process that grows the file also maps the new blocks' pages into
 *   its page table at once (MADV_POPULATE_WRITE, Linux 5.14; older kernels
 *   fault them in one at a time as before): one call instead of a fault
 *   per 4 KiB page, which halves what a page costs on a virtual machine
 *   (bench/RESULTS.md, "The recorder at memory speed"). */
#include "tracebuf.h"

#include <errno.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <signal.h>

#include "fds.h"
#include "jsonw.h"
#include "raw.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define CHUNK_MIN (64ul << 10)
/* A huge page: past the first, the file grows by whole ones, so that
 * each can be one folio mapped whole (see map_window). */
#define HUGE (2ul << 20)
#define CHUNK_MAX (16ul << 20)
#define LOCK_SPINS 20000

/* Offsets of the three counters in the header. */
#define OFF_TAIL 24
#define OFF_CAP 48
#define OFF_LOCK 72

static char *base;
static unsigned long window;
static bool on;
/* This process's RLIMIT_FSIZE, read when it joins and when it grows the
 * file: records past it are lost with EFBIG, as write(2) would lose them. */
static unsigned long fsize;
/* The last cap word this process decoded without error (any thread). */
static uint64_t cap_checked;

static const char digits[] =
	"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

static uint64_t enc(uint64_t v)
{
	uint64_t w = 0;

	for (int i = 7; i >= 0; i--, v >>= 6)
		w |= (uint64_t)(unsigned char)digits[v & 63] << (8 * i);
	return w;
}

/* Each byte's digit value, or 64 for a byte that is no digit; filled by
 * fi__tracebuf_open, before any record (a forked child inherits it). */
static unsigned char digit_value[256];

static void fill_digit_values(void)
{
	for (unsigned i = 0; i < 256; i++)
		digit_value[i] = 64;
	for (unsigned i = 0; i < 64; i++)
		digit_value[(unsigned char)digits[i]] = (unsigned char)i;
}

/* The value of 8 digits, or UINT64_MAX when they are not digits. */
static uint64_t dec(uint64_t w)
{
	uint64_t v = 0;
	unsigned bad = 0;

	for (int i = 0; i < 8; i++) {
		unsigned d = digit_value[(w >> (8 * i)) & 0xff];

		bad |= d;
		v = v << 6 | (d & 63);
	}
	return bad & 64 ? UINT64_MAX : v;
}

/* A counter's word as a number that orders as the counter does: its
 * first digit is its first byte. */
static uint64_t order(uint64_t w)
{
	return __builtin_bswap64(w);
}

static uint64_t *word(unsigned off)
{
	return (uint64_t *)(base + off);
}

static uint64_t get(unsigned off)
{
	return dec(__atomic_load_n(word(off), __ATOMIC_SEQ_CST));
}

static void set(unsigned off, uint64_t v)
{
	__atomic_store_n(word(off), enc(v), __ATOMIC_SEQ_CST);
}

/* ---- the lock (growing and trimming only) ---- */

static int lock(void)
{
	uint64_t free_w = enc(0);
	long tid = fi__raw0(SYS_gettid);
	uint64_t mine = enc((uint64_t)tid);

	for (int i = 0;; i++) {
		uint64_t cur = free_w;

		if (__atomic_compare_exchange_n(word(OFF_LOCK), &cur, mine,
						false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return 0;
		if (cur == mine)
			return -EDEADLK; /* a handler interrupted our own grow */
		if (i >= LOCK_SPINS) {
			/* The holder was killed holding it: take it over. */
			long holder = (long)dec(cur);
			if (holder > 0 &&
			    fi__raw2(SYS_kill, holder, 0) == -ESRCH &&
			    __atomic_compare_exchange_n(
				    word(OFF_LOCK), &cur, mine, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				return 0;
			if (i >= 4 * LOCK_SPINS)
				return -ETIMEDOUT;
		}
		fi__raw0(SYS_sched_yield);
	}
}

static void unlock(void)
{
	__atomic_store_n(word(OFF_LOCK), enc(0), __ATOMIC_SEQ_CST);
}

/* Growing and trimming run with every signal blocked, so that a handler
 * that records cannot interrupt its own thread's grow and find the lock
 * taken for ever (two syscalls, once per reserved block). */
static void signals_off(uint64_t *old)
{
	uint64_t all = ~0ull;

	fi__raw4(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, sizeof(all));
}

static void signals_on(const uint64_t *old)
{
	fi__raw4(SYS_rt_sigprocmask, SIG_SETMASK, old, 0, sizeof(*old));
}

/* The soft RLIMIT_FSIZE, or ~0. */
static unsigned long fsize_limit(void)
{
	struct rlimit rl;

	if (fi__raw4(SYS_prlimit64, 0, RLIMIT_FSIZE, 0, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY)
		return rl.rlim_cur;
	return ~0ul;
}

static unsigned long round_page(unsigned long n)
{
	return (n + FI_PAGE - 1) & ~(FI_PAGE - 1);
}

/* Fault in the pages of [from, to) of the window for writing, ahead of
 * the records that will fill them. Only an optimisation: a kernel without
 * MADV_POPULATE_WRITE says EINVAL, and a range another process trimmed
 * meanwhile says EFAULT (never a signal); the stores fault them in then. */
static void populate(unsigned long from, unsigned long to)
{
	from &= ~(FI_PAGE - 1);
	if (to > from)
		fi__raw3(SYS_madvise, base + from, (long)(to - from),
			 MADV_POPULATE_WRITE);
}

/* Make the file hold at least `need` bytes with their blocks reserved.
 * *from and *to: what it added, for populate() once signals are back. */
static int grow(unsigned long need, unsigned long *from, unsigned long *to)
{
	unsigned long c, chunk, want, limit;
	long r;

	r = lock();
	if (r < 0)
		return (int)r;
	c = get(OFF_CAP);
	if (c == UINT64_MAX) {
		unlock();
		return -EIO;
	}
	if (need <= c) {
		unlock();
		return 0;
	}
	chunk = c / 4;
	chunk = chunk < CHUNK_MIN   ? CHUNK_MIN
		: chunk > CHUNK_MAX ? CHUNK_MAX
				    : chunk;
	want = round_page(need > c + chunk ? need : c + chunk);
	if (want > HUGE)
		want = (want + HUGE - 1) & ~(HUGE - 1);
	limit = fsize_limit();
	__atomic_store_n(&fsize, limit, __ATOMIC_RELAXED);
	/* Never ask for more than the size limit allows when the record
	 * fits below it: a refused fallocate raises SIGXFSZ. */
	if (want > limit && need <= limit)
		want = limit;
	if (want > window)
		want = window;
	r = fi__fds_call(FI_FD_TRACE, SYS_fallocate, 0, (long)c,
			 (long)(want - c));
	if (r < 0 && want > round_page(need) && round_page(need) <= window) {
		want = need <= limit && round_page(need) > limit
			       ? need
			       : round_page(need);
		r = fi__fds_call(FI_FD_TRACE, SYS_fallocate, 0, (long)c,
				 (long)(want - c));
	}
	if (r == 0) {
		set(OFF_CAP, want);
		*from = c;
		*to = want;
	}
	unlock();
	return (int)r;
}

int fi__tracebuf_append(const char *rec, size_t len)
{
	uint64_t old, nw, pos, cap;
	char *p;

	if (len < 2 || rec[0] != '{')
		return -EINVAL;
	old = __atomic_load_n(word(OFF_TAIL), __ATOMIC_SEQ_CST);
	do {
		pos = dec(old);
		if (pos == UINT64_MAX)
			return -EIO;
		nw = enc(pos + len);
	} while (!__atomic_compare_exchange_n(word(OFF_TAIL), &old, nw, false,
					      __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	if (pos + len > window ||
	    pos + len > __atomic_load_n(&fsize, __ATOMIC_RELAXED))
		return -EFBIG;
	/* cap compared as it is stored: decoded (checked) only when it
	 * changed since this process last looked */
	cap = __atomic_load_n(word(OFF_CAP), __ATOMIC_SEQ_CST);
	if (cap != __atomic_load_n(&cap_checked, __ATOMIC_RELAXED)) {
		if (dec(cap) == UINT64_MAX)
			return -EIO;
		__atomic_store_n(&cap_checked, cap, __ATOMIC_RELAXED);
	}
	if (order(nw) > order(cap)) {
		uint64_t mask;
		unsigned long from = 0, to = 0;
		int r;

		signals_off(&mask);
		r = grow(pos + len, &from, &to);
		signals_on(&mask);
		if (r < 0)
			return r;
		populate(from, to);
	}
	p = base + pos;
	fi__jw_copy(p + 1, rec + 1, len - 1);
	/* Last: only a whole record starts with '{'. */
	__atomic_store_n(p, '{', __ATOMIC_RELEASE);
	return 0;
}

void fi__tracebuf_trim(void)
{
	uint64_t t, c, mask;

	if (!on)
		return;
	signals_off(&mask);
	if (lock() < 0) {
		signals_on(&mask);
		return;
	}
	t = get(OFF_TAIL);
	c = get(OFF_CAP);
	if (t != UINT64_MAX && c != UINT64_MAX && c > t) {
		set(OFF_CAP, t);
		/* A reserve made since read the old cap: leave the file. */
		if (get(OFF_TAIL) != t)
			set(OFF_CAP, c);
		else if (fi__fds_call(FI_FD_TRACE, SYS_ftruncate, (long)t, 0,
				      0) < 0)
			set(OFF_CAP, c);
	}
	unlock();
	signals_on(&mask);
}

bool fi__tracebuf_on(void)
{
	return __atomic_load_n(&on, __ATOMIC_RELAXED);
}

/* ---- set-up (not the hook) ---- */

/* Where the window is asked to go: 256 GiB below libfi's own code, so
 * below the libraries and what the program maps first. Taken from the
 * top of the mapping area, the window (up to 64 GiB) sat where libfi
 * maps each library's trampolines from the cache (1 GiB under its code),
 * so a recorded process patched every library anew (about 570 patch
 * points and as many copy-on-write faults). Not lower: sanitizers keep
 * fixed ranges (ASan's shadow ends at 16 TiB, TSan and MSan want the
 * program's mappings above 0x7e8000000000 and 0x700000000000), and
 * the libraries sit just under the stack, at about 127 TiB. Only a
 * hint: the kernel places it elsewhere when it is taken. */
static unsigned long window_hint(void)
{
	unsigned long here = (unsigned long)(uintptr_t)&window_hint;

	return here > (1ul << 40) ? (here & ~(HUGE - 1)) - (1ul << 38) : 0;
}

/* The window at a 2 MiB boundary, with huge pages asked for: the kernel
 * can then map a file's 2 MiB folios (ext4, xfs, tmpfs with huge=) whole,
 * one entry for 512 pages. The address range is taken first without
 * access and the file mapped over its aligned part. */
static bool map_window(int fd)
{
	for (unsigned long w = 1ul << 36; w >= 1ul << 24; w >>= 1) {
		long r = fi__raw6(SYS_mmap, (long)window_hint(),
				  (long)(w + HUGE), PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
		unsigned long a, end;
		long m;

		if (r < 0 && r >= -4095)
			continue;
		a = ((unsigned long)r + HUGE - 1) & ~(HUGE - 1);
		m = fi__raw6(SYS_mmap, (long)a, (long)w, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_FIXED, fd, 0);
		if (m < 0 && m >= -4095) {
			fi__raw2(SYS_munmap, r, (long)(w + HUGE));
			continue;
		}
		end = (unsigned long)r + w + HUGE;
		if (a > (unsigned long)r)
			fi__raw2(SYS_munmap, r, (long)(a - (unsigned long)r));
		if (end > a + w)
			fi__raw2(SYS_munmap, (long)(a + w),
				 (long)(end - a - w));
		/* only a hint: EINVAL without transparent huge pages */
		fi__raw3(SYS_madvise, (long)a, (long)w, MADV_HUGEPAGE);
		base = (char *)a;
		window = w;
		return true;
	}
	return false;
}

static void put_str(char *h, unsigned *n, const char *s)
{
	while (*s)
		h[(*n)++] = *s++;
}

/* The header: counters at their offsets, spaces between, one line. */
static void lay_out(char *h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FI_TRACEBUF_HDR - 1; i++)
		h[i] = ' ';
	h[FI_TRACEBUF_HDR - 1] = '\n';
	put_str(h, &n, FI_TRACEBUF_MAGIC "\"tail\":");
	n = OFF_TAIL - 1;
	put_str(h, &n, "\"........\",\"cap\":");
	n = OFF_CAP - 1;
	put_str(h, &n, "\"........\",\"lock\":");
	n = OFF_LOCK - 1;
	put_str(h, &n, "\"........\"}");
}

int fi__tracebuf_open(int fd, bool first)
{
	struct stat st;
	char h[FI_TRACEBUF_HDR];

	if (fd < 0 || fi__raw2(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	fill_digit_values();
	fsize = fsize_limit();
	if (first) {
		if (fi__raw4(SYS_fallocate, fd, 0, 0, (long)CHUNK_MIN) < 0)
			return 0; /* write(2) it is, as before */
		if (!map_window(fd)) {
			fi__raw2(SYS_ftruncate, fd, 0);
			return 0;
		}
		lay_out(h);
		for (unsigned i = 0; i < FI_TRACEBUF_HDR; i++)
			base[i] = h[i];
		set(OFF_TAIL, FI_TRACEBUF_HDR);
		set(OFF_CAP, CHUNK_MIN);
		set(OFF_LOCK, 0);
		populate(0, CHUNK_MIN);
	} else {
		const char *m = FI_TRACEBUF_MAGIC;

		if ((unsigned long)st.st_size < FI_TRACEBUF_HDR ||
		    fi__raw4(SYS_pread64, fd, h, sizeof(h), 0) != sizeof(h))
			return 0;
		for (unsigned i = 0; m[i]; i++)
			if (h[i] != m[i])
				return 0; /* the first process writes, not maps */
		if (!map_window(fd))
			return -ENOMEM;
		if (get(OFF_TAIL) == UINT64_MAX || get(OFF_CAP) == UINT64_MAX) {
			fi__raw2(SYS_munmap, base, window);
			return -EINVAL;
		}
	}
	__atomic_store_n(&on, true, __ATOMIC_RELEASE);
	return 1;
}
