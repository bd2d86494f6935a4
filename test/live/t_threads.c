/* t_threads: four pthreads do pipe and file I/O at the same time; main joins
 * them and checks each one's result. Transcript printed by main only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "live.h"

#define NTHREADS 4
#define ROUNDS 64

struct job {
	int index;
	int ok;		 /* set by the thread; checked by main after join */
	uint32_t sum;	 /* checksum of everything read back */
	int tid_differs; /* the thread's gettid differs from main's */
};

static pid_t main_tid;

static void *worker(void *arg)
{
	struct job *job = arg;
	int p[2];
	char buf[32];
	uint32_t sum = 0;

	job->tid_differs = (pid_t)syscall(SYS_gettid) != main_tid;
	if (pipe(p) != 0)
		return NULL;
	for (int r = 0; r < ROUNDS; r++) {
		int len = snprintf(buf, sizeof buf, "t%d-r%d;", job->index, r);
		if (write(p[1], buf, (size_t)len) != len)
			return NULL;
		char in[32];
		if (read(p[0], in, (size_t)len) != len ||
		    memcmp(in, buf, (size_t)len) != 0)
			return NULL;
		for (int i = 0; i < len; i++)
			sum = sum * 31u + (unsigned char)in[i];
	}
	/* A file of its own, written then read back with pread. */
	char path[64];
	snprintf(path, sizeof path, "/tmp/fi-live-threads-%d-%d", (int)getpid(),
		 job->index);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	unlink(path);
	for (int i = 0; i < 16; i++)
		if (pwrite(fd, "abcdefgh", 8, (off_t)i * 8) != 8)
			return NULL;
	char back[8];
	if (pread(fd, back, 8, 64) != 8 || memcmp(back, "abcdefgh", 8) != 0)
		return NULL;
	close(fd);
	close(p[0]);
	close(p[1]);
	job->sum = sum;
	job->ok = 1;
	return NULL;
}

int main(void)
{
	live_begin();
	main_tid = (pid_t)syscall(SYS_gettid);
	pthread_t th[NTHREADS];
	struct job jobs[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		jobs[i] = (struct job){.index = i};
		LIVE_CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		LIVE_CHECK(pthread_join(th[i], NULL) == 0);
	for (int i = 0; i < NTHREADS; i++) {
		LIVE_CHECK(jobs[i].ok);
		LIVE_CHECK(jobs[i].tid_differs);
		printf("thread %d: %d rounds, checksum %08x\n", i, ROUNDS,
		       jobs[i].sum);
	}
	printf("threads ok\n");
	return 0;
}
