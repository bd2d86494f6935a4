/* scn_value.c: the values of the .fi language: counts, when= ranges,
 * errno and signal names, delays, probabilities, scripts, globs, sites
 * and syscall sets. Called by the rule parser (scenario.c) at arm time;
 * never in the hook. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "mem.h"
#include "scn_value.h"

#define MAX_COUNT (UINT64_C(1) << 62)
#define MAX_DELAY_NS (3600L * 1000000000L)

void fi__scn_fail(struct fi__scn_ctx *p, int col, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err->msg, sizeof(p->err->msg), "%s:%d:%d: error: %s",
		 p->origin, p->line, col, what);
}

/* ---- "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			/* case does not count: "eio" means EIO */
			size_t best =
				diag + (tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

void fi__scn_consider(struct fi__scn_suggest *sg, const char *cand)
{
	size_t d;

	if (!cand)
		return;
	d = edit_distance(sg->word, cand);
	if (d < sg->dist) {
		sg->dist = d;
		sg->best = cand;
	}
}

/* The candidate if it is close enough to be what the user meant. */
const char *fi__scn_suggestion(const struct fi__scn_suggest *sg)
{
	size_t len = strlen(sg->word);
	size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;

	return sg->best && sg->dist <= limit ? sg->best : NULL;
}

/* ---- numbers ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal count: digits only, no sign. 0 ok, -1 syntax, -2 range. */
static int parse_count(const char *s, const char **end, uint64_t *out)
{
	unsigned long long v;
	char *e;

	if (!is_digit(*s))
		return -1;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE || v > MAX_COUNT) {
		*end = e;
		return -2;
	}
	*end = e;
	*out = v;
	return 0;
}

/* A whole-string integer: decimal, or hex with 0x; optional '-'. */
bool fi__scn_long(const char *s, long *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	char *e;
	long v;

	if (!is_digit(*d))
		return false;
	errno = 0;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
		v = strtol(s, &e, 16);
	else
		v = strtol(s, &e, 10);
	if (errno == ERANGE || *e || e == s)
		return false;
	*out = v;
	return true;
}

static bool parse_ulong(const char *s, unsigned long *out)
{
	char *e;
	unsigned long v;

	if (!is_digit(*s))
		return false;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoul(s, &e, 16);
	else
		v = strtoul(s, &e, 10);
	if (errno == ERANGE || *e)
		return false;
	*out = v;
	return true;
}

/* ---- values ---- */

bool fi__scn_when(struct fi__scn_ctx *p, const char *v, int col,
		  struct fi__when *w)
{
	const char *s = v, *e;
	uint64_t first, last = UINT64_MAX, step = 1;
	int rc;

#define WHEN_FORMS "expected N, N+, N..M, N+S or N..M+S"
	rc = parse_count(s, &e, &first);
	if (rc == -2) {
		fi__scn_fail(p, col, "when= number '%.*s' is out of range",
			     (int)(e - s), s);
		return false;
	}
	if (rc < 0) {
		fi__scn_fail(p, col, "bad when= '%s': " WHEN_FORMS, v);
		return false;
	}
	if (first == 0) {
		fi__scn_fail(p, col, "when= counts calls from 1, got 0");
		return false;
	}
	s = e;
	if (s[0] == '.' && s[1] == '.') {
		const char *m = s + 2;

		rc = parse_count(m, &e, &last);
		if (rc == -2) {
			fi__scn_fail(p, col + (int)(m - v),
				     "when= number '%.*s' is out of range",
				     (int)(e - m), m);
			return false;
		}
		if (rc < 0) {
			fi__scn_fail(p, col + (int)(m - v),
				     "bad when= '%s': " WHEN_FORMS, v);
			return false;
		}
		if (last < first) {
			fi__scn_fail(p, col + (int)(m - v),
				     "when= range %s ends before it starts", v);
			return false;
		}
		s = e;
	}
	if (*s == '+') {
		const char *m = s + 1;

		if (!*m) {
			if (last != UINT64_MAX) {
				fi__scn_fail(p, col + (int)(s - v),
					     "bad when= '%s': " WHEN_FORMS, v);
				return false;
			}
			s = m; /* N+: every call from N on */
		} else {
			rc = parse_count(m, &e, &step);
			if (rc == -2) {
				fi__scn_fail(
					p, col + (int)(m - v),
					"when= number '%.*s' is out of range",
					(int)(e - m), m);
				return false;
			}
			if (rc < 0 || *e) {
				fi__scn_fail(p, col + (int)(m - v),
					     "bad when= '%s': " WHEN_FORMS, v);
				return false;
			}
			if (step == 0) {
				fi__scn_fail(p, col + (int)(m - v),
					     "when= step must be at least 1");
				return false;
			}
			s = e;
		}
	} else if (last == UINT64_MAX) {
		last = first; /* N: that call only */
	}
	if (*s) {
		fi__scn_fail(p, col + (int)(s - v),
			     "bad when= '%s': " WHEN_FORMS, v);
		return false;
	}
#undef WHEN_FORMS
	w->first = first;
	w->last = last;
	w->step = step;
	return true;
}

bool fi__scn_errno(struct fi__scn_ctx *p, const char *v, int col,
		   const char *key, long *out)
{
	long n;

	if (fi__scn_long(v, &n)) {
		if (n < 1 || n > 4095) {
			fi__scn_fail(p, col,
				     "%s= errno %s is out of range (1..4095)",
				     key, v);
			return false;
		}
		*out = n;
		return true;
	}
	n = fi__names_errno_nr(v);
	if (n < 0) {
		struct fi__scn_suggest sg = FI_SCN_SUGGEST(v);
		const char *s;
		int i;

		for (i = 1; i < 4096; i++)
			fi__scn_consider(&sg, fi__names_errno(i));
		s = fi__scn_suggestion(&sg);
		if (s)
			fi__scn_fail(p, col,
				     "unknown errno '%s'; did you mean '%s'?",
				     v, s);
		else
			fi__scn_fail(p, col, "unknown errno '%s'", v);
		return false;
	}
	*out = n;
	return true;
}

bool fi__scn_signal(struct fi__scn_ctx *p, const char *v, int col, int *out)
{
	long n;
	int sig;

	if (fi__scn_long(v, &n)) {
		if (n < 1 || n > 64) {
			fi__scn_fail(p, col,
				     "signal %s is out of range (1..64)", v);
			return false;
		}
		*out = (int)n;
		return true;
	}
	sig = fi__names_signal_nr(v);
	if (sig < 0) {
		struct fi__scn_suggest sg = FI_SCN_SUGGEST(v);
		const char *s;
		int i;

		for (i = 1; i <= 64; i++)
			fi__scn_consider(&sg, fi__names_signal(i));
		s = fi__scn_suggestion(&sg);
		if (s)
			fi__scn_fail(p, col,
				     "unknown signal '%s'; did you mean '%s'?",
				     v, s);
		else
			fi__scn_fail(p, col, "unknown signal '%s'", v);
		return false;
	}
	*out = sig;
	return true;
}

/* delay=200ms: an integer and a unit, at most an hour. */
bool fi__scn_delay(struct fi__scn_ctx *p, const char *v, int col, long *ns)
{
	static const struct {
		const char *unit;
		long scale;
	} units[] = {
		{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
	const char *e;
	uint64_t n;
	size_t i;
	int rc = parse_count(v, &e, &n);

	if (rc == -1) {
		fi__scn_fail(
			p, col,
			"bad delay= '%s': expected a number and a unit (ns, us, ms or s), such as 200ms",
			v);
		return false;
	}
	if (rc == 0 && !*e) {
		fi__scn_fail(
			p, col + (int)(e - v),
			"delay= needs a unit: ns, us, ms or s (delay=%sms)", v);
		return false;
	}
	for (i = 0; rc == 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(e, units[i].unit) != 0)
			continue;
		if (n > (uint64_t)(MAX_DELAY_NS / units[i].scale)) {
			fi__scn_fail(p, col,
				     "delay= %s is too long (at most 3600s)",
				     v);
			return false;
		}
		*ns = (long)n * units[i].scale;
		return true;
	}
	if (rc == -2) {
		fi__scn_fail(p, col, "delay= %s is too long (at most 3600s)",
			     v);
		return false;
	}
	fi__scn_fail(p, col + (int)(e - v),
		     "unknown delay unit '%s'; use ns, us, ms or s", e);
	return false;
}

/* prob=0.25 or prob=25%: a fraction in (0, 1] as a threshold out of
 * FI_PROB_ONE, so the hook needs no floating point. */
bool fi__scn_prob(struct fi__scn_ctx *p, const char *v, int col, uint64_t *out)
{
	unsigned __int128 num = 0, den = 1, t;
	const char *s = v;
	bool digits = false;

	while (is_digit(*s)) {
		if (num > 1000) {
			fi__scn_fail(p, col, "prob= %s is out of range (0..1]",
				     v);
			return false;
		}
		num = num * 10 + (unsigned)(*s++ - '0');
		digits = true;
	}
	if (*s == '.') {
		s++;
		while (is_digit(*s)) {
			if (den < (unsigned __int128)1000000000000000000ull) {
				num = num * 10 + (unsigned)(*s - '0');
				den *= 10;
			}
			s++;
			digits = true;
		}
	}
	if (*s == '%') {
		den *= 100;
		s++;
	}
	if (!digits || *s) {
		fi__scn_fail(
			p, col,
			"bad prob= '%s': expected a fraction such as 0.25 or a percentage such as 25%%",
			v);
		return false;
	}
	if (num == 0 || num > den) {
		fi__scn_fail(p, col, "prob= %s is out of range (0..1]", v);
		return false;
	}
	t = (num * FI_PROB_ONE + den / 2) / den;
	if (t == 0) {
		fi__scn_fail(
			p, col,
			"prob= %s is below fi's precision (1/2^32, about 2.3e-10): the rule would never act",
			v);
		return false;
	}
	*out = (uint64_t)t;
	return true;
}

bool fi__scn_script(struct fi__scn_ctx *p, const char *v, int col,
		    struct fi__rule *r)
{
	const char *s = v;
	size_t n = 1, i = 0;

	for (; *s; s++)
		n += *s == ',';
	if (n > FI_SCRIPT_MAX) {
		fi__scn_fail(p, col, "script= has %zu steps; at most %d", n,
			     FI_SCRIPT_MAX);
		return false;
	}
	r->script = fi__mem_calloc(n, sizeof(*r->script));
	if (!r->script) {
		fi__scn_fail(p, col, "out of memory");
		return false;
	}
	for (s = v; i < n; i++) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		int scol = col + (int)(s - v);
		char item[64];
		long val;

		if (len == 0) {
			fi__scn_fail(p, scol, "empty step in script=");
			return false;
		}
		if (len >= sizeof(item)) {
			fi__scn_fail(p, scol, "bad script= step '%.*s'",
				     (int)len, s);
			return false;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (strcmp(item, "ok") == 0) {
			r->script[i].kind = FI_STEP_OK;
		} else if (fi__scn_long(item, &val)) {
			if (val < 0 && val >= -4095) {
				r->script[i].kind = FI_STEP_ERROR;
				r->script[i].value = -val;
			} else {
				r->script[i].kind = FI_STEP_RETVAL;
				r->script[i].value = val;
			}
		} else if (is_digit(item[0]) || item[0] == '-' ||
			   item[0] != 'E') {
			fi__scn_fail(
				p, scol,
				"bad script= step '%s': expected ok, an errno name or a return value",
				item);
			return false;
		} else {
			if (!fi__scn_errno(p, item, scol, "script", &val))
				return false;
			r->script[i].kind = FI_STEP_ERROR;
			r->script[i].value = val;
		}
		s += len + (c ? 1 : 0);
	}
	r->script_len = n;
	return true;
}

bool fi__scn_glob(struct fi__scn_ctx *p, const char *key, const char *v,
		  int col, char **out)
{
	long bad = fi__glob_check(v);

	if (bad >= 0) {
		fi__scn_fail(p, col + (int)bad, "bad pattern in %s=: %s", key,
			     v[bad] == '[' ? "'[' without ']'"
					   : "trailing '\\'");
		return false;
	}
	*out = fi__mem_strdup(v);
	if (!*out) {
		fi__scn_fail(p, col, "out of memory");
		return false;
	}
	return true;
}

/* ---- site= ---- */

static fi__scn_lines_fn lines_fn;
static void *lines_arg;

void fi__scn_set_lines(fi__scn_lines_fn fn, void *arg)
{
	lines_fn = fn;
	lines_arg = arg;
}

/* FILE:LINE: a ':' that is not first, followed by digits to the end. */
static bool is_file_line(const char *v)
{
	const char *c = strrchr(v, ':');

	if (!c || c == v || !c[1])
		return false;
	while (*++c)
		if (!is_digit(*c))
			return false;
	return true;
}

/* One span, the first len bytes of v: MODULE, MODULE+0xOFF or
 * MODULE+0xLO..0xHI; appended to r->sites. */
static bool add_span(struct fi__scn_ctx *p, const char *v, size_t len, int col,
		     struct fi__rule *r)
{
	struct fi__site_span s = {NULL, 0, ULONG_MAX}, *grown;
	char *w = fi__mem_strndup(v, len), *plus, *dots;
	bool ok = false;

	if (!w) {
		fi__scn_fail(p, col, "out of memory");
		return false;
	}
	plus = strrchr(w, '+');
	if (plus == w) {
		fi__scn_fail(
			p, col,
			"bad site= '%s': expected MODULE, MODULE+0xOFFSET, "
			"MODULE+0xLO..0xHI or FILE:LINE",
			w);
		goto out;
	}
	if (plus) {
		*plus = '\0';
		dots = strstr(plus + 1, "..");
		if (dots)
			*dots = '\0';
		if (!parse_ulong(plus + 1, &s.lo)) {
			fi__scn_fail(p, col + (int)(plus + 1 - w),
				     "bad site= offset '%s': expected a number "
				     "such as 0x1a2b",
				     plus + 1);
			goto out;
		}
		s.hi = s.lo;
		if (dots && (!parse_ulong(dots + 2, &s.hi) || s.hi < s.lo)) {
			fi__scn_fail(p, col + (int)(dots + 2 - w),
				     "bad site= range end '%s': expected a "
				     "number no smaller than 0x%lx",
				     dots + 2, s.lo);
			goto out;
		}
	}
	if (!fi__scn_glob(p, "site", w, col, &s.module))
		goto out;
	grown = fi__mem_realloc(r->sites, (r->nsites + 1) * sizeof(*grown));
	if (!grown) {
		fi__mem_free(s.module);
		fi__scn_fail(p, col, "out of memory");
		goto out;
	}
	r->sites = grown;
	r->sites[r->nsites++] = s;
	ok = true;
out:
	fi__mem_free(w);
	return ok;
}

/* The spans fi-run resolved for FILE:LINE `key`, from FI_SITES (lines
 * "KEY<tab>SPAN SPAN..."): a pointer into the environment, *len the
 * spans' length; NULL when none. */
static const char *env_spans(const char *key, size_t *len)
{
	const char *l = getenv("FI_SITES");
	size_t kl = strlen(key);

	for (; l && *l; l += strcspn(l, "\n"), l += *l == '\n')
		if (!strncmp(l, key, kl) && l[kl] == '\t') {
			*len = strcspn(l + kl + 1, "\n");
			return l + kl + 1;
		}
	return NULL;
}

/* site=FILE:LINE: the spans fi-run found for it, from its resolver (in
 * fi-run itself) or FI_SITES (in the program). */
static bool site_lines(struct fi__scn_ctx *p, const char *v, int col,
		       struct fi__rule *r)
{
	char why[512], *owned = NULL;
	const char *spans;
	size_t len = 0, nsites = r->nsites;

	if (lines_fn) {
		why[0] = '\0';
		owned = lines_fn(v, why, sizeof(why), lines_arg);
		if (!owned) {
			fi__scn_fail(p, col, "%s",
				     why[0] ? why : "out of memory");
			return false;
		}
		spans = owned;
		len = strlen(owned);
	} else if (!(spans = env_spans(v, &len))) {
		if (getenv("FI_SITES"))
			fi__scn_fail(
				p, col,
				"site=%s: fi-run did not resolve this "
				"source line (FI_SITES has no entry for it)",
				v);
		else
			fi__scn_fail(p, col,
				     "site=%s names a source line, which only "
				     "fi-run turns into code addresses (from "
				     "the program's debug info, before it "
				     "starts): run the program under fi-run, "
				     "or name the site as MODULE+0xOFFSET, as "
				     "traces and the sweep print it",
				     v);
		return false;
	}
	for (size_t i = 0; i < len && !p->failed;) {
		size_t n = strcspn(spans + i, " \n");

		if (n > len - i)
			n = len - i;
		if (n)
			add_span(p, spans + i, n, col, r);
		i += n + 1;
	}
	free(owned); /* the resolver's, from fi-run's heap */
	if (!p->failed && r->nsites == nsites)
		fi__scn_fail(p, col, "site=%s: no code was found for it", v);
	return !p->failed;
}

bool fi__scn_site(struct fi__scn_ctx *p, const char *v, int col,
		  struct fi__rule *r)
{
	if (is_file_line(v))
		return site_lines(p, v, col, r);
	return add_span(p, v, strlen(v), col, r);
}

/* ---- the syscall set ---- */

static void add_class(unsigned char *set, unsigned bits)
{
	long nr;

	for (nr = 0; nr < FI_NR_MAX; nr++) {
		const struct fi__sysinfo *s = fi__names_sys(nr);

		if (s && (s->classes & bits))
			set[nr] = 1;
	}
}

static void unknown_name(struct fi__scn_ctx *p, int col, char sigil,
			 const char *name)
{
	struct fi__scn_suggest sg = FI_SCN_SUGGEST(name);
	const char *s;
	unsigned i;
	long nr;

	if (sigil == '%')
		for (i = 0; fi__names_class_name(i); i++)
			fi__scn_consider(&sg, fi__names_class_name(i));
	else if (sigil == '@')
		for (i = 0; fi__names_family_name(i); i++)
			fi__scn_consider(&sg, fi__names_family_name(i));
	else
		for (nr = 0; nr < FI_NR_MAX; nr++)
			if (fi__names_sys(nr))
				fi__scn_consider(&sg, fi__names_sys(nr)->name);
	s = fi__scn_suggestion(&sg);
	if (sigil == '%')
		sigil = '%';
	if (s && sigil)
		fi__scn_fail(p, col, "unknown %s '%c%s'; did you mean '%c%s'?",
			     sigil == '%' ? "class" : "family", sigil, name,
			     sigil, s);
	else if (sigil)
		fi__scn_fail(p, col, "unknown %s '%c%s'",
			     sigil == '%' ? "class" : "family", sigil, name);
	else if (s)
		fi__scn_fail(p, col, "unknown syscall '%s'; did you mean '%s'?",
			     name, s);
	else
		fi__scn_fail(p, col, "unknown syscall '%s'", name);
}

/* "read,write", "%net", "@read", strace's "?name". */
bool fi__scn_set(struct fi__scn_ctx *p, const char *v, int col,
		 struct fi__rule *r)
{
	const char *s = v;
	bool any = false;

	if (!*v) {
		fi__scn_fail(p, col, "missing syscall name");
		return false;
	}
	for (;;) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		int icol = col + (int)(s - v);
		bool optional = false;
		char item[64];
		char *name = item;

		if (len == 0) {
			fi__scn_fail(p, icol, "empty syscall name in '%s'", v);
			return false;
		}
		if (len >= sizeof(item)) {
			fi__scn_fail(p, icol, "unknown syscall '%.*s'",
				     (int)len, s);
			return false;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (*name == '?') {
			optional = true;
			name++;
		}
		if (*name == '!') {
			fi__scn_fail(
				p, icol,
				"negated syscall sets ('!') are not supported; list the syscalls");
			return false;
		}
		if (*name == '/') {
			fi__scn_fail(
				p, icol,
				"regular expressions ('/') are not supported; list the syscalls");
			return false;
		}
		if (*name == '%') {
			unsigned bits = fi__names_class(name + 1);

			if (!bits && !optional) {
				unknown_name(p, icol, '%', name + 1);
				return false;
			}
			add_class(r->nrs, bits);
		} else if (*name == '@') {
			if (!fi__names_family(name + 1, r->nrs) && !optional) {
				unknown_name(p, icol, '@', name + 1);
				return false;
			}
		} else {
			long nr = fi__names_sys_nr(name);

			if (nr < 0 && !optional) {
				unknown_name(p, icol, 0, name);
				return false;
			}
			if (nr >= 0)
				r->nrs[nr] = 1;
		}
		if (!c)
			break;
		s = c + 1;
	}
	for (long nr = 0; nr < FI_NR_MAX; nr++)
		any |= r->nrs[nr] != 0;
	if (!any) {
		fi__scn_fail(p, col, "no known syscall in '%s'", v);
		return false;
	}
	return true;
}

/* Does any syscall of the set have an argument of one of these kinds?
 * With `keep`, drop the members that have none. */
bool fi__scn_set_has(struct fi__rule *r, enum fi__argkind a, enum fi__argkind b,
		     bool keep)
{
	bool any = false;
	long nr;

	for (nr = 0; nr < FI_NR_MAX; nr++) {
		bool has;

		if (!r->nrs[nr])
			continue;
		has = fi__names_argindex(nr, a) >= 0 ||
		      fi__names_argindex(nr, b) >= 0;
		any |= has;
		if (keep && !has)
			r->nrs[nr] = 0;
	}
	return any;
}

/* strace's %pure on x86_64: the syscalls that take no arguments and
 * always succeed, the only ones strace runs in place of another. */
static const char *const pure[] = {"getpid",  "getppid", "gettid",  "getuid",
				   "geteuid", "getgid",	 "getegid", "getpgrp"};

bool fi__scn_instead(struct fi__scn_ctx *p, const char *v, int col, long *nr)
{
	for (size_t i = 0; i < sizeof(pure) / sizeof(pure[0]); i++) {
		if (!strcmp(v, pure[i])) {
			*nr = fi__names_sys_nr(v);
			return *nr > 0;
		}
	}
	if (fi__names_sys_nr(v) < 0)
		fi__scn_fail(p, col, "unknown syscall '%s' in syscall=", v);
	else
		fi__scn_fail(
			p, col,
			"syscall=%s: only a syscall without arguments or side effects can run instead (getpid, getppid, gettid, getuid, geteuid, getgid, getegid, getpgrp), as in strace",
			v);
	return false;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool fi__scn_pokes(struct fi__scn_ctx *p, const char *key, const char *v,
		   int col, struct fi__pokes **out)
{
	struct fi__pokes *pk;
	unsigned char *data;
	size_t total = 0;
	const char *w;

	/* Every HEX is at most half its text: one allocation holds all. */
	pk = fi__mem_calloc(1, sizeof(*pk) + strlen(v) / 2 + 1);
	if (!pk) {
		fi__scn_fail(p, col, "out of memory");
		return false;
	}
	data = (unsigned char *)(pk + 1);
	for (w = v; *w;) {
		const char *item = w, *hex;
		size_t len = strcspn(w, ","), nhex;
		char *end;
		long n;

		if (strncmp(w, "@arg", 4) != 0 ||
		    !isdigit((unsigned char)w[4])) {
			fi__scn_fail(
				p, col + (int)(w - v),
				"bad %s= '%s': expected @argN=HEX, several joined with ','",
				key, v);
			goto bad;
		}
		errno = 0;
		n = strtol(w + 4, &end, 10);
		if (*end != '=') {
			fi__scn_fail(p, col + (int)(end - v),
				     "bad %s= '%s': expected '=' after @arg%ld",
				     key, v, n);
			goto bad;
		}
		if (errno || n < 1 || n > 6) {
			fi__scn_fail(
				p, col + (int)(w - v) + 4,
				"%s=: @arg%.*s is out of range; a syscall has @arg1 to @arg6",
				key, (int)(end - w - 4), w + 4);
			goto bad;
		}
		for (int i = 0; i < pk->n; i++) {
			if (pk->p[i].arg == n - 1) {
				fi__scn_fail(p, col + (int)(w - v),
					     "%s=: @arg%ld given twice", key,
					     n);
				goto bad;
			}
		}
		hex = end + 1;
		nhex = len - (size_t)(hex - item);
		if (nhex == 0 || nhex % 2) {
			fi__scn_fail(
				p, col + (int)(hex - v),
				"bad %s= data for @arg%ld: expected an even number of hex digits, 2 for each byte",
				key, n);
			goto bad;
		}
		if (nhex / 2 > FI_POKE_MAX) {
			fi__scn_fail(
				p, col + (int)(hex - v),
				"%s= data for @arg%ld is %zu bytes; at most %d",
				key, n, nhex / 2, FI_POKE_MAX);
			goto bad;
		}
		pk->p[pk->n].arg = (int)n - 1;
		pk->p[pk->n].len = nhex / 2;
		pk->p[pk->n].data = data + total;
		for (size_t i = 0; i < nhex; i += 2) {
			int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

			if (hi < 0 || lo < 0) {
				fi__scn_fail(
					p, col + (int)(hex - v + i + (hi >= 0)),
					"bad %s= data for @arg%ld: '%c' is not a hex digit",
					key, n, hi < 0 ? hex[i] : hex[i + 1]);
				goto bad;
			}
			data[total++] = (unsigned char)(hi << 4 | lo);
		}
		pk->n++;
		w += len;
		if (*w == ',' && !*++w) {
			fi__scn_fail(p, col + (int)(w - v),
				     "bad %s= '%s': nothing after ','", key, v);
			goto bad;
		}
	}
	fi__mem_free(*out);
	*out = pk;
	return true;
bad:
	fi__mem_free(pk);
	return false;
}

/* The open flags flags= knows: the access modes, then the bits. O_SYNC
 * and O_TMPFILE are their own bit, without the O_DSYNC and O_DIRECTORY
 * bits their values include. */
static const struct {
	const char *name;
	long bit;
} oflag_names[] = {
	{"O_RDONLY", -1 - O_RDONLY},
	{"O_WRONLY", -1 - O_WRONLY},
	{"O_RDWR", -1 - O_RDWR},
	{"O_CREAT", O_CREAT},
	{"O_EXCL", O_EXCL},
	{"O_NOCTTY", O_NOCTTY},
	{"O_TRUNC", O_TRUNC},
	{"O_APPEND", O_APPEND},
	{"O_NONBLOCK", O_NONBLOCK},
	{"O_DSYNC", O_DSYNC},
	{"O_SYNC", O_SYNC & ~O_DSYNC},
	{"O_DIRECT", O_DIRECT},
	{"O_LARGEFILE", O_LARGEFILE},
	{"O_DIRECTORY", O_DIRECTORY},
	{"O_NOFOLLOW", O_NOFOLLOW},
	{"O_NOATIME", O_NOATIME},
	{"O_CLOEXEC", O_CLOEXEC},
	{"O_PATH", O_PATH},
	{"O_TMPFILE", O_TMPFILE & ~O_DIRECTORY},
};
#define N_OFLAGS (sizeof(oflag_names) / sizeof(oflag_names[0]))

bool fi__scn_flags(struct fi__scn_ctx *p, const char *v, int col,
		   struct fi__rule *r)
{
	r->has_flags = true;
	for (const char *w = v;;) {
		size_t len = strcspn(w, "|");
		char name[32];
		long n;
		size_t k;

		if (len == 0 || len >= sizeof(name)) {
			fi__scn_fail(
				p, col + (int)(w - v),
				"bad flags= '%s': expected open flags joined by '|', such as O_WRONLY|O_CREAT",
				v);
			return false;
		}
		memcpy(name, w, len);
		name[len] = '\0';
		for (k = 0; k < N_OFLAGS; k++)
			if (!strcmp(name, oflag_names[k].name))
				break;
		if (k < N_OFLAGS && oflag_names[k].bit < 0) {
			r->accmodes |=
				(unsigned char)(1u
						<< (-1 - oflag_names[k].bit));
		} else if (k < N_OFLAGS) {
			r->flags_any |= oflag_names[k].bit;
		} else if (fi__scn_long(name, &n) && n > 0) {
			r->flags_any |= n;
		} else {
			struct fi__scn_suggest sg = FI_SCN_SUGGEST(name);
			const char *hint;

			for (k = 0; k < N_OFLAGS; k++)
				fi__scn_consider(&sg, oflag_names[k].name);
			hint = fi__scn_suggestion(&sg);
			if (hint)
				fi__scn_fail(
					p, col + (int)(w - v),
					"unknown open flag '%s' in flags=; did you mean '%s'?",
					name, hint);
			else
				fi__scn_fail(p, col + (int)(w - v),
					     "unknown open flag '%s' in flags=",
					     name);
			return false;
		}
		w += len;
		if (!*w)
			return true;
		w++;
	}
}
