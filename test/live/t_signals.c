/* t_signals: a blocking read on a pipe is interrupted by SIGALRM. With
 * SA_RESTART the read is restarted and returns the byte the handler wrote;
 * without it, the read fails with EINTR. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/time.h>

#include "live.h"

static int pipe_w;
static volatile sig_atomic_t handled;

static void restart_handler(int sig)
{
	(void)sig;
	int saved = errno;
	/* A syscall inside the handler; the interrupted read then finds the byte. */
	if (write(pipe_w, "r", 1) != 1)
		_exit(90);
	handled++;
	errno = saved;
}

static void eintr_handler(int sig)
{
	(void)sig;
	int saved = errno;
	(void)getpid();
	handled++;
	errno = saved;
}

static void arm_timer(long usec, long interval_usec)
{
	struct itimerval it = {
		.it_value = {.tv_sec = 0, .tv_usec = usec},
		.it_interval = {.tv_sec = 0, .tv_usec = interval_usec},
	};
	LIVE_CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

int main(void)
{
	live_begin();
	int p[2];
	LIVE_CHECK(pipe(p) == 0);
	pipe_w = p[1];

	struct sigaction sa = {.sa_handler = restart_handler,
			       .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	LIVE_CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	arm_timer(100000, 0);
	char c = 0;
	ssize_t n = read(p[0], &c, 1);
	LIVE_CHECK(n == 1 && c == 'r');
	LIVE_CHECK(handled == 1);
	printf("SA_RESTART: read restarted, got the handler's byte\n");

	/* Without SA_RESTART. The timer repeats, so that a tick that came before
   * the read blocked (a very loaded machine) is followed by one that
   * interrupts it; it is stopped right after. */
	sa.sa_handler = eintr_handler;
	sa.sa_flags = 0;
	LIVE_CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	handled = 0;
	arm_timer(100000, 100000);
	errno = 0;
	n = read(p[0], &c, 1);
	int e = errno;
	arm_timer(0, 0);
	LIVE_CHECK(n == -1 && e == EINTR);
	LIVE_CHECK(handled >= 1);
	printf("no SA_RESTART: read failed with EINTR\n");

	/* The pipe still works after both. */
	LIVE_CHECK(write(p[1], "z", 1) == 1);
	LIVE_CHECK(read(p[0], &c, 1) == 1 && c == 'z');
	printf("signals ok\n");
	return 0;
}
