/* test_api_base.c: a suite run under a scenario (ctest sets FI_RULES, as
 * fi-run -r does): fi_reset() between tests keeps the scenario's rules,
 * and fi_verify() leaves the scenario's unfired rule to fi-run's summary.
 * FI_RULES="getppid retval=77; fdatasync when=1 error=EIO". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include "fi.h"
#include "fi_cmocka.h"

static void scenario_applies(void **state)
{
	(void)state;
	assert_int_equal(getppid(), 77);
}

static void own_rule_too(void **state)
{
	int fd;

	(void)state;
	assert_int_equal(fi_fail_nth("dup", 1, EMFILE), 0);
	errno = 0;
	assert_int_equal(dup(0), -1);
	assert_int_equal(errno, EMFILE);
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getppid(), 77);
}

/* Its rule is gone with the reset: dup works. */
static void own_rule_gone(void **state)
{
	int fd;

	(void)state;
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
}

static void scenario_still_applies(void **state)
{
	(void)state;
	fi_reset();
	assert_int_equal(getppid(), 77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		fi_unit_test(scenario_applies),
		fi_unit_test(own_rule_too),
		fi_unit_test(own_rule_gone),
		fi_unit_test(scenario_still_applies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
