/* scenario.c: the .fi rule language (docs/rules.md). Turns text into
 * compiled fi__rule objects at arm time, with "file:line:col: error:"
 * messages for anything it refuses. Never runs in the hook. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_model.h"
#include "scenario.h"

#define MAX_TOKENS 64
#define MAX_FILE_SIZE (16u << 20)
#define MAX_COUNT (UINT64_C(1) << 62)
#define MAX_DELAY_NS (3600L * 1000000000L)

/* One KEY=VALUE of a rule, from either form. Strings live in the arena. */
struct kv {
	const char *key;
	const char *val; /* NULL: the token had no '=' */
	int kcol, vcol;
	bool from_strace; /* a part of inject=...:KEY=VALUE */
};

enum form { FORM_FI, FORM_INJECT, FORM_FAULT };

struct pctx {
	const char *origin;
	int line;
	struct fi__scn_error *err;
	char *arena;
	size_t used, cap;
	bool failed;
};

__attribute__((format(printf, 3, 4))) static void fail(struct pctx *p,
							int col,
							const char *fmt, ...)
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

static char *arena_put(struct pctx *p, const char *s, size_t n)
{
	char *d = p->arena + p->used;

	/* The arena holds the decoded segment; it never needs to grow. */
	if (p->used + n + 1 > p->cap)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	p->used += n + 1;
	return d;
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
			size_t best = diag + (a[i - 1] != b[j - 1]);

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

struct suggest {
	const char *word;
	const char *best;
	size_t dist;
};

static void consider(struct suggest *sg, const char *cand)
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
static const char *suggestion(const struct suggest *sg)
{
	size_t len = strlen(sg->word);
	size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;

	return sg->best && sg->dist <= limit ? sg->best : NULL;
}

static const char *const keys[] = {
	"when", "error", "retval", "short", "delay", "signal", "prob",
	"path", "fd", "site", "script", "redirect", "comm", "per",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

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
static bool parse_long(const char *s, long *out)
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

static bool parse_when(struct pctx *p, const char *v, int col,
		       struct fi__when *w)
{
	const char *s = v, *e;
	uint64_t first, last = UINT64_MAX, step = 1;
	int rc;

#define WHEN_FORMS "expected N, N+, N..M, N+S or N..M+S"
	rc = parse_count(s, &e, &first);
	if (rc == -2) {
		fail(p, col, "when= number '%.*s' is out of range",
		     (int)(e - s), s);
		return false;
	}
	if (rc < 0) {
		fail(p, col, "bad when= '%s': " WHEN_FORMS, v);
		return false;
	}
	if (first == 0) {
		fail(p, col, "when= counts calls from 1, got 0");
		return false;
	}
	s = e;
	if (s[0] == '.' && s[1] == '.') {
		const char *m = s + 2;

		rc = parse_count(m, &e, &last);
		if (rc == -2) {
			fail(p, col + (int)(m - v),
			     "when= number '%.*s' is out of range",
			     (int)(e - m), m);
			return false;
		}
		if (rc < 0) {
			fail(p, col + (int)(m - v),
			     "bad when= '%s': " WHEN_FORMS, v);
			return false;
		}
		if (last < first) {
			fail(p, col + (int)(m - v),
			     "when= range %s ends before it starts", v);
			return false;
		}
		s = e;
	}
	if (*s == '+') {
		const char *m = s + 1;

		if (!*m) {
			if (last != UINT64_MAX) {
				fail(p, col + (int)(s - v),
				     "bad when= '%s': " WHEN_FORMS, v);
				return false;
			}
			s = m; /* N+: every call from N on */
		} else {
			rc = parse_count(m, &e, &step);
			if (rc == -2) {
				fail(p, col + (int)(m - v),
				     "when= number '%.*s' is out of range",
				     (int)(e - m), m);
				return false;
			}
			if (rc < 0 || *e) {
				fail(p, col + (int)(m - v),
				     "bad when= '%s': " WHEN_FORMS, v);
				return false;
			}
			if (step == 0) {
				fail(p, col + (int)(m - v),
				     "when= step must be at least 1");
				return false;
			}
			s = e;
		}
	} else if (last == UINT64_MAX) {
		last = first; /* N: that call only */
	}
	if (*s) {
		fail(p, col + (int)(s - v), "bad when= '%s': " WHEN_FORMS, v);
		return false;
	}
#undef WHEN_FORMS
	w->first = first;
	w->last = last;
	w->step = step;
	return true;
}

static bool parse_errno(struct pctx *p, const char *v, int col,
			const char *key, long *out)
{
	long n;

	if (parse_long(v, &n)) {
		if (n < 1 || n > 4095) {
			fail(p, col, "%s= errno %s is out of range (1..4095)",
			     key, v);
			return false;
		}
		*out = n;
		return true;
	}
	n = fi__names_errno_nr(v);
	if (n < 0) {
		struct suggest sg = { v, NULL, SIZE_MAX };
		const char *s;
		int i;

		for (i = 1; i < 4096; i++)
			consider(&sg, fi__names_errno(i));
		s = suggestion(&sg);
		if (s)
			fail(p, col, "unknown errno '%s'; did you mean '%s'?",
			     v, s);
		else
			fail(p, col, "unknown errno '%s'", v);
		return false;
	}
	*out = n;
	return true;
}

static bool parse_signal(struct pctx *p, const char *v, int col, int *out)
{
	long n;
	int sig;

	if (parse_long(v, &n)) {
		if (n < 1 || n > 64) {
			fail(p, col, "signal %s is out of range (1..64)", v);
			return false;
		}
		*out = (int)n;
		return true;
	}
	sig = fi__names_signal_nr(v);
	if (sig < 0) {
		struct suggest sg = { v, NULL, SIZE_MAX };
		const char *s;
		int i;

		for (i = 1; i <= 64; i++)
			consider(&sg, fi__names_signal(i));
		s = suggestion(&sg);
		if (s)
			fail(p, col, "unknown signal '%s'; did you mean '%s'?",
			     v, s);
		else
			fail(p, col, "unknown signal '%s'", v);
		return false;
	}
	*out = sig;
	return true;
}

/* delay=200ms: an integer and a unit, at most an hour. */
static bool parse_delay(struct pctx *p, const char *v, int col, long *ns)
{
	static const struct {
		const char *unit;
		long scale;
	} units[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		      { "s", 1000000000 } };
	const char *e;
	uint64_t n;
	size_t i;
	int rc = parse_count(v, &e, &n);

	if (rc == -1) {
		fail(p, col, "bad delay= '%s': expected a number and a unit "
			     "(ns, us, ms or s), such as 200ms", v);
		return false;
	}
	if (rc == 0 && !*e) {
		fail(p, col + (int)(e - v),
		     "delay= needs a unit: ns, us, ms or s (delay=%sms)", v);
		return false;
	}
	for (i = 0; rc == 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(e, units[i].unit) != 0)
			continue;
		if (n > (uint64_t)(MAX_DELAY_NS / units[i].scale)) {
			fail(p, col, "delay= %s is too long (at most 3600s)",
			     v);
			return false;
		}
		*ns = (long)n * units[i].scale;
		return true;
	}
	if (rc == -2) {
		fail(p, col, "delay= %s is too long (at most 3600s)", v);
		return false;
	}
	fail(p, col + (int)(e - v),
	     "unknown delay unit '%s'; use ns, us, ms or s", e);
	return false;
}

/* prob=0.25 or prob=25%: a fraction in (0, 1] as a threshold out of
 * FI_PROB_ONE, so the hook needs no floating point. */
static bool parse_prob(struct pctx *p, const char *v, int col,
		       uint64_t *out)
{
	unsigned __int128 num = 0, den = 1, t;
	const char *s = v;
	bool digits = false;

	while (is_digit(*s)) {
		if (num > 1000) {
			fail(p, col, "prob= %s is out of range (0..1]", v);
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
		fail(p, col, "bad prob= '%s': expected a fraction such as 0.25 "
			     "or a percentage such as 25%%", v);
		return false;
	}
	if (num == 0 || num > den) {
		fail(p, col, "prob= %s is out of range (0..1]", v);
		return false;
	}
	t = (num * FI_PROB_ONE + den / 2) / den;
	*out = t ? (uint64_t)t : 1;
	return true;
}

static bool parse_script(struct pctx *p, const char *v, int col,
			 struct fi__rule *r)
{
	const char *s = v;
	size_t n = 1, i = 0;

	for (; *s; s++)
		n += *s == ',';
	if (n > FI_SCRIPT_MAX) {
		fail(p, col, "script= has %zu steps; at most %d", n,
		     FI_SCRIPT_MAX);
		return false;
	}
	r->script = calloc(n, sizeof(*r->script));
	if (!r->script) {
		fail(p, col, "out of memory");
		return false;
	}
	for (s = v; i < n; i++) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		int scol = col + (int)(s - v);
		char item[64];
		long val;

		if (len == 0) {
			fail(p, scol, "empty step in script=");
			return false;
		}
		if (len >= sizeof(item)) {
			fail(p, scol, "bad script= step '%.*s'", (int)len, s);
			return false;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (strcmp(item, "ok") == 0) {
			r->script[i].kind = FI_STEP_OK;
		} else if (parse_long(item, &val)) {
			if (val < 0 && val >= -4095) {
				r->script[i].kind = FI_STEP_ERROR;
				r->script[i].value = -val;
			} else {
				r->script[i].kind = FI_STEP_RETVAL;
				r->script[i].value = val;
			}
		} else if (is_digit(item[0]) || item[0] == '-' ||
			   item[0] != 'E') {
			fail(p, scol, "bad script= step '%s': expected ok, an "
				      "errno name or a return value", item);
			return false;
		} else {
			if (!parse_errno(p, item, scol, "script", &val))
				return false;
			r->script[i].kind = FI_STEP_ERROR;
			r->script[i].value = val;
		}
		s += len + (c ? 1 : 0);
	}
	r->script_len = n;
	return true;
}

static bool parse_glob(struct pctx *p, const char *key, const char *v,
		       int col, char **out)
{
	long bad = fi__rules_glob_check(v);

	if (bad >= 0) {
		fail(p, col + (int)bad, "bad pattern in %s=: %s", key,
		     v[bad] == '[' ? "'[' without ']'" : "trailing '\\'");
		return false;
	}
	*out = strdup(v);
	if (!*out) {
		fail(p, col, "out of memory");
		return false;
	}
	return true;
}

/* site=libstore.so+0x1a2b or site=libstore.so */
static bool parse_site(struct pctx *p, const char *v, int col,
		       struct fi__rule *r)
{
	const char *plus = strrchr(v, '+');
	char *mod;

	if (plus) {
		if (plus == v) {
			fail(p, col, "bad site= '%s': expected MODULE or "
				     "MODULE+0xOFFSET", v);
			return false;
		}
		if (!parse_ulong(plus + 1, &r->site_offset)) {
			fail(p, col + (int)(plus + 1 - v),
			     "bad site= offset '%s': expected a number such as "
			     "0x1a2b", plus + 1);
			return false;
		}
		r->has_site_offset = true;
	}
	mod = strndup(v, plus ? (size_t)(plus - v) : strlen(v));
	if (!mod) {
		fail(p, col, "out of memory");
		return false;
	}
	if (!parse_glob(p, "site", mod, col, &r->site_module)) {
		free(mod);
		return false;
	}
	free(mod);
	return true;
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

static void unknown_name(struct pctx *p, int col, char sigil,
			 const char *name)
{
	struct suggest sg = { name, NULL, SIZE_MAX };
	const char *s;
	unsigned i;
	long nr;

	if (sigil == '%')
		for (i = 0; fi__names_class_name(i); i++)
			consider(&sg, fi__names_class_name(i));
	else if (sigil == '@')
		for (i = 0; fi__names_family_name(i); i++)
			consider(&sg, fi__names_family_name(i));
	else
		for (nr = 0; nr < FI_NR_MAX; nr++)
			if (fi__names_sys(nr))
				consider(&sg, fi__names_sys(nr)->name);
	s = suggestion(&sg);
	if (sigil == '%')
		sigil = '%';
	if (s && sigil)
		fail(p, col, "unknown %s '%c%s'; did you mean '%c%s'?",
		     sigil == '%' ? "class" : "family", sigil, name, sigil,
		     s);
	else if (sigil)
		fail(p, col, "unknown %s '%c%s'",
		     sigil == '%' ? "class" : "family", sigil, name);
	else if (s)
		fail(p, col, "unknown syscall '%s'; did you mean '%s'?", name,
		     s);
	else
		fail(p, col, "unknown syscall '%s'", name);
}

/* "read,write", "%net", "@read", strace's "?name". */
static bool parse_set(struct pctx *p, const char *v, int col,
		      struct fi__rule *r)
{
	const char *s = v;
	bool any = false;

	if (!*v) {
		fail(p, col, "missing syscall name");
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
			fail(p, icol, "empty syscall name in '%s'", v);
			return false;
		}
		if (len >= sizeof(item)) {
			fail(p, icol, "unknown syscall '%.*s'", (int)len, s);
			return false;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (*name == '?') {
			optional = true;
			name++;
		}
		if (*name == '!') {
			fail(p, icol, "negated syscall sets ('!') are not "
				      "supported; list the syscalls");
			return false;
		}
		if (*name == '/') {
			fail(p, icol, "regular expressions ('/') are not "
				      "supported; list the syscalls");
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
		fail(p, col, "no known syscall in '%s'", v);
		return false;
	}
	return true;
}

/* Does any syscall of the set have an argument of one of these kinds?
 * With `keep`, drop the members that have none. */
static bool set_has(struct fi__rule *r, enum fi__argkind a,
		    enum fi__argkind b, bool keep)
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

/* ---- one rule ---- */

/* Set r's action, refusing a second one. */
static bool set_action(struct pctx *p, const struct kv *kv,
		       const struct kv **prev, struct fi__rule *r,
		       enum fi__action a)
{
	if (*prev) {
		fail(p, kv->kcol, "%s= conflicts with %s=; a rule has one "
				  "result", kv->key, (*prev)->key);
		return false;
	}
	*prev = kv;
	r->action = a;
	return true;
}

static bool apply(struct pctx *p, const struct kv *kv, struct fi__rule *r,
		  const struct kv **action, const struct kv **when,
		  const struct kv **prob)
{
	const char *k = kv->key, *v = kv->val;
	int col = kv->vcol;
	long n;

	if (!strcmp(k, "when") || !strcmp(k, "prob")) {
		if (r->script_len) {
			fail(p, kv->kcol, "%s= cannot be combined with "
					  "script=", k);
			return false;
		}
		if (k[0] == 'w') {
			*when = kv;
			r->has_when = true;
			return parse_when(p, v, col, &r->when);
		}
		*prob = kv;
		r->has_prob = true;
		return parse_prob(p, v, col, &r->prob);
	}
	if (!strcmp(k, "error"))
		return set_action(p, kv, action, r, FI_ACT_ERROR) &&
		       parse_errno(p, v, col, "error", &r->value);
	if (!strcmp(k, "retval")) {
		if (!set_action(p, kv, action, r, FI_ACT_RETVAL))
			return false;
		if (!parse_long(v, &r->value)) {
			fail(p, col, "bad retval= '%s': expected an integer",
			     v);
			return false;
		}
		return true;
	}
	if (!strcmp(k, "short")) {
		if (!set_action(p, kv, action, r, FI_ACT_SHORT))
			return false;
		if (!parse_long(v, &n) || n < 0) {
			fail(p, col, "bad short= '%s': expected a byte count, "
				     "0 or more", v);
			return false;
		}
		r->value = n;
		return true;
	}
	if (!strcmp(k, "redirect")) {
		if (!set_action(p, kv, action, r, FI_ACT_REDIRECT))
			return false;
		r->redirect = strdup(v);
		if (!r->redirect) {
			fail(p, col, "out of memory");
			return false;
		}
		return true;
	}
	if (!strcmp(k, "script")) {
		if (!set_action(p, kv, action, r, FI_ACT_PASS))
			return false;
		if (*when || *prob) {
			fail(p, kv->kcol, "script= cannot be combined with %s=",
			     (*when ? *when : *prob)->key);
			return false;
		}
		return parse_script(p, v, col, r);
	}
	if (!strcmp(k, "delay"))
		return parse_delay(p, v, col, &r->delay_ns);
	if (!strcmp(k, "signal"))
		return parse_signal(p, v, col, &r->signal);
	if (!strcmp(k, "path"))
		return parse_glob(p, "path", v, col, &r->path);
	if (!strcmp(k, "comm"))
		return parse_glob(p, "comm", v, col, &r->comm);
	if (!strcmp(k, "site"))
		return parse_site(p, v, col, r);
	if (!strcmp(k, "fd")) {
		if (!parse_long(v, &n) || n < 0 || n > INT_MAX) {
			fail(p, col, "bad fd= '%s': expected a descriptor "
				     "number, 0 or more", v);
			return false;
		}
		r->has_fd = true;
		r->fd = (int)n;
		return true;
	}
	/* per=, the last key check_key() lets through */
	if (!strcmp(v, "thread")) {
		r->per_thread = true;
	} else if (strcmp(v, "process") != 0) {
		fail(p, col, "bad per= '%s': expected thread or process", v);
		return false;
	}
	return true;
}

/* The checks that need the whole rule. */
static bool check_rule(struct pctx *p, struct fi__rule *r,
		       const struct kv *action, int selcol)
{
	if (!action && !r->delay_ns && !r->signal) {
		fail(p, selcol, "rule has no action; add error=, retval=, "
				"short=, delay=, signal=, redirect= or "
				"script=");
		return false;
	}
	if (r->action == FI_ACT_SHORT &&
	    !set_has(r, FI_ARG_COUNT, FI_ARG_IOVCNT, true)) {
		fail(p, action->kcol, "short= needs a syscall with a byte "
				      "count; '%s' has none", r->what);
		return false;
	}
	if (r->action == FI_ACT_REDIRECT &&
	    !set_has(r, FI_ARG_PATH, FI_ARG_PATH, true)) {
		fail(p, action->kcol, "redirect= needs a syscall with a path "
				      "argument; '%s' has none", r->what);
		return false;
	}
	if (r->path && !set_has(r, FI_ARG_PATH, FI_ARG_FD, false)) {
		fail(p, selcol, "path= needs a syscall with a path or fd "
				"argument; '%s' has none", r->what);
		return false;
	}
	if (r->has_fd && !set_has(r, FI_ARG_FD, FI_ARG_DIRFD, false)) {
		fail(p, selcol, "fd= needs a syscall with an fd argument; '%s' "
				"has none", r->what);
		return false;
	}
	return true;
}

/* Split a segment into tokens (quotes decoded) and turn them into the
 * selector plus KEY=VALUE pairs. Returns the number of pairs, -1 on error
 * (p->err filled), or -2 when the segment holds no rule. */
static int tokenize(struct pctx *p, const char *s, size_t len, int col0,
		    const char **sel, int *selcol, enum form *form,
		    struct kv *kv)
{
	char *tok[MAX_TOKENS];
	int tcol[MAX_TOKENS], teq[MAX_TOKENS];
	size_t ntok = 0, i = 0;
	int nkv = 0;

	while (i < len) {
		size_t start;
		char *d;
		int eq = -1;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i >= len || s[i] == '#')
			break;
		if (ntok == MAX_TOKENS) {
			fail(p, col0 + (int)i,
			     "too many words in one rule (at most %d)",
			     MAX_TOKENS);
			return -1;
		}
		start = i;
		d = p->arena + p->used;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
			if (s[i] == '"') {
				size_t q = i++;

				while (i < len && s[i] != '"') {
					if (s[i] == '\\' && i + 1 < len)
						i++;
					p->arena[p->used++] = s[i++];
				}
				if (i >= len) {
					fail(p, col0 + (int)q,
					     "unterminated quote");
					return -1;
				}
				i++;
				continue;
			}
			if (s[i] == '=' && eq < 0)
				eq = (int)(p->arena + p->used - d);
			p->arena[p->used++] = s[i++];
		}
		p->arena[p->used++] = '\0';
		tok[ntok] = d;
		tcol[ntok] = col0 + (int)start;
		/* Exact for unquoted text, which is where errors point. */
		teq[ntok] = eq < 0 ? -1 : col0 + (int)start + eq + 1;
		ntok++;
	}
	if (ntok == 0)
		return -2;

	*form = !strncmp(tok[0], "inject=", 7) ? FORM_INJECT
		: !strncmp(tok[0], "fault=", 6) ? FORM_FAULT
						 : FORM_FI;
	if (*form != FORM_FI) {
		/* inject=SET:KEY=VALUE:KEY=VALUE */
		char *v = strchr(tok[0], '=') + 1;
		char *part = strchr(v, ':');

		*sel = v;
		*selcol = teq[0];
		while (part) {
			char *next = strchr(part + 1, ':');
			char *eq;

			*part++ = '\0';
			if (next)
				*next = '\0';
			if (nkv == MAX_TOKENS) {
				fail(p, teq[0], "too many parts in %s=",
				     *form == FORM_FAULT ? "fault" : "inject");
				return -1;
			}
			eq = strchr(part, '=');
			kv[nkv].key = part;
			kv[nkv].kcol = teq[0] + (int)(part - v);
			kv[nkv].val = NULL;
			kv[nkv].vcol = kv[nkv].kcol + (int)strlen(part);
			kv[nkv].from_strace = true;
			if (eq) {
				*eq = '\0';
				kv[nkv].val = eq + 1;
				kv[nkv].vcol = teq[0] + (int)(eq + 1 - v);
			}
			nkv++;
			part = next;
		}
	} else if (teq[0] >= 0) {
		size_t k;

		*strchr(tok[0], '=') = '\0';
		for (k = 0; k < NKEYS; k++)
			if (!strcmp(tok[0], keys[k]))
				break;
		if (k < NKEYS)
			fail(p, tcol[0], "missing syscall name before '%s='",
			     tok[0]);
		else
			fail(p, tcol[0], "expected a syscall name, got '%s='",
			     tok[0]);
		return -1;
	} else {
		*sel = tok[0];
		*selcol = tcol[0];
	}
	for (i = 1; i < ntok; i++) {
		if (nkv == MAX_TOKENS) {
			fail(p, tcol[i], "too many words in one rule (at "
					 "most %d)", MAX_TOKENS);
			return -1;
		}
		kv[nkv].key = tok[i];
		kv[nkv].kcol = tcol[i];
		kv[nkv].val = NULL;
		kv[nkv].vcol = tcol[i] + (int)strlen(tok[i]);
		kv[nkv].from_strace = false;
		if (teq[i] >= 0) {
			char *eq = strchr(tok[i], '=');

			*eq = '\0';
			kv[nkv].val = eq + 1;
			kv[nkv].vcol = teq[i];
		}
		nkv++;
	}
	return nkv;
}

/* strace's inject=/fault= keys, in fi's terms. */
static bool strace_key(struct pctx *p, struct kv *kv, enum form form)
{
	if (!strcmp(kv->key, "when") || !strcmp(kv->key, "error"))
		return true;
	if (form == FORM_FAULT) {
		fail(p, kv->kcol, "fault= takes only error= and when=, not "
				  "'%s='", kv->key);
		return false;
	}
	if (!strcmp(kv->key, "retval") || !strcmp(kv->key, "signal"))
		return true;
	if (!strcmp(kv->key, "delay_enter")) {
		/* strace counts in microseconds */
		if (kv->val && *kv->val) {
			size_t n = strlen(kv->val);
			char buf[32];

			if (n + 3 > sizeof(buf) ||
			    strspn(kv->val, "0123456789") != n) {
				fail(p, kv->vcol, "bad delay_enter= '%s': "
						  "expected microseconds",
				     kv->val);
				return false;
			}
			snprintf(buf, sizeof(buf), "%sus", kv->val);
			kv->val = arena_put(p, buf, strlen(buf));
			if (!kv->val) {
				fail(p, kv->vcol, "out of memory");
				return false;
			}
		}
		kv->key = "delay";
		return true;
	}
	if (!strcmp(kv->key, "delay_exit")) {
		fail(p, kv->kcol, "delay_exit= is not supported; fi delays "
				  "before the call (delay_enter=)");
		return false;
	}
	if (!strcmp(kv->key, "syscall")) {
		fail(p, kv->kcol, "syscall= is not supported by fi");
		return false;
	}
	fail(p, kv->kcol, "unknown inject= key '%s'; strace's inject= takes "
			  "error, retval, signal, delay_enter and when",
	     kv->key);
	return false;
}

/* Check the key of one pair: known, has a value, not seen before. */
static bool check_key(struct pctx *p, const struct kv *kv, size_t i)
{
	struct suggest sg = { kv[i].key, NULL, SIZE_MAX };
	const char *hint;
	size_t k;

	for (k = 0; k < NKEYS; k++) {
		if (!strcmp(kv[i].key, keys[k]))
			break;
		consider(&sg, keys[k]);
	}
	if (k == NKEYS) {
		if (!kv[i].val && fi__names_sys_nr(kv[i].key) >= 0) {
			fail(p, kv[i].kcol, "expected KEY=VALUE, got '%s'; "
					    "list several syscalls as "
					    "'a,b'", kv[i].key);
			return false;
		}
		if (!kv[i].val) {
			fail(p, kv[i].kcol, "expected KEY=VALUE, got '%s'",
			     kv[i].key);
			return false;
		}
		hint = suggestion(&sg);
		if (hint)
			fail(p, kv[i].kcol,
			     "unknown key '%s'; did you mean '%s'?",
			     kv[i].key, hint);
		else
			fail(p, kv[i].kcol, "unknown key '%s'", kv[i].key);
		return false;
	}
	if (!kv[i].val || !*kv[i].val) {
		fail(p, kv[i].vcol, "missing value for '%s='", kv[i].key);
		return false;
	}
	for (k = 0; k < i; k++) {
		if (!strcmp(kv[k].key, kv[i].key)) {
			fail(p, kv[i].kcol, "duplicate key '%s='", kv[i].key);
			return false;
		}
	}
	return true;
}

/* Parse one rule from s[0..len), whose first byte is at column col0.
 * Sets *empty and returns NULL for a blank or comment-only segment. */
static struct fi__rule *parse_segment(struct pctx *p, const char *s,
				      size_t len, int col0, bool *empty)
{
	struct kv kv[MAX_TOKENS];
	const struct kv *action = NULL, *when = NULL, *prob = NULL;
	const char *sel = NULL;
	struct fi__rule *r = NULL;
	enum form form = FORM_FI;
	char origin[512];
	size_t a, b, i;
	int selcol = col0, n;

	*empty = false;
	p->cap = 3 * len + 64;
	p->used = 0;
	p->arena = malloc(p->cap);
	if (!p->arena) {
		fail(p, col0, "out of memory");
		return NULL;
	}
	n = tokenize(p, s, len, col0, &sel, &selcol, &form, kv);
	if (n == -2)
		*empty = true;
	if (n < 0)
		goto out;

	r = fi__rules_rule_new();
	if (!r) {
		fail(p, col0, "out of memory");
		goto out;
	}
	/* The text as written, without surrounding blanks and comment. */
	for (a = 0; a < len && (s[a] == ' ' || s[a] == '\t'); a++)
		;
	for (b = a; b < len; b++)
		if (s[b] == '#' && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			break;
	while (b > a &&
	       (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
		b--;
	snprintf(origin, sizeof(origin), "%s:%d", p->origin, p->line);
	r->text = strndup(s + a, b - a);
	r->origin = strdup(origin);
	r->what = strdup(sel);
	if (!r->text || !r->origin || !r->what) {
		fail(p, col0, "out of memory");
		goto bad;
	}
	if (!parse_set(p, sel, selcol, r))
		goto bad;
	for (i = 0; i < (size_t)n; i++) {
		if (kv[i].from_strace && !strace_key(p, &kv[i], form))
			goto bad;
		if (!check_key(p, kv, i))
			goto bad;
		if (!apply(p, &kv[i], r, &action, &when, &prob))
			goto bad;
	}
	if (form == FORM_FAULT && !action) {
		/* strace's fault= fails with ENOSYS unless told otherwise */
		static const struct kv fault_error = { "error", "ENOSYS", 1, 1,
						       true };

		r->action = FI_ACT_ERROR;
		r->value = ENOSYS;
		action = &fault_error;
	}
	if (!check_rule(p, r, action, selcol))
		goto bad;
	goto out;
bad:
	fi__rules_rule_free(r);
	r = NULL;
out:
	free(p->arena);
	p->arena = NULL;
	return r;
}

struct fi__rule *fi__scn_parse_rule(const char *text, const char *origin,
				    int line, struct fi__scn_error *err)
{
	struct pctx p = { origin ? origin : "<rule>", line, err, NULL, 0, 0,
			  false };
	const char *nl;
	struct fi__rule *r;
	bool empty;

	err->msg[0] = '\0';
	if (!text) {
		fail(&p, 1, "empty rule");
		return NULL;
	}
	nl = strchr(text, '\n');
	if (nl && nl[strspn(nl, " \t\r\n")]) {
		fail(&p, (int)(nl - text) + 1, "one rule expected, but the "
					       "text goes on after a newline");
		return NULL;
	}
	r = parse_segment(&p, text, nl ? (size_t)(nl - text) : strlen(text), 1,
			  &empty);
	if (!r && empty)
		fail(&p, 1, "empty rule");
	return r;
}

/* Arm every parsed rule, or none. */
static int arm_all(struct fi__ruleset *rs, struct fi__rule **rules, size_t n,
		   const char *origin, struct fi__scn_error *err)
{
	int rc;

	if (n == 0)
		return 0;
	rc = fi__rules_add_batch(rs, rules, n);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: error: %s", origin,
			 rc == -ENOSPC ? "too many rules armed"
				       : "out of memory");
		return rc;
	}
	return (int)n;
}

/* Split text into segments at '\n' (and at ';' outside quotes when
 * `semicolons`), parse each, and arm them all or none. */
static int load(struct fi__ruleset *rs, const char *text, size_t size,
		const char *origin, bool semicolons,
		struct fi__scn_error *err)
{
	struct pctx p = { origin, 1, err, NULL, 0, 0, false };
	struct fi__rule **rules = NULL;
	size_t n = 0, cap = 0, i = 0, start = 0, linestart = 0;
	int rc = -EINVAL;

	err->msg[0] = '\0';
	for (;;) {
		bool quoted = false, empty;
		struct fi__rule *r;

		while (i < size && text[i] != '\n' &&
		       !(semicolons && !quoted && text[i] == ';')) {
			if (text[i] == '"')
				quoted = !quoted;
			else if (text[i] == '\0') {
				fail(&p, (int)(i - linestart) + 1,
				     "NUL byte in the text");
				goto bad;
			}
			i++;
		}
		r = parse_segment(&p, text + start, i - start,
				  (int)(start - linestart) + 1, &empty);
		if (!r && !empty)
			goto bad;
		if (r) {
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct fi__rule **nr =
					realloc(rules, ncap * sizeof(*nr));

				if (!nr) {
					fi__rules_rule_free(r);
					fail(&p, 1, "out of memory");
					rc = -ENOMEM;
					goto bad;
				}
				rules = nr;
				cap = ncap;
			}
			rules[n++] = r;
		}
		if (i >= size)
			break;
		if (text[i] == '\n') {
			p.line++;
			linestart = i + 1;
		}
		start = ++i;
	}
	rc = arm_all(rs, rules, n, origin, err);
	free(rules);
	return rc;
bad:
	for (i = 0; i < n; i++)
		fi__rules_rule_free(rules[i]);
	free(rules);
	return rc;
}

int fi__scn_load_text(struct fi__ruleset *rs, const char *text,
		      const char *origin, struct fi__scn_error *err)
{
	return load(rs, text ? text : "", text ? strlen(text) : 0,
		    origin ? origin : "<text>", false, err);
}

int fi__scn_load_list(struct fi__ruleset *rs, const char *list,
		      const char *origin, struct fi__scn_error *err)
{
	return load(rs, list ? list : "", list ? strlen(list) : 0,
		    origin ? origin : "<rules>", true, err);
}

int fi__scn_load_file(struct fi__ruleset *rs, const char *path,
		      struct fi__scn_error *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc, e;

	err->msg[0] = '\0';
	f = fopen(path, "re");
	if (!f) {
		e = errno;
		snprintf(err->msg, sizeof(err->msg),
			 "%s: error: cannot read: %s", path, strerror(e));
		return e == ENOENT || e == ENOTDIR ? -ENOENT
		       : e == EACCES || e == EPERM ? -EACCES
						     : -EIO;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			if (cap >= MAX_FILE_SIZE) {
				fclose(f);
				free(buf);
				snprintf(err->msg, sizeof(err->msg),
					 "%s: error: file is larger than %u "
					 "bytes", path, MAX_FILE_SIZE);
				return -EIO;
			}
			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				fclose(f);
				free(buf);
				snprintf(err->msg, sizeof(err->msg),
					 "%s: error: out of memory", path);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		e = errno ? errno : EIO;
		fclose(f);
		free(buf);
		snprintf(err->msg, sizeof(err->msg),
			 "%s: error: cannot read: %s", path, strerror(e));
		return -EIO;
	}
	fclose(f);
	buf[len] = '\0';
	rc = load(rs, buf, len, path, false, err);
	free(buf);
	return rc;
}
