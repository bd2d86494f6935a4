/* fault_bench: what the kernel charges for the things libfi's start-up
 * does: a page fault of each kind, a cheap syscall and an mprotect. On a
 * machine where a fault costs 10x a syscall, start-up is a count of page
 * faults (bench/RESULTS.md).
 *
 * Usage: fi_fault_bench [FILE]   (FILE: a readable file of >= 1 MiB,
 *                                 default libc)
 * Prints one line of key=value, microseconds each. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGES 256
#define PAGE 4096
#define AROUND 16 /* pages the kernel maps around a read fault */
#define CALLS 1000

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *map(int prot, int flags, int fd)
{
	void *p = mmap(NULL, PAGES * PAGE, prot, flags, fd, 0);
	if (p == MAP_FAILED) {
		perror("fi_fault_bench: mmap");
		exit(2);
	}
	return p;
}

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1]
				    : "/lib/x86_64-linux-gnu/libc.so.6";
	volatile char sink = 0;
	struct stat st;
	double t;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < PAGES * PAGE) {
		fprintf(stderr,
			"fi_fault_bench: %s: not a readable file of %d bytes\n",
			file, PAGES * PAGE);
		return 2;
	}
	char *anon =
		map(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *ro = map(PROT_READ, MAP_PRIVATE, fd);
	char *cow = map(PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);

	/* Bring the file into the page cache: only the faults are timed. */
	for (int i = 0; i < PAGES; i++)
		sink += ((volatile char *)cow)[i * PAGE];
	munmap(cow, PAGES * PAGE);
	cow = map(PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);

	t = now_us();
	for (int i = 0; i < PAGES; i++)
		anon[i * PAGE] = 1;
	double anon_us = (now_us() - t) / PAGES;

	t = now_us();
	for (int i = 0; i < PAGES; i += AROUND)
		sink += ((volatile char *)ro)[i * PAGE];
	double read_us = (now_us() - t) / (PAGES / AROUND);

	t = now_us();
	for (int i = 0; i < PAGES; i++)
		cow[i * PAGE] = 1;
	double cow_us = (now_us() - t) / PAGES;

	t = now_us();
	for (int i = 0; i < CALLS; i++)
		syscall(SYS_getppid);
	double call_us = (now_us() - t) / CALLS;

	t = now_us();
	for (int i = 0; i < CALLS; i++)
		mprotect(anon, PAGE, PROT_READ | (i & 1 ? PROT_WRITE : 0));
	double mprotect_us = (now_us() - t) / CALLS;

	printf("fi_fault anon_fault_us=%.2f read_fault_us=%.2f cow_fault_us=%.2f "
	       "getppid_us=%.2f mprotect_us=%.2f\n",
	       anon_us, read_us, cow_us, call_us, mprotect_us);
	(void)sink;
	return 0;
}
