/* t_record.c: programs for the mapped recorder's tests (record_test.py).
 *   spin MARKER       write to /dev/null forever; MARKER appears after
 *                     5000 writes (the test then sends SIGKILL)
 *   tree SELF         2 threads x 1000 writes, a forked child with 1000
 *                     writes that execs `SELF leaf`, which writes 1000
 *   leaf              1000 writes
 *   fdreuse DIR       one fd number, three files: DIR/a, then DIR/b at the
 *                     same number after a close, then DIR/c put there by
 *                     dup2; one write on each; then closes both of DIR/c's
 *                     fds, opens DIR/d and closes it twice (the second
 *                     fails); prints the number and DIR/d's
 *   threads K N       K threads, N writes each, all at once
 *   closesig N DIR    N times: open DIR/main, write, close; a timer signal
 *                     every 50 us opens and closes DIR/handler in its
 *                     handler, often between a close and its post hook;
 *                     prints how often the handler ran */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int devnull;
static pthread_barrier_t go;
static long per_thread;

static void writes(long n)
{
	for (long i = 0; i < n; i++)
		if (write(devnull, "x", 1) != 1)
			exit(3);
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&go);
	writes(per_thread);
	return NULL;
}

static int threads(int k, long n)
{
	pthread_t t[64];

	if (k < 1 || k > 64)
		return 2;
	per_thread = n;
	pthread_barrier_init(&go, NULL, (unsigned)k);
	for (int i = 0; i < k; i++)
		if (pthread_create(&t[i], NULL, writer, NULL))
			return 4;
	for (int i = 0; i < k; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* signals N: N writes while a timer signal every 50 us records a getppid
 * from its handler, so that handlers land while the trace file grows. */
static volatile long handled;

static void on_timer(int sig)
{
	(void)sig;
	syscall(SYS_getppid);
	handled++;
}

static int signals(long n)
{
	struct itimerval it = {{0, 50}, {0, 50}};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return 5;
	writes(n);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("%ld\n", handled);
	return 0;
}

static const char *handler_path;

static void on_timer_close(int sig)
{
	int fd = open(handler_path, O_WRONLY);

	(void)sig;
	if (fd < 0 || close(fd))
		_exit(6);
	handled++;
}

static int file_in(const char *dir, const char *name);

static int closesig(long n, const char *dir)
{
	struct itimerval it = {{0, 50}, {0, 50}};
	struct sigaction sa;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/handler", dir);
	handler_path = path;
	fd = file_in(dir, "handler");
	if (fd < 0 || close(fd))
		return 5;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer_close;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return 5;
	for (long i = 0; i < n; i++) {
		fd = file_in(dir, "main");
		if (fd < 0 || write(fd, "m", 1) != 1 || close(fd))
			return 6;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("%ld\n", handled);
	return 0;
}

static int file_in(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

int main(int argc, char **argv)
{
	devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0)
		return 2;
	if (argc == 3 && !strcmp(argv[1], "spin")) {
		writes(5000);
		close(file_in(".", argv[2]));
		for (;;)
			writes(1);
	}
	if (argc == 3 && !strcmp(argv[1], "tree")) {
		pid_t pid;
		int st, r;

		pid = fork();
		if (pid == 0) {
			writes(1000);
			execl(argv[2], argv[2], "leaf", (char *)NULL);
			_exit(5);
		}
		r = threads(2, 1000);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			return 6;
		return r;
	}
	if (argc == 2 && !strcmp(argv[1], "leaf")) {
		writes(1000);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "fdreuse")) {
		int a = file_in(argv[2], "a"), b, c;

		if (a < 0 || write(a, "a", 1) != 1 || close(a))
			return 2;
		b = file_in(argv[2], "b");
		if (b != a || write(b, "b", 1) != 1)
			return 7;
		c = file_in(argv[2], "c");
		if (c < 0 || dup2(c, b) != b || write(b, "c", 1) != 1)
			return 8;
		if (close(c) || close(b))
			return 9;
		c = file_in(argv[2], "d");
		if (c < 0 || close(c) || close(c) != -1)
			return 10;
		printf("%d %d\n", b, c);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "closesig"))
		return closesig(atol(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "signals"))
		return signals(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "threads"))
		return threads(atoi(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: see t_record.c\n");
	return 2;
}
