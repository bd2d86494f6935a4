/* test_api_unmet.c: fi_cmocka.h's fixture fails a test whose rule never
 * fired and one whose expectation was never consumed, naming them. ctest
 * checks the messages and that the run fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include "fi.h"
#include "fi_cmocka.h"

static void rule_never_fires(void **state)
{
	(void)state;
	assert_int_equal(fi_fail_nth("fdatasync", 1, EIO), 0);
}

static void expectation_never_consumed(void **state)
{
	(void)state;
	assert_int_equal(fi_expect("getppid", 7), 0);
}

static void met(void **state)
{
	(void)state;
	assert_int_equal(fi_expect("getppid", 7), 0);
	assert_int_equal(getppid(), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		fi_unit_test(rule_never_fires),
		fi_unit_test(expectation_never_consumed),
		fi_unit_test(met),
	};
	/* cmocka returns the number of failed tests: exactly these two. */
	return cmocka_run_group_tests(tests, NULL, NULL) == 2 ? 0 : 1;
}
