/* replay_compile.c: a trace's failures as rules. Each failing (or
 * injected) record becomes one rule keyed by its position: the syscall,
 * its path or fd, the process's name, and its ordinal among the calls of
 * its process image (of its thread, when the image has several) that
 * match the same filters, which is exactly what the rule's when= counts
 * in the live run (docs/replay.md). */
#include "replay.h"

#define _GNU_SOURCE 1
#include <search.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fi_run.h"
#include "names.h"

struct out_rule {
	unsigned src, line;
	char *text;
};

/* s with the glob's special characters quoted, then made fit for a
 * quoted value: a new string. */
static char *quote(const char *s)
{
	char *q = fi__util_xmalloc(4 * strlen(s) + 3), *o = q;

	*o++ = '"';
	for (; *s; s++) {
		if (strchr("*?[]\\", *s)) {
			*o++ = '\\';
			*o++ = '\\';
		}
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/* Whether the rule language can say this call's position at all. */
static bool sayable(const struct fi__rrec *r, const char *comm)
{
	return !(r->path && strpbrk(r->path, "\n\r")) &&
	       !(comm && strpbrk(comm, "\n\r"));
}

/* Where a record stands: its process's place below its image (proc=,
 * NULL to leave it out) and its thread's number in creation order
 * (thread=, 0 to count per=thread instead; -1 when alone). */
struct place {
	const char *proc;
	int thread;
};

/* The filters that pick out calls like r: "write fd=1 comm=\"sh\"". */
static char *filters(const struct fi__rrec *r, const char *comm,
		     const struct place *at)
{
	const struct fi__sysinfo *si = fi__names_sys(r->nr);
	char *path = r->path ? quote(r->path) : NULL;
	char *c = comm ? quote(comm) : NULL, *s;
	char fd[32] = "", thread[32] = "";

	if (!path && r->has_fd && r->fd >= 0)
		snprintf(fd, sizeof(fd), " fd=%d", r->fd);
	if (at->thread > 0)
		snprintf(thread, sizeof(thread), " thread=%d", at->thread);
	else if (at->thread == 0)
		snprintf(thread, sizeof(thread), " per=thread");
	if (asprintf(&s, "%s%s%s%s%s%s%s%s%s", si->name, path ? " path=" : "",
		     path ? path : "", fd, c ? " comm=" : "", c ? c : "",
		     at->proc ? " proc=" : "", at->proc ? at->proc : "",
		     thread) < 0) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	free(path);
	free(c);
	return s;
}

#define CLONE_THREAD_BIT 0x10000UL

/* Image m's place below its image, as libfi numbers it (lineage.c): "0"
 * for an image that began with an exec, or the first; else its parent's
 * place and its number among the parent's children. A vfork child
 * stands where its parent does. A new string. */
static char *proc_path(const struct fi__rimages *im, size_t m)
{
	const struct fi__rimage *g = &im->v[im->v[m].counts];
	char *parent, *s;
	int n;

	if (g->exec || g->parent == SIZE_MAX)
		return fi__util_xstrdup("0");
	parent = proc_path(im, g->parent);
	if (!strcmp(parent, "0"))
		n = asprintf(&s, "%zu", g->order + 1);
	else
		n = asprintf(&s, "%s.%zu", parent, g->order + 1);
	if (n < 0) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	free(parent);
	return s;
}

/* What the live run must do at this call, or NULL when nothing. */
static const char *action(const struct fi__rrec *r, char *buf, size_t len)
{
	const char *e;

	if (!r->has_ret || (r->ret >= 0 && !r->injected))
		return NULL;
	if (r->ret < 0 && r->ret >= -4095) {
		e = fi__names_errno((int)-r->ret);
		if (e)
			snprintf(buf, len, "error=%s", e);
		else
			snprintf(buf, len, "error=%ld", -r->ret);
	} else if (fi__names_argindex(r->nr, FI_ARG_COUNT) >= 0 ||
		   fi__names_argindex(r->nr, FI_ARG_IOVCNT) >= 0) {
		snprintf(buf, len, "short=%ld", r->ret);
	} else {
		snprintf(buf, len, "retval=%ld", r->ret);
	}
	return buf;
}

static int by_line(const void *a, const void *b)
{
	const struct out_rule *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

size_t fi__replay_compile(const struct fi__rtrace *t, FILE *const *f,
			  bool verbose)
{
	struct fi__rimages im;
	struct hsearch_data counts;
	struct out_rule *out = fi__util_xmalloc((t->n + 1) * sizeof(*out));
	char **keys = fi__util_xmalloc((t->n + 1) * sizeof(*keys));
	size_t nout = 0, nkeys = 0, loader = 0, unsayable = 0, written = 0;
	unsigned at = 1, src = 0;
	long nr_exit = fi__names_sys_nr("exit"),
	     nr_exitg = fi__names_sys_nr("exit_group");

	size_t *rec_image = fi__util_xmalloc((t->n + 1) * sizeof(size_t));
	size_t *rec_k = fi__util_xmalloc((t->n + 1) * sizeof(size_t));

	fi__replay_images(t, &im);
	/* proc= as soon as one process forked: a rule of the first process
	 * would count in a forked child too (and the other way round). */
	char **paths = fi__util_xmalloc((im.n + 1) * sizeof(*paths));
	bool forked = false;

	for (size_t m = 0; m < im.n; m++) {
		paths[m] = proc_path(&im, m);
		forked |= strcmp(paths[m], "0") != 0;
	}
	memset(&counts, 0, sizeof(counts));
	if (!hcreate_r(2 * t->n + 16, &counts)) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	/* Records in file order, in which libfi's counters see them within
	 * one process; a vfork child counts in its parent's counters. */
	for (size_t m = 0; m < im.n; m++)
		for (size_t k = 0; k < im.v[m].nrecs; k++) {
			rec_image[im.v[m].recs[k]] = m;
			rec_k[im.v[m].recs[k]] = k;
		}
	for (size_t i = 0; i < t->n; i++) {
		size_t m = rec_image[i], k = rec_k[i];
		const struct fi__rimage *g = &im.v[m];
		bool threads = im.v[g->counts].ntids > 1 || g->ntids > 1;
		struct place where = {
			.proc = forked ? paths[m] : NULL,
			.thread = threads ? fi__replay_thread_number(
						    g, t->r[i].tid)
					  : -1,
		};

		{
			const struct fi__rrec *r = &t->r[i];
			char abuf[48], *key, *flt;
			const char *act = action(r, abuf, sizeof(abuf));
			ENTRY e, *found;
			uintptr_t n;

			if (r->nr == nr_exit || r->nr == nr_exitg)
				continue;
			if (fi__replay_in_loader(&im, m, k)) {
				if (act) {
					char d[160];

					loader++;
					fi__replay_describe(r, d, sizeof(d));
					if (verbose)
						fprintf(stderr,
							"fi: replay: %s:%u: %s failed (%s) in the dynamic loader, before fi starts: not replayed\n",
							t->files[r->src],
							r->line, d, abuf);
				}
				continue;
			}
			flt = filters(r, g->comm, &where);
			if (asprintf(&key, "%zu %d %s", g->counts,
				     threads ? r->tid : 0, flt) < 0) {
				fputs("fi-run: out of memory\n", stderr);
				exit(FI_RUN_EXIT_USAGE);
			}
			e.key = key;
			e.data = NULL;
			hsearch_r(e, ENTER, &found, &counts);
			if (found->key != key)
				free(key);
			else
				keys[nkeys++] = key;
			n = (uintptr_t)found->data + 1;
			found->data = (void *)n;
			if (act && !sayable(r, g->comm)) {
				unsayable++;
				fprintf(stderr,
					"fi: replay: %s:%u: a path or name with a newline cannot be matched by a rule: not replayed\n",
					t->files[r->src], r->line);
			} else if (act) {
				out[nout].src = r->src;
				out[nout].line = r->line;
				if (asprintf(&out[nout].text, "%s when=%zu %s",
					     flt, (size_t)n, act) < 0) {
					fputs("fi-run: out of memory\n",
					      stderr);
					exit(FI_RUN_EXIT_USAGE);
				}
				nout++;
			}
			free(flt);
		}
	}
	/* One rule a line, on the line of its record; the same rule from
	 * two images (two processes of one name) once. */
	qsort(out, nout, sizeof(*out), by_line);
	for (size_t i = 0; i < nout; i++) {
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = out[j].text && !strcmp(out[j].text, out[i].text);
		if (!dup) {
			if (out[i].src != src) {
				src = out[i].src;
				at = 1;
			}
			for (; at < out[i].line; at++)
				fputc('\n', f[src]);
			fprintf(f[src], "%s\n", out[i].text);
			at++;
			written++;
		}
	}
	for (size_t i = 0; i < nout; i++)
		free(out[i].text);
	free(rec_image);
	free(rec_k);
	for (size_t m = 0; m < im.n; m++)
		free(paths[m]);
	free(paths);
	if (loader && !verbose)
		fprintf(stderr,
			"fi: replay: %s: %zu failed call%s of the dynamic loader, before fi starts, cannot be replayed (-v lists them)\n",
			t->file, loader, loader == 1 ? "" : "s");
	hdestroy_r(&counts);
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(out);
	fi__replay_images_free(&im);
	return written;
}
