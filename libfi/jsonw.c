/* jsonw.c: the allocation-free JSON writer behind trace records and the
 * end-of-run report (jsonw.h). Hook-safe: no libc, general registers only. */
#include "jsonw.h"

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

static bool fits(const struct fi__jw *w, size_t n)
{
	return !w->broken && w->len <= w->cap && n <= w->cap - w->len;
}

/* Append n bytes, or drop them and everything after. */
static void put(struct fi__jw *w, const char *p, size_t n)
{
	if (!fits(w, n)) {
		w->trunc = true;
		w->broken = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->buf[w->len + i] = p[i];
	w->len += n;
	w->buf[w->len] = '\0';
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

void fi__jw_raw(struct fi__jw *w, const char *s)
{
	put(w, s, slen(s));
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

void fi__jw_obj_begin(struct fi__jw *w) { open_container(w, '{'); }
void fi__jw_obj_end(struct fi__jw *w) { close_container(w, '}'); }
void fi__jw_arr_begin(struct fi__jw *w) { open_container(w, '['); }
void fi__jw_arr_end(struct fi__jw *w) { close_container(w, ']'); }

void fi__jw_key(struct fi__jw *w, const char *key)
{
	before_value(w);
	put(w, "\"", 1);
	put(w, key, slen(key));
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

/* Escaped content of s[0..n), without quotes. Each unit goes in whole or
 * not at all; `keep` bytes stay free for what must follow (the quote). */
static void put_escaped(struct fi__jw *w, const char *s, size_t n,
			size_t keep)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		char tmp[6];
		const char *p = tmp;
		size_t k, adv = 1;
		unsigned char c = u[i];

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			k = 2;
		} else if (c == '\n' || c == '\t' || c == '\r' || c == '\b' ||
			   c == '\f') {
			tmp[0] = '\\';
			tmp[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r'
				 : c == '\b' ? 'b' : 'f';
			k = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			p = s + i;
			k = 1;
		} else if (c >= 0x80 && (adv = utf8_len(u + i, n - i)) != 0) {
			p = s + i;
			k = adv;
		} else {
			/* control character, DEL, or a stray byte */
			tmp[0] = '\\';
			tmp[1] = 'u';
			tmp[2] = '0';
			tmp[3] = '0';
			tmp[4] = hexdig[c >> 4];
			tmp[5] = hexdig[c & 15];
			k = 6;
			adv = 1;
		}
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
	fi__jw_strn(w, s, slen(s));
}

size_t fi__fmt_ulong(char *out, unsigned long long v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

size_t fi__fmt_long(char *out, long long v)
{
	if (v < 0) {
		out[0] = '-';
		/* -(v + 1) + 1 stays in range for LLONG_MIN */
		return 1 + fi__fmt_ulong(out + 1,
					 (unsigned long long)(-(v + 1)) + 1);
	}
	return fi__fmt_ulong(out, (unsigned long long)v);
}

size_t fi__fmt_hex(char *out, unsigned long long v)
{
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = hexdig[v & 15];
		v >>= 4;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

void fi__jw_int(struct fi__jw *w, long long v)
{
	char tmp[24];

	before_value(w);
	put(w, tmp, fi__fmt_long(tmp, v));
}

void fi__jw_uint(struct fi__jw *w, unsigned long long v)
{
	char tmp[24];

	before_value(w);
	put(w, tmp, fi__fmt_ulong(tmp, v));
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
	put_escaped(w, s, slen(s), n + 1 + slen(sep));
	put_escaped(w, sep, slen(sep), n + 1);
	put(w, tmp, n);
	put(w, "\"", 1);
}
