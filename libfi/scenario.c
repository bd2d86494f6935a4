/* scenario.c: the .fi rule language (docs/rules.md). Turns text into
 * compiled fi__rule objects at arm time, with "file:line:col: error:"
 * messages for anything it refuses. Never runs in the hook. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <ctype.h>

#include "lineage.h"
#include "mem.h"
#include "rule_model.h"
#include "scenario.h"
#include "scn_value.h"

#define MAX_TOKENS 64
#define MAX_FILE_SIZE (16u << 20)

/* One KEY=VALUE of a rule, from either form. Strings live in the arena. */
struct kv {
	const char *key;
	const char *val; /* NULL: the token had no '=' */
	int kcol, vcol;
	bool from_strace; /* a part of inject=...:KEY=VALUE */
	bool negated;	  /* written KEY!=VALUE (path!=, fd!=, comm!=) */
};

enum form { FORM_FI, FORM_INJECT, FORM_FAULT };

static char *arena_put(struct fi__scn_ctx *p, const char *s, size_t n)
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

/* ---- one rule ---- */

/* What the keys of one rule share while it is read: the rule, and the
 * pairs that set its action, when= and prob= (for the conflicts). */
struct rule_state {
	struct fi__rule *r;
	const struct kv *action, *when, *prob;
};

/* Set r's action, refusing a second one. */
static bool set_action(struct fi__scn_ctx *p, const struct kv *kv,
		       struct rule_state *st, enum fi__action a)
{
	if (st->action) {
		fi__scn_fail(p, kv->kcol,
			     "%s= conflicts with %s=; a rule has one result",
			     kv->key, st->action->key);
		return false;
	}
	st->action = kv;
	st->r->action = a;
	return true;
}

/* when= and prob= count calls, which script= does on its own. */
static bool not_with_script(struct fi__scn_ctx *p, const struct kv *kv,
			    const struct rule_state *st)
{
	if (!st->r->script_len)
		return true;
	fi__scn_fail(p, kv->kcol,
		     "%s= cannot be combined with script=", kv->key);
	return false;
}

static bool key_when(struct fi__scn_ctx *p, const struct kv *kv,
		     struct rule_state *st)
{
	if (!not_with_script(p, kv, st))
		return false;
	st->when = kv;
	st->r->has_when = true;
	return fi__scn_when(p, kv->val, kv->vcol, &st->r->when);
}

static bool key_prob(struct fi__scn_ctx *p, const struct kv *kv,
		     struct rule_state *st)
{
	if (!not_with_script(p, kv, st))
		return false;
	st->prob = kv;
	st->r->has_prob = true;
	return fi__scn_prob(p, kv->val, kv->vcol, &st->r->prob);
}

static bool key_error(struct fi__scn_ctx *p, const struct kv *kv,
		      struct rule_state *st)
{
	return set_action(p, kv, st, FI_ACT_ERROR) &&
	       fi__scn_errno(p, kv->val, kv->vcol, "error", &st->r->value);
}

static bool key_retval(struct fi__scn_ctx *p, const struct kv *kv,
		       struct rule_state *st)
{
	if (!set_action(p, kv, st, FI_ACT_RETVAL))
		return false;
	if (!fi__scn_long(kv->val, &st->r->value)) {
		fi__scn_fail(p, kv->vcol,
			     "bad retval= '%s': expected an integer", kv->val);
		return false;
	}
	return true;
}

static bool key_short(struct fi__scn_ctx *p, const struct kv *kv,
		      struct rule_state *st)
{
	long n;

	if (!set_action(p, kv, st, FI_ACT_SHORT))
		return false;
	if (!fi__scn_long(kv->val, &n) || n < 0) {
		fi__scn_fail(
			p, kv->vcol,
			"bad short= '%s': expected a byte count, 0 or more",
			kv->val);
		return false;
	}
	st->r->value = n;
	return true;
}

static bool key_redirect(struct fi__scn_ctx *p, const struct kv *kv,
			 struct rule_state *st)
{
	struct fi__rule *r = st->r;
	const char *v = kv->val;

	if (!set_action(p, kv, st, FI_ACT_REDIRECT))
		return false;
	if (v[0] != '/' && p->base_dir) {
		size_t len = strlen(p->base_dir) + strlen(v) + 2;

		r->redirect = fi__mem_malloc(len);
		if (r->redirect)
			snprintf(r->redirect, len, "%s/%s", p->base_dir, v);
	} else {
		r->redirect = fi__mem_strdup(v);
	}
	if (!r->redirect) {
		fi__scn_fail(p, kv->vcol, "out of memory");
		return false;
	}
	return true;
}

static bool key_script(struct fi__scn_ctx *p, const struct kv *kv,
		       struct rule_state *st)
{
	if (!set_action(p, kv, st, FI_ACT_PASS))
		return false;
	if (st->when || st->prob) {
		fi__scn_fail(p, kv->kcol, "script= cannot be combined with %s=",
			     (st->when ? st->when : st->prob)->key);
		return false;
	}
	return fi__scn_script(p, kv->val, kv->vcol, st->r);
}

static bool key_delay(struct fi__scn_ctx *p, const struct kv *kv,
		      struct rule_state *st)
{
	return fi__scn_delay(p, kv->val, kv->vcol, &st->r->delay_ns);
}

static bool key_delay_exit(struct fi__scn_ctx *p, const struct kv *kv,
			   struct rule_state *st)
{
	return fi__scn_delay(p, kv->val, kv->vcol, &st->r->delay_exit_ns);
}

static bool key_signal(struct fi__scn_ctx *p, const struct kv *kv,
		       struct rule_state *st)
{
	return fi__scn_signal(p, kv->val, kv->vcol, &st->r->signal);
}

/* Can glob g match the path of an fd? /proc/self/fd/N links to an
 * absolute path or to a "type:[...]" name (pipe:[N], socket:[N],
 * anon_inode:[eventfd]): a glob that starts with a plain character other
 * than '/' and holds no ':' matches neither. */
static bool fd_path_possible(const char *g)
{
	return *g == '/' || *g == '*' || *g == '?' || *g == '[' || *g == '\\' ||
	       strchr(g, ':');
}

static bool key_path(struct fi__scn_ctx *p, const struct kv *kv,
		     struct rule_state *st)
{
	struct fi__rule *r = st->r;

	r->not_path = kv->negated;
	if (!kv->negated && !fd_path_possible(kv->val) &&
	    fi__scn_set_has(r, FI_ARG_FD, FI_ARG_FD, false) &&
	    !fi__scn_set_has(r, FI_ARG_PATH, FI_ARG_PATH, false)) {
		fi__scn_fail(
			p, kv->vcol,
			"path=%s never matches: '%s' takes an fd, and the path of an fd is absolute (the target of /proc/self/fd/N); write path=*/%s",
			kv->val, r->what, kv->val);
		return false;
	}
	return fi__scn_glob(p, "path", kv->val, kv->vcol, &r->path);
}

static bool key_comm(struct fi__scn_ctx *p, const struct kv *kv,
		     struct rule_state *st)
{
	st->r->not_comm = kv->negated;
	return fi__scn_glob(p, "comm", kv->val, kv->vcol, &st->r->comm);
}

static bool key_flags(struct fi__scn_ctx *p, const struct kv *kv,
		      struct rule_state *st)
{
	return fi__scn_flags(p, kv->val, kv->vcol, st->r);
}

static bool key_site(struct fi__scn_ctx *p, const struct kv *kv,
		     struct rule_state *st)
{
	return fi__scn_site(p, kv->val, kv->vcol, st->r);
}

static bool key_fd(struct fi__scn_ctx *p, const struct kv *kv,
		   struct rule_state *st)
{
	long n;

	if (!fi__scn_long(kv->val, &n) || n < 0 || n > INT_MAX) {
		fi__scn_fail(
			p, kv->vcol,
			"bad fd= '%s': expected a descriptor number, 0 or more",
			kv->val);
		return false;
	}
	st->r->has_fd = true;
	st->r->not_fd = kv->negated;
	st->r->fd = (int)n;
	return true;
}

static bool key_syscall(struct fi__scn_ctx *p, const struct kv *kv,
			struct rule_state *st)
{
	return fi__scn_instead(p, kv->val, kv->vcol, &st->r->instead);
}

static bool key_poke_enter(struct fi__scn_ctx *p, const struct kv *kv,
			   struct rule_state *st)
{
	return fi__scn_pokes(p, kv->key, kv->val, kv->vcol, &st->r->poke_enter);
}

static bool key_poke_exit(struct fi__scn_ctx *p, const struct kv *kv,
			  struct rule_state *st)
{
	return fi__scn_pokes(p, kv->key, kv->val, kv->vcol, &st->r->poke_exit);
}

/* A proc= value: "0", or numbers from 1 joined by dots; *levels of them. */
static bool proc_value(const char *v, size_t *levels)
{
	*levels = 0;
	if (!strcmp(v, "0"))
		return true;
	for (const char *c = v;; c++) {
		if (*c < '1' || *c > '9')
			return false;
		while (c[1] >= '0' && c[1] <= '9')
			c++;
		++*levels;
		if (!c[1])
			return true;
		if (c[1] != '.')
			return false;
		c++;
	}
}

/* proc=: a process's place below its image ("0", "2", "2.1"), as
 * lineage.c keeps it. */
static bool key_proc(struct fi__scn_ctx *p, const struct kv *kv,
		     struct rule_state *st)
{
	size_t levels;

	if (!proc_value(kv->val, &levels)) {
		fi__scn_fail(
			p, kv->vcol,
			"bad proc= '%s': expected 0, or child numbers from 1 joined by dots (2, 2.1)",
			kv->val);
		return false;
	}
	if (levels > FI_LINEAGE_DEPTH) {
		fi__scn_fail(p, kv->vcol, "bad proc= '%s': more than %d levels",
			     kv->val, FI_LINEAGE_DEPTH);
		return false;
	}
	fi__mem_free(st->r->proc);
	st->r->proc = fi__mem_strdup(kv->val);
	if (!st->r->proc) {
		fi__scn_fail(p, kv->vcol, "out of memory");
		return false;
	}
	return true;
}

/* thread=: a thread's number in its process in creation order, from 1. */
static bool key_thread(struct fi__scn_ctx *p, const struct kv *kv,
		       struct rule_state *st)
{
	long n;

	if (!fi__scn_long(kv->val, &n) || n < 1 || n > INT_MAX) {
		fi__scn_fail(
			p, kv->vcol,
			"bad thread= '%s': expected a thread's number in creation order, 1 or more",
			kv->val);
		return false;
	}
	st->r->thread = (int)n;
	return true;
}

/* per=: process, or a comma list of thread and syscall. */
static bool key_per(struct fi__scn_ctx *p, const struct kv *kv,
		    struct rule_state *st)
{
	const char *v = kv->val;

	st->r->per_thread = st->r->per_syscall = false;
	if (!strcmp(v, "process"))
		return true;
	for (const char *w = v; *w;) {
		size_t len = strcspn(w, ",");

		if (len == 6 && !strncmp(w, "thread", 6)) {
			st->r->per_thread = true;
		} else if (len == 7 && !strncmp(w, "syscall", 7)) {
			st->r->per_syscall = true;
		} else {
			fi__scn_fail(
				p, kv->vcol,
				"bad per= '%s': expected process, thread, syscall or thread,syscall",
				v);
			return false;
		}
		w += len;
		w += *w == ',';
	}
	return true;
}

/* Every key of the rule language, with the function that reads its
 * value (docs/rules.md). The order is the order "did you mean" tries
 * them in. */
static const struct key {
	const char *name;
	bool (*parse)(struct fi__scn_ctx *p, const struct kv *kv,
		      struct rule_state *st);
} keys[] = {
	{"when", key_when},
	{"error", key_error},
	{"retval", key_retval},
	{"short", key_short},
	{"delay", key_delay},
	{"signal", key_signal},
	{"prob", key_prob},
	{"path", key_path},
	{"fd", key_fd},
	{"site", key_site},
	{"script", key_script},
	{"redirect", key_redirect},
	{"comm", key_comm},
	{"per", key_per},
	{"proc", key_proc},
	{"thread", key_thread},
	{"delay_exit", key_delay_exit},
	{"syscall", key_syscall},
	{"poke_enter", key_poke_enter},
	{"poke_exit", key_poke_exit},
	{"flags", key_flags},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *find_key(const char *name)
{
	for (size_t k = 0; k < NKEYS; k++)
		if (!strcmp(name, keys[k].name))
			return &keys[k];
	return NULL;
}

/* The checks that need the whole rule. */
static bool check_rule(struct fi__scn_ctx *p, struct fi__rule *r,
		       const struct kv *action, int selcol)
{
	if (!action && !r->delay_ns && !r->delay_exit_ns && !r->signal &&
	    !r->poke_enter && !r->poke_exit) {
		fi__scn_fail(
			p, selcol,
			"rule has no action; add error=, retval=, short=, delay=, signal=, redirect=, script= or poke_enter=");
		return false;
	}
	if (r->instead && action && r->action != FI_ACT_ERROR &&
	    r->action != FI_ACT_RETVAL) {
		fi__scn_fail(
			p, action->kcol,
			"%s= cannot be combined with syscall=, which runs in place of an error= or retval= call",
			action->key);
		return false;
	}
	if (r->action == FI_ACT_SHORT &&
	    !fi__scn_set_has(r, FI_ARG_COUNT, FI_ARG_IOVCNT, true)) {
		fi__scn_fail(
			p, action->kcol,
			"short= needs a syscall with a byte count; '%s' has none",
			r->what);
		return false;
	}
	if (r->action == FI_ACT_REDIRECT &&
	    !fi__scn_set_has(r, FI_ARG_PATH, FI_ARG_PATH, true)) {
		fi__scn_fail(
			p, action->kcol,
			"redirect= needs a syscall with a path argument; '%s' has none",
			r->what);
		return false;
	}
	if (r->path && !fi__scn_set_has(r, FI_ARG_PATH, FI_ARG_FD, false)) {
		fi__scn_fail(
			p, selcol,
			"path= needs a syscall with a path or fd argument; '%s' has none",
			r->what);
		return false;
	}
	if (r->has_flags &&
	    !fi__scn_set_has(r, FI_ARG_OFLAGS, FI_ARG_OFLAGS, true)) {
		fi__scn_fail(
			p, selcol,
			"flags= needs a syscall with open flags (open, openat); '%s' has none",
			r->what);
		return false;
	}
	if (r->has_fd && !fi__scn_set_has(r, FI_ARG_FD, FI_ARG_DIRFD, false)) {
		fi__scn_fail(
			p, selcol,
			"fd= needs a syscall with an fd argument; '%s' has none",
			r->what);
		return false;
	}
	return true;
}

/* The inject= keys that strace refuses twice, where others take the
 * last value. */
static bool once_in_strace(const char *part)
{
	static const char *const once[] = {
		"syscall=", "poke_enter=", "poke_exit="};

	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (!strncmp(part, once[i], strlen(once[i])))
			return true;
	return false;
}

/* Split a segment into tokens (quotes decoded) and turn them into the
 * selector plus KEY=VALUE pairs. Returns the number of pairs, -1 on error
 * (p->err filled), or -2 when the segment holds no rule. */
static int tokenize(struct fi__scn_ctx *p, const char *s, size_t len, int col0,
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
			fi__scn_fail(p, col0 + (int)i,
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
					fi__scn_fail(p, col0 + (int)q,
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

	*form = !strncmp(tok[0], "inject=", 7)	? FORM_INJECT
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
				fi__scn_fail(p, teq[0], "too many parts in %s=",
					     *form == FORM_FAULT ? "fault"
								 : "inject");
				return -1;
			}
			eq = strchr(part, '=');
			/* strace takes a key given twice: the last wins,
			 * except these, which it refuses (check_key). */
			for (int k = 0; k < nkv && !once_in_strace(part); k++) {
				size_t kl = eq ? (size_t)(eq - part)
					       : strlen(part);

				if (kv[k].from_strace &&
				    strlen(kv[k].key) == kl &&
				    !strncmp(kv[k].key, part, kl)) {
					memmove(&kv[k], &kv[k + 1],
						(size_t)(nkv - k - 1) *
							sizeof(kv[0]));
					nkv--;
					break;
				}
			}
			kv[nkv].key = part;
			kv[nkv].kcol = teq[0] + (int)(part - v);
			kv[nkv].val = NULL;
			kv[nkv].vcol = kv[nkv].kcol + (int)strlen(part);
			kv[nkv].from_strace = true;
			kv[nkv].negated = false;
			if (eq) {
				*eq = '\0';
				kv[nkv].val = eq + 1;
				kv[nkv].vcol = teq[0] + (int)(eq + 1 - v);
			}
			nkv++;
			part = next;
		}
	} else if (teq[0] >= 0) {
		*strchr(tok[0], '=') = '\0';
		if (find_key(tok[0]))
			fi__scn_fail(p, tcol[0],
				     "missing syscall name before '%s='",
				     tok[0]);
		else
			fi__scn_fail(p, tcol[0],
				     "expected a syscall name, got '%s='",
				     tok[0]);
		return -1;
	} else {
		*sel = tok[0];
		*selcol = tcol[0];
	}
	for (i = 1; i < ntok; i++) {
		if (nkv == MAX_TOKENS) {
			fi__scn_fail(p, tcol[i],
				     "too many words in one rule (at most %d)",
				     MAX_TOKENS);
			return -1;
		}
		kv[nkv].key = tok[i];
		kv[nkv].kcol = tcol[i];
		kv[nkv].val = NULL;
		kv[nkv].vcol = tcol[i] + (int)strlen(tok[i]);
		kv[nkv].from_strace = false;
		kv[nkv].negated = false;
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

/* strace's signal names: any case, SIG optional, SIGRT_N (the kernel's
 * SIGRTMIN, 32, plus N), and SIGRTMIN+N / SIGRTMAX-N besides. Rewritten
 * in place as fi takes them: upper case with SIG, or a number. */
static bool strace_signal(struct fi__scn_ctx *p, struct kv *kv)
{
	char up[32], *u = up;
	unsigned long n = 0;
	int sig = -1;

	if (strlen(kv->val) + 4 > sizeof(up))
		return true; /* fi__scn_signal says what is wrong */
	if (strncasecmp(kv->val, "SIG", 3) != 0)
		u += snprintf(up, sizeof(up), "SIG");
	for (const char *v = kv->val; *v; v++)
		*u++ = (char)toupper((unsigned char)*v);
	*u = '\0';
	if (!strncmp(up, "SIGRT_", 6) && fi__scn_long(up + 6, (long *)&n))
		sig = 32 + (int)n;
	else if (!strcmp(up, "SIGRTMIN"))
		sig = 32;
	else if (!strcmp(up, "SIGRTMAX"))
		sig = 64;
	else if (!strncmp(up, "SIGRTMIN+", 9) &&
		 fi__scn_long(up + 9, (long *)&n))
		sig = 32 + (int)n;
	else if (!strncmp(up, "SIGRTMAX-", 9) &&
		 fi__scn_long(up + 9, (long *)&n))
		sig = 64 - (int)n;
	if (sig >= 0) {
		if (sig < 32 || sig > 64) {
			fi__scn_fail(
				p, kv->vcol,
				"signal %s is out of range (SIGRTMIN is 32, SIGRTMAX 64)",
				kv->val);
			return false;
		}
		snprintf(up, sizeof(up), "%d", sig);
	}
	kv->val = arena_put(p, up, strlen(up));
	if (!kv->val) {
		fi__scn_fail(p, kv->vcol, "out of memory");
		return false;
	}
	return true;
}

/* strace's delay: a number, with a fraction and a unit (s, ms, us, ns)
 * or none (microseconds). Rewritten in nanoseconds for fi's delay=. */
static bool strace_delay(struct fi__scn_ctx *p, struct kv *kv)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {
		{"", 1e3}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	char *end, buf[32];
	double v;

	errno = 0;
	v = strtod(kv->val, &end);
	if (end == kv->val || errno || v < 0 ||
	    !isdigit((unsigned char)kv->val[0])) {
		fi__scn_fail(
			p, kv->vcol,
			"bad %s= '%s': expected a number of microseconds, or with a unit (s, ms, us, ns)",
			kv->key, kv->val);
		return false;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		snprintf(buf, sizeof(buf), "%.0fns", v * units[i].scale);
		kv->val = arena_put(p, buf, strlen(buf));
		if (!kv->val) {
			fi__scn_fail(p, kv->vcol, "out of memory");
			return false;
		}
		if (strcmp(kv->key, "delay_exit") != 0)
			kv->key = "delay";
		return true;
	}
	fi__scn_fail(p, kv->vcol + (int)(end - kv->val),
		     "unknown %s= unit '%s'; use s, ms, us or ns", kv->key,
		     end);
	return false;
}

/* strace's inject=/fault= keys, in fi's terms. */
static bool strace_key(struct fi__scn_ctx *p, struct kv *kv, enum form form)
{
	if (!strcmp(kv->key, "when")) {
		/* strace takes N..M+ as N..M */
		size_t n = kv->val ? strlen(kv->val) : 0;

		if (n > 1 && kv->val[n - 1] == '+' && strstr(kv->val, "..") &&
		    !(kv->val = arena_put(p, kv->val, n - 1))) {
			fi__scn_fail(p, kv->vcol, "out of memory");
			return false;
		}
		return true;
	}
	if (!strcmp(kv->key, "error")) {
		/* strace takes errno names in any case */
		char up[64];
		size_t n = kv->val ? strlen(kv->val) : 0;

		if (!n || n >= sizeof(up))
			return true;
		for (size_t i = 0; i <= n; i++)
			up[i] = (char)toupper((unsigned char)kv->val[i]);
		if (!(kv->val = arena_put(p, up, n))) {
			fi__scn_fail(p, kv->vcol, "out of memory");
			return false;
		}
		return true;
	}
	if (form == FORM_FAULT) {
		fi__scn_fail(p, kv->kcol,
			     "fault= takes only error= and when=, not '%s='",
			     kv->key);
		return false;
	}
	if (!strcmp(kv->key, "retval"))
		return true;
	if (!strcmp(kv->key, "signal"))
		return !kv->val || !*kv->val || strace_signal(p, kv);
	if (!strcmp(kv->key, "delay_enter"))
		return !kv->val || !*kv->val || strace_delay(p, kv);
	if (!strcmp(kv->key, "delay_exit"))
		return !kv->val || !*kv->val || strace_delay(p, kv);
	if (!strcmp(kv->key, "syscall") || !strcmp(kv->key, "poke_enter") ||
	    !strcmp(kv->key, "poke_exit"))
		return true;
	fi__scn_fail(
		p, kv->kcol,
		"unknown inject= key '%s'; strace's inject= takes error, retval, signal, syscall, delay_enter, delay_exit, poke_enter, poke_exit and when",
		kv->key);
	return false;
}

/* KEY!=VALUE: the tokenizer cut at '=', leaving "KEY!". Only filters
 * that compare one value can be negated. */
static bool negation(struct fi__scn_ctx *p, struct kv *kv)
{
	static const char *const can[] = {"path", "fd", "comm"};
	size_t n = strlen(kv->key);

	if (n < 2 || kv->key[n - 1] != '!')
		return true;
	for (size_t i = 0; i < sizeof(can) / sizeof(can[0]); i++) {
		if (strlen(can[i]) == n - 1 &&
		    !strncmp(kv->key, can[i], n - 1)) {
			kv->key = can[i];
			kv->negated = true;
			return true;
		}
	}
	fi__scn_fail(
		p, kv->kcol,
		"'%s=' cannot be negated; only path!=, fd!= and comm!= can",
		kv->key);
	return false;
}

/* Check the key of one pair: known, has a value, not seen before.
 * Returns its row of keys[], or NULL (p->err filled). */
static const struct key *check_key(struct fi__scn_ctx *p, const struct kv *kv,
				   size_t i)
{
	struct fi__scn_suggest sg = FI_SCN_SUGGEST(kv[i].key);
	const struct key *key = find_key(kv[i].key);
	const char *hint;
	size_t k;

	if (!key) {
		for (k = 0; k < NKEYS; k++)
			fi__scn_consider(&sg, keys[k].name);
		if (!kv[i].val && fi__names_sys_nr(kv[i].key) >= 0) {
			fi__scn_fail(
				p, kv[i].kcol,
				"expected KEY=VALUE, got '%s'; list several syscalls as 'a,b'",
				kv[i].key);
			return NULL;
		}
		if (!kv[i].val) {
			fi__scn_fail(p, kv[i].kcol,
				     "expected KEY=VALUE, got '%s'", kv[i].key);
			return NULL;
		}
		hint = fi__scn_suggestion(&sg);
		if (hint)
			fi__scn_fail(p, kv[i].kcol,
				     "unknown key '%s'; did you mean '%s'?",
				     kv[i].key, hint);
		else
			fi__scn_fail(p, kv[i].kcol, "unknown key '%s'",
				     kv[i].key);
		return NULL;
	}
	if (!kv[i].val || !*kv[i].val) {
		fi__scn_fail(p, kv[i].vcol, "missing value for '%s='",
			     kv[i].key);
		return NULL;
	}
	for (k = 0; k < i; k++) {
		if (!strcmp(kv[k].key, kv[i].key)) {
			fi__scn_fail(p, kv[i].kcol, "duplicate key '%s='",
				     kv[i].key);
			return NULL;
		}
	}
	return key;
}

static bool per_given(const struct kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!kv[i].from_strace && !strcmp(kv[i].key, "per"))
			return true;
	return false;
}

static size_t set_size(const struct fi__rule *r)
{
	size_t n = 0;

	for (size_t i = 0; i < FI_NR_MAX; i++)
		n += r->nrs[i] != 0;
	return n;
}

/* A character that cannot be seen where a rule is written (a UTF-8 byte
 * order mark, a control character, DEL, a no-break or zero-width space):
 * named, since the word it sits in looks right. Returns false after
 * fi__scn_fail(). */
static bool visible(struct fi__scn_ctx *p, const char *s, size_t len, int col0)
{
	static const struct {
		const char *bytes, *name;
	} seq[] = {
		{"\xef\xbb\xbf", "a UTF-8 byte order mark (U+FEFF)"},
		{"\xc2\xa0", "a no-break space (U+00A0)"},
		{"\xe2\x80\x8b", "a zero-width space (U+200B)"},
	};

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		for (size_t k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
			size_t n = strlen(seq[k].bytes);

			if (i + n <= len && !memcmp(s + i, seq[k].bytes, n)) {
				fi__scn_fail(p, col0 + (int)i,
					     "invisible character: %s",
					     seq[k].name);
				return false;
			}
		}
		if (c == 0x7f || (c < 0x20 && c != '\t' && c != '\r')) {
			fi__scn_fail(
				p, col0 + (int)i,
				c == 0x7f
					? "invisible character: DEL (0x7f)"
					: "invisible character: control character 0x%02x",
				c);
			return false;
		}
	}
	return true;
}

/* Parse one rule from s[0..len), whose first byte is at column col0.
 * Sets *empty and returns NULL for a blank or comment-only segment. */
static struct fi__rule *parse_segment(struct fi__scn_ctx *p, const char *s,
				      size_t len, int col0, bool *empty)
{
	struct kv kv[MAX_TOKENS];
	struct rule_state st = {0};
	const struct key *key;
	const char *sel = NULL;
	struct fi__rule *r = NULL;
	enum form form = FORM_FI;
	char origin[512];
	size_t a, b, i;
	int selcol = col0, n;

	*empty = false;
	if (!visible(p, s, len, col0))
		return NULL;
	p->cap = 3 * len + 64;
	p->used = 0;
	p->arena = fi__mem_malloc(p->cap);
	if (!p->arena) {
		fi__scn_fail(p, col0, "out of memory");
		return NULL;
	}
	n = tokenize(p, s, len, col0, &sel, &selcol, &form, kv);
	if (n == -2)
		*empty = true;
	if (n < 0)
		goto out;

	r = fi__rules_rule_new();
	if (!r) {
		fi__scn_fail(p, col0, "out of memory");
		goto out;
	}
	st.r = r;
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
	r->text = fi__mem_strndup(s + a, b - a);
	r->origin = fi__mem_strdup(origin);
	r->what = fi__mem_strdup(sel);
	if (!r->text || !r->origin || !r->what) {
		fi__scn_fail(p, col0, "out of memory");
		goto bad;
	}
	if (!fi__scn_set(p, sel, selcol, r))
		goto bad;
	for (i = 0; i < (size_t)n; i++) {
		if (kv[i].from_strace && !strace_key(p, &kv[i], form))
			goto bad;
		if (!negation(p, &kv[i]))
			goto bad;
		key = check_key(p, kv, i);
		if (!key || !key->parse(p, &kv[i], &st))
			goto bad;
	}
	if (form != FORM_FI && st.when && !per_given(kv, (size_t)n)) {
		/* strace counts when= per thread and per syscall of the set */
		r->per_thread = true;
		r->per_syscall = set_size(r) > 1;
	}
	if (form == FORM_FAULT && !st.action) {
		/* strace's fault= fails with ENOSYS unless told otherwise */
		static const struct kv fault_error = {"error", "ENOSYS", 1,
						      1,       true,	 false};

		r->action = FI_ACT_ERROR;
		r->value = ENOSYS;
		st.action = &fault_error;
	}
	if (!check_rule(p, r, st.action, selcol))
		goto bad;
	goto out;
bad:
	fi__rules_rule_free(r);
	r = NULL;
out:
	fi__mem_free(p->arena);
	p->arena = NULL;
	return r;
}

struct fi__rule *fi__scn_parse_rule(const char *text, const char *origin,
				    int line, struct fi__scn_error *err)
{
	struct fi__scn_ctx p = {
		origin ? origin : "<rule>", line, err, NULL, 0, 0, false, NULL};
	const char *nl;
	struct fi__rule *r;
	bool empty;

	err->msg[0] = '\0';
	if (!text) {
		fi__scn_fail(&p, 1, "empty rule");
		return NULL;
	}
	nl = strchr(text, '\n');
	if (nl && nl[strspn(nl, " \t\r\n")]) {
		fi__scn_fail(
			&p, (int)(nl - text) + 1,
			"one rule expected, but the text goes on after a newline");
		return NULL;
	}
	r = parse_segment(&p, text, nl ? (size_t)(nl - text) : strlen(text), 1,
			  &empty);
	if (!r && empty)
		fi__scn_fail(&p, 1, "empty rule");
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
 * `semicolons`), parse each, and arm them all or none. The text's first
 * line is numbered `line`. */
static int load(struct fi__ruleset *rs, const char *text, size_t size,
		const char *origin, int line, const char *base_dir,
		bool semicolons, struct fi__scn_error *err)
{
	struct fi__scn_ctx p = {origin, line, err, NULL, 0, 0, false, base_dir};
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
				fi__scn_fail(&p, (int)(i - linestart) + 1,
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
				struct fi__rule **nr = fi__mem_realloc(
					rules, ncap * sizeof(*nr));

				if (!nr) {
					fi__rules_rule_free(r);
					fi__scn_fail(&p, 1, "out of memory");
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
	fi__mem_free(rules);
	return rc;
bad:
	for (i = 0; i < n; i++)
		fi__rules_rule_free(rules[i]);
	fi__mem_free(rules);
	return rc;
}

/* Where rules given as text resolve a relative redirect=: FI_RULES_DIR
 * (fi-run sets it to its own working directory, so that exec'd children
 * after a chdir resolve alike), else the working directory now. */
static const char *text_dir(char *buf, size_t len)
{
	const char *d = getenv("FI_RULES_DIR");

	if (d && d[0] == '/')
		return d;
	return getcwd(buf, len);
}

int fi__scn_load_text(struct fi__ruleset *rs, const char *text,
		      const char *origin, struct fi__scn_error *err)
{
	char dir[PATH_MAX];

	return load(rs, text ? text : "", text ? strlen(text) : 0,
		    origin ? origin : "<text>", 1, text_dir(dir, sizeof(dir)),
		    false, err);
}

int fi__scn_load_list(struct fi__ruleset *rs, const char *list,
		      const char *origin, struct fi__scn_error *err)
{
	return fi__scn_load_list_at(rs, list, origin, 1, err);
}

int fi__scn_load_list_at(struct fi__ruleset *rs, const char *list,
			 const char *origin, int line,
			 struct fi__scn_error *err)
{
	char dir[PATH_MAX];

	return load(rs, list ? list : "", list ? strlen(list) : 0,
		    origin ? origin : "<rules>", line,
		    text_dir(dir, sizeof(dir)), true, err);
}

/* The absolute directory of the file at path, or NULL. */
static const char *file_dir(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0, at = 0;

	if (path[0] != '/') {
		if (!getcwd(buf, len))
			return NULL;
		at = strlen(buf);
		if (n && at + 1 < len)
			buf[at++] = '/';
	} else if (n == 0) {
		n = 1; /* a file in / */
	}
	if (at + n + 1 > len)
		return NULL;
	memcpy(buf + at, path, n);
	buf[at + n] = '\0';
	return buf;
}

/* The whole file at path, NUL-terminated, in *buf (fi__mem_free it), its
 * length in *len; or a negative errno and the message in err. Not stdio:
 * fopen would take its FILE from the program's heap. */
static int read_file(const char *path, char **buf, size_t *len,
		     struct fi__scn_error *err)
{
	size_t cap = 0;
	int fd, e;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err->msg, sizeof(err->msg),
			 "%s: error: cannot read: %s", path, strerror(e));
		return e == ENOENT || e == ENOTDIR ? -ENOENT
		       : e == EACCES || e == EPERM ? -EACCES
						   : -EIO;
	}
	for (;;) {
		ssize_t got;

		if (*len == cap) {
			char *nb;

			if (cap >= MAX_FILE_SIZE) {
				snprintf(
					err->msg, sizeof(err->msg),
					"%s: error: file is larger than %u bytes",
					path, MAX_FILE_SIZE);
				e = -EIO;
				goto fail;
			}
			cap = cap ? 2 * cap : 4096;
			nb = fi__mem_realloc(*buf, cap + 1);
			if (!nb) {
				snprintf(err->msg, sizeof(err->msg),
					 "%s: error: out of memory", path);
				e = -ENOMEM;
				goto fail;
			}
			*buf = nb;
		}
		got = read(fd, *buf + *len, cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "%s: error: cannot read: %s", path,
				 strerror(errno));
			e = -EIO;
			goto fail;
		}
		if (got == 0)
			break;
		*len += (size_t)got;
	}
	close(fd);
	(*buf)[*len] = '\0';
	return 0;
fail:
	close(fd);
	fi__mem_free(*buf);
	*buf = NULL;
	return e;
}

int fi__scn_load_file(struct fi__ruleset *rs, const char *path,
		      struct fi__scn_error *err)
{
	char *buf;
	size_t len;
	int rc;

	err->msg[0] = '\0';
	rc = read_file(path, &buf, &len, err);
	if (rc < 0)
		return rc;
	/* A relative redirect= is resolved against the file's directory. */
	{
		char dir[PATH_MAX];

		rc = load(rs, buf, len, path, 1,
			  file_dir(path, dir, sizeof(dir)), false, err);
	}
	fi__mem_free(buf);
	return rc;
}
