/* t_lineage: threads that call getppid at once after they start, for
 * thread= rules (libfi/lineage.c; lineage_test.sh runs it under fi-run).
 * Prints, for each getppid, whether it failed, so that the script sees
 * which thread a rule took for its number.
 *
 *   t_lineage vfork-thread   clone(CLONE_THREAD|CLONE_VFORK) through libc:
 *                            the maker waits in clone until the new
 *                            thread (thread 2) has ended
 *   t_lineage vfork-tls      the same by a raw clone3 with CLONE_SETTLS,
 *                            on the TLS of thread 2 (blocked in read), so
 *                            that the new thread (thread 3) starts with
 *                            hook state of its own
 *   t_lineage threads N      N threads one after another (2 .. N+1)
 *   t_lineage makers N       two threads (2, 3) that make N threads each,
 *                            at the same time */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "live.h"
#include "live_clone3.h"

#define STACK_SIZE (256 * 1024)
#define MAX_THREADS 1000

static int failed[MAX_THREADS + 2]; /* errno of each getppid, 0: none */
static int nfailed;

static int getppid_errno(void)
{
	return syscall(SYS_getppid) < 0 ? errno : 0;
}

static void *stack(void)
{
	char *s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	LIVE_CHECK(s != MAP_FAILED);
	return s;
}

static void report(const char *who, int e)
{
	printf("%s: getppid %s\n", who, e ? strerrorname_np(e) : "ok");
}

static int vchild(void *arg)
{
	*(int *)arg = getppid_errno();
	return 0;
}

#define THREAD_FLAGS                                                           \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |    \
	 CLONE_SYSVSEM)

static void vfork_thread(void)
{
	char *s = stack();
	int e = -1;

	LIVE_CHECK(clone(vchild, s + STACK_SIZE, THREAD_FLAGS | CLONE_VFORK,
			 &e) > 0);
	LIVE_CHECK(e >= 0); /* the thread ran before clone returned */
	report("thread made by clone(CLONE_VFORK)", e);
}

static int pipefd[2];
static void *volatile blocked_tp;

static void *blocked(void *arg)
{
	char c;

	(void)arg;
	blocked_tp = __builtin_thread_pointer();
	LIVE_CHECK(read(pipefd[0], &c, 1) == 1);
	return NULL;
}

static void vfork_tls(void)
{
	pthread_t b;
	char *s = stack();
	int e = -1;
	struct clone_args ca = {0};

	LIVE_CHECK(pipe(pipefd) == 0);
	LIVE_CHECK(pthread_create(&b, NULL, blocked, NULL) == 0);
	while (!blocked_tp)
		sched_yield();
	/* Thread 2's hook state is idle while it waits in read. */
	usleep(100 * 1000);
	ca.flags = THREAD_FLAGS | CLONE_VFORK | CLONE_SETTLS;
	ca.stack = (uint64_t)(uintptr_t)s;
	ca.stack_size = STACK_SIZE;
	ca.tls = (uint64_t)(uintptr_t)blocked_tp;
	LIVE_CHECK(live_clone3(&ca, vchild, &e) > 0);
	LIVE_CHECK(e >= 0);
	LIVE_CHECK(write(pipefd[1], "x", 1) == 1);
	LIVE_CHECK(pthread_join(b, NULL) == 0);
	report("thread made by clone3(CLONE_VFORK|CLONE_SETTLS)", e);
}

static void *worker(void *arg)
{
	int e = getppid_errno();

	if (e) {
		failed[(intptr_t)arg] = e;
		__atomic_fetch_add(&nfailed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Make n workers one after another, numbered from first. */
static void make(int n, int first)
{
	for (int i = 0; i < n; i++) {
		pthread_t t;

		LIVE_CHECK(pthread_create(&t, NULL, worker,
					  (void *)(intptr_t)(first + i)) == 0);
		LIVE_CHECK(pthread_join(t, NULL) == 0);
	}
}

static int per_maker;
static pthread_barrier_t both_made;

static void *maker(void *arg)
{
	/* both makers exist (threads 2 and 3) before either makes one */
	pthread_barrier_wait(&both_made);
	make(per_maker, (int)(intptr_t)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "vfork-thread")) {
		vfork_thread();
		return 0;
	}
	if (!strcmp(argv[1], "vfork-tls")) {
		vfork_tls();
		return 0;
	}
	LIVE_CHECK(n > 0 && n <= MAX_THREADS / 2);
	if (!strcmp(argv[1], "threads")) {
		make(n, 0);
	} else if (!strcmp(argv[1], "makers")) {
		pthread_t a, b;

		per_maker = n;
		LIVE_CHECK(pthread_barrier_init(&both_made, NULL, 2) == 0);
		LIVE_CHECK(pthread_create(&a, NULL, maker, (void *)0) == 0);
		LIVE_CHECK(pthread_create(&b, NULL, maker,
					  (void *)(intptr_t)n) == 0);
		LIVE_CHECK(pthread_join(a, NULL) == 0);
		LIVE_CHECK(pthread_join(b, NULL) == 0);
		n *= 2;
	} else {
		return 2;
	}
	printf("%d threads, %d getppid failed\n", n, nfailed);
	for (int i = 0; i < n; i++)
		if (failed[i])
			printf("worker %d: getppid %s\n", i,
			       strerrorname_np(failed[i]));
	return 0;
}
