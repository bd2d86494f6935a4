/* test_store.c: the store's error paths, driven by fi. Build it with
 *   cc test_store.c store.c $(pkg-config --cflags --libs fi cmocka)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fi.h>
#include <fi_cmocka.h>

#include "store.h"

static const char *const recs[] = {"alpha", "beta", "gamma"};
static char path[64];

/* Each test starts from a store holding "old". */
static int make_path(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/fi-store-%d", (int)getpid());
	return store_save(path, (const char *const[]){"old"}, 1);
}

static int remove_path(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* The disk fills up on the 3rd write: the save fails, the old file stays. */
static void disk_full_keeps_old_file(void **state)
{
	char buf[64];
	(void)state;
	fi_fail_nth("write", 3, ENOSPC);
	assert_int_equal(store_save(path, recs, 3), -ENOSPC);
	assert_int_equal(store_load(path, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "old\n");
}

/* A read interrupted by a signal is retried. */
static void interrupted_read_is_retried(void **state)
{
	char buf[64];
	(void)state;
	fi_expect("read", -EINTR);
	assert_int_equal(store_load(path, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "old\n");
}

/* Every write moves one byte at most: the store completes them. */
static void short_writes_are_completed(void **state)
{
	char buf[64];
	(void)state;
	fi_rule("write short=1");
	assert_int_equal(store_save(path, recs, 3), 0);
	fi_reset();
	assert_int_equal(store_load(path, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "alpha\nbeta\ngamma\n");
}

/* The file cannot be opened: the error comes back as it is. */
static void refused_open_is_reported(void **state)
{
	char buf[64];
	(void)state;
	fi_rule("openat path=/tmp/fi-store-* error=EACCES");
	assert_int_equal(store_load(path, buf, sizeof(buf)), -EACCES);
}

/* fsync fails: nothing is renamed over the old file. */
static void failed_fsync_keeps_old_file(void **state)
{
	char buf[64];
	(void)state;
	fi_fail_nth("fsync", 1, EIO);
	assert_int_equal(store_save(path, recs, 3), -EIO);
	fi_reset();
	assert_int_equal(store_load(path, buf, sizeof(buf)), 4);
}

/* An expectation the code never meets is caught by fi_verify(), which the
 * fixture calls after each test; here we call it ourselves to show it. */
static void unmet_expectation_is_caught(void **state)
{
	char buf[64];
	(void)state;
	fi_fail_nth("read", 5, EIO); /* the store reads twice, not five times */
	assert_int_equal(store_load(path, buf, sizeof(buf)), 4);
	assert_int_equal(fi_verify(), -EPROTO);
	assert_non_null(strstr(fi_last_error(), "expected read to fail"));
	fi_reset(); /* so that the fixture's own verify passes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		fi_unit_test_setup_teardown(disk_full_keeps_old_file, make_path,
					    remove_path),
		fi_unit_test_setup_teardown(interrupted_read_is_retried,
					    make_path, remove_path),
		fi_unit_test_setup_teardown(short_writes_are_completed,
					    make_path, remove_path),
		fi_unit_test_setup_teardown(refused_open_is_reported, make_path,
					    remove_path),
		fi_unit_test_setup_teardown(failed_fsync_keeps_old_file,
					    make_path, remove_path),
		fi_unit_test_setup_teardown(unmet_expectation_is_caught,
					    make_path, remove_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
