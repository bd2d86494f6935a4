/* t_cancel.c: a thread blocked in read() is cancelled; its cleanup runs.
 * Built with -fexceptions, so the cleanup is run by the unwinder (as a C++
 * destructor would be), which must get from the interrupted syscall, or
 * from inside fi's hook during a delay= rule, back to this code. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static volatile int cleaned;

static void cleanup(void *arg)
{
	(void)arg;
	cleaned = 1;
}

static void *reader(void *arg)
{
	char b[16];
	(void)arg;
	pthread_cleanup_push(cleanup, NULL);
	if (read(fds[0], b, sizeof(b)) >= 0) /* blocks: a cancellation point */
		puts("read returned");
	pthread_cleanup_pop(0);
	return NULL;
}

int main(void)
{
	pthread_t t;
	void *r;

	getppid(); /* the marker of the live driver */
	if (pipe(fds) != 0)
		return 2;
	if (pthread_create(&t, NULL, reader, NULL) != 0)
		return 2;
	usleep(200 * 1000);
	pthread_cancel(t);
	pthread_join(t, &r);
	printf("%s, cleanup %s\n",
	       r == PTHREAD_CANCELED ? "cancelled" : "not cancelled",
	       cleaned ? "ran" : "did not run");
	return r == PTHREAD_CANCELED && cleaned ? 0 : 1;
}
