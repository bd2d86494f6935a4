/* test_api_twice.c: the same rule armed twice, on one line of a loop, is
 * two rules, each counting for itself: fi_verify() names the one that
 * never fired, and under fi-run (ctest api.test_api_twice_summary) the
 * summary has a line for each. The rules stay armed to the end, so that
 * the report names them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fi.h"

static void rule_twice(void **state)
{
	char want[256];
	int line;

	(void)state;
	line = __LINE__ + 2; /* fi_rule's */
	for (int i = 0; i < 2; i++)
		assert_int_equal(fi_rule("getppid when=2 retval=4242424"), 0);
	/* the first rule acts on the second call; the second, counting the
	 * same calls, finds its second call taken */
	assert_int_not_equal(getppid(), 4242424);
	assert_int_equal(getppid(), 4242424);
	assert_int_not_equal(getppid(), 4242424);
	snprintf(
		want, sizeof(want),
		"expected getppid to return 4242424 (rule \"getppid when=2 retval=4242424\" at test_api_twice.c:%d) but it never fired: 3 matching calls",
		line);
	assert_int_equal(fi_verify(), -EPROTO);
	assert_string_equal(fi_last_error(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rule_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
