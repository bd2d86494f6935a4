/* replay_diverge.c: after a replay, where the live run departed from the
 * trace. Images are paired along the process tree (the root with the
 * root, an exec with the exec, a parent's k-th child with the k-th
 * child), threads in order of appearance, and each thread's calls are
 * compared in order by name and path or fd. */
#include "replay.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fi_run.h"
#include "names.h"

#define NONE SIZE_MAX
#define RESYNC 64 /* how far on -v looks for the calls to meet again */

struct side {
	const struct fi__rtrace *t;
	struct fi__rimages im;
};

/* The calls of thread tid of image m worth comparing, in order. */
static size_t calls(const struct side *s, size_t m, int tid, size_t *out)
{
	const struct fi__rimage *g = &s->im.v[m];
	long sigret = fi__names_sys_nr("rt_sigreturn");
	long brk = fi__names_sys_nr("brk"), rnd = fi__names_sys_nr("getrandom");
	size_t n = 0;

	/* Not compared: rt_sigreturn, which fi never sees, and the heap's
	 * set-up (brk, getrandom), part of which ld.so makes before libfi
	 * starts (a strace log has it, fi's trace does not). */
	for (size_t k = g->first; k < g->nrecs; k++) {
		const struct fi__rrec *r = &s->t->r[g->recs[k]];

		if (r->tid == tid && r->nr != sigret && r->nr != brk &&
		    r->nr != rnd)
			out[n++] = g->recs[k];
	}
	return n;
}

static bool same(const struct fi__rrec *a, const struct fi__rrec *b)
{
	if (a->nr != b->nr)
		return false;
	if (a->path || b->path)
		return a->path && b->path && !strcmp(a->path, b->path);
	return !(a->has_fd && b->has_fd) || a->fd == b->fd;
}

static void say(const struct side *w, const struct side *g, size_t wi,
		size_t gi, int pid, int gpid)
{
	char a[200] = "no more calls", b[200] = "no more calls";
	unsigned line = wi != NONE ? w->t->r[wi].line : 0;

	if (wi != NONE)
		fi__replay_describe(&w->t->r[wi], a, sizeof(a));
	if (gi != NONE)
		fi__replay_describe(&g->t->r[gi], b, sizeof(b));
	if (line)
		fprintf(stderr,
			"fi: replay diverged at record %u (pid %d): trace has %s, run has %s (pid %d)\n",
			line, pid, a, b, gpid);
	else
		fprintf(stderr,
			"fi: replay diverged after the last record of pid %d: trace has %s, run has %s (pid %d)\n",
			pid, a, b, gpid);
}

/* Compare one pair of threads; returns the divergences found. */
static size_t thread_pair(const struct side *w, size_t wm, int wt,
			  const struct side *g, size_t gm, int gt, bool all,
			  bool *said)
{
	size_t *a = fi__util_xmalloc((w->im.v[wm].nrecs + 1) * sizeof(size_t));
	size_t *b = fi__util_xmalloc((g->im.v[gm].nrecs + 1) * sizeof(size_t));
	size_t na = calls(w, wm, wt, a), nb = calls(g, gm, gt, b);
	size_t i = 0, j = 0, found = 0;

	while (i < na || j < nb) {
		size_t d, x = 0, y = 0;
		bool met = false;

		if (i < na && j < nb && same(&w->t->r[a[i]], &g->t->r[b[j]])) {
			i++, j++;
			continue;
		}
		found++;
		if (!*said || all)
			say(w, g, i < na ? a[i] : NONE, j < nb ? b[j] : NONE,
			    w->im.v[wm].pid, g->im.v[gm].pid);
		*said = true;
		if (!all)
			break;
		/* Meet again: the nearest pair from which three calls agree
		 * (or both threads end). */
		for (d = 1; d <= RESYNC && !met; d++)
			for (size_t dx = 0; dx <= d && !met; dx++) {
				size_t k, dy = d - dx;

				for (k = 0; k < 3 && i + dx + k < na &&
					    j + dy + k < nb &&
					    same(&w->t->r[a[i + dx + k]],
						 &g->t->r[b[j + dy + k]]);
				     k++)
					;
				met = k == 3 || (k > 0 && i + dx + k == na &&
						 j + dy + k == nb);
				x = dx;
				y = dy;
			}
		if (!met)
			break;
		i += x;
		j += y;
	}
	free(a);
	free(b);
	return found;
}

static size_t child(const struct fi__rimages *im, size_t parent, bool exec,
		    size_t order)
{
	for (size_t k = 0; k < im->n; k++)
		if (im->v[k].parent == parent && im->v[k].exec == exec &&
		    (exec || im->v[k].order == order))
			return k;
	return NONE;
}

static size_t image_pair(const struct side *w, size_t wm, const struct side *g,
			 size_t gm, bool all)
{
	const struct fi__rimage *a = &w->im.v[wm], *b = &g->im.v[gm];
	size_t found = 0, n = a->ntids > b->ntids ? a->ntids : b->ntids;
	bool said = false;

	for (size_t k = 0; k < n; k++) {
		if (k >= a->ntids || k >= b->ntids) {
			found++;
			if (!said || all)
				fprintf(stderr,
					"fi: replay diverged in pid %d: the trace has %zu thread%s, the run %zu (pid %d)\n",
					a->pid, a->ntids,
					a->ntids == 1 ? "" : "s", b->ntids,
					b->pid);
			said = true;
			break;
		}
		found += thread_pair(w, wm, a->tids[k], g, gm, b->tids[k], all,
				     &said);
	}
	/* Then what each made: its exec, its children. */
	for (size_t k = 0; k < w->im.n || k < g->im.n; k++) {
		bool exec = k == 0;
		size_t order = exec ? 0 : k - 1;
		size_t wc = child(&w->im, wm, exec, order);
		size_t gc = child(&g->im, gm, exec, order);

		if (wc == NONE && gc == NONE) {
			if (!exec)
				break;
			continue;
		}
		if (wc != NONE && gc != NONE) {
			found += image_pair(w, wc, g, gc, all);
			continue;
		}
		found++;
		if (wc != NONE)
			fprintf(stderr,
				"fi: replay diverged at record %u (pid %d): the trace has a process%s%s%s that the run did not make\n",
				w->t->r[w->im.v[wc].recs[0]].line,
				w->im.v[wc].pid, w->im.v[wc].comm ? " (" : "",
				w->im.v[wc].comm ? w->im.v[wc].comm : "",
				w->im.v[wc].comm ? ")" : "");
		else
			fprintf(stderr,
				"fi: replay diverged in pid %d: the run made a process%s%s%s (pid %d) that the trace does not have\n",
				a->pid, g->im.v[gc].comm ? " (" : "",
				g->im.v[gc].comm ? g->im.v[gc].comm : "",
				g->im.v[gc].comm ? ")" : "", g->im.v[gc].pid);
	}
	return found;
}

size_t fi__replay_diverge(const struct fi__rtrace *want,
			  const struct fi__rtrace *got, bool verbose)
{
	struct side w = {.t = want}, g = {.t = got};
	size_t found = 0, wr, gr;

	fi__replay_images(want, &w.im);
	fi__replay_images(got, &g.im);
	wr = child(&w.im, NONE, false, 0);
	gr = child(&g.im, NONE, false, 0);
	if (wr == NONE)
		wr = child(&w.im, NONE, true, 0);
	if (wr != NONE && gr != NONE)
		found = image_pair(&w, wr, &g, gr, verbose);
	else if (wr != NONE) {
		fprintf(stderr,
			"fi: replay diverged at record %u: the run recorded no call at all\n",
			want->r[w.im.v[wr].recs[0]].line);
		found = 1;
	}
	fi__replay_images_free(&w.im);
	fi__replay_images_free(&g.im);
	return found;
}
