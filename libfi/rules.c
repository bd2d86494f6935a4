/* rules.c: the rule engine. Arms compiled rules into per-syscall lists and
 * decides each call: (armed rules, call) -> verdict. fi__rules_decide()
 * and what it calls run inside the syscall hook: no libc, no locks, no
 * allocation, only atomics on memory prepared at arm time.
 *
 * Publication: each syscall number has an immutable list of rules (and of
 * expectations). Arming builds a new list under rs->lock and publishes it
 * with a release store; decide() reads it with an acquire load. Replaced
 * lists and disarmed rules are kept until fi__rules_free(), since a hook
 * in another thread may still be reading them. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "mem.h"
#include "rule_model.h"
#include "site.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define RELAXED_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define RELAXED_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* An immutable list of the rules of one syscall, in arm order. */
struct rlist {
	size_t n;
	bool quick; /* every rule looks at the number only: fi__rules_quick */
	struct fi__rule *r[];
};

/* An immutable list of queued results of one syscall, each with where
 * fi_expect() was called ("test_io.c:42", or NULL); the set owns the
 * origins (see fi__rules_expect_at). */
struct expectation {
	long v;
	const char *origin;
};
struct elist {
	size_t n;
	struct expectation e[];
};

/* The expectations of one syscall: `next` is the first unclaimed. */
struct equeue {
	unsigned long next;
	struct elist *list;
};

/* Something replaced while a hook may still read it. */
struct garbage {
	struct garbage *next;
	void *p;
};

struct fi__ruleset {
	pthread_mutex_t lock;
	struct rlist *bynr[FI_NR_MAX];
	struct equeue *exp[FI_NR_MAX];
	struct rlist *all; /* every armed rule, in arm order */
	uint64_t seed;
	unsigned next_index;
	unsigned base; /* rules with a lower index stay through a clear */
	struct fi__rule *owned; /* every rule ever taken, for freeing */
	struct garbage *garbage;
};

/* ---- hook-safe helpers (no libc) ---- */

bool fi__rules_when(const struct fi__when *w, uint64_t n)
{
	if (n < w->first || n > w->last)
		return false;
	return w->step <= 1 || (n - w->first) % w->step == 0;
}

static bool has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return true;
	return false;
}

/* path=: the call's path argument, or for a call without one the path of
 * its fd. The engine never reads the program's memory: it sees the path
 * only through dispatch's safe copy in c->path. A call whose path could
 * not be copied (a bad pointer, a path too long, process_vm_readv refused)
 * matches no path= rule, so it reaches the kernel as it is and the program
 * gets the kernel's answer (EFAULT, ENAMETOOLONG). */
static bool match_path(const struct fi__rule *r, const struct fi__call *c)
{
	char buf[1024];
	int i;

	if (fi__names_argindex(c->nr, FI_ARG_PATH) >= 0)
		return c->path &&
		       fi__glob_match(r->path, c->path) != r->not_path;
	i = fi__names_argindex(c->nr, FI_ARG_FD);
	if (i < 0 || !c->fd_path)
		return false;
	if (c->fd_path((int)c->args[i], buf, sizeof(buf)) < 0)
		return false;
	buf[sizeof(buf) - 1] = '\0';
	return fi__glob_match(r->path, buf) != r->not_path;
}

static bool match_fd(const struct fi__rule *r, const struct fi__call *c)
{
	int i = fi__names_argindex(c->nr, FI_ARG_FD);

	if (i < 0)
		i = fi__names_argindex(c->nr, FI_ARG_DIRFD);
	return i >= 0 && ((int)c->args[i] == r->fd) != r->not_fd;
}

/* flags=: any of the access modes or other bits the rule names. */
static bool match_flags(const struct fi__rule *r, const struct fi__call *c)
{
	int i = fi__names_argindex(c->nr, FI_ARG_OFLAGS);
	long f;

	if (i < 0)
		return false;
	f = c->args[i];
	return ((r->accmodes >> (f & 3)) & 1) || (f & r->flags_any);
}

/* strcmp's equality, without libc (the hook calls this). */
static bool same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* One of site='s spans holds the call's offset and names its object. */
static bool match_site(const struct fi__rule *r, const struct fi__call *c)
{
	const char *full;

	if (!c->module)
		return false;
	full = c->module_path ? c->module_path : c->module;
	for (size_t i = 0; i < r->nsites; i++) {
		const struct fi__site_span *s = &r->sites[i];

		if (c->offset >= s->lo && c->offset <= s->hi &&
		    fi__glob_match(s->module,
				   has_slash(s->module)
					   ? full
					   : fi__site_file_name(c->module)))
			return true;
	}
	return false;
}

static bool match(const struct fi__rule *r, const struct fi__call *c)
{
	if (r->has_fd && !match_fd(r, c))
		return false;
	if (r->nsites && !match_site(r, c))
		return false;
	if (r->comm &&
	    (!c->comm || fi__glob_match(r->comm, c->comm) == r->not_comm))
		return false;
	if (r->proc && (!c->proc_path || !same(r->proc, c->proc_path())))
		return false;
	if (r->thread && (!c->thread_number ||
			  c->thread_number(c->pid, c->tid) != r->thread))
		return false;
	if (r->path && !match_path(r, c))
		return false;
	if (r->has_flags && !match_flags(r, c))
		return false;
	return true;
}

_Static_assert(FI_NR_MAX <= 1024, "per= keys keep the syscall in 10 bits");

/* The count of this call for r's when=/script= (1-based): per rule, or
 * per thread and/or per syscall of the rule's set (per=). */
static uint64_t count(struct fi__rule *r, int tid, long nr)
{
	unsigned h, i;
	long key;

	if (!(r->per_thread || r->per_syscall) || !r->slots)
		return FETCH_ADD(&r->matched, 1) + 1;
	FETCH_ADD(&r->matched, 1);
	key = r->per_syscall ? nr + 1 : 0;
	if (r->per_thread)
		key |= (long)(unsigned)tid << 10; /* FI_NR_MAX <= 1024 */
	h = (unsigned)key * 2654435761u;
	for (i = 0; i < FI_PER_THREAD_SLOTS; i++) {
		struct fi__tslot *s = &r->slots[(h + i) % FI_PER_THREAD_SLOTS];
		long cur = LOAD(&s->key);

		if (cur == 0) {
			long zero = 0;

			if (__atomic_compare_exchange_n(&s->key, &zero, key,
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				cur = key;
			else
				cur = zero;
		}
		if (cur == key)
			return FETCH_ADD(&s->count, 1) + 1;
	}
	/* More threads than slots: the rest share one count. */
	return FETCH_ADD(&r->overflow, 1) + 1;
}

/* splitmix64's finaliser: a counter-based stream, so draws never need a
 * lock and a seed repeats a run. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static bool draw(struct fi__ruleset *rs, struct fi__rule *r)
{
	uint64_t k = FETCH_ADD(&r->draws, 1);
	uint64_t key =
		mix(RELAXED_LOAD(&rs->seed) ^
		    ((uint64_t)(r->index + 1) * UINT64_C(0x9e3779b97f4a7c15)));
	uint64_t x = mix(key + (k + 1) * UINT64_C(0x9e3779b97f4a7c15));

	return (x >> 32) < r->prob;
}

static void set_result(struct fi__verdict *v, long result)
{
	if (result < 0 && result >= -4095) {
		v->action = FI_ACT_ERROR;
		v->value = -result;
	} else {
		v->action = FI_ACT_RETVAL;
		v->value = result;
	}
}

/* Does r act on its n-th matching call? Fills v when it does. */
static bool trigger(struct fi__ruleset *rs, struct fi__rule *r, uint64_t n,
		    struct fi__verdict *v)
{
	if (r->script_len) {
		const struct fi__step *st;

		if (n > r->script_len)
			return false;
		st = &r->script[n - 1];
		if (st->kind == FI_STEP_OK)
			return false;
		v->action = st->kind == FI_STEP_ERROR ? FI_ACT_ERROR
						      : FI_ACT_RETVAL;
		v->value = st->value;
	} else {
		if (r->has_when && !fi__rules_when(&r->when, n))
			return false;
		if (r->has_prob && !draw(rs, r))
			return false;
		v->action = r->action;
		v->value = r->value;
	}
	v->delay_ns = r->delay_ns;
	v->delay_exit_ns = r->delay_exit_ns;
	v->signal = r->signal;
	v->redirect = r->redirect;
	v->instead = r->instead;
	v->poke_enter = r->poke_enter;
	v->poke_exit = r->poke_exit;
	v->rule = r;
	return true;
}

static bool claim_expect(struct fi__ruleset *rs, long nr, long *result)
{
	struct equeue *q = LOAD(&rs->exp[nr]);
	struct elist *l;
	unsigned long n;

	if (!q)
		return false;
	l = LOAD(&q->list);
	n = LOAD(&q->next);
	while (l && n < l->n) {
		if (__atomic_compare_exchange_n(&q->next, &n, n + 1, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			*result = l->e[n].v;
			return true;
		}
	}
	return false;
}

bool fi__rules_decide(struct fi__ruleset *rs, const struct fi__call *c,
		      struct fi__verdict *v)
{
	struct rlist *l;
	bool acted = false;
	long result;
	size_t i;

	if (!rs || c->nr < 0 || c->nr >= FI_NR_MAX)
		return false;
	v->action = FI_ACT_PASS;
	v->value = 0;
	v->delay_ns = 0;
	v->delay_exit_ns = 0;
	v->signal = 0;
	v->redirect = NULL;
	v->instead = 0;
	v->poke_enter = v->poke_exit = NULL;
	v->rule = NULL;

	if (claim_expect(rs, c->nr, &result)) {
		set_result(v, result);
		acted = true;
	}
	l = LOAD(&rs->bynr[c->nr]);
	if (!l)
		return acted;
	for (i = 0; i < l->n; i++) {
		struct fi__rule *r = l->r[i];
		uint64_t n;

		if (!match(r, c))
			continue;
		/* Every matching rule counts the call; the first that acts
		 * decides it. */
		n = count(r, c->tid, c->nr);
		if (acted || !trigger(rs, r, n, v))
			continue;
		acted = true;
		if (FETCH_ADD(&r->fired, 1) == 0) {
			const char *mod = c->module;
			unsigned long off = c->offset;
			if (c->caller)
				c->caller(c, &mod, &off);
			RELAXED_STORE(&r->first_module, mod);
			RELAXED_STORE(&r->first_offset, off);
			RELAXED_STORE(&r->first_pid, c->pid);
		}
	}
	return acted;
}

/* ---- arming: under rs->lock, never in the hook ---- */

struct fi__rule *fi__rules_rule_new(void)
{
	return fi__mem_calloc(1, sizeof(struct fi__rule));
}

void fi__rules_rule_free(struct fi__rule *r)
{
	if (!r)
		return;
	fi__mem_free(r->text);
	fi__mem_free(r->origin);
	fi__mem_free(r->what);
	fi__mem_free(r->path);
	for (size_t i = 0; i < r->nsites; i++)
		fi__mem_free(r->sites[i].module);
	fi__mem_free(r->sites);
	fi__mem_free(r->comm);
	fi__mem_free(r->proc);
	fi__mem_free(r->script);
	fi__mem_free(r->redirect);
	fi__mem_free(r->poke_enter);
	fi__mem_free(r->poke_exit);
	fi__mem_free(r->slots);
	fi__mem_free(r);
}

struct fi__ruleset *fi__rules_new(void)
{
	struct fi__ruleset *rs = fi__mem_calloc(1, sizeof(*rs));

	if (rs)
		pthread_mutex_init(&rs->lock, NULL);
	return rs;
}

/* Keep p until fi__rules_free(). If even that allocation fails, leak p:
 * freeing it under a running hook would be worse. */
static void retire(struct fi__ruleset *rs, void *p)
{
	struct garbage *g;

	if (!p)
		return;
	g = fi__mem_malloc(sizeof(*g));
	if (!g)
		return;
	g->p = p;
	g->next = rs->garbage;
	rs->garbage = g;
}

void fi__rules_free(struct fi__ruleset *rs)
{
	struct garbage *g, *gn;
	struct fi__rule *r, *rn;
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < FI_NR_MAX; i++) {
		fi__mem_free(rs->bynr[i]);
		if (rs->exp[i]) {
			fi__mem_free(rs->exp[i]->list);
			fi__mem_free(rs->exp[i]);
		}
	}
	fi__mem_free(rs->all);
	for (g = rs->garbage; g; g = gn) {
		gn = g->next;
		fi__mem_free(g->p);
		fi__mem_free(g);
	}
	for (r = rs->owned; r; r = rn) {
		rn = r->owned_next;
		fi__rules_rule_free(r);
	}
	pthread_mutex_destroy(&rs->lock);
	fi__mem_free(rs);
}

static struct rlist *rlist_grow(const struct rlist *old, size_t more)
{
	size_t n = old ? old->n : 0;
	struct rlist *l =
		fi__mem_malloc(sizeof(*l) + (n + more) * sizeof(l->r[0]));

	if (!l)
		return NULL;
	l->n = n;
	l->quick = false;
	if (n)
		memcpy(l->r, old->r, n * sizeof(l->r[0]));
	return l;
}

static bool filterless(const struct fi__rule *r);

static void set_quick(struct rlist *l)
{
	l->quick = true;
	for (size_t i = 0; i < l->n; i++)
		l->quick &= filterless(l->r[i]);
}

int fi__rules_add_batch(struct fi__ruleset *rs, struct fi__rule **rules,
			size_t n)
{
	struct rlist **fresh = NULL, *all = NULL;
	size_t i, nr, armed;
	int err = 0;

	pthread_mutex_lock(&rs->lock);
	/* The set owns every rule from here on, armed or not. */
	for (i = 0; i < n; i++) {
		rules[i]->owned_next = rs->owned;
		rs->owned = rules[i];
	}
	armed = rs->all ? rs->all->n : 0;
	if (n > FI_RULES_MAX || armed + n > FI_RULES_MAX) {
		err = -ENOSPC;
		goto out;
	}
	fresh = fi__mem_calloc(FI_NR_MAX, sizeof(*fresh));
	all = rlist_grow(rs->all, n);
	if (!fresh || !all) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct fi__rule *r = rules[i];

		if ((r->per_thread || r->per_syscall) && !r->slots) {
			r->slots = fi__mem_calloc(FI_PER_THREAD_SLOTS,
						  sizeof(*r->slots));
			if (!r->slots) {
				err = -ENOMEM;
				goto out;
			}
		}
		for (nr = 0; nr < FI_NR_MAX; nr++) {
			if (!r->nrs[nr])
				continue;
			if (!fresh[nr]) {
				size_t k, more = 0;

				for (k = i; k < n; k++)
					more += rules[k]->nrs[nr] ? 1 : 0;
				fresh[nr] = rlist_grow(rs->bynr[nr], more);
				if (!fresh[nr]) {
					err = -ENOMEM;
					goto out;
				}
			}
			fresh[nr]->r[fresh[nr]->n++] = r;
		}
	}
	/* Everything is allocated: publish. Counting starts now. */
	for (i = 0; i < n; i++) {
		rules[i]->index = rs->next_index++;
		all->r[all->n++] = rules[i];
	}
	for (nr = 0; nr < FI_NR_MAX; nr++) {
		if (!fresh[nr])
			continue;
		set_quick(fresh[nr]);
		retire(rs, rs->bynr[nr]);
		STORE(&rs->bynr[nr], fresh[nr]);
		fresh[nr] = NULL;
	}
	retire(rs, rs->all);
	STORE(&rs->all, all);
	all = NULL;
out:
	if (fresh)
		for (nr = 0; nr < FI_NR_MAX; nr++)
			fi__mem_free(fresh[nr]);
	fi__mem_free(fresh);
	fi__mem_free(all);
	pthread_mutex_unlock(&rs->lock);
	return err;
}

int fi__rules_add(struct fi__ruleset *rs, struct fi__rule *rule)
{
	return fi__rules_add_batch(rs, &rule, 1);
}

int fi__rules_expect(struct fi__ruleset *rs, long nr, long result)
{
	return fi__rules_expect_at(rs, nr, result, NULL);
}

int fi__rules_expect_at(struct fi__ruleset *rs, long nr, long result,
			const char *origin)
{
	struct equeue *q;
	struct elist *old, *l;
	char *org = NULL;
	size_t n;
	int err = 0;

	if (nr < 0 || nr >= FI_NR_MAX)
		return -EINVAL;
	if (origin && !(org = fi__mem_strdup(origin)))
		return -ENOMEM;
	pthread_mutex_lock(&rs->lock);
	q = rs->exp[nr];
	if (!q) {
		q = fi__mem_calloc(1, sizeof(*q));
		if (!q) {
			err = -ENOMEM;
			goto out;
		}
	}
	old = q->list;
	n = old ? old->n : 0;
	if (n >= FI_EXPECT_MAX) {
		err = -ENOSPC;
		goto fail;
	}
	l = fi__mem_malloc(sizeof(*l) + (n + 1) * sizeof(l->e[0]));
	if (!l) {
		err = -ENOMEM;
		goto fail;
	}
	if (n)
		memcpy(l->e, old->e, n * sizeof(l->e[0]));
	l->e[n].v = result;
	l->e[n].origin = org;
	l->n = n + 1;
	STORE(&q->list, l);
	retire(rs, old);
	/* Kept, as every rule, until fi__rules_free(): the lists made by
	 * later calls share it. */
	retire(rs, org);
	org = NULL;
	if (!rs->exp[nr])
		STORE(&rs->exp[nr], q);
	goto out;
fail:
	if (!rs->exp[nr])
		fi__mem_free(q);
out:
	pthread_mutex_unlock(&rs->lock);
	fi__mem_free(org);
	return err;
}

void fi__rules_keep_base(struct fi__ruleset *rs)
{
	pthread_mutex_lock(&rs->lock);
	rs->base = rs->next_index;
	pthread_mutex_unlock(&rs->lock);
}

/* The base rules of l, in a list of their own; NULL when none (or out of
 * memory: then they go too, as before there was a base). */
static struct rlist *base_of(const struct fi__ruleset *rs,
			     const struct rlist *l)
{
	struct rlist *k;

	if (!l || !l->n || l->r[0]->index >= rs->base)
		return NULL; /* lists are in arm order: base rules first */
	k = rlist_grow(NULL, l->n);
	if (!k)
		return NULL;
	for (size_t i = 0; i < l->n && l->r[i]->index < rs->base; i++)
		k->r[k->n++] = l->r[i];
	set_quick(k);
	return k;
}

void fi__rules_clear(struct fi__ruleset *rs)
{
	size_t nr;

	pthread_mutex_lock(&rs->lock);
	for (nr = 0; nr < FI_NR_MAX; nr++) {
		struct rlist *l = rs->bynr[nr];
		struct equeue *q = rs->exp[nr];

		if (l) {
			STORE(&rs->bynr[nr], base_of(rs, l));
			retire(rs, l);
		}
		if (q) {
			STORE(&rs->exp[nr], NULL);
			retire(rs, q->list);
			retire(rs, q);
		}
	}
	if (rs->all) {
		struct rlist *all = rs->all;

		STORE(&rs->all, base_of(rs, all));
		retire(rs, all);
	}
	pthread_mutex_unlock(&rs->lock);
}

void fi__rules_interest(const struct fi__ruleset *rs, unsigned char *table)
{
	size_t nr;

	for (nr = 0; nr < FI_NR_MAX; nr++) {
		const struct rlist *l = LOAD(&rs->bynr[nr]);
		const struct equeue *q = LOAD(&rs->exp[nr]);

		if ((l && l->n) || q)
			table[nr] = 1;
	}
}

void fi__rules_seed(struct fi__ruleset *rs, uint64_t seed)
{
	RELAXED_STORE(&rs->seed, seed);
}

/* ---- reports ---- */

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void format_result(char *buf, size_t len, long v)
{
	const char *name = v < 0 ? fi__names_errno((int)-v) : NULL;

	if (v < 0 && v >= -4095 && name)
		snprintf(buf, len, "-%s", name);
	else
		snprintf(buf, len, "%ld", v);
}

/* "to fail", "to return 0": what the rule was expected to do. */
static void expected_what(const struct fi__rule *r, char *buf, size_t len)
{
	const char *sig = fi__names_signal(r->signal);

	if (r->script_len) {
		snprintf(buf, len, "to follow its script");
		return;
	}
	switch (r->action) {
	case FI_ACT_ERROR:
		snprintf(buf, len, "to fail");
		break;
	case FI_ACT_RETVAL:
		snprintf(buf, len, "to return %ld", r->value);
		break;
	case FI_ACT_SHORT:
		snprintf(buf, len, "to be cut short");
		break;
	case FI_ACT_REDIRECT:
		snprintf(buf, len, "to be redirected");
		break;
	case FI_ACT_PASS:
	default:
		if (r->signal && sig)
			snprintf(buf, len, "to raise %s", sig);
		else if (r->signal)
			snprintf(buf, len, "to raise signal %d", r->signal);
		else if (r->poke_enter || r->poke_exit)
			snprintf(buf, len, "to have its memory poked");
		else
			snprintf(buf, len, "to be delayed");
		break;
	}
}

/* How many times a script wants to act: its steps other than ok. */
static uint64_t script_need(const struct fi__rule *r)
{
	uint64_t need = 0;
	size_t i;

	for (i = 0; i < r->script_len; i++)
		need += r->script[i].kind != FI_STEP_OK;
	return need;
}

/* One line of fi__rules_verify's message, after those before it; what
 * does not fit is counted in *cut. */
static __attribute__((format(printf, 5, 6))) void
add_line(char *msg, size_t len, size_t *at, unsigned *cut, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	/* room for this line, its newline, and a last line saying what was
	 * cut */
	if (*cut || !msg || *at + n + 1 + 64 > len) {
		(*cut)++;
		return;
	}
	if (*at)
		msg[(*at)++] = '\n';
	memcpy(msg + *at, line, n + 1);
	*at += n;
}

int fi__rules_verify(const struct fi__ruleset *rs, char *msg, size_t len)
{
	const struct rlist *all;
	unsigned failures = 0, cut = 0;
	size_t i, nr, at = 0;

	if (msg && len)
		msg[0] = '\0';
	pthread_mutex_lock((pthread_mutex_t *)&rs->lock);
	for (nr = 0; nr < FI_NR_MAX; nr++) {
		const struct equeue *q = rs->exp[nr];
		const struct fi__sysinfo *s = fi__names_sys((long)nr);
		const char *origin;
		unsigned long used;
		char res[32];

		if (!q || !q->list)
			continue;
		used = LOAD(&q->next);
		if (used >= q->list->n)
			continue;
		failures++;
		format_result(res, sizeof(res), q->list->e[used].v);
		origin = q->list->e[used].origin;
		add_line(
			msg, len, &at, &cut,
			"expected %s to return %s (fi_expect #%lu of %s%s%s) but it was not called: %lu of %zu expectation%s consumed",
			s ? s->name : "?", res, used + 1, s ? s->name : "?",
			origin ? " at " : "", origin ? origin : "", used,
			q->list->n, plural(q->list->n));
	}
	all = rs->all;
	for (i = 0; all && i < all->n; i++) {
		const struct fi__rule *r = all->r[i];
		uint64_t fired = LOAD(&r->fired), matched = LOAD(&r->matched);
		uint64_t need = r->script_len ? script_need(r) : r->has_when;
		char what[64];

		if (fired >= need || r->index < rs->base)
			continue;
		failures++;
		expected_what(r, what, sizeof(what));
		if (fired == 0)
			add_line(
				msg, len, &at, &cut,
				"expected %s %s (rule \"%s\" at %s) but it never fired: %llu matching call%s",
				r->what, what, r->text, r->origin,
				(unsigned long long)matched, plural(matched));
		else
			add_line(
				msg, len, &at, &cut,
				"expected %s %s (rule \"%s\" at %s) but it fired %llu of %llu times: %llu matching call%s",
				r->what, what, r->text, r->origin,
				(unsigned long long)fired,
				(unsigned long long)need,
				(unsigned long long)matched, plural(matched));
	}
	pthread_mutex_unlock((pthread_mutex_t *)&rs->lock);
	if (!failures)
		return 0;
	if (cut && msg && len > 64)
		snprintf(msg + at, len - at, "%s(%u more that do not fit here)",
			 at ? "\n" : "", cut);
	return -EPROTO;
}

bool fi__rules_stats(const struct fi__ruleset *rs, size_t i,
		     struct fi__rule_stats *out)
{
	const struct rlist *all = LOAD(&rs->all);
	const struct fi__rule *r;

	if (!all || i >= all->n)
		return false;
	r = all->r[i];
	out->text = r->text;
	out->origin = r->origin;
	out->matched = (unsigned long)LOAD(&r->matched);
	out->fired = (unsigned long)LOAD(&r->fired);
	out->first_module = RELAXED_LOAD(&r->first_module);
	out->first_offset = RELAXED_LOAD(&r->first_offset);
	out->first_pid = RELAXED_LOAD(&r->first_pid);
	return true;
}

bool fi__rules_need_site(const struct fi__ruleset *rs, unsigned char *table)
{
	bool any = false;

	for (size_t nr = 0; nr < FI_NR_MAX; nr++) {
		const struct rlist *l = LOAD(&rs->bynr[nr]);
		for (size_t i = 0; l && i < l->n; i++)
			if (l->r[i]->nsites) {
				any = true;
				if (table)
					table[nr] = 1;
				break;
			}
	}
	return any;
}

/* Rules decided by the syscall number alone, that only fail or fake a
 * result: the quick path's kind. */
static bool filterless(const struct fi__rule *r)
{
	return !r->has_fd && !r->nsites && !r->comm && !r->proc && !r->thread &&
	       !r->path && !r->per_thread && !r->per_syscall &&
	       !r->script_len && !r->has_prob && !r->delay_ns &&
	       !r->delay_exit_ns && !r->signal && !r->instead &&
	       !r->poke_enter && !r->poke_exit && !r->has_flags &&
	       (r->action == FI_ACT_ERROR || r->action == FI_ACT_RETVAL);
}

/* One plain add to memory: a count that is statistics only. Under
 * contention an add may be lost (the summary then says a little less);
 * when= counts use locked adds instead. */
static inline void bump(uint64_t *p)
{
	__asm__ volatile("addq $1, %0" : "+m"(*p));
}

int fi__rules_quick(struct fi__ruleset *rs, long nr, long *result)
{
	const struct rlist *l = LOAD(&rs->bynr[nr]);
	int acted = 0;

	if (l) {
		if (!l->quick)
			return FI_QUICK_MORE; /* some rule needs the whole call */
		for (size_t i = 0; i < l->n; i++)
			if (RELAXED_LOAD(&l->r[i]->fired) == 0)
				return FI_QUICK_MORE; /* the first firing records where */
	}
	if (LOAD(&rs->exp[nr]) && claim_expect(rs, nr, result))
		acted = 1;
	for (size_t i = 0; l && i < l->n; i++) {
		struct fi__rule *r = l->r[i];
		if (r->has_when) {
			uint64_t n = FETCH_ADD(&r->matched, 1) + 1;
			if (acted || !fi__rules_when(&r->when, n))
				continue;
		} else {
			bump(&r->matched);
			if (acted)
				continue;
		}
		acted = 1;
		*result = r->action == FI_ACT_ERROR ? -r->value : r->value;
		bump(&r->fired);
	}
	return acted ? FI_QUICK_DONE : FI_QUICK_PASS;
}

void fi__rules_forked(struct fi__ruleset *rs)
{
	const struct rlist *all = LOAD(&rs->all);
	/* A thread of the parent may have been arming a rule; it is gone,
	 * so the lock starts anew. (Not pthread_atfork: registering a
	 * handler would set up the program's heap at load.) */
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	rs->lock = fresh;
	for (size_t i = 0; all && i < all->n; i++) {
		struct fi__rule *r = all->r[i];
		RELAXED_STORE(&r->matched, 0);
		RELAXED_STORE(&r->fired, 0);
		RELAXED_STORE(&r->draws, 0);
		RELAXED_STORE(&r->overflow, 0);
		for (size_t k = 0; r->slots && k < FI_PER_THREAD_SLOTS; k++) {
			RELAXED_STORE(&r->slots[k].key, 0);
			RELAXED_STORE(&r->slots[k].count, 0);
		}
	}
}
