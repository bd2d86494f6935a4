// test_api_cxx.cpp: fi.h and fi_cmocka.h in a C++ suite (g++ and clang++,
// -std=c++11 -Wall -Wextra -Werror): both fixture macros, the rule macros
// that name their source line, and a test whose rule never fired failing
// with fi's message. cxx_test.sh builds and runs it.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" { // cmocka.h 1.1 does not say it is C
#include <cmocka.h>
}

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <fi.h>
#include <fi_cmocka.h>

static void fails_once(void **state)
{
	(void)state;
	int fd;

	assert_int_equal(fi_fail_nth("dup", 1, EMFILE), 0);
	errno = 0;
	assert_int_equal(dup(0), -1);
	assert_int_equal(errno, EMFILE);
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fi_rule("getppid retval=7"), 0);
	assert_int_equal(getppid(), 7);
}

static int setup(void **state)
{
	*state = (void *)"ready";
	return 0;
}

static int teardown(void **state)
{
	return strcmp((const char *)*state, "ready") == 0 ? 0 : -1;
}

static void with_fixtures(void **state)
{
	assert_string_equal((const char *)*state, "ready");
	assert_int_equal(fi_count("getppid"), 0);
}

static void never_fires(void **state)
{
	(void)state;
	assert_int_equal(fi_fail_nth("fdatasync", 1, EIO), 0);
	assert_int_equal(fi_expect("getppid", 9), 0);
}

int main()
{
	const struct CMUnitTest tests[] = {
		fi_unit_test(fails_once),
		fi_unit_test_setup_teardown(with_fixtures, setup, teardown),
		fi_unit_test(never_fires),
	};
	// exactly one failure: never_fires
	return cmocka_run_group_tests(tests, NULL, NULL) == 1 ? 0 : 1;
}
