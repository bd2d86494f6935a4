/* lineage.c: processes and threads numbered in creation order (lineage.h).
 *
 * A process's place is kept in its memory: the parent numbers a child
 * before the fork, and the child, a copy of the parent, appends that
 * number to the path it inherited. An exec starts a fresh image at "0".
 *
 * A thread's number is filed under its tid. The thread that makes it
 * numbers it before the clone and puts the number in `flying`, under the
 * %rsp the new thread will start with; the new thread's first act is the
 * post hook of that clone, on its own stack, where it takes the number
 * by its %rsp and files itself (fi__lineage_started), before any call of
 * its own can ask. The maker files the tid too once clone returns to it,
 * then frees the slot (whichever comes first, the number is the same).
 * So no thread ever waits for another: an earlier version waited, with
 * sched_yield, for the maker's filing, which on a loaded machine (the
 * maker preempted between clone's return and its post hook) or after
 * clone(CLONE_THREAD|CLONE_VFORK) (the maker waits in clone until the
 * thread ends) came too late: the thread spun through 100,000 yields and
 * was then told 0. A thread is left unnumbered (0) only when neither side
 * could file it: more than FLYING clones at once, or a signal handler of
 * the new thread that asks before its first post hook ran. */
#include "lineage.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "raw.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)

#define THREADS 1024 /* threads numbered per process; more get 0 */
#define FLYING 64    /* thread-making calls at once, numbered by %rsp */
#define CLAIMED 1    /* a slot's sp while its maker fills it */

static char path[FI_LINEAGE_PATH] = "0";
static long children;	 /* processes made so far */
static long threads = 1; /* threads made so far, the first one counted */
static struct {
	int tid;
	int number;
} table[THREADS];
/* Thread-making calls in flight: sp is the new thread's first %rsp
 * (0: a free slot, CLAIMED: being filled), published with release once
 * number holds. */
static struct {
	uint64_t sp;
	long number;
} flying[FLYING];

/* Let go of the slot of the thread that starts at sp, if it is still
 * there. Returns its number, or 0. */
static long land(uint64_t sp)
{
	for (unsigned i = 0; i < FLYING; i++) {
		uint64_t cur = LOAD(&flying[i].sp);
		long n;

		if (cur != sp)
			continue;
		n = __atomic_load_n(&flying[i].number, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&flying[i].sp, &cur, 0, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return n;
	}
	return 0;
}

long fi__lineage_making(bool thread, uint64_t sp)
{
	long n;

	if (!thread)
		return FETCH_ADD(&children, 1) + 1;
	n = FETCH_ADD(&threads, 1) + 1;
	if (sp <= CLAIMED)
		return n;
	/* A slot left with this sp belongs to a clone that ended without
	 * either side taking it (both hooks skipped): the stack is free
	 * again, so that number is stale. */
	while (land(sp))
		;
	for (unsigned i = 0; i < FLYING; i++) {
		uint64_t cur = 0;

		if (__atomic_compare_exchange_n(&flying[i].sp, &cur, CLAIMED,
						false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&flying[i].number, n,
					 __ATOMIC_RELAXED);
			STORE(&flying[i].sp, sp);
			break;
		}
	}
	return n;
}

static void file_thread(int tid, int number)
{
	unsigned h = (unsigned)tid * 2654435761u;

	for (unsigned i = 0; i < THREADS; i++) {
		unsigned k = (h + i) % THREADS;
		int cur = LOAD(&table[k].tid);

		if (cur == 0 && __atomic_compare_exchange_n(
					&table[k].tid, &cur, tid, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			cur = tid;
		if (cur == tid) { /* a tid used again: its new number */
			STORE(&table[k].number, number);
			return;
		}
	}
}

static int find_thread(int tid)
{
	unsigned h = (unsigned)tid * 2654435761u;

	for (unsigned i = 0; i < THREADS; i++) {
		unsigned k = (h + i) % THREADS;
		int cur = LOAD(&table[k].tid);

		if (cur == 0)
			return 0;
		if (cur == tid)
			return LOAD(&table[k].number);
	}
	return 0;
}

void fi__lineage_made(bool thread, long number, uint64_t sp, long ret)
{
	if (thread) {
		/* Filed before the slot goes: a thread that finds no slot
		 * was filed by one side or the other. */
		if (ret > 0 && number <= INT32_MAX)
			file_thread((int)ret, (int)number);
		if (sp > CLAIMED)
			land(sp);
		return;
	}
	/* A failed fork gives its number back unless another took one
	 * since. */
	if (ret < 0)
		__atomic_compare_exchange_n(&children, &number, number - 1,
					    false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
}

void fi__lineage_started(uint64_t sp)
{
	long n = sp > CLAIMED ? land(sp) : 0;

	if (n > 0 && n <= INT32_MAX)
		file_thread((int)fi__raw0(SYS_gettid), (int)n);
}

void fi__lineage_child(long number)
{
	char digits[24];
	size_t len = 0, n = 0;

	while (path[len])
		len++;
	do
		digits[n++] = (char)('0' + number % 10);
	while ((number /= 10) > 0);
	if (len == 1 && path[0] == '0')
		len = 0; /* the image's own child: "k", not "0.k" */
	if (len + 1 + n < sizeof(path)) {
		if (len)
			path[len++] = '.';
		while (n)
			path[len++] = digits[--n];
		path[len] = '\0';
	}
	/* deeper than FI_LINEAGE_DEPTH: the path stays the parent's */
	children = 0;
	threads = 1;
	for (unsigned i = 0; i < THREADS; i++)
		table[i].tid = 0;
	for (unsigned i = 0; i < FLYING; i++)
		flying[i].sp = 0;
}

int fi__lineage_thread(int pid, int tid)
{
	return tid == pid ? 1 : find_thread(tid);
}

const char *fi__lineage_proc(void)
{
	return path;
}
