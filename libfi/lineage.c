/* lineage.c: processes and threads numbered in creation order (lineage.h).
 *
 * A process's place is kept in its memory: the parent numbers a child
 * before the fork, and the child, a copy of the parent, appends that
 * number to the path it inherited. An exec starts a fresh image at "0".
 * A thread cannot take its number that way (it starts on a stack of its
 * own, in memory it shares), so the thread that made it files the new
 * tid under its number once clone returns; a thread that asks before
 * then waits for the filing, which is a few instructions away. */
#include "lineage.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "raw.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)

#define THREADS 1024 /* threads numbered per process; more get 0 */
#define WAIT_YIELDS 100000

static char path[FI_LINEAGE_PATH] = "0";
static long children;	 /* processes made so far */
static long threads = 1; /* threads made so far, the first one counted */
static long in_flight;	 /* thread-making calls not yet filed */
static struct {
	int tid;
	int number;
} table[THREADS];

long fi__lineage_making(bool thread)
{
	if (thread) {
		FETCH_ADD(&in_flight, 1);
		return FETCH_ADD(&threads, 1) + 1;
	}
	return FETCH_ADD(&children, 1) + 1;
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

void fi__lineage_made(bool thread, long number, long ret)
{
	if (thread) {
		if (ret > 0 && number <= INT32_MAX)
			file_thread((int)ret, (int)number);
		FETCH_ADD(&in_flight, -1);
		return;
	}
	/* A failed fork gives its number back unless another took one
	 * since. */
	if (ret < 0)
		__atomic_compare_exchange_n(&children, &number, number - 1,
					    false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
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
	in_flight = 0;
	for (unsigned i = 0; i < THREADS; i++)
		table[i].tid = 0;
}

int fi__lineage_thread(int pid, int tid)
{
	int n;

	if (tid == pid)
		return 1;
	for (int i = 0; i < WAIT_YIELDS; i++) {
		bool flying = LOAD(&in_flight) > 0;

		n = find_thread(tid);
		if (n || !flying)
			return n;
		fi__raw0(SYS_sched_yield);
	}
	return 0;
}

const char *fi__lineage_proc(void)
{
	return path;
}
