/* jsonw.c: the allocation-free JSON writer behind trace records and the
 * end-of-run report (jsonw.h). Hook-safe: no libc, general registers only.
 *
 * Every record goes through here, so text moves in 8-byte words: a piece
 * of known length is one bounds check and a few word stores, a string is
 * escaped eight plain bytes at a time, and a number is made eight digits
 * at a time. No load ever leaves its piece (the last word of a piece
 * overlaps the one before), so nothing is read past a string's end; the
 * unchecked appends (fi__jw_put_*) may store a word past theirs, inside
 * the room their caller checked (FI_JW_SLACK). */
#include "jsonw.h"

#include <stdint.h>

typedef uint64_t __attribute__((may_alias, aligned(1))) u64_u;
typedef uint32_t __attribute__((may_alias, aligned(1))) u32_u;
typedef uint16_t __attribute__((may_alias, aligned(1))) u16_u;
typedef uint64_t __attribute__((may_alias)) u64_a;

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

void fi__jw_copy(char *dst, const char *src, size_t n)
{
	if (n >= 8) {
		size_t i = 0;

		for (; i + 8 < n; i += 8)
			*(u64_u *)(dst + i) = *(const u64_u *)(src + i);
		*(u64_u *)(dst + n - 8) = *(const u64_u *)(src + n - 8);
	} else if (n >= 4) {
		uint32_t a = *(const u32_u *)src,
			 b = *(const u32_u *)(src + n - 4);

		*(u32_u *)dst = a;
		*(u32_u *)(dst + n - 4) = b;
	} else if (n >= 2) {
		uint16_t a = *(const u16_u *)src,
			 b = *(const u16_u *)(src + n - 2);

		*(u16_u *)dst = a;
		*(u16_u *)(dst + n - 2) = b;
	} else if (n) {
		dst[0] = src[0];
	}
}

/* Nonzero when some byte of x is zero. */
static inline uint64_t has_zero(uint64_t x)
{
	return (x - ONES) & ~x & HIGH;
}

void fi__jw_init(struct fi__jw *w, char *buf, size_t size)
{
	w->buf = buf;
	w->cap = size ? size - 1 : 0;
	w->len = 0;
	w->trunc = size == 0;
	w->broken = size == 0;
	w->depth = 0;
	w->nonempty = 0;
	w->after_key = false;
	if (size)
		buf[0] = '\0';
}

void fi__jw_reserve(struct fi__jw *w, size_t n)
{
	w->cap = w->cap > n ? w->cap - n : 0;
}

void fi__jw_release(struct fi__jw *w, size_t n)
{
	w->cap += n;
}

static inline bool fits(const struct fi__jw *w, size_t n)
{
	return !w->broken && w->len <= w->cap && n <= w->cap - w->len;
}

/* Append n bytes, or drop them and everything after. */
static inline void put(struct fi__jw *w, const char *p, size_t n)
{
	if (!fits(w, n)) {
		w->trunc = true;
		w->broken = true;
		return;
	}
	fi__jw_copy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* strlen by aligned words: an aligned load never crosses into the next
 * page, so the bytes it reads past the NUL are harmless (and not the
 * sanitizers' business). */
__attribute__((no_sanitize_address)) size_t fi__jw_strlen(const char *s)
{
	const char *p = s;

	for (; (uintptr_t)p & 7; p++)
		if (!*p)
			return (size_t)(p - s);
	while (!has_zero(*(const u64_a *)(const void *)p))
		p += 8;
	while (*p)
		p++;
	return (size_t)(p - s);
}

void fi__jw_raw(struct fi__jw *w, const char *s)
{
	put(w, s, fi__jw_strlen(s));
}

/* Before a value: a comma when the enclosing array already has one. */
static void before_value(struct fi__jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth && (w->nonempty & (1ul << (w->depth - 1))))
		put(w, ",", 1);
	if (w->depth)
		w->nonempty |= 1ul << (w->depth - 1);
}

static void open_container(struct fi__jw *w, char c)
{
	before_value(w);
	put(w, &c, 1);
	if (w->depth < 8 * sizeof(w->nonempty))
		w->depth++;
	else
		w->broken = w->trunc = true;
	w->nonempty &= ~(1ul << (w->depth - 1));
}

static void close_container(struct fi__jw *w, char c)
{
	if (w->depth)
		w->depth--;
	put(w, &c, 1);
}

/* clang-format off */
void fi__jw_obj_begin(struct fi__jw *w) { open_container(w, '{'); }
void fi__jw_obj_end(struct fi__jw *w) { close_container(w, '}'); }
void fi__jw_arr_begin(struct fi__jw *w) { open_container(w, '['); }
void fi__jw_arr_end(struct fi__jw *w) { close_container(w, ']'); }
/* clang-format on */

void fi__jw_key(struct fi__jw *w, const char *key)
{
	before_value(w);
	put(w, "\"", 1);
	put(w, key, fi__jw_strlen(key));
	put(w, "\":", 2);
	w->after_key = true;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static const char hexdig[] = "0123456789abcdef";

/* Nonzero when some byte of x must be escaped or checked as UTF-8: a
 * control character, '"', '\\', DEL or a byte with the high bit. */
static inline uint64_t special(uint64_t x)
{
	return ((x - ONES * 0x20) & ~x & HIGH) | has_zero(x ^ (ONES * '"')) |
	       has_zero(x ^ (ONES * '\\')) | has_zero(x ^ (ONES * 0x7f)) |
	       (x & HIGH);
}

/* The unit of output for the input at u[i] (i < n): its bytes in *p
 * (tmp, or the input itself) and how many; *adv input bytes it takes. */
static size_t unit(const unsigned char *u, size_t i, size_t n, char tmp[6],
		   const char **p, size_t *adv)
{
	unsigned char c = u[i];

	*adv = 1;
	*p = tmp;
	if (c == '"' || c == '\\') {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		return 2;
	}
	if (c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f') {
		tmp[0] = '\\';
		tmp[1] = c == '\n'   ? 'n'
			 : c == '\t' ? 't'
			 : c == '\r' ? 'r'
			 : c == '\b' ? 'b'
				     : 'f';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		*p = (const char *)u + i;
		return 1;
	}
	if (c >= 0x80) {
		size_t k = utf8_len(u + i, n - i);

		if (k) {
			*p = (const char *)u + i;
			*adv = k;
			return k;
		}
	}
	/* control character, DEL, or a stray byte */
	tmp[0] = '\\';
	tmp[1] = 'u';
	tmp[2] = '0';
	tmp[3] = '0';
	tmp[4] = hexdig[c >> 4];
	tmp[5] = hexdig[c & 15];
	return 6;
}

/* fi__jw_put_esc from s[i] on, where some byte needs more than a copy. */
static __attribute__((noinline)) char *esc_rest(char *d, const char *s,
						size_t i, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	while (i < n) {
		char tmp[6];
		const char *p;
		size_t k, adv;

		if (n - i >= 8) {
			uint64_t x = *(const u64_u *)(s + i);

			if (!special(x)) {
				*(u64_u *)d = x;
				d += 8;
				i += 8;
				continue;
			}
		}
		if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '"' &&
		    u[i] != '\\') {
			*d++ = (char)u[i++];
			continue;
		}
		k = unit(u, i, n, tmp, &p, &adv);
		fi__jw_copy(d, p, k);
		d += k;
		i += adv;
	}
	return d;
}

/* The common case, a string of plain bytes, in words and no call. */
char *fi__jw_put_esc(char *d, const char *s, size_t n)
{
	size_t i = 0;

	for (; n - i >= 8; i += 8, d += 8) {
		uint64_t x = *(const u64_u *)(s + i);

		if (special(x))
			return esc_rest(d, s, i, n);
		*(u64_u *)d = x;
	}
	if (i < n && n >= 8) {
		/* The last few bytes: the string's last word, shifted down,
		 * its bytes past the end zero (and not looked at); the word
		 * goes out whole, junk after them. */
		size_t rest = n - i;
		uint64_t x = *(const u64_u *)(s + n - 8) >> (64 - 8 * rest);

		if (special(x) & ((1ull << (8 * rest)) - 1))
			return esc_rest(d, s, i, n);
		*(u64_u *)d = x;
		return d + rest;
	}
	return i < n ? esc_rest(d, s, i, n) : d;
}

/* Escaped content of s[0..n), without quotes. Each unit goes in whole or
 * not at all; `keep` bytes stay free for what must follow (the quote). */
static void put_escaped(struct fi__jw *w, const char *s, size_t n, size_t keep)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	/* Room for the worst case (6 bytes a byte): no check per unit. */
	if (fits(w, keep + FI_JW_SLACK) &&
	    n <= (w->cap - w->len - keep - FI_JW_SLACK) / 6) {
		char *d = fi__jw_put_esc(w->buf + w->len, s, n);

		w->len = (size_t)(d - w->buf);
		w->buf[w->len] = '\0';
		return;
	}
	while (i < n) {
		char tmp[6];
		const char *p;
		size_t adv, k = unit(u, i, n, tmp, &p, &adv);

		if (!fits(w, k + keep)) {
			w->trunc = true;
			return;
		}
		put(w, p, k);
		i += adv;
	}
}

void fi__jw_strn(struct fi__jw *w, const char *s, size_t n)
{
	before_value(w);
	if (!fits(w, 2)) {
		put(w, "\"\"", 2); /* marks broken */
		return;
	}
	put(w, "\"", 1);
	put_escaped(w, s, n, 1);
	put(w, "\"", 1);
}

void fi__jw_str(struct fi__jw *w, const char *s)
{
	if (!s) {
		fi__jw_null(w);
		return;
	}
	fi__jw_strn(w, s, fi__jw_strlen(s));
}

/* The 8 decimal digits of x < 10^8 as byte values 0-9 in one word, the
 * first digit in the lowest byte: x split in two halves of 4 digits, each
 * lane divided by 100, then by 10, by multiplying with the inverse (exact
 * below 10,000 and 100), all lanes at once. */
static inline uint64_t eight_digits(uint32_t x)
{
	uint64_t v = (uint64_t)(x / 10000) | (uint64_t)(x % 10000) << 32;
	uint64_t hi = ((v * 10486) >> 20) & 0x0000007f0000007full;

	v = hi | (v - hi * 100) << 16;
	hi = ((v * 103) >> 10) & 0x000f000f000f000full;
	return hi | (v - hi * 10) << 8;
}

#define ASCII_0 (ONES * '0')

/* x < 10^8 without leading zeros: one word stored, junk after. */
static inline char *upto_eight(char *d, uint32_t x)
{
	uint64_t v = eight_digits(x);
	unsigned lead = x ? (unsigned)__builtin_ctzll(v) / 8 : 7;

	*(u64_u *)d = (v + ASCII_0) >> (8 * lead);
	return d + 8 - lead;
}

static char *put_u64(char *d, uint64_t v)
{
	uint64_t hi;

	if (v < 10) { /* fds, counts, results: a good part of a record */
		*d = (char)('0' + v);
		return d + 1;
	}
	if (v < 100000000)
		return upto_eight(d, (uint32_t)v);
	hi = v / 100000000;
	if (hi < 100000000) {
		d = upto_eight(d, (uint32_t)hi);
	} else {
		d = upto_eight(d, (uint32_t)(hi / 100000000));
		*(u64_u *)d =
			eight_digits((uint32_t)(hi % 100000000)) + ASCII_0;
		d += 8;
	}
	*(u64_u *)d = eight_digits((uint32_t)(v % 100000000)) + ASCII_0;
	return d + 8;
}

char *fi__jw_put_dec(char *d, long long v)
{
	if (v >= 0)
		return put_u64(d, (uint64_t)v);
	*d++ = '-';
	return put_u64(d, -(uint64_t)v); /* also for LLONG_MIN */
}

char *fi__jw_put_hex(char *d, unsigned long long v)
{
	unsigned n = v ? (67 - (unsigned)__builtin_clzll(v)) / 4 : 1;

	for (unsigned i = n; i-- > 0; v >>= 4)
		d[i] = hexdig[v & 15];
	return d + n;
}

size_t fi__fmt_ulong(char *out, unsigned long long v)
{
	char tmp[20 + FI_JW_SLACK];
	size_t n = (size_t)(put_u64(tmp, v) - tmp);

	fi__jw_copy(out, tmp, n);
	out[n] = '\0';
	return n;
}

size_t fi__fmt_long(char *out, long long v)
{
	char tmp[20 + FI_JW_SLACK];
	size_t n = (size_t)(fi__jw_put_dec(tmp, v) - tmp);

	fi__jw_copy(out, tmp, n);
	out[n] = '\0';
	return n;
}

size_t fi__fmt_hex(char *out, unsigned long long v)
{
	size_t n = (size_t)(fi__jw_put_hex(out, v) - out);

	out[n] = '\0';
	return n;
}

void fi__jw_int(struct fi__jw *w, long long v)
{
	char tmp[20 + FI_JW_SLACK];

	before_value(w);
	put(w, tmp, (size_t)(fi__jw_put_dec(tmp, v) - tmp));
}

void fi__jw_uint(struct fi__jw *w, unsigned long long v)
{
	char tmp[20 + FI_JW_SLACK];

	before_value(w);
	put(w, tmp, (size_t)(put_u64(tmp, v) - tmp));
}

char *fi__jw_put_plain(char *d, const char *s)
{
	size_t n = fi__jw_strlen(s);

	fi__jw_copy(d, s, n);
	return d + n;
}

void fi__jw_commit(struct fi__jw *w, char *end)
{
	w->len = (size_t)(end - w->buf);
	w->buf[w->len] = '\0';
	if (w->depth)
		w->nonempty |= 1ul << (w->depth - 1);
	w->after_key = false;
}

void fi__jw_bool(struct fi__jw *w, bool v)
{
	before_value(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void fi__jw_null(struct fi__jw *w)
{
	before_value(w);
	put(w, "null", 4);
}

void fi__jw_str_hex(struct fi__jw *w, const char *s, const char *sep,
		    unsigned long long v)
{
	char tmp[20];
	size_t n;

	if (!s) {
		fi__jw_null(w);
		return;
	}
	/* the number must not be cut: keep room for it and the quote */
	tmp[0] = '0';
	tmp[1] = 'x';
	n = 2 + fi__fmt_hex(tmp + 2, v);
	before_value(w);
	if (!fits(w, 2 + n)) {
		put(w, "\"\"", 2);
		return;
	}
	put(w, "\"", 1);
	put_escaped(w, s, fi__jw_strlen(s), n + 1 + fi__jw_strlen(sep));
	put_escaped(w, sep, fi__jw_strlen(sep), n + 1);
	put(w, tmp, n);
	put(w, "\"", 1);
}
