/* sweep_plan.c: the sweep's second stage. Each (syscall, site) pair gets
 * the errnos its syscall can return with the arguments the discovery run
 * saw (sweep_errnos.c), each fault one rule on that site:
 * "write site=prog+0x1a2b when=1 error=ENOSPC". */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "scn_value.h"
#include "sweep.h"

/* Is name in the comma list? A NULL list holds everything. */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while (*p) {
		size_t l = strcspn(p, ",");

		if (l == n && !strncmp(p, name, n))
			return true;
		p += l;
		p += *p == ',';
	}
	return false;
}

/* Every word of the list must be known; "--syscalls: unknown ..." else. */
static int check_list(const char *opt, const char *list, bool syscalls)
{
	const char *p = list;

	if (!list)
		return 0;
	while (*p) {
		size_t l = strcspn(p, ",");
		char word[64];

		if (l == 0 || l >= sizeof(word)) {
			fi__util_error(
				"%s: '%s' is not a comma-separated list of names",
				opt, list);
			return FI_RUN_EXIT_USAGE;
		}
		memcpy(word, p, l);
		word[l] = '\0';
		if (syscalls ? fi__names_sys_nr(word) < 0
			     : fi__names_errno_nr(word) < 0) {
			struct fi__scn_suggest sg = FI_SCN_SUGGEST(word);
			const char *s;

			for (int i = 0; syscalls && i < FI_NR_MAX; i++)
				if (fi__names_sys(i))
					fi__scn_consider(
						&sg, fi__names_sys(i)->name);
			for (int i = 1; !syscalls && i < 4096; i++)
				fi__scn_consider(&sg, fi__names_errno(i));
			s = fi__scn_suggestion(&sg);
			fi__util_error("%s: unknown %s '%s'%s%s%s", opt,
				       syscalls ? "syscall" : "errno", word,
				       s ? "; did you mean '" : "", s ? s : "",
				       s ? "'?" : "");
			return FI_RUN_EXIT_USAGE;
		}
		p += l;
		p += *p == ',';
	}
	return 0;
}

/* The site as a glob that matches only itself. */
static char *site_glob(const char *site)
{
	char *out = fi__util_xmalloc(2 * strlen(site) + 1), *o = out;

	for (const char *p = site; *p; p++) {
		if (strchr("*?[]\\", *p))
			*o++ = '\\';
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

static char *make_rule(const struct fi__sweep_site *s, const char *err,
		       enum fi__sweep_kind kind)
{
	char *glob = site_glob(s->site), *rule;
	char when[32];
	size_t n;

	if (kind == FI_SWEEP_PERSISTENT)
		snprintf(when, sizeof(when), "1+");
	else if (kind == FI_SWEEP_REPEAT)
		snprintf(when, sizeof(when), "1..%d", FI_SWEEP_STREAK);
	else
		snprintf(when, sizeof(when), "1");
	n = strlen(s->syscall) + strlen(glob) + strlen(when) + strlen(err) + 32;
	rule = fi__util_xmalloc(n);
	snprintf(rule, n, "%s site=%s when=%s error=%s", s->syscall, glob, when,
		 err);
	free(glob);
	return rule;
}

static struct fi__sweep_run *push(struct fi__sweep_plan *p)
{
	struct fi__sweep_run *r;

	p->v = fi__util_xgrow(p->v, p->n, &p->cap, sizeof(*p->v), 64);
	r = &p->v[p->n++];
	memset(r, 0, sizeof(*r));
	r->fired = -1;
	return r;
}

int fi__sweep_plan(const struct fi__sweep_sites *s,
		   const struct fi__sweep_opts *o, struct fi__sweep_plan *p)
{
	size_t id = 0;
	bool more = true;

	memset(p, 0, sizeof(*p));
	if (check_list("--syscalls", o->syscalls, true) ||
	    check_list("--errnos", o->errnos, false))
		return FI_RUN_EXIT_USAGE;
	/* Rank by rank: the most plausible errno of every site comes before
	 * the second of any, so --max-runs keeps the best of each. */
	for (size_t rank = 0; more; rank++) {
		more = false;
		for (size_t i = 0; i < s->n; i++) {
			const char *const *errs =
				fi__sweep_errnos(s->v[i].syscall);
			size_t have = 0;
			const char *err = NULL;

			if (!errs || !listed(o->syscalls, s->v[i].syscall))
				continue;
			/* the rank-th errno that --errnos and the call's
			 * arguments let through */
			for (size_t e = 0; e < 6 && errs[e]; e++) {
				if (!listed(o->errnos, errs[e]) ||
				    !fi__sweep_errno_fits(s->v[i].syscall,
							  errs[e],
							  &s->v[i].call))
					continue;
				if (have++ == rank)
					err = errs[e];
			}
			if (!err)
				continue;
			more = true;
			if (o->max_runs && id >= o->max_runs)
				continue;
			if (!o->shard_n || id % o->shard_n == o->shard_k - 1) {
				struct fi__sweep_run *r = push(p);

				r->id = id;
				r->site = i;
				r->err = err;
				r->kind = o->persistent ? FI_SWEEP_PERSISTENT
							: FI_SWEEP_ONCE;
				r->rule = make_rule(&s->v[i], err, r->kind);
			}
			id++;
		}
	}
	p->total = id;
	return 0;
}

bool fi__sweep_site_swept(const struct fi__sweep_site *s)
{
	const char *const *errs = fi__sweep_errnos(s->syscall);

	for (size_t e = 0; errs && e < 6 && errs[e]; e++)
		if (fi__sweep_errno_fits(s->syscall, errs[e], &s->call))
			return true;
	return false;
}

struct fi__sweep_run *fi__sweep_plan_repeat(struct fi__sweep_plan *p,
					    const struct fi__sweep_sites *s,
					    size_t parent)
{
	struct fi__sweep_run src = p->v[parent], *r = push(p);

	r->id = p->total + src.id;
	r->site = src.site;
	r->err = src.err;
	r->kind = FI_SWEEP_REPEAT;
	r->rule = make_rule(&s->v[src.site], src.err, r->kind);
	return r;
}

void fi__sweep_plan_free(struct fi__sweep_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].rule);
		free(p->v[i].detail);
		json_decref(p->v[i].result);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}
