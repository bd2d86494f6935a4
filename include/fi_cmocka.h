/* fi_cmocka.h: cmocka fixtures for fi. Each test starts with no rules and
 * fresh counts (fi_reset) and ends with fi_verify(): a test whose
 * expectation was not consumed, or whose when= rule never fired, fails with
 * a message naming the syscall and the rule.
 *
 *     static void disk_full(void **state)
 *     {
 *             fi_fail_nth("write", 3, ENOSPC);
 *             assert_int_equal(save_three_records(), -ENOSPC);
 *     }
 *
 *     const struct CMUnitTest tests[] = { fi_unit_test(disk_full) };
 *     return cmocka_run_group_tests(tests, NULL, NULL);
 *
 * Include <cmocka.h> first, with its usual prerequisites. Calls made from
 * inside libcmocka are never counted or failed, so a failing assertion
 * still prints while every write fails.
 */
#ifndef FI_CMOCKA_H
#define FI_CMOCKA_H

#include <fi.h>

#ifndef cmocka_unit_test
#error "include <cmocka.h> before <fi_cmocka.h>"
#endif

/* The user's fixtures for fi_unit_test_setup_teardown(). */
struct fi_cmocka_fixture {
	CMFixtureFunction setup;
	CMFixtureFunction teardown;
};

/* cmocka runs one test at a time; this remembers the running one's. */
static const struct fi_cmocka_fixture *fi__cmocka_current;

static inline int fi__cmocka_setup(void **state)
{
	const struct fi_cmocka_fixture *fx = *state;

	fi__cmocka_current = fx;
	*state = NULL;
	fi_reset();
	return fx && fx->setup ? fx->setup(state) : 0;
}

static inline int fi__cmocka_teardown(void **state)
{
	const struct fi_cmocka_fixture *fx = fi__cmocka_current;
	int r = 0;

	if (fx && fx->teardown)
		r = fx->teardown(state);
	if (fi_verify() < 0) {
		print_error("fi: %s\n", fi_last_error());
		r = -1;
	}
	fi_reset();
	fi__cmocka_current = NULL;
	return r;
}

/* A cmocka test that resets fi before and verifies after. */
#define fi_unit_test(f)                                                        \
	{ #f, f, fi__cmocka_setup, fi__cmocka_teardown, NULL }

/* The same, around the user's own setup and teardown (either may be
 * NULL): reset, setup, test, teardown, verify. */
#define fi_unit_test_setup_teardown(f, s, t)                                   \
	{                                                                      \
		#f, f, fi__cmocka_setup, fi__cmocka_teardown,                  \
			(void *)&(const struct fi_cmocka_fixture){(s), (t)}     \
	}

#endif /* FI_CMOCKA_H */
