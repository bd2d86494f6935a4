/* test_sweep_plan.c: the sweep's plan (cli/sweep_plan.c) plans only the
 * errnos a site's call could really return with the arguments the
 * discovery run saw (cli/sweep_errnos.c's conditions), read from a
 * hand-made trace by cli/sweep_discover.c. Nothing is run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sweep.h"

/* Discover the records of `trace` (JSON Lines) and plan them with
 * `errnos` (--errnos, or NULL); the plan's rules, one a line. */
static char *plan_of(const char *trace, const char *errnos)
{
	char path[] = "/tmp/fi-sweep-plan-XXXXXX";
	int fd = mkstemp(path);
	struct fi__sweep_sites s;
	struct fi__sweep_opts o = {.errnos = errnos};
	struct fi__sweep_plan p;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, trace, strlen(trace)),
			 (ssize_t)strlen(trace));
	close(fd);
	assert_int_equal(fi__sweep_discover(path, &s), 0);
	unlink(path);
	assert_int_equal(fi__sweep_plan(&s, &o, &p), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	for (size_t i = 0; i < p.n; i++)
		fprintf(f, "%s\n", p.v[i].rule);
	fclose(f);
	fi__sweep_plan_free(&p);
	fi__sweep_sites_free(&s);
	return out;
}

#define REC(pid, tid, name, args, site, extra)                                 \
	"{\"seq\":1,\"pid\":" pid ",\"tid\":" tid ",\"nr\":0,\"name\":\"" name \
	"\",\"args\":[" args "],\"ret\":0,\"site\":\"" site "\"" extra "}\n"

static void expect_plan(const char *trace, const char *errnos, const char *want)
{
	char *got = plan_of(trace, errnos);

	assert_string_equal(got, want);
	free(got);
}

/* sort -o: dup2(3, 1) in a program of one thread. The kernel cannot
 * give EMFILE (a target past RLIMIT_NOFILE is EBADF) nor EBADF (the
 * call succeeded), nor EBUSY (no other thread opens fds). */
static void dup2_low_fd_single_thread(void **state)
{
	(void)state;
	expect_plan(REC("10", "10", "dup2", "3,1,0,0,0,0", "sort+0x7358", ""),
		    NULL, "");
}

/* With a second thread, dup2 can race an open(2): EBUSY. */
static void dup2_threaded(void **state)
{
	(void)state;
	expect_plan(REC("10", "11", "futex", "0,0,0,0,0,0", "prog+0x10", "")
			    REC("10", "10", "dup2", "3,1,0,0,0,0", "prog+0x20",
				""),
		    NULL, "dup2 site=prog+0x20 when=1 error=EBUSY\n");
}

/* glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH): no lookup, so no
 * ENOENT or EACCES; a stat of a name keeps them. */
static void fstat_looks_up_nothing(void **state)
{
	(void)state;
	expect_plan(REC("10", "10", "newfstatat", "3,1000,2000,4096,0,0",
			"prog+0x30", ",\"path\":\"\"")
			    REC("10", "10", "newfstatat",
				"-100,1000,2000,0,0,0", "prog+0x40",
				",\"path\":\"a.txt\""),
		    NULL,
		    "newfstatat site=prog+0x30 when=1 error=EIO\n"
		    "newfstatat site=prog+0x40 when=1 error=ENOENT\n"
		    "newfstatat site=prog+0x40 when=1 error=EACCES\n"
		    "newfstatat site=prog+0x40 when=1 error=EIO\n");
}

/* A pipe never runs out of space; a file can. Ranks count the errnos
 * that fit, so the pipe's EINTR is its first. */
static void write_to_pipe(void **state)
{
	(void)state;
	expect_plan(REC("10", "10", "write", "4,1000,5,0,0,0", "prog+0x50",
			",\"path\":\"pipe:[77]\"")
			    REC("10", "10", "write", "5,1000,5,0,0,0",
				"prog+0x60", ",\"path\":\"/tmp/out\""),
		    NULL,
		    "write site=prog+0x50 when=1 error=EINTR\n"
		    "write site=prog+0x60 when=1 error=ENOSPC\n"
		    "write site=prog+0x60 when=1 error=EIO\n"
		    "write site=prog+0x60 when=1 error=EINTR\n");
}

/* poll with a zero timeout never sleeps (no EINTR), and one pollfd
 * fits the kernel's stack (no ENOMEM); waiting forever can be
 * interrupted. wait4 with WNOHANG never waits. */
static void poll_and_wait_flags(void **state)
{
	(void)state;
	expect_plan(REC("10", "10", "poll", "1000,1,0,0,0,0", "prog+0x70", "")
			    REC("10", "10", "poll", "1000,1,-1,0,0,0",
				"prog+0x80",
				"") REC("10", "10", "wait4", "-1,1000,1,0,0,0",
					"prog+0x90", "")
				    REC("10", "10", "wait4", "-1,1000,0,0,0,0",
					"prog+0xa0", ""),
		    NULL,
		    "poll site=prog+0x80 when=1 error=EINTR\n"
		    "wait4 site=prog+0xa0 when=1 error=EINTR\n");
}

/* --errnos still narrows, after the arguments. */
static void errnos_option_and_args(void **state)
{
	(void)state;
	expect_plan(REC("10", "10", "write", "4,1000,5,0,0,0", "prog+0x50",
			",\"path\":\"pipe:[77]\""),
		    "ENOSPC", "");
}

/* A record without arguments rules nothing out. */
static void no_args_all_errnos(void **state)
{
	(void)state;
	expect_plan(
		"{\"pid\":10,\"tid\":10,\"name\":\"dup2\",\"site\":\"prog+0x20\"}\n"
		"{\"pid\":10,\"tid\":10,\"name\":\"kill\",\"args\":[10,15,0,0,0,0],\"site\":\"prog+0x30\"}\n"
		"{\"pid\":10,\"tid\":10,\"name\":\"kill\",\"args\":[12,15,0,0,0,0],\"site\":\"prog+0x40\"}\n",
		NULL,
		"dup2 site=prog+0x20 when=1 error=EBUSY\n"
		"kill site=prog+0x40 when=1 error=EPERM\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dup2_low_fd_single_thread),
		cmocka_unit_test(dup2_threaded),
		cmocka_unit_test(fstat_looks_up_nothing),
		cmocka_unit_test(write_to_pipe),
		cmocka_unit_test(poll_and_wait_flags),
		cmocka_unit_test(errnos_option_and_args),
		cmocka_unit_test(no_args_all_errnos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
