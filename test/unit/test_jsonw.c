/* test_jsonw.c: the hook's JSON writer (jsonw.h): escapes, bytes that are
 * not UTF-8, strings cut at a unit's boundary and still closed, a record's
 * tail kept by a reservation, numbers at their limits, the word copy at
 * every length and against a page that cannot be read, and the fixed-
 * layout appends trace.c uses. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "jsonw.h"

#define PAGE 4096ul

static const char *one_string(char *buf, size_t size, const char *s, size_t n,
			      struct fi__jw *w)
{
	fi__jw_init(w, buf, size);
	fi__jw_strn(w, s, n);
	assert_int_equal(strlen(buf), w->len);
	return buf;
}

static void escapes(void **state)
{
	char buf[256];
	struct fi__jw w;

	(void)state;
	assert_string_equal(one_string(buf, sizeof(buf), "a\"b\\c", 5, &w),
			    "\"a\\\"b\\\\c\"");
	assert_string_equal(one_string(buf, sizeof(buf), "\n\t\r\b\f", 5, &w),
			    "\"\\n\\t\\r\\b\\f\"");
	assert_string_equal(one_string(buf, sizeof(buf), "\x01\x1f\x7f", 3, &w),
			    "\"\\u0001\\u001f\\u007f\"");
	/* a NUL inside a counted string */
	assert_string_equal(one_string(buf, sizeof(buf), "a\0b", 3, &w),
			    "\"a\\u0000b\"");
	assert_false(w.trunc);
	assert_false(w.broken);
}

static void escapes_inside_words(void **state)
{
	char buf[512];
	struct fi__jw w;

	(void)state;
	/* A special byte at every position of an 8-byte word, between runs
	 * of plain ones: the word path must hand each one to the unit. */
	for (int at = 0; at < 24; at++) {
		char in[24], want[64];
		size_t k = 0;

		memset(in, 'x', sizeof(in));
		in[at] = '"';
		want[k++] = '"';
		for (int i = 0; i < 24; i++) {
			if (i == at)
				want[k++] = '\\';
			want[k++] = in[i];
		}
		want[k++] = '"';
		want[k] = 0;
		assert_string_equal(one_string(buf, sizeof(buf), in, 24, &w),
				    want);
	}
}

static void utf8(void **state)
{
	char buf[256];
	struct fi__jw w;

	(void)state;
	/* well-formed: kept as is, also inside an 8-byte run */
	assert_string_equal(one_string(buf, sizeof(buf),
				       "/tmp/caf\xc3\xa9/\xe2\x82\xac", 14, &w),
			    "\"/tmp/caf\xc3\xa9/\xe2\x82\xac\"");
	/* a stray continuation byte, an overlong form, a surrogate, a
	 * sequence cut by the end */
	assert_string_equal(one_string(buf, sizeof(buf), "\x80", 1, &w),
			    "\"\\u0080\"");
	assert_string_equal(one_string(buf, sizeof(buf), "\xc0\xaf", 2, &w),
			    "\"\\u00c0\\u00af\"");
	assert_string_equal(one_string(buf, sizeof(buf), "\xed\xa0\x80", 3, &w),
			    "\"\\u00ed\\u00a0\\u0080\"");
	assert_string_equal(one_string(buf, sizeof(buf), "ab\xe2\x82", 4, &w),
			    "\"ab\\u00e2\\u0082\"");
}

static void truncation_at_unit_boundary(void **state)
{
	char buf[64];
	struct fi__jw w;
	char in[100];

	(void)state;
	memset(in, 'a', sizeof(in));
	one_string(buf, 12, in, sizeof(in), &w);
	/* 11 usable bytes: the quotes and 9 a's */
	assert_string_equal(buf, "\"aaaaaaaaa\"");
	assert_true(w.trunc);
	assert_false(w.broken);

	/* An escape is never cut in half: "\u0001" takes 6 bytes. */
	one_string(buf, 10, "ab\x01", 3, &w);
	assert_string_equal(buf, "\"ab\"");
	assert_true(w.trunc);
	assert_false(w.broken);

	/* Nor a UTF-8 sequence. */
	one_string(buf, 6, "ab\xe2\x82\xac", 5, &w);
	assert_string_equal(buf, "\"ab\"");
	assert_true(w.trunc);
}

/* trace.c's shape: reserve the tail, write a long path, release, close. */
static void long_path_keeps_tail(void **state)
{
	static char path[8192], buf[4096];
	struct fi__jw w;
	size_t n;

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_reserve(&w, 32);
	fi__jw_obj_begin(&w);
	fi__jw_key(&w, "path");
	fi__jw_str(&w, path);
	fi__jw_release(&w, 32);
	assert_true(w.trunc);
	fi__jw_key(&w, "path_truncated");
	fi__jw_bool(&w, true);
	fi__jw_obj_end(&w);
	fi__jw_raw(&w, "\n");
	assert_false(w.broken);
	n = strlen(buf);
	assert_int_equal(n, w.len);
	assert_true(n < sizeof(buf));
	assert_string_equal(buf + n - 26, "p\",\"path_truncated\":true}\n");
}

static void full_buffer_breaks(void **state)
{
	char buf[8];
	struct fi__jw w;

	(void)state;
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_arr_begin(&w);
	fi__jw_int(&w, 12345678901LL); /* does not fit: dropped whole */
	assert_true(w.broken);
	assert_string_equal(buf, "[");
	fi__jw_int(&w, 1); /* and nothing after it */
	assert_string_equal(buf, "[");
}

static void numbers(void **state)
{
	char buf[256], out[24];
	struct fi__jw w;

	(void)state;
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_arr_begin(&w);
	fi__jw_int(&w, 0);
	fi__jw_int(&w, -1);
	fi__jw_int(&w, 9);
	fi__jw_int(&w, 10);
	fi__jw_int(&w, 99);
	fi__jw_int(&w, 100);
	fi__jw_int(&w, -4095);
	fi__jw_int(&w, LLONG_MIN);
	fi__jw_int(&w, LLONG_MAX);
	fi__jw_uint(&w, ULLONG_MAX);
	fi__jw_null(&w);
	fi__jw_bool(&w, false);
	fi__jw_arr_end(&w);
	assert_string_equal(buf, "[0,-1,9,10,99,100,-4095,"
				 "-9223372036854775808,9223372036854775807,"
				 "18446744073709551615,null,false]");
	assert_int_equal(fi__fmt_ulong(out, 1234567), 7);
	assert_string_equal(out, "1234567");
	assert_int_equal(fi__fmt_long(out, -100), 4);
	assert_string_equal(out, "-100");
	assert_int_equal(fi__fmt_hex(out, 0x1a2b), 4);
	assert_string_equal(out, "1a2b");
}

static void site_string(void **state)
{
	char buf[64];
	struct fi__jw w;

	(void)state;
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_str_hex(&w, "libc.so.6", "+", 0x1234);
	assert_string_equal(buf, "\"libc.so.6+0x1234\"");
	/* too long: the name is cut, never the number */
	fi__jw_init(&w, buf, 16);
	fi__jw_str_hex(&w, "libverylongname.so", "+", 0x1234);
	assert_string_equal(buf, "\"libver+0x1234\"");
	assert_true(w.trunc);
}

/* The word copy, at every length and alignment, reads and writes only
 * its bytes: a source that ends at a page that cannot be read. */
static void copy_stays_inside(void **state)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char dst[80];

	(void)state;
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + PAGE, PAGE, PROT_NONE), 0);
	for (size_t i = 0; i < 64; i++)
		p[PAGE - 64 + i] = (char)('A' + i % 26);
	for (size_t n = 0; n <= 64; n++)
		for (size_t off = 0; off < 8; off++) {
			const char *src = p + PAGE - n;

			memset(dst, '#', sizeof(dst));
			fi__jw_copy(dst + off, src, n);
			assert_memory_equal(dst + off, src, n);
			for (size_t i = 0; i < off; i++)
				assert_int_equal(dst[i], '#');
			for (size_t i = off + n; i < sizeof(dst); i++)
				assert_int_equal(dst[i], '#');
		}
	/* A string whose NUL is the page's last byte. */
	p[PAGE - 1] = 0;
	{
		char buf[128];
		struct fi__jw w;

		fi__jw_init(&w, buf, sizeof(buf));
		fi__jw_str(&w, p + PAGE - 10);
		assert_int_equal(w.len, 11);
	}
	munmap(p, 2 * PAGE);
}

/* Numbers eight digits at a time: every count of digits, each side of a
 * power of ten, both signs, against printf; the appends stay within
 * FI_JW_SLACK past their end. */
static void numbers_every_length(void **state)
{
	(void)state;
	for (int k = 0; k <= 19; k++) {
		unsigned long long p = 1;

		for (int i = 0; i < k; i++)
			p *= 10;
		for (int delta = -2; delta <= 2; delta++) {
			unsigned long long u = p + (unsigned long long)delta;
			char want[32], got[48], hex[32];
			char *end;

			if (delta < 0 && p + (unsigned long long)delta > p)
				continue; /* wrapped below zero */
			snprintf(want, sizeof(want), "%llu", u);
			assert_int_equal(fi__fmt_ulong(got, u), strlen(want));
			assert_string_equal(got, want);
			snprintf(want, sizeof(want), "%lld", (long long)u);
			assert_int_equal(fi__fmt_long(got, (long long)u),
					 strlen(want));
			assert_string_equal(got, want);
			snprintf(want, sizeof(want), "%lld", -(long long)u);
			memset(got, '#', sizeof(got));
			end = fi__jw_put_dec(got, -(long long)u);
			assert_int_equal(end - got, strlen(want));
			assert_memory_equal(got, want, strlen(want));
			for (size_t i = strlen(want) + FI_JW_SLACK;
			     i < sizeof(got); i++)
				assert_int_equal(got[i], '#');
			snprintf(want, sizeof(want), "%llx", u);
			assert_int_equal(fi__fmt_hex(hex, u), strlen(want));
			assert_string_equal(hex, want);
		}
	}
}

/* The escape in words: plain strings of every length to 40 with one
 * special byte at every position (or none), as built by hand. */
static void escape_every_position(void **state)
{
	(void)state;
	for (size_t n = 0; n <= 40; n++)
		for (size_t at = 0; at <= n; at++) {
			char in[48], want[320], d[320];
			size_t k = 0;
			char *end;

			for (size_t i = 0; i < n; i++) {
				in[i] = (char)('a' + i % 26);
				if (i != at) {
					want[k++] = in[i];
				} else if (at % 2) {
					in[i] = '"';
					want[k++] = '\\';
					want[k++] = '"';
				} else {
					in[i] = '\x01';
					memcpy(want + k, "\\u0001", 6);
					k += 6;
				}
			}
			end = fi__jw_put_esc(d, in, n);
			assert_int_equal(end - d, k);
			assert_memory_equal(d, want, k);
		}
}

static void fixed_layout(void **state)
{
	char buf[128];
	struct fi__jw w;
	char *d;

	(void)state;
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_obj_begin(&w);
	assert_true(fi__jw_room(&w) >= 40);
	d = fi__jw_end(&w);
	d = FI_JW_LIT(d, "\"seq\":");
	d = fi__jw_put_dec(d, 42);
	d = FI_JW_LIT(d, ",\"name\":\"");
	d = fi__jw_put_plain(d, "write");
	*d++ = '"';
	fi__jw_commit(&w, d);
	fi__jw_key(&w, "ret"); /* a comma: the run made members */
	fi__jw_int(&w, -28);
	fi__jw_obj_end(&w);
	assert_string_equal(buf, "{\"seq\":42,\"name\":\"write\",\"ret\":-28}");
	fi__jw_init(&w, buf, 4);
	fi__jw_raw(&w, "abcdef");
	assert_int_equal(fi__jw_room(&w), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes),
		cmocka_unit_test(escapes_inside_words),
		cmocka_unit_test(utf8),
		cmocka_unit_test(truncation_at_unit_boundary),
		cmocka_unit_test(long_path_keeps_tail),
		cmocka_unit_test(full_buffer_breaks),
		cmocka_unit_test(numbers),
		cmocka_unit_test(site_string),
		cmocka_unit_test(copy_stays_inside),
		cmocka_unit_test(numbers_every_length),
		cmocka_unit_test(escape_every_position),
		cmocka_unit_test(fixed_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
