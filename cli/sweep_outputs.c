/* sweep_outputs.c: what a run left behind (its stdout and the files of
 * its working directory) and the comparison with the baseline runs.
 * Output that differs among the baselines is masked, not flagged:
 *  - an output all baselines agree on must come back byte for byte;
 *  - with the same number of lines, a line they agree on must too, a
 *    line that differs only in its digits (times, pids) must come back
 *    with digits of its own, and any other line that differs is skipped;
 *  - an output whose line count differs among them, or that only some
 *    of them left, is not compared at all.
 * The run's own working directory in an output reads as "{}". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep.h"

#define MAX_OUTPUT (64u << 20) /* bytes read of one output */

/* Up to max bytes of fd from offset 0; a new string. */
static char *slurp_fd(int fd, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = fi__util_xmalloc(cap + 1);
	ssize_t r;

	while (n < max && (r = pread(fd, buf + n, cap - n, (off_t)n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf) {
				fi__util_error("out of memory");
				exit(FI_RUN_EXIT_USAGE);
			}
		}
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *fi__sweep_slurp(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf;

	*len = 0;
	if (fd < 0)
		return NULL;
	buf = slurp_fd(fd, max, len);
	close(fd);
	return buf;
}

char *fi__sweep_slurp_file(const struct fi__sweep_file *f, size_t max,
			   size_t *len)
{
	if (f->fd < 0)
		return fi__sweep_slurp(f->path, max, len);
	return slurp_fd(f->fd, max, len);
}

/* Replace every occurrence of `from` in b by "{}". */
static void unpath(struct fi__sweep_blob *b, const char *from)
{
	size_t fl = strlen(from), o = 0;

	if (!b->data || !fl)
		return;
	for (size_t i = 0; i < b->len;) {
		if (i + fl <= b->len && !memcmp(b->data + i, from, fl)) {
			b->data[o++] = '{';
			b->data[o++] = '}';
			i += fl;
		} else {
			b->data[o++] = b->data[i++];
		}
	}
	b->len = o;
	b->data[o] = '\0';
}

static void push(struct fi__sweep_snap *s, const char *name, char *data,
		 size_t len)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!s->v) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	s->v[s->n].name = fi__util_xstrdup(name);
	s->v[s->n].data = data ? data : fi__util_xstrdup("");
	s->v[s->n].len = data ? len : 0;
	s->n++;
}

/* The files under dir, named ./PATH below the work dir. */
static void walk(struct fi__sweep_snap *s, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096], name[4096];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(name, sizeof(name), "%s/%s", rel, e->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(s, path, name);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t n = readlink(path, t, sizeof(t) - 1);

			t[n < 0 ? 0 : n] = '\0';
			push(s, name, fi__util_xstrdup(t), strlen(t));
		} else if (S_ISREG(st.st_mode)) {
			size_t len;
			char *data = fi__sweep_slurp(path, MAX_OUTPUT, &len);

			push(s, name, data, len);
		}
	}
	closedir(d);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct fi__sweep_blob *)a)->name,
		      ((const struct fi__sweep_blob *)b)->name);
}

void fi__sweep_snap_take(const struct fi__sweep_job *j,
			 struct fi__sweep_snap *s)
{
	size_t len;
	char *data;

	memset(s, 0, sizeof(*s));
	data = fi__sweep_slurp_file(&j->out, MAX_OUTPUT, &len);
	push(s, "stdout", data, len);
	walk(s, j->work, ".");
	if (s->n > 1)
		qsort(s->v + 1, s->n - 1, sizeof(*s->v), by_name);
	for (size_t i = 0; i < s->n; i++)
		unpath(&s->v[i], j->work);
}

void fi__sweep_snap_free(struct fi__sweep_snap *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static const struct fi__sweep_blob *get(const struct fi__sweep_snap *s,
					const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

static bool same(const struct fi__sweep_blob *a, const struct fi__sweep_blob *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/* The lines of a blob: starts into data, *n of them. */
static const char **lines(const struct fi__sweep_blob *b, size_t *n)
{
	const char **v = fi__util_xmalloc((b->len + 2) * sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < b->len;) {
		v[k++] = b->data + i;
		while (i < b->len && b->data[i] != '\n')
			i++;
		i++;
	}
	v[k] = b->data + b->len;
	*n = k;
	return v;
}

/* Lines a and b equal, digits counted as one class (runs of them). */
static bool same_but_digits(const char *a, const char *ae, const char *b,
			    const char *be)
{
	while (a < ae && b < be) {
		bool da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';

		if (da != db)
			return false;
		if (da) {
			while (a < ae && *a >= '0' && *a <= '9')
				a++;
			while (b < be && *b >= '0' && *b <= '9')
				b++;
			continue;
		}
		if (*a++ != *b++)
			return false;
	}
	return a == ae && b == be;
}

static bool line_eq(const char *a, const char *ae, const char *b,
		    const char *be)
{
	return ae - a == be - b && !memcmp(a, b, (size_t)(ae - a));
}

/* 0: same outside the mask; else the first differing line (from 1),
 * (size_t)-1 when the line counts differ, (size_t)-2 when an output all
 * baselines agree on differs. */
static size_t compare(const struct fi__sweep_blob *const *base, size_t nb,
		      const struct fi__sweep_blob *s)
{
	const char **lb[3], **l;
	size_t nl[3], n, bad = 0, i;
	bool all_same = true, masked = false;

	for (i = 1; i < nb; i++)
		all_same &= same(base[0], base[i]);
	if (all_same)
		return same(base[0], s) ? 0 : (size_t)-2;
	for (i = 0; i < nb; i++) {
		lb[i] = lines(base[i], &nl[i]);
		masked |= nl[i] != nl[0]; /* masked whole */
	}
	l = lines(s, &n);
	if (!masked && n != nl[0])
		bad = (size_t)-1;
	for (size_t k = 0; !masked && !bad && k < n; k++) {
		bool agree = true, digits = true;
		const char *a = lb[0][k], *ae = lb[0][k + 1];

		for (i = 1; i < nb; i++) {
			agree &= line_eq(a, ae, lb[i][k], lb[i][k + 1]);
			digits &=
				same_but_digits(a, ae, lb[i][k], lb[i][k + 1]);
		}
		if (agree ? !line_eq(a, ae, l[k], l[k + 1])
			  : digits && !same_but_digits(a, ae, l[k], l[k + 1]))
			bad = k + 1;
	}
	for (i = 0; i < nb; i++)
		free(lb[i]);
	free(l);
	return bad;
}

char *fi__sweep_snap_differs(const struct fi__sweep_snap *b, size_t nb,
			     const struct fi__sweep_snap *s)
{
	const struct fi__sweep_blob *base[3];

	for (size_t i = 0; i < b[0].n; i++) {
		const struct fi__sweep_blob *r = get(s, b[0].v[i].name);
		size_t k, in = 1;

		base[0] = &b[0].v[i];
		for (size_t j = 1; j < nb; j++)
			if ((base[j] = get(&b[j], b[0].v[i].name)))
				in++;
		if (in < nb)
			continue; /* not left by every baseline: masked */
		if (!r)
			return fi__util_xasprintf("%s is missing",
						  base[0]->name);
		k = compare(base, nb, r);
		if (k == (size_t)-2)
			return fi__util_xasprintf("%s differs", base[0]->name);
		if (k == (size_t)-1)
			return fi__util_xasprintf(
				"%s has another number of lines",
				base[0]->name);
		if (k)
			return fi__util_xasprintf("%s differs at line %zu",
						  base[0]->name, k);
	}
	for (size_t i = 0; i < s->n; i++) {
		bool known = false;

		for (size_t j = 0; j < nb && !known; j++)
			known = get(&b[j], s->v[i].name) != NULL;
		if (!known)
			return fi__util_xasprintf("there is a new file %s",
						  s->v[i].name);
	}
	return NULL;
}

json_t *fi__sweep_snap_masked(const struct fi__sweep_snap *b, size_t nb)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b[0].n; i++) {
		bool varies = false;

		for (size_t j = 1; j < nb; j++) {
			const struct fi__sweep_blob *o =
				get(&b[j], b[0].v[i].name);

			varies |= !o || !same(o, &b[0].v[i]);
		}
		if (varies)
			json_array_append_new(a, json_string(b[0].v[i].name));
	}
	return a;
}

json_t *fi__sweep_snap_digests(const struct fi__sweep_snap *b)
{
	json_t *o = json_object();

	for (size_t i = 0; i < b->n; i++) {
		uint64_t h = 0xcbf29ce484222325ull;
		char hex[40];

		for (size_t k = 0; k < b->v[i].len; k++)
			h = (h ^ (unsigned char)b->v[i].data[k]) *
			    0x100000001b3ull;
		snprintf(hex, sizeof(hex), "fnv1a64:%016llx",
			 (unsigned long long)h);
		json_object_set_new(o, b->v[i].name, json_string(hex));
	}
	return o;
}
