/* t_fds: a program that closes or replaces every fd it did not open, the
 * way daemons, shells and python's subprocess do, then fills the fd table
 * with files of its own. Under fi-run, fi's trace and report fds must
 * survive or step aside, and nothing of fi's may land in these files.
 *
 *   t_fds MODE DIR      MODE: closefrom close_range closeloop dup2 dup3
 *                             io_uring
 *
 * Exits 0 when every file holds exactly what the program wrote, and every
 * call the program made on a number it never opened gave what the kernel
 * gives for a closed fd. Prints the reason and exits 1 otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WANT 1100 /* past fi's fds under a limit of 1024 or more */

static int nfiles;
static int fds[WANT];
static char names[WANT][64];

static void die(const char *what)
{
	fprintf(stderr, "t_fds: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Close every fd from 3 up the io_uring way: one IORING_OP_CLOSE each. */
static void close_by_io_uring(int last)
{
	struct io_uring_params p;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail, mask, cmask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	char *sq, *cq;
	int ring;

	memset(&p, 0, sizeof(p));
	ring = (int)syscall(SYS_io_uring_setup, 64, &p);
	if (ring < 0) {
		if (errno == ENOSYS || errno == EPERM) {
			/* No io_uring here: close the plain way. */
			syscall(SYS_close_range, 3, ~0u, 0);
			return;
		}
		die("io_uring_setup");
	}
	sq = mmap(0, p.sq_off.array + p.sq_entries * sizeof(unsigned),
		  PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
	cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
	sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe),
		    PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		die("mmap io_uring");
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cmask = *(unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	for (int fd = 3; fd <= last;) {
		unsigned n = 0, tail = *sq_tail;

		for (; fd <= last && n < 32; fd++) {
			struct io_uring_sqe *e;

			if (fd == ring)
				continue;
			e = &sqes[tail & mask];
			memset(e, 0, sizeof(*e));
			e->opcode = IORING_OP_CLOSE;
			e->fd = fd;
			sq_array[tail & mask] = tail & mask;
			tail++;
			n++;
		}
		__atomic_store_n(sq_tail, tail, __ATOMIC_RELEASE);
		if (syscall(SYS_io_uring_enter, ring, n, n,
			    IORING_ENTER_GETEVENTS, NULL, 0) < 0)
			die("io_uring_enter");
		__atomic_store_n(cq_head,
				 __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	}
	(void)cqes;
	(void)cmask;
	close(ring);
}

/* Every fd from 3 up to `last` made a copy of `src`, then closed again:
 * the program takes each number for a moment. */
static void take_every_number(int use_dup3, int last)
{
	int src = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (src < 0)
		die("open /dev/null");
	for (int fd = 3; fd <= last; fd++) {
		int r;

		if (fd == src)
			continue;
		r = use_dup3 ? dup3(src, fd, O_CLOEXEC) : dup2(src, fd);
		if (r != fd)
			die(use_dup3 ? "dup3" : "dup2");
		if (write(fd, "", 0) != 0)
			die("write to the copy");
	}
	for (int fd = 3; fd <= last; fd++)
		if (fd != src && close(fd) != 0)
			die("close a copy");
	close(src);
}

static void check_file(int i)
{
	char buf[64];
	int fd = open(names[i], O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		die("reopen");
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != 5 || memcmp(buf, "data\n", 5) != 0) {
		fprintf(stderr, "t_fds: %s holds %zd bytes, not \"data\\n\"\n",
			names[i], n);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int last;

	if (argc != 3) {
		fprintf(stderr, "usage: t_fds MODE DIR\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	last = rl.rlim_cur > WANT + 40 ? WANT + 40 : (int)rl.rlim_cur - 1;

	if (!strcmp(argv[1], "closefrom")) {
		closefrom(3);
	} else if (!strcmp(argv[1], "close_range")) {
		if (syscall(SYS_close_range, 3, ~0u, 0) != 0)
			die("close_range");
	} else if (!strcmp(argv[1], "closeloop")) {
		for (int fd = 3; fd <= last; fd++)
			if (close(fd) == 0 || errno != EBADF)
				; /* a daemon closes blindly */
	} else if (!strcmp(argv[1], "dup2") || !strcmp(argv[1], "dup3")) {
		take_every_number(argv[1][3] == '3', last);
	} else if (!strcmp(argv[1], "io_uring")) {
		close_by_io_uring(last);
	} else {
		fprintf(stderr, "t_fds: unknown mode %s\n", argv[1]);
		return 2;
	}

	/* The fd table, as full as the limit lets it get, with files of the
	 * program's own. */
	for (nfiles = 0; nfiles < WANT; nfiles++) {
		snprintf(names[nfiles], sizeof(names[0]), "%s/f%d", argv[2],
			 nfiles);
		fds[nfiles] = open(names[nfiles],
				   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				   0644);
		if (fds[nfiles] < 0 && errno == EMFILE)
			break;
		if (fds[nfiles] < 0)
			die("open");
	}
	for (int i = 0; i < nfiles; i++)
		if (write(fds[i], "data\n", 5) != 5)
			die("write");
	/* What a rule acts on, and more records, with every file open. */
	printf("getppid: %ld\n", (long)getppid());
	for (int i = 0; i < nfiles; i++)
		if (close(fds[i]) != 0)
			die("close");
	for (int i = 0; i < nfiles; i++)
		check_file(i);
	printf("%d files ok\n", nfiles);
	return 0;
}
