/* t_small_stack: threads with the smallest stack glibc allows
 * (PTHREAD_STACK_MIN), made one after another. glibc carves the static TLS
 * of every loaded object out of each thread's stack, so libfi's own TLS,
 * and the reserve fi-run asks ld.so for, must leave such a thread room to
 * start. Each thread opens a path and writes, so that under a rule or the
 * recorder it takes fi's full path (and its scratch memory), then exits,
 * handing that memory on to the next thread. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>

#include "live.h"

#define NTHREADS 200

static void *worker(void *arg)
{
	int *failed = arg;
	int fd = open("/nonexistent/fi-small-stack", O_RDONLY);

	if (fd >= 0 || errno != ENOENT)
		*failed = 1;
	if (write(STDERR_FILENO, "", 0) != 0)
		*failed = 1;
	return NULL;
}

int main(void)
{
	pthread_attr_t attr;
	int created = 0, failed = 0;

	live_begin();
	LIVE_CHECK(pthread_attr_init(&attr) == 0);
	LIVE_CHECK(pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN) == 0);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_t t;
		int r = pthread_create(&t, &attr, worker, &failed);

		if (r != 0) {
			printf("pthread_create with a %d-byte stack: %s\n",
			       (int)PTHREAD_STACK_MIN, strerror(r));
			return 1;
		}
		LIVE_CHECK(pthread_join(t, NULL) == 0);
		created++;
	}
	printf("%d threads on %d-byte stacks, %s\n", created,
	       (int)PTHREAD_STACK_MIN,
	       failed ? "a call went wrong" : "every call as expected");
	return failed;
}
