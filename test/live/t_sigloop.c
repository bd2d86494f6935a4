/* t_sigloop: the main thread spins in a loop of syscalls while a child sends
 * it SIGUSR1 200 times; the handler makes syscalls of its own and acks each
 * signal through a pipe. The number of loop rounds depends on timing, so the
 * driver treats the loop's syscall (getuid) as volatile; everything else is
 * counted exactly. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "live.h"

#define NSIG_SENT 200

static int ack_w;
static pid_t self;
static volatile sig_atomic_t received, bad;

static void handler(int sig)
{
	(void)sig;
	int saved = errno;
	if (syscall(SYS_getpid) != self)
		bad = 1;
	if (write(ack_w, "k", 1) != 1)
		bad = 2;
	received++;
	errno = saved;
}

int main(void)
{
	live_begin();
	self = getpid();
	int ack[2];
	LIVE_CHECK(pipe(ack) == 0);
	ack_w = ack[1];
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	LIVE_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	uid_t uid = getuid();

	pid_t kid = fork();
	LIVE_CHECK(kid >= 0);
	if (kid == 0) {
		for (int i = 0; i < NSIG_SENT; i++) {
			char c;
			if (kill(self, SIGUSR1) != 0)
				_exit(30);
			if (read(ack[0], &c, 1) != 1 || c != 'k')
				_exit(31);
		}
		_exit(0);
	}
	long rounds = 0;
	while (received < NSIG_SENT) {
		LIVE_CHECK(syscall(SYS_getuid) == (long)uid);
		rounds++;
	}
	int st;
	LIVE_CHECK(waitpid(kid, &st, 0) == kid);
	LIVE_CHECK_EXIT(st, 0);
	LIVE_CHECK(!bad);
	LIVE_CHECK(received == NSIG_SENT);
	LIVE_CHECK(rounds > 0);
	printf("%d signals handled during the syscall loop, handler syscalls ok\n",
	       NSIG_SENT);
	printf("sigloop ok\n");
	return 0;
}
