/* t_poke: data that passes through two syscalls whose memory a rule may
 * poke. It sends "abcdefgh" over a socketpair, receives it with recvfrom
 * (poke_exit=@arg2 corrupts what the receive returns) and writes what it
 * got to stdout with write (poke_enter=@arg2 changes the buffer before
 * the write). Also recvfrom into a NULL buffer of length 0, for a poke
 * whose pointer is bad. ld.so makes neither call, so `when=` counts the
 * same under strace and fi. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int sv[2];
	char buf[16] = {0};
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return perror("socketpair"), 2;
	if (send(sv[0], "abcdefgh", 8, 0) != 8)
		return perror("send"), 2;
	n = recvfrom(sv[1], buf, sizeof(buf) - 1, 0, NULL, NULL);
	if (n < 0)
		return perror("recvfrom"), 1;
	if (write(1, buf, (size_t)n) != n)
		return 1;
	/* nothing left to receive: a non-blocking recv into no buffer */
	n = recvfrom(sv[1], NULL, 0, MSG_DONTWAIT, NULL, NULL);
	printf("\nsecond recvfrom: %zd\n", n);
	return 0;
}
