/* test_api.c: the fi.h API, live: this binary links libfi, so its own libc
 * is hotpatched and every assertion below is about real syscalls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fi.h"
#include "fi_cmocka.h"

static int null_fd(void)
{
	int fd = open("/dev/null", O_WRONLY);
	assert_true(fd >= 0);
	return fd;
}

static void fail_nth_write(void **state)
{
	int fd = null_fd();
	(void)state;
	assert_int_equal(fi_fail_nth("write", 3, ENOSPC), 0);
	assert_int_equal(write(fd, "a", 1), 1);
	assert_int_equal(write(fd, "b", 1), 1);
	errno = 0;
	assert_int_equal(write(fd, "c", 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(write(fd, "d", 1), 1);
	close(fd);
}

static void expect_queue_in_order(void **state)
{
	int p[2];
	char c;
	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "xy", 2), 2);
	assert_int_equal(fi_expect("read", -EINTR), 0);
	assert_int_equal(fi_expect("read", 0), 0);
	errno = 0;
	assert_int_equal(read(p[0], &c, 1), -1);
	assert_int_equal(errno, EINTR);
	assert_int_equal(read(p[0], &c, 1), 0); /* claimed: pretend EOF */
	assert_int_equal(read(p[0], &c, 1), 1); /* real again */
	assert_int_equal(c, 'x');
	close(p[0]);
	close(p[1]);
}

static void expect_retval(void **state)
{
	(void)state;
	assert_int_equal(fi_expect("getppid", 4242), 0);
	assert_int_equal(syscall(SYS_getppid), 4242);
	assert_int_not_equal(syscall(SYS_getppid), 4242);
}

static void short_write_is_real(void **state)
{
	char path[] = "/tmp/fi-api-XXXXXX", buf[16];
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fi_rule("write short=3 when=1"), 0);
	assert_int_equal(write(fd, "abcdefgh", 8), 3);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "abc", 3);
	close(fd);
	unlink(path);
}

static void short_writev_clamps_iovecs(void **state)
{
	char path[] = "/tmp/fi-api-XXXXXX", buf[16];
	int fd = mkstemp(path);
	struct iovec iov[2] = {{"abc", 3}, {"defgh", 5}};
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fi_rule("writev short=5 when=1"), 0);
	assert_int_equal(writev(fd, iov, 2), 5);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "abcde", 5);
	close(fd);
	unlink(path);
}

static void path_rule(void **state)
{
	(void)state;
	assert_int_equal(fi_rule("openat path=/etc/host* error=EACCES"), 0);
	errno = 0;
	assert_int_equal(open("/etc/hostname", O_RDONLY), -1);
	assert_int_equal(errno, EACCES);
	int fd = open("/etc/passwd", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
}

static void redirect_rule(void **state)
{
	char buf[8] = {0};
	int fd;
	(void)state;
	assert_int_equal(
		fi_rule("openat path=/nonexistent/fi redirect=/dev/zero"), 0);
	fd = open("/nonexistent/fi", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, 4), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	close(fd);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static void signal_rule(void **state)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	(void)state;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	got_usr1 = 0;
	assert_int_equal(fi_rule("getppid when=1 signal=SIGUSR1 error=EINTR"),
			 0);
	errno = 0;
	assert_int_equal(syscall(SYS_getppid), -1);
	assert_int_equal(errno, EINTR);
	assert_int_equal(got_usr1, 1); /* raised in this thread, before */
	assert_int_not_equal(syscall(SYS_getppid), -1);
	assert_int_equal(got_usr1, 1);
	signal(SIGUSR1, SIG_DFL);
}

static long elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000L +
	       (b->tv_nsec - a->tv_nsec);
}

static void delay_rule(void **state)
{
	struct timespec a, b;
	(void)state;
	assert_int_equal(fi_rule("getppid when=1 delay=50ms"), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* The call is delayed, then performed for real. */
	assert_int_equal(syscall(SYS_getppid), getppid());
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* Not a timing measurement: a lower bound the rule guarantees. */
	assert_true(elapsed_ns(&a, &b) >= 50 * 1000000L);
}

static void count_calls(void **state)
{
	(void)state;
	assert_int_equal(fi_count("getppid"), 0);
	for (int i = 0; i < 7; i++)
		getppid();
	assert_int_equal(fi_count("getppid"), 7);
	fi_reset();
	assert_int_equal(fi_count("getppid"), 0);
}

static void harness_calls_are_not_counted(void **state)
{
	long before;
	(void)state;
	before = fi_count("write");
	/* Every write fails, yet cmocka's own output still gets out. */
	assert_int_equal(fi_rule("write error=EIO"), 0);
	print_message("fi: this line comes from cmocka while writes fail\n");
	assert_int_equal(fi_count("write"), before);
	errno = 0;
	assert_int_equal(write(1, "", 0), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(fi_count("write"), before + 1);
	fi_reset();
}

struct th {
	long failed;
};

static void *getppid_250(void *arg)
{
	struct th *t = arg;
	for (int i = 0; i < 250; i++)
		if (syscall(SYS_getppid) == -1 && errno == EPERM)
			t->failed++;
	return NULL;
}

static void when_is_exact_across_threads(void **state)
{
	pthread_t tid[4];
	struct th t[4] = {{0}};
	long failed = 0;
	(void)state;
	assert_int_equal(fi_rule("getppid when=500 error=EPERM"), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			pthread_create(&tid[i], NULL, getppid_250, &t[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	for (int i = 0; i < 4; i++)
		failed += t[i].failed;
	assert_int_equal(failed, 1);
	assert_int_equal(fi_count("getppid"), 1000);
}

static void bad_input(void **state)
{
	(void)state;
	char want[128];
	int line;

	/* fi_rule() names its source line; (fi_rule) is the plain function */
	line = __LINE__ + 1;
	assert_int_equal(fi_rule("wirte error=EIO"), -EINVAL);
	snprintf(want, sizeof(want), "test_api.c:%d:1: error: unknown syscall",
		 line);
	assert_non_null(strstr(fi_last_error(), want));
	assert_int_equal((fi_rule)("wirte error=EIO"), -EINVAL);
	assert_non_null(
		strstr(fi_last_error(), "<rule>:1:1: error: unknown syscall"));
	assert_int_equal((fi_rule)("write error=ENOPE"), -EINVAL);
	assert_non_null(strstr(fi_last_error(),
			       "<rule>:1:13: error: unknown errno 'ENOPE'"));
	assert_int_equal(fi_rule_at("write error=ENOPE", "/src/t/x.c", 7),
			 -EINVAL);
	assert_non_null(strstr(fi_last_error(),
			       "x.c:7:13: error: unknown errno 'ENOPE'"));
	assert_int_equal(fi_rule_at("write error=ENOPE", NULL, 7), -EINVAL);
	assert_non_null(strstr(fi_last_error(), "<rule>:1:13: error:"));
	assert_int_equal(fi_fail_nth("nosuchcall", 1, EIO), -EINVAL);
	assert_string_equal(fi_last_error(), "unknown syscall 'nosuchcall'");
	assert_int_equal(fi_fail_nth("write", 0, EIO), -EINVAL);
	assert_string_equal(fi_last_error(), "fi_fail_nth: n counts from 1");
	assert_int_equal(fi_expect("nosuchcall", 0), -EINVAL);
	assert_int_equal(fi_count("nosuchcall"), -EINVAL);
	assert_int_equal(fi_load_scenario("/nonexistent/x.fi"), -ENOENT);
	assert_non_null(strstr(fi_last_error(),
			       "/nonexistent/x.fi: error: cannot read"));
	assert_int_equal(fi_rule(NULL), -EINVAL);
	/* fi_ignore_module takes a file name, never a pattern. */
	assert_int_equal(fi_ignore_module("libharness*.so"), -EINVAL);
	assert_string_equal(
		fi_last_error(),
		"fi_ignore_module takes an object's file name, not a pattern: 'libharness*.so'");
	assert_int_equal(fi_ignore_module(""), -EINVAL);
	/* A success clears the error. */
	assert_int_equal(fi_rule("getppid error=EPERM when=1"), 0);
	assert_string_equal(fi_last_error(), "");
	/* Used, so that it is not a tail call: a libc call made as the test
	 * function's last act returns straight into cmocka, and fi would
	 * take it for the harness's own (docs/api.md). */
	assert_int_equal(syscall(SYS_getppid), -1);
}

static void scenario_file(void **state)
{
	int fd = null_fd();
	(void)state;
	assert_int_equal(
		fi_load_scenario(FI_SOURCE_DIR "/scenarios/disk_full.fi"), 0);
	assert_int_equal(write(fd, "a", 1), 1);
	assert_int_equal(write(fd, "b", 1), 1);
	assert_int_equal(write(fd, "c", 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(write(fd, "d", 1), -1);
	close(fd);
	fi_reset();
}

static void verify_names_the_rule(void **state)
{
	(void)state;
	assert_int_equal(fi_fail_nth("fsync", 2, EIO), 0);
	assert_int_equal(fi_verify(), -EPROTO);
	assert_non_null(strstr(fi_last_error(), "fsync"));
	assert_non_null(strstr(fi_last_error(), "fsync when=2 error=EIO"));
	assert_int_equal(fi_expect("close", 0), 0);
	fi_reset();
	assert_int_equal(fi_verify(), 0);
}

static int setups, teardowns;

static int user_setup(void **state)
{
	setups++;
	*state = &setups;
	return 0;
}

static int user_teardown(void **state)
{
	assert_ptr_equal(*state, &setups);
	teardowns++;
	return 0;
}

static void user_fixtures_run(void **state)
{
	assert_ptr_equal(*state, &setups);
	assert_int_equal(setups, 1);
	assert_int_equal(teardowns, 0);
}

static void version(void **state)
{
	char want[32];
	(void)state;
	snprintf(want, sizeof(want), "%d.%d.%d", FI_VERSION_MAJOR,
		 FI_VERSION_MINOR, FI_VERSION_PATCH);
	assert_string_equal(fi_version(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		fi_unit_test(fail_nth_write),
		fi_unit_test(expect_queue_in_order),
		fi_unit_test(expect_retval),
		fi_unit_test(short_write_is_real),
		fi_unit_test(short_writev_clamps_iovecs),
		fi_unit_test(path_rule),
		fi_unit_test(redirect_rule),
		fi_unit_test(signal_rule),
		fi_unit_test(delay_rule),
		fi_unit_test(count_calls),
		fi_unit_test(harness_calls_are_not_counted),
		fi_unit_test(when_is_exact_across_threads),
		fi_unit_test(bad_input),
		fi_unit_test(scenario_file),
		fi_unit_test(verify_names_the_rule),
		fi_unit_test_setup_teardown(user_fixtures_run, user_setup,
					    user_teardown),
		fi_unit_test(version),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	/* The user teardown ran exactly once. */
	if (teardowns != 1)
		return 99;
	return r;
}
