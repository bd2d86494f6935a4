/* replay_image.c: a trace cut into process images, the unit in which
 * libfi counts a rule's calls (docs/rules.md: a forked child starts from
 * zero, an exec'd program arms its rules afresh, a vfork child counts
 * with its parent). Compiling and comparing both work on images. */
#include "replay.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fi_run.h"
#include "names.h"

#define CLONE_VFORK_BIT 0x4000UL
#define CLONE_THREAD_BIT 0x10000UL
#define NONE SIZE_MAX

struct proc {
	int pid;
	size_t image;	/* its current image */
	bool exec_next; /* strace: an execve succeeded, a new image next */
	int parent;	/* the pid that made it, 0 if unknown */
	size_t made_at; /* the record that made it */
	bool vfork;
};

struct procs {
	struct proc *v;
	size_t n;
};

static struct proc *find(struct procs *ps, int pid, bool add)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].pid == pid)
			return &ps->v[i];
	if (!add)
		return NULL;
	ps->v = realloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
	if (!ps->v) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	memset(&ps->v[ps->n], 0, sizeof(*ps->v));
	ps->v[ps->n].pid = pid;
	ps->v[ps->n].image = NONE;
	ps->v[ps->n].made_at = NONE;
	return &ps->v[ps->n++];
}

static void *grow(void *p, size_t n, size_t size)
{
	/* Doubling at powers of two: n is the count before adding one. */
	if (n & (n - 1) && n)
		return p;
	p = realloc(p, (n ? 2 * n : 1) * size);
	if (!p) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	return p;
}

/* A process's name from an execve path: its last component, 15 bytes. */
static char *comm_of(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;
	char *c;

	if (!path)
		return NULL;
	c = fi__util_xstrdup(b ? b + 1 : path);
	if (strlen(c) > 15)
		c[15] = '\0';
	return c;
}

static size_t new_image(struct fi__rimages *im, int pid, size_t parent,
			bool exec, const char *comm)
{
	struct fi__rimage *m;

	im->v = grow(im->v, im->n, sizeof(*im->v));
	m = &im->v[im->n];
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	m->parent = parent;
	m->exec = exec;
	m->counts = im->n;
	m->comm = comm ? fi__util_xstrdup(comm) : NULL;
	return im->n++;
}

static void add_rec(struct fi__rimage *m, size_t rec, int tid)
{
	size_t i;

	m->recs = grow(m->recs, m->nrecs, sizeof(*m->recs));
	m->recs[m->nrecs++] = rec;
	for (i = 0; i < m->ntids && m->tids[i] != tid; i++)
		;
	if (i == m->ntids) {
		m->tids = grow(m->tids, m->ntids, sizeof(*m->tids));
		m->tids[m->ntids++] = tid;
	}
}

/* g's threads in creation order, numbered as libfi numbers them: the
 * first 1, then one number for each clone(CLONE_THREAD) of g, in the
 * trace's order (a thread that made no call keeps its number); threads
 * made by no record of g after them, unnumbered (0). */
static void creation_order(const struct fi__rtrace *t, struct fi__rimage *g)
{
	int *order = fi__util_xmalloc((g->ntids + 1) * sizeof(*order));
	size_t n = 0;
	int number = 1;

	g->tnum = fi__util_xmalloc((g->ntids + 1) * sizeof(*g->tnum));
	for (size_t i = 0; i < g->ntids; i++)
		if (g->tids[i] == g->pid) {
			g->tnum[n] = 1;
			order[n++] = g->pid;
			g->tids[i] = 0; /* taken */
		}
	for (size_t k = 0; k < g->nrecs && n; k++) {
		const struct fi__rrec *r = &t->r[g->recs[k]];
		const struct fi__sysinfo *si = fi__names_sys(r->nr);

		if (!(r->flags & CLONE_THREAD_BIT) || !r->has_ret ||
		    r->ret <= 0 || !si ||
		    (strcmp(si->name, "clone") && strcmp(si->name, "clone3")))
			continue;
		number++;
		for (size_t i = 0; i < g->ntids; i++)
			if (g->tids[i] && g->tids[i] == (int)r->ret) {
				g->tnum[n] = number;
				order[n++] = g->tids[i];
				g->tids[i] = 0;
				break;
			}
	}
	for (size_t i = 0; i < g->ntids; i++)
		if (g->tids[i]) {
			g->tnum[n] = 0;
			order[n++] = g->tids[i];
		}
	free(g->tids);
	g->tids = order;
}

void fi__replay_images(const struct fi__rtrace *t, struct fi__rimages *im)
{
	struct procs ps = {0};
	long nr_munmap = fi__names_sys_nr("munmap");
	long nr_execve = fi__names_sys_nr("execve");

	memset(im, 0, sizeof(*im));
	/* Who made whom: fork, vfork, clone, clone3 that made no thread. */
	for (size_t i = 0; i < t->n; i++) {
		const struct fi__rrec *r = &t->r[i];
		const struct fi__sysinfo *si = fi__names_sys(r->nr);
		struct proc *c;

		if (!si || !(si->classes & FI_CLASS_PROCESS) || !r->has_ret ||
		    r->ret <= 0 || (r->flags & CLONE_THREAD_BIT) ||
		    (strcmp(si->name, "fork") && strcmp(si->name, "vfork") &&
		     strcmp(si->name, "clone") && strcmp(si->name, "clone3")))
			continue;
		if ((int)r->ret == r->pid)
			continue;
		c = find(&ps, (int)r->ret, true);
		c->parent = r->pid;
		c->made_at = i;
		c->vfork = (r->flags & CLONE_VFORK_BIT) != 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct fi__rrec *r = &t->r[i];
		struct proc *p = find(&ps, r->pid, true);
		struct fi__rimage *m;

		if (p->image == NONE) {
			struct proc *pp =
				p->parent ? find(&ps, p->parent, false) : NULL;
			size_t parent = pp ? pp->image : NONE;
			bool root_exec = t->strace && r->new_image &&
					 parent == NONE;

			p->image = new_image(im, r->pid, parent, root_exec,
					     root_exec ? NULL
					     : parent != NONE
						     ? im->v[parent].comm
						     : r->comm);
			m = &im->v[p->image];
			if (root_exec) {
				free((char *)m->comm);
				m->comm = comm_of(r->path);
			}
			if (p->vfork && parent != NONE) {
				m->shares = true;
				m->counts = im->v[parent].counts;
			}
			m->order = p->made_at; /* made a rank below */
		} else if ((t->strace && p->exec_next) ||
			   (!t->strace && r->seq == 1)) {
			size_t old = p->image;
			char *comm = t->strace ? NULL : r->comm;

			for (size_t k = im->v[old].nrecs;
			     k-- > 0 && t->strace;) {
				const struct fi__rrec *x =
					&t->r[im->v[old].recs[k]];

				if (x->nr == nr_execve && x->new_image) {
					comm = comm_of(x->path);
					break;
				}
			}
			p->image = new_image(im, r->pid, old, true, comm);
			if (t->strace)
				free(comm);
		}
		/* strace's own exec of the program starts the root image */
		p->exec_next = r->new_image && im->v[p->image].nrecs > 0;
		m = &im->v[p->image];
		add_rec(m, i, r->tid);
	}
	size_t *made = fi__util_xmalloc((im->n + 1) * sizeof(*made));

	for (size_t k = 0; k < im->n; k++)
		made[k] = im->v[k].order;
	for (size_t k = 0; k < im->n; k++) {
		struct fi__rimage *m = &im->v[k];
		size_t rank = 0;

		/* The loader's own calls come before fi starts, up to the
		 * first munmap (of ld.so.cache) of an exec'd image. */
		if (t->strace && m->exec) {
			for (m->first = 0;
			     m->first < m->nrecs &&
			     t->r[m->recs[m->first]].nr != nr_munmap;
			     m->first++)
				;
			if (m->first == m->nrecs)
				m->first = 0;
		}
		if (m->exec)
			continue;
		for (size_t j = 0; j < im->n; j++)
			if (j != k && !im->v[j].exec &&
			    im->v[j].parent == m->parent && made[j] < made[k])
				rank++;
		m->order = rank;
	}
	free(made);
	free(ps.v);
	for (size_t k = 0; k < im->n; k++)
		creation_order(t, &im->v[k]);
}

int fi__replay_thread_number(const struct fi__rimage *g, int tid)
{
	for (size_t i = 0; i < g->ntids; i++)
		if (g->tids[i] == tid)
			return g->tnum ? g->tnum[i] : 0;
	return 0;
}

bool fi__replay_in_loader(const struct fi__rimages *im, size_t m, size_t k)
{
	return k < im->v[m].first;
}

void fi__replay_images_free(struct fi__rimages *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free((char *)im->v[i].comm);
		free(im->v[i].recs);
		free(im->v[i].tids);
		free(im->v[i].tnum);
	}
	free(im->v);
	memset(im, 0, sizeof(*im));
}
