/* test_summary.c: the end-of-run summary of fi-run (cli/summary.c) on
 * hand-made report files, without running anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "summary.h"

#ifndef FIXTURES
#error "FIXTURES must name test/cli/fixtures"
#endif

/* Runs the summary over fixture `name` (or no report at all) and returns
 * what it printed; the caller frees it. */
static char *summarize(const char *name, const struct fi__summary_rule *rules,
		       size_t n, const struct fi__summary_alias *al, size_t nal,
		       size_t *lines)
{
	char path[1024], *buf = NULL;
	size_t len = 0;
	FILE *in = NULL, *out = open_memstream(&buf, &len);
	struct fi__summary *sum;

	assert_non_null(out);
	if (name) {
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
		in = fopen(path, "r");
		assert_non_null(in);
	}
	sum = fi__summary_read(in, rules, n, al, nal);
	*lines = fi__summary_rules(sum, out, NULL);
	fi__summary_free(sum);
	if (in)
		fclose(in);
	fclose(out);
	return buf;
}

/* Records of two processes add up; the first firing names site and pid;
 * a path libfi saw as absolute shows as the user typed it. */
static void test_aggregates_over_processes(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"disk_full.fi:3", "write when=3 error=ENOSPC"},
		{"<rule>:1", "read error=EIO"},
		{"<rule>:2", "fsync error=EIO"},
	};
	const struct fi__summary_alias al[] = {
		{"/abs/dir/disk_full.fi", "disk_full.fi"}};
	size_t lines;
	char *got = summarize("report_basic.jsonl", rules, 3, al, 1, &lines);

	(void)state;
	assert_string_equal(
		got,
		"fi: disk_full.fi:3: write when=3 error=ENOSPC: fired 2 times in 2 processes (first at cp+0x1234, pid 1234)\n"
		"fi: <rule>:1: read error=EIO: never fired (1 matching call)\n"
		"fi: <rule>:2: fsync error=EIO: no report from the program\n");
	assert_int_equal(lines, 3);
	free(got);
}

/* Without the alias, the absolute origin does not match; the rule is
 * still found by its text and shown under the expected origin. */
static void test_matches_by_text_when_origin_differs(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"disk_full.fi:3", "write when=3 error=ENOSPC"},
	};
	size_t lines;
	char *got = summarize("report_basic.jsonl", rules, 1, NULL, 0, &lines);

	(void)state;
	assert_string_equal(
		got,
		"fi: disk_full.fi:3: write when=3 error=ENOSPC: fired 2 times in 2 processes (first at cp+0x1234, pid 1234)\n"
		"fi: <rule>:1: read error=EIO: never fired (1 matching call)\n");
	assert_int_equal(lines, 2);
	free(got);
}

/* Rules the program armed itself come after the expected ones; a record
 * without a site still reports its pid; bad lines are counted once. */
static void test_unexpected_rules_and_bad_lines(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"<rule>:1", "openat error=EACCES"},
	};
	size_t lines;
	char *got = summarize("report_extra.jsonl", rules, 1, NULL, 0, &lines);

	(void)state;
	assert_string_equal(
		got,
		"fi: <rule>:1: openat error=EACCES: fired 3 times (first in pid 7)\n"
		"fi: api.c:12: close retval=0: never fired (0 matching calls)\n"
		"fi: 2 lines of the report were not a rule record; ignored\n");
	assert_int_equal(lines, 3);
	free(got);
}

/* No report at all: every rule says so. */
static void test_no_report(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"a.fi:1", "write error=EIO"},
		{"<rule>:1", "read error=EINTR"},
	};
	size_t lines;
	char *got = summarize(NULL, rules, 2, NULL, 0, &lines);

	(void)state;
	assert_string_equal(
		got,
		"fi: a.fi:1: write error=EIO: no report from the program\n"
		"fi: <rule>:1: read error=EINTR: no report from the program\n");
	assert_int_equal(lines, 2);
	free(got);
}

/* Nothing armed, nothing reported: nothing printed. */
static void test_nothing(void **state)
{
	size_t lines;
	char *got = summarize(NULL, NULL, 0, NULL, 0, &lines);

	(void)state;
	assert_string_equal(got, "");
	assert_int_equal(lines, 0);
	free(got);
}

/* Lost lines add up per pid, keep the first reason, name the trace, and
 * are not rule records; a loss of 0 says nothing. */
static void test_lost_records(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"<rule>:1", "read error=EIO"}};
	const struct fi__summary_alias al[] = {{"FI_RULES", "<rule>"}};
	char path[1024], *buf = NULL;
	size_t len = 0, unfired = 99;
	FILE *in, *out = open_memstream(&buf, &len);
	struct fi__summary *sum;

	(void)state;
	snprintf(path, sizeof(path), "%s/report_lost.jsonl", FIXTURES);
	in = fopen(path, "r");
	assert_non_null(in);
	sum = fi__summary_read(in, rules, 1, al, 1);
	fclose(in);
	assert_int_equal(fi__summary_lines(sum), 5);
	assert_int_equal(fi__summary_lost(sum, "run.trace", out), 21);
	assert_int_equal(fi__summary_rules(sum, out, &unfired), 1);
	assert_int_equal(unfired, 1);
	fi__summary_free(sum);
	fclose(out);
	assert_string_equal(
		buf,
		"fi-run: the trace run.trace lost 20 records (pid 4242: No space left on device)\n"
		"fi-run: the trace run.trace lost 1 record (pid 4250: EBADF)\n"
		"fi: <rule>:1: read error=EIO: never fired (0 matching calls)\n");
	free(buf);
}

/* The same rule twice (-r 'a; a', or fi_rule() in a loop) is two rules,
 * told apart by their place among the image's rules: each adds up its own
 * counts over the processes. */
static void test_same_rule_twice(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"<rule>:1", "write when=1 error=EIO"},
		{"<rule>:1", "write when=1 error=EIO"},
	};
	const struct fi__summary_alias al[] = {{"FI_RULES", "<rule>"}};
	size_t lines;
	char *got = summarize("report_twice.jsonl", rules, 2, al, 1, &lines);

	(void)state;
	assert_string_equal(
		got,
		"fi: <rule>:1: write when=1 error=EIO: fired 2 times in 2 processes (first at t+0x10, pid 50)\n"
		"fi: <rule>:1: write when=1 error=EIO: never fired (3 matching calls)\n"
		"fi: t.c:9: read error=EIO: fired 1 time (first at t+0x30, pid 50)\n"
		"fi: t.c:9: read error=EIO: never fired (1 matching call)\n");
	assert_int_equal(lines, 4);
	free(got);
}

/* Counting without printing: rules that never fired, including those no
 * process reported and those the program armed itself. */
static void test_unfired_count(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"disk_full.fi:3", "write when=3 error=ENOSPC"},
		{"<rule>:1", "fsync error=EIO"},
	};
	const struct fi__summary_alias al[] = {
		{"/abs/dir/disk_full.fi", "disk_full.fi"}};
	char path[1024];
	size_t unfired = 0;
	FILE *in;
	struct fi__summary *sum;

	(void)state;
	snprintf(path, sizeof(path), "%s/report_basic.jsonl", FIXTURES);
	in = fopen(path, "r");
	assert_non_null(in);
	sum = fi__summary_read(in, rules, 2, al, 1);
	fclose(in);
	/* fsync: no report; read (armed by no one here): never fired. */
	assert_int_equal(fi__summary_rules(sum, NULL, &unfired), 0);
	assert_int_equal(unfired, 2);
	assert_int_equal(fi__summary_lost(sum, NULL, stderr), 0);
	fi__summary_free(sum);

	sum = fi__summary_read(NULL, NULL, 0, NULL, 0);
	assert_int_equal(fi__summary_lines(sum), 0);
	fi__summary_free(sum);
}

/* Execs into images libfi is not in: one warning per file and reason,
 * with the number of execs; an exec taken back (it failed) is left out,
 * and a take-back whose line is missing changes nothing. */
static void test_unfollowed(void **state)
{
	const struct fi__summary_rule rules[] = {
		{"<rule>:1", "getppid retval=1"}};
	const struct fi__summary_alias al[] = {{"FI_RULES", "<rule>"}};
	char path[1024], *buf = NULL;
	size_t len = 0;
	FILE *in, *out = open_memstream(&buf, &len);
	struct fi__summary *sum;

	(void)state;
	snprintf(path, sizeof(path), "%s/report_unfollowed.jsonl", FIXTURES);
	in = fopen(path, "r");
	assert_non_null(in);
	sum = fi__summary_read(in, rules, 1, al, 1);
	fclose(in);
	assert_int_equal(fi__summary_lines(sum), 8);
	assert_int_equal(fi__summary_unfollowed(sum, NULL), 3);
	assert_int_equal(fi__summary_unfollowed(sum, out), 3);
	assert_int_equal(fi__summary_rules(sum, out, NULL), 1);
	fi__summary_free(sum);
	fclose(out);
	assert_string_equal(
		buf,
		"fi-run: warning: not followed: /bin/busybox (2 execs, the first in pid 101): statically linked, so libfi cannot be preloaded into it\n"
		"fi-run: warning: not followed: /bin/true (pid 103): its environment drops LD_PRELOAD, so libfi is not loaded into it\n"
		"fi-run: warning: not followed: ./script (pid 104): its interpreter /bin/busybox is statically linked, so libfi cannot be preloaded into it\n"
		"fi: <rule>:1: getppid retval=1: fired 1 time (first at dash+0x10, pid 100)\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregates_over_processes),
		cmocka_unit_test(test_matches_by_text_when_origin_differs),
		cmocka_unit_test(test_unexpected_rules_and_bad_lines),
		cmocka_unit_test(test_no_report),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_lost_records),
		cmocka_unit_test(test_unfired_count),
		cmocka_unit_test(test_same_rule_twice),
		cmocka_unit_test(test_unfollowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
