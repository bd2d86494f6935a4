/* pc_consumer.c: a consumer of an installed fi, built only with
 * `pkg-config --cflags --libs fi cmocka` and written against fi.h alone.
 * test/install/check.sh builds and runs it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <fi.h>

static void version_matches_header(void **state)
{
	char want[32];

	(void)state;
	snprintf(want, sizeof(want), "%d.%d.%d", FI_VERSION_MAJOR,
		 FI_VERSION_MINOR, FI_VERSION_PATCH);
	assert_non_null(fi_version());
	assert_string_equal(fi_version(), want);
}

static void first_write_fails_with_enospc(void **state)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	(void)state;
	assert_true(fd >= 0);
	fi_reset();
	assert_int_equal(fi_fail_nth("write", 1, ENOSPC), 0);
	n = write(fd, "x", 1);
	err = errno;
	assert_int_equal(n, -1);
	assert_int_equal(err, ENOSPC);
	/* The rule fired once; the next write goes through. */
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(fi_verify(), 0);
	fi_reset();
	close(fd);
}

static void unknown_syscall_is_refused(void **state)
{
	(void)state;
	assert_true(fi_fail_nth("no_such_syscall", 1, EIO) < 0);
	assert_true(strlen(fi_last_error()) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_matches_header),
		cmocka_unit_test(first_write_fails_with_enospc),
		cmocka_unit_test(unknown_syscall_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
