/* syscall_bench: runs one syscall case in a tight loop and reports the cost
 * per call. bench/run.py runs it bare, under libfi and under peer tools. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Under callgrind --instr-atstart=no, loop mode turns instrumentation on
 * for the loop only: start-up (libfi's disassembly of every object) then
 * runs many times faster. The two-size difference stays the measure. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND_H 1
#endif
#endif
#ifndef HAVE_CALLGRIND_H
#define HAVE_CALLGRIND_H 0
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_DUMP_STATS_AT(what) ((void)(what))
#endif

/*
 * Usage: fi_syscall_bench [-o FILE] CASE N [time|loop]
 *
 *   CASE  syscall-getppid | getppid | read | write
 *   N     iterations of the measured loop
 *   time  (default) warm up, then time N calls with CLOCK_MONOTONIC, in
 *         CHUNKS slices: ns_per_call is the whole, ns_best_chunk the
 *         fastest slice
 *   loop  run the loop N times, no warm-up and no clock (for callgrind,
 *         where two sizes are compared so that start-up cancels out);
 *         cg_toggle=1 in the report says that the loop turns callgrind's
 *         instrumentation on and off around itself
 *   pair  for callgrind --instr-atstart=no: an uninstrumented warm-up of N
 *         calls (lazy binding, first-call set-up), then N calls and 2N
 *         calls, each instrumented alone and dumped (parts 1 and 2), so
 *         one process gives both sizes; the report counts the 3N calls
 *
 * The result is one line of key=value pairs:
 *
 *   fi_bench case=read mode=time n=400000 ns_per_call=131.42
 *            ns_best_chunk=128.90 fails=0 errno=0 last_ret=1
 *
 * fails counts calls that returned a negative value, errno is errno after
 * the loop (the errno of the last failing call) and last_ret is the last
 * return value, so that a driver can check that an injection really
 * happened (or really did not).
 *
 * With -o FILE the line goes into FILE through a shared mapping instead of
 * stdout: the bench must still report when the measured rule fails every
 * write(2) of the process.
 */

#define REPORT_SIZE 4096
#define CHUNKS 10

struct result {
	long fails;
	long last_ret;
};

/* One loop per case, so that the measured loop has no indirect call. Each
 * returns the number of failing calls; the loops are identical in shape. */

static __attribute__((noinline)) struct result loop_syscall_getppid(long n)
{
	struct result r = {0, 0};
	for (long i = 0; i < n; i++) {
		long ret = syscall(SYS_getppid);
		r.fails += ret < 0;
		r.last_ret = ret;
	}
	return r;
}

static __attribute__((noinline)) struct result loop_getppid(long n)
{
	struct result r = {0, 0};
	for (long i = 0; i < n; i++) {
		long ret = getppid();
		r.fails += ret < 0;
		r.last_ret = ret;
	}
	return r;
}

static int bench_fd = -1;

static __attribute__((noinline)) struct result loop_read(long n)
{
	struct result r = {0, 0};
	char c;
	for (long i = 0; i < n; i++) {
		long ret = read(bench_fd, &c, 1);
		r.fails += ret < 0;
		r.last_ret = ret;
	}
	return r;
}

static __attribute__((noinline)) struct result loop_write(long n)
{
	struct result r = {0, 0};
	static const char c = 'x';
	for (long i = 0; i < n; i++) {
		long ret = write(bench_fd, &c, 1);
		r.fails += ret < 0;
		r.last_ret = ret;
	}
	return r;
}

struct bench_case {
	const char *name;
	struct result (*loop)(long n);
	const char *path; /* file to open before the loop, or NULL */
	int flags;
};

static const struct bench_case cases[] = {
	{"syscall-getppid", loop_syscall_getppid, NULL, 0},
	{"getppid", loop_getppid, NULL, 0},
	{"read", loop_read, "/dev/zero", O_RDONLY},
	{"write", loop_write, "/dev/null", O_WRONLY},
};

static char *report_buf; /* the shared mapping of -o FILE, or NULL */

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fi_syscall_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: fi_syscall_bench [-o FILE] CASE N [time|loop]\n"
			"cases: syscall-getppid getppid read write\n");
	exit(2);
}

/* Map FILE (created, one page) so that the report needs no write(2). */
static void open_report(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (ftruncate(fd, REPORT_SIZE) != 0)
		die("%s: ftruncate: %s", path, strerror(errno));
	report_buf = mmap(NULL, REPORT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd, 0);
	if (report_buf == MAP_FAILED)
		die("%s: mmap: %s", path, strerror(errno));
	close(fd);
}

static long parse_count(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > (1LL << 40))
		die("bad iteration count '%s'", s);
	return (long)v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "+o:h")) != -1) {
		switch (opt) {
		case 'o':
			open_report(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		usage();

	const struct bench_case *bc = NULL;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(argv[optind], cases[i].name) == 0)
			bc = &cases[i];
	if (!bc)
		die("unknown case '%s'", argv[optind]);
	long n = parse_count(argv[optind + 1]);
	const char *mode = argc - optind == 3 ? argv[optind + 2] : "time";
	enum { MODE_TIME, MODE_LOOP, MODE_PAIR } m;
	if (strcmp(mode, "time") == 0)
		m = MODE_TIME;
	else if (strcmp(mode, "loop") == 0)
		m = MODE_LOOP;
	else if (strcmp(mode, "pair") == 0)
		m = MODE_PAIR;
	else
		die("unknown mode '%s' (time, loop or pair)", mode);

	if (bc->path) {
		bench_fd = open(bc->path, bc->flags | O_CLOEXEC);
		if (bench_fd < 0)
			die("%s: %s", bc->path, strerror(errno));
	}

	double ns_per_call = 0, ns_best = 0;
	struct result r = {0, 0};
	long reported_n = n;
	if (m == MODE_TIME) {
		long warm = n / 10 < 20000 ? n / 10 : 20000;
		bc->loop(warm);
		errno = 0;
		/* CHUNKS back-to-back slices; the fastest one is the least disturbed
         * by interrupts and by other processes. */
		uint64_t total = 0;
		long done = 0;
		for (int k = 0; k < CHUNKS; k++) {
			long len = (n - done) / (CHUNKS - k);
			uint64_t t0 = now_ns();
			struct result part = bc->loop(len);
			uint64_t t1 = now_ns();
			r.fails += part.fails;
			if (len > 0) {
				double per_call =
					(double)(t1 - t0) / (double)len;
				if (ns_best == 0 || per_call < ns_best)
					ns_best = per_call;
				r.last_ret = part.last_ret;
			}
			total += t1 - t0;
			done += len;
		}
		if (n > 0)
			ns_per_call = (double)total / (double)n;
	} else if (m == MODE_LOOP) {
		errno = 0;
		CALLGRIND_START_INSTRUMENTATION;
		r = bc->loop(n);
		CALLGRIND_STOP_INSTRUMENTATION;
	} else {
		bc->loop(n);
		errno = 0;
		CALLGRIND_START_INSTRUMENTATION;
		struct result small = bc->loop(n);
		CALLGRIND_STOP_INSTRUMENTATION;
		CALLGRIND_DUMP_STATS_AT("loop of N");
		CALLGRIND_START_INSTRUMENTATION;
		r = bc->loop(2 * n);
		CALLGRIND_STOP_INSTRUMENTATION;
		CALLGRIND_DUMP_STATS_AT("loop of 2N");
		r.fails += small.fails;
		reported_n = 3 * n;
	}
	int err = errno;

	char line[256];
	snprintf(
		line, sizeof line,
		"fi_bench case=%s mode=%s n=%ld ns_per_call=%.2f ns_best_chunk=%.2f fails=%ld "
		"errno=%d last_ret=%ld cg_toggle=%d\n",
		bc->name, mode, reported_n, ns_per_call, ns_best, r.fails, err,
		r.last_ret, HAVE_CALLGRIND_H);
	if (report_buf)
		memcpy(report_buf, line, strlen(line) + 1);
	else
		fputs(line, stdout);
	return 0;
}
