/* test_tracefile.c: fi-run's tidy of a mapped trace (cli/tracefile.c) on
 * hand-made files: the header and what no record holds go, records stay
 * whole, also across the 1 MiB chunks the file is moved in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracebuf.h"
#include "tracefile.h"

#define MIB (1u << 20)

struct text {
	char *p;
	size_t n, cap;
};

/* Grown by doubling: under ASan a realloc always copies, and a realloc
 * per piece of 3 MiB took a minute. */
static void add(struct text *t, const char *s, size_t n)
{
	if (t->n + n > t->cap) {
		t->cap = t->cap * 2 > t->n + n ? t->cap * 2 : t->n + n + 4096;
		t->p = realloc(t->p, t->cap);
	}
	assert_non_null(t->p);
	memcpy(t->p + t->n, s, n);
	t->n += n;
}

static void adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

/* n bytes of c */
static void fill(struct text *t, char c, size_t n)
{
	char *b = malloc(n);

	assert_non_null(b);
	memset(b, c, n);
	add(t, b, n);
	free(b);
}

static void header(struct text *t)
{
	char h[FI_TRACEBUF_HDR];

	memset(h, ' ', sizeof(h));
	memcpy(h, FI_TRACEBUF_MAGIC, strlen(FI_TRACEBUF_MAGIC));
	h[sizeof(h) - 2] = '}';
	h[sizeof(h) - 1] = '\n';
	add(t, h, sizeof(h));
}

/* Writes `in` to a file, tidies it, checks it now holds `want`. */
static void check(const struct text *in, const struct text *want,
		  size_t want_torn)
{
	char path[] = "/tmp/fi-test-tracefile-XXXXXX";
	int fd = mkstemp(path);
	size_t torn = 99;
	FILE *f;
	char *got;
	long n;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, in->p, in->n), (ssize_t)in->n);
	close(fd);
	assert_int_equal(fi__tracefile_tidy(path, &torn), 0);
	assert_int_equal(torn, want_torn);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_int_equal(n, (long)want->n);
	got = malloc(want->n + 1);
	assert_non_null(got);
	assert_int_equal(fread(got, 1, want->n, f), want->n);
	assert_memory_equal(got, want->p, want->n);
	free(got);
	fclose(f);
	unlink(path);
}

static void record(struct text *in, struct text *want, size_t len)
{
	fill(in, '{', 1);
	fill(in, 'r', len - 2);
	fill(in, '\n', 1);
	fill(want, '{', 1);
	fill(want, 'r', len - 2);
	fill(want, '\n', 1);
}

/* Records of all lengths across several chunks: every one kept whole,
 * some straddling a chunk's end. */
static void test_records_across_chunks(void **state)
{
	struct text in = {0}, want = {0};

	(void)state;
	header(&in);
	for (size_t len = 2; in.n < 3 * MIB; len = len % 4093 + 2)
		record(&in, &want, len);
	check(&in, &want, 0);
	free(in.p);
	free(want.p);
}

/* What a killed process leaves: NUL bytes, a record without its '{', a
 * piece without its newline; only the records stay. */
static void test_torn_pieces(void **state)
{
	struct text in = {0}, want = {0};

	(void)state;
	header(&in);
	record(&in, &want, 100);
	fill(&in, '\0', 5000);
	adds(&in, "\"seq\":3}\n");
	record(&in, &want, 50);
	adds(&in, "{\"seq\":5");
	fill(&in, '\0', 3);
	record(&in, &want, 70);
	adds(&in, "{\"seq\":7");
	check(&in, &want, 3);
	free(in.p);
	free(want.p);
}

/* A piece longer than a chunk (no record is) is dropped as one, and the
 * record after it is kept, whether the piece ends in a newline or a NUL. */
static void test_long_piece(void **state)
{
	struct text in = {0}, want = {0};

	(void)state;
	header(&in);
	record(&in, &want, 10);
	adds(&in, "{");
	fill(&in, 'x', 2 * MIB + 17);
	adds(&in, "\n");
	record(&in, &want, 20);
	fill(&in, 'y', MIB + 5);
	fill(&in, '\0', 1);
	record(&in, &want, 30);
	check(&in, &want, 2);
	free(in.p);
	free(want.p);
}

/* Only the header: an empty file, nothing torn. */
static void test_header_only(void **state)
{
	struct text in = {0}, want = {0};

	(void)state;
	header(&in);
	check(&in, &want, 0);
	free(in.p);
}

/* A file without the header is not touched. */
static void test_plain_file_left_alone(void **state)
{
	struct text in = {0};

	(void)state;
	adds(&in, "{\"seq\":1}\n");
	fill(&in, '\0', 200);
	check(&in, &in, 0);
	free(in.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_across_chunks),
		cmocka_unit_test(test_torn_pieces),
		cmocka_unit_test(test_long_piece),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_plain_file_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
