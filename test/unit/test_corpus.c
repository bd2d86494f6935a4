/* test_corpus.c: the .fi corpora. Every .fi in scenarios/ must parse;
 * every test/scenarios/bad/NAME.expect holds the exact message that
 * loading NAME.fi must give (NAME.fi may be missing on purpose). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rule_model.h"
#include "scenario.h"

#ifndef FI_SOURCE_DIR
#error "FI_SOURCE_DIR must name the source tree"
#endif

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Sorted file names of dir ending in suffix; returns the count. */
static size_t list(const char *dir, const char *suffix, char names[][256],
		   size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		fail_msg("cannot open %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!ends_with(e->d_name, suffix) || n == max)
			continue;
		snprintf(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

static char names[256][256];

static void test_scenarios_parse(void **state)
{
	static const char *const required[] = {
		"disk_full.fi", "readonly_fs.fi",   "eintr_storm.fi",
		"short_io.fi",	"flaky_network.fi", "slow_disk.fi",
		"no_memory.fi", "fork_fails.fi",    "permission_denied.fi",
	};
	const char *dir = FI_SOURCE_DIR "/scenarios";
	size_t n = list(dir, ".fi", names, 256), i, k;

	(void)state;
	assert_true(n >= 9);
	for (k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], required[k]))
				break;
		if (i == n)
			fail_msg("scenarios/%s is missing", required[k]);
	}
	for (i = 0; i < n; i++) {
		struct fi__ruleset *rs = fi__rules_new();
		struct fi__scn_error err;
		char path[512], first[256] = "";
		FILE *f;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = fi__scn_load_file(rs, path, &err);
		if (rc <= 0)
			fail_msg("%s: %s", names[i],
				 rc < 0 ? err.msg : "no rule");
		/* each opens with a comment saying what it simulates */
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(first, sizeof(first), f));
		fclose(f);
		if (strncmp(first, "# ", 2) != 0 || !strstr(first, names[i]))
			fail_msg("%s: must open with '# %s: what it simulates'",
				 names[i], names[i]);
		fi__rules_free(rs);
	}
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void test_bad_corpus(void **state)
{
	const char *dir = FI_SOURCE_DIR "/test/scenarios/bad";
	char fis[256][256], cwd[4096];
	size_t n, nfi, i;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	n = list(dir, ".expect", names, 256);
	assert_true(n >= 15);
	nfi = list(dir, ".fi", fis, 256);
	/* every bad .fi has its expected message */
	for (i = 0; i < nfi; i++) {
		char want[300];

		snprintf(want, sizeof(want), "%.*s.expect",
			 (int)(strlen(fis[i]) - 3), fis[i]);
		if (!bsearch(want, names, n, 256,
			     (int (*)(const void *, const void *))strcmp))
			fail_msg("bad/%s has no bad/%s", fis[i], want);
	}
	/* messages name the file as given: run from the corpus dir */
	assert_int_equal(chdir(dir), 0);
	for (i = 0; i < n; i++) {
		struct fi__ruleset *rs = fi__rules_new();
		struct fi__scn_error err;
		struct fi__rule_stats st;
		char fi[300], want[1024] = "";
		FILE *f = fopen(names[i], "r");
		int rc;

		assert_non_null(f);
		if (!fgets(want, sizeof(want), f))
			fail_msg("%s is empty", names[i]);
		fclose(f);
		chomp(want);
		snprintf(fi, sizeof(fi), "%.*s.fi", (int)(strlen(names[i]) - 7),
			 names[i]);
		rc = fi__scn_load_file(rs, fi, &err);
		if (rc >= 0)
			fail_msg("%s: armed %d rules, expected: %s", fi, rc,
				 want);
		if (strcmp(err.msg, want) != 0)
			fail_msg("%s:\n  expected: %s\n  got:      %s", fi,
				 want, err.msg);
		assert_true(rc == -EINVAL || rc == -ENOENT);
		/* all or nothing */
		assert_false(fi__rules_stats(rs, 0, &st));
		fi__rules_free(rs);
	}
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios_parse),
		cmocka_unit_test(test_bad_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
