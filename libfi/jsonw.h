/* jsonw.h: a tiny JSON writer into a caller-provided fixed buffer, for the
 * trace records and the end-of-run report. Allocation-free, no libc, safe
 * inside the syscall hook (built with the hook flags).
 *
 * The writer never overflows its buffer. A string that does not fit is cut
 * at a character boundary and still closed (`trunc` is set). Anything else
 * that does not fit (a number, a key, a bracket) sets `broken` as well and
 * everything after it is dropped. So a caller that reserves room
 * (fi__jw_reserve) for the tail of a record, writes the long strings, then
 * releases the room, always ends with valid JSON and checks `broken` once. */
#ifndef FI_JSONW_H
#define FI_JSONW_H

#include <stdbool.h>
#include <stddef.h>

struct fi__jw {
	char *buf;
	size_t cap;  /* usable bytes (after reservations); buf[cap] is free */
	size_t len;  /* bytes written; buf[len] is always '\0' */
	bool trunc;  /* something was cut: a string shortened, or more */
	bool broken; /* something other than string content was dropped:
	               * the text is not valid JSON */
	unsigned depth;
	unsigned long nonempty; /* bit d: container at depth d has a member */
	bool after_key;		/* a key was written; the value follows */
};

/* Copy n bytes from src to dst (which do not overlap) with 8-byte moves,
 * touching no byte outside src[0..n) and dst[0..n). Hook-safe: the hook
 * is built -fno-builtin, so there is no memcpy to call. */
void fi__jw_copy(char *dst, const char *src, size_t n);

/* Start writing into buf[0..size-1]; the text stays NUL-terminated. */
void fi__jw_init(struct fi__jw *w, char *buf, size_t size);

/* Hold back n bytes of the buffer for later text (a record's tail), and
 * give them back. Reservations nest; give back what you took. */
void fi__jw_reserve(struct fi__jw *w, size_t n);
void fi__jw_release(struct fi__jw *w, size_t n);

/* Containers. Members are separated by commas automatically. */
void fi__jw_obj_begin(struct fi__jw *w);
void fi__jw_obj_end(struct fi__jw *w);
void fi__jw_arr_begin(struct fi__jw *w);
void fi__jw_arr_end(struct fi__jw *w);

/* An object key; `key` is written verbatim, so pass a plain literal. */
void fi__jw_key(struct fi__jw *w, const char *key);

/* Values. fi__jw_str(w, NULL) writes null. Strings are escaped: quote,
 * backslash and control characters, DEL, and every byte that is not part
 * of well-formed UTF-8 (written as \u00XX, so a reader sees U+00XX). */
void fi__jw_str(struct fi__jw *w, const char *s);
void fi__jw_strn(struct fi__jw *w, const char *s, size_t n);
void fi__jw_int(struct fi__jw *w, long long v);
void fi__jw_uint(struct fi__jw *w, unsigned long long v);
void fi__jw_bool(struct fi__jw *w, bool v);
void fi__jw_null(struct fi__jw *w);

/* One string value built from pieces: "<s><sep>0x<hex>", e.g. a site
 * "libc.so.6+0x1234". s == NULL writes null. */
void fi__jw_str_hex(struct fi__jw *w, const char *s, const char *sep,
		    unsigned long long v);

/* Members of a fixed layout, written with one bounds check for a run of
 * them (trace.c's record head): when fi__jw_room() is at least the run's
 * longest form, take fi__jw_end(), append with the fi__jw_put_* functions
 * (no check of their own, each returns the new end), and hand the end to
 * fi__jw_commit(), which makes them members of the innermost container.
 * The caller writes the separators and keys itself. */
static inline size_t fi__jw_room(const struct fi__jw *w)
{
	return w->broken || w->len > w->cap ? 0 : w->cap - w->len;
}
static inline char *fi__jw_end(struct fi__jw *w)
{
	return w->buf + w->len;
}
/* The fi__jw_put_* functions may store up to FI_JW_SLACK bytes of junk
 * past the end they return (whole 8-byte words are cheaper than the last
 * few bytes one at a time): a run's room counts them. */
#define FI_JW_SLACK 8
/* n bytes of a literal (n known where this is inlined): a few word moves
 * in place, without a call. */
static inline __attribute__((always_inline)) char *
fi__jw_put_lit(char *d, const char *s, size_t n)
{
	typedef unsigned long long __attribute__((may_alias, aligned(1))) w8;
	typedef unsigned int __attribute__((may_alias, aligned(1))) w4;

	if (n > 16) {
		fi__jw_copy(d, s, n);
	} else if (n >= 8) {
		w8 a = *(const w8 *)s, b = *(const w8 *)(s + n - 8);

		*(w8 *)d = a;
		*(w8 *)(d + n - 8) = b;
	} else if (n >= 4) {
		w4 a = *(const w4 *)s, b = *(const w4 *)(s + n - 4);

		*(w4 *)d = a;
		*(w4 *)(d + n - 4) = b;
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
	return d + n;
}
/* A string literal, by its length. */
#define FI_JW_LIT(d, s) fi__jw_put_lit((d), (s), sizeof(s) - 1)
/* v in decimal: at most 20 bytes. */
char *fi__jw_put_dec(char *d, long long v);
/* v in lowercase hex, without 0x: at most 16 bytes. */
char *fi__jw_put_hex(char *d, unsigned long long v);
/* s as it is: only for text that needs no escaping (syscall and errno
 * names from the generated tables). */
char *fi__jw_put_plain(char *d, const char *s);
/* s[0..n) escaped as in a string, without the quotes: at most 6 * n
 * bytes. */
char *fi__jw_put_esc(char *d, const char *s, size_t n);
void fi__jw_commit(struct fi__jw *w, char *end);

/* Raw text appended as is (no separator logic): for "\n" at the end. */
void fi__jw_raw(struct fi__jw *w, const char *s);

/* Helpers for other hook code: decimal / lowercase hex (no 0x) of v into
 * out, NUL-terminated; return the length. out needs 21 / 17 bytes. */
size_t fi__fmt_ulong(char *out, unsigned long long v);
size_t fi__fmt_long(char *out, long long v);
size_t fi__fmt_hex(char *out, unsigned long long v);

/* strlen for hook code: no libc, by aligned words. */
size_t fi__jw_strlen(const char *s);

#endif
