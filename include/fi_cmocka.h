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
 * Include <cmocka.h> first, with its usual prerequisites (in C++, inside
 * extern "C" { }: cmocka 1.1's header does not say it is C). Calls made from
 * inside libcmocka are never counted or failed, so a failing assertion
 * still prints while every write fails.
 */
#ifndef FI_CMOCKA_H
#define FI_CMOCKA_H

#include <fi.h>

#ifndef cmocka_unit_test
#error "include <cmocka.h> before <fi_cmocka.h>"
#endif

/* The test and the user's fixtures, for fi_unit_test_setup_teardown(). */
struct fi_cmocka_fixture {
	CMUnitTestFunction test;
	CMFixtureFunction setup;
	CMFixtureFunction teardown;
};

/* cmocka runs one test at a time; these remember the running one's. */
static CMUnitTestFunction fi__cmocka_test;
static const struct fi_cmocka_fixture *fi__cmocka_current;

/* fi_unit_test(): the test function comes as the initial state. */
static inline int fi__cmocka_setup_test(void **state)
{
	fi__cmocka_test = (CMUnitTestFunction)*state;
	fi__cmocka_current = NULL;
	*state = NULL;
	fi_reset();
	return 0;
}

static inline int fi__cmocka_setup(void **state)
{
	const struct fi_cmocka_fixture *fx =
		(const struct fi_cmocka_fixture *)*state;

	fi__cmocka_current = fx;
	fi__cmocka_test = fx->test;
	*state = NULL;
	fi_reset();
	return fx->setup ? fx->setup(state) : 0;
}

/* The test, then fi_verify() inside it: an unmet rule or expectation
 * fails the test itself, with fi's message, in cmocka's list of failed
 * tests and in its XML output (not as a teardown error). */
static inline void fi__cmocka_run(void **state)
{
	static char msg[16384] = "fi: ";
	const char *e;
	size_t i = 4;

	fi__cmocka_test(state);
	if (fi_verify() == 0)
		return;
	/* cmocka's XML report keeps what its own assertions print */
	for (e = fi_last_error(); *e && i + 1 < sizeof(msg); e++)
		msg[i++] = *e;
	msg[i] = '\0';
	_assert_true(0, msg, __FILE__, __LINE__);
}

static inline int fi__cmocka_teardown(void **state)
{
	const struct fi_cmocka_fixture *fx = fi__cmocka_current;
	int r = 0;

	if (fx && fx->teardown)
		r = fx->teardown(state);
	fi_reset();
	fi__cmocka_current = NULL;
	return r;
}

/* A cmocka test that resets fi before and verifies at its end. */
#define fi_unit_test(f)                                                        \
	{                                                                      \
#f, fi__cmocka_run, fi__cmocka_setup_test,                     \
			fi__cmocka_teardown, (void *)(f)                       \
	}

/* The test and its fixtures as cmocka's initial state: a compound
 * literal in C; C++ has none, so a static object made by a lambda. */
#ifdef __cplusplus
#define FI__CMOCKA_FIXTURE(f, s, t)                                            \
	([]() -> void * {                                                      \
		static const struct fi_cmocka_fixture fx = {(f), (s), (t)};    \
		return (void *)&fx;                                            \
	}())
#else
#define FI__CMOCKA_FIXTURE(f, s, t)                                            \
	((void *)&(const struct fi_cmocka_fixture){(f), (s), (t)})
#endif

/* The same, around the user's own setup and teardown (either may be
 * NULL): reset, setup, test, verify, teardown. */
#define fi_unit_test_setup_teardown(f, s, t)                                   \
	{                                                                      \
#f, fi__cmocka_run, fi__cmocka_setup, fi__cmocka_teardown,     \
			FI__CMOCKA_FIXTURE(f, s, t)                            \
	}

#endif /* FI_CMOCKA_H */
