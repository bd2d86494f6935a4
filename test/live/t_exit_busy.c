/* t_exit_busy.c: threads that make syscalls without pause while the
 * main thread ends the process with exit_group (exit_records_test.sh):
 * the recorder must leave no record half-made. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void *busy(void *arg)
{
	(void)arg;
	for (;;)
		(void)getppid();
	return NULL;
}

int main(void)
{
	struct timespec t = {0, 20 * 1000 * 1000};
	pthread_t th;

	for (int i = 0; i < 8; i++)
		if (pthread_create(&th, NULL, busy, NULL))
			return 2;
	nanosleep(&t, NULL);
	exit(0);
}
