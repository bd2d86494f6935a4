/* replay_trace.c: reading a trace for --replay. Guesses the kind of the
 * file (fi's JSON Lines, docs/trace.md, or a strace log) and reads fi's
 * kind here, one record a line; replay_strace.c reads the other. */
#include "replay.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fi_run.h"
#include "names.h"

int fi__replay_error(const struct fi__rtrace *t, unsigned line, const char *fmt,
		     ...)
{
	va_list ap;

	if (line)
		fprintf(stderr, "%s:%u: error: ", t->file, line);
	else
		fprintf(stderr, "%s: error: ", t->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return FI_RUN_EXIT_USAGE;
}

struct fi__rrec *fi__replay_push(struct fi__rtrace *t, unsigned line)
{
	struct fi__rrec *r;

	t->r = fi__util_xgrow(t->r, t->n, &t->cap, sizeof(*t->r), 256);
	r = &t->r[t->n++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	return r;
}

void fi__replay_free(struct fi__rtrace *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->r[i].path);
		free(t->r[i].comm);
	}
	free(t->r);
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	free(t->files);
	memset(t, 0, sizeof(*t));
}

void fi__replay_describe(const struct fi__rrec *r, char *buf, size_t len)
{
	const struct fi__sysinfo *si = fi__names_sys(r->nr);
	const char *name = si ? si->name : "?";

	if (r->path)
		snprintf(buf, len, "%s(\"%s\")", name, r->path);
	else if (r->has_fd)
		snprintf(buf, len, "%s(%d, ...)", name, r->fd);
	else
		snprintf(buf, len, "%s(...)", name);
}

static bool int_field(json_t *o, const char *key, long long *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

/* One JSON line into a record; a message and false when it is not one. */
static int read_record(struct fi__rtrace *t, json_t *o, unsigned line)
{
	long long pid, tid, nr, seq, args[6] = {0};
	json_t *name = json_object_get(o, "name"), *ret, *a, *s;
	const struct fi__sysinfo *si;
	struct fi__rrec *r;
	int fdi;

	if (!json_is_object(o))
		return fi__replay_error(t, line, "not a JSON object");
	if (!int_field(o, "pid", &pid) || !int_field(o, "tid", &tid) ||
	    !int_field(o, "seq", &seq) || !int_field(o, "nr", &nr) ||
	    !json_is_string(name))
		return fi__replay_error(
			t, line,
			"a record needs seq, pid, tid, nr and name (docs/trace.md)");
	if (fi__names_sys_nr(json_string_value(name)) < 0)
		return fi__replay_error(
			t, line, "unknown syscall '%s': not an x86_64 trace",
			json_string_value(name));
	if (fi__names_sys_nr(json_string_value(name)) != nr)
		return fi__replay_error(
			t, line,
			"nr %lld is not %s on x86_64: a trace from another architecture?",
			nr, json_string_value(name));
	a = json_object_get(o, "args");
	if (!json_is_array(a) || json_array_size(a) != 6)
		return fi__replay_error(t, line, "args must be 6 integers");
	for (size_t i = 0; i < 6; i++) {
		if (!json_is_integer(json_array_get(a, i)))
			return fi__replay_error(t, line,
						"args must be 6 integers");
		args[i] = json_integer_value(json_array_get(a, i));
	}
	ret = json_object_get(o, "ret");
	if (json_is_true(json_object_get(o, "resumed"))) {
		/* A failed execve, completed: the record it completes. */
		for (size_t i = t->n; i-- > 0;)
			if (t->r[i].pid == pid &&
			    t->r[i].seq == (unsigned long long)seq) {
				t->r[i].has_ret = json_is_integer(ret);
				t->r[i].ret = (long)json_integer_value(ret);
				t->r[i].line = line;
				return 0;
			}
	}
	r = fi__replay_push(t, line);
	r->pid = (int)pid;
	r->tid = (int)tid;
	r->nr = (long)nr;
	r->seq = (unsigned long long)seq;
	if (json_is_integer(ret)) {
		r->has_ret = true;
		r->ret = (long)json_integer_value(ret);
	} else if (!json_is_null(ret)) {
		return fi__replay_error(t, line,
					"ret must be an integer or null");
	}
	/* An edited record may give the errno by name only. */
	s = json_object_get(o, "errno");
	if (json_is_string(s)) {
		int e = fi__names_errno_nr(json_string_value(s));

		if (e < 0 && strncmp(json_string_value(s), "errno_", 6))
			return fi__replay_error(t, line, "unknown errno '%s'",
						json_string_value(s));
		if (e > 0 && (!r->has_ret || r->ret != -e)) {
			r->has_ret = true;
			r->ret = -e;
		}
	}
	r->injected = json_is_true(json_object_get(o, "injected"));
	si = fi__names_sys(nr);
	if (fi__names_argindex(nr, FI_ARG_PATH) >= 0) {
		s = json_object_get(o, "path");
		if (json_is_string(s))
			r->path = fi__util_xstrdup(json_string_value(s));
	}
	fdi = fi__names_argindex(nr, FI_ARG_FD);
	if (fdi < 0)
		fdi = fi__names_argindex(nr, FI_ARG_DIRFD);
	if (fdi >= 0 && si && fdi < si->nargs) {
		r->has_fd = true;
		r->fd = (int)args[fdi];
	}
	if (!strcmp(si->name, "clone"))
		r->flags = (unsigned long)args[0];
	else if (!strcmp(si->name, "vfork"))
		r->flags = 0x4100; /* CLONE_VM | CLONE_VFORK */
	s = json_object_get(o, "comm");
	if (json_is_string(s))
		r->comm = fi__util_xstrdup(json_string_value(s));
	return 0;
}

/* clone3's flags are in memory the trace does not hold: a clone3 made a
 * thread when no record is of a process of that id (every process makes
 * at least its exit_group, every thread its exit). */
static int by_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static void clone3_threads(struct fi__rtrace *t)
{
	long nr_clone3 = fi__names_sys_nr("clone3");
	int *pids = fi__util_xmalloc((t->n + 1) * sizeof(*pids));

	for (size_t i = 0; i < t->n; i++)
		pids[i] = t->r[i].pid;
	qsort(pids, t->n, sizeof(*pids), by_int);
	for (size_t i = 0; i < t->n; i++) {
		struct fi__rrec *r = &t->r[i];
		int child = (int)r->ret;

		if (r->nr == nr_clone3 && r->has_ret && r->ret > 0 &&
		    !bsearch(&child, pids, t->n, sizeof(*pids), by_int))
			r->flags |= 0x10000; /* CLONE_THREAD */
	}
	free(pids);
}

int fi__replay_read_fi(FILE *f, struct fi__rtrace *t)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned no = 0;
	int rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		json_error_t err;
		json_t *o;

		no++;
		if (len == 0 || line[len - 1] != '\n') {
			rc = fi__replay_error(
				t, no,
				"a partial record: the line has no newline (a truncated trace?)");
			break;
		}
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		o = json_loadb(line, (size_t)len, 0, &err);
		if (!o) {
			rc = fi__replay_error(t, no, "not JSON: %s", err.text);
			break;
		}
		rc = read_record(t, o, no);
		json_decref(o);
	}
	free(line);
	if (rc == 0)
		clone3_threads(t);
	return rc;
}

int fi__replay_read(const char *file, struct fi__rtrace *t)
{
	FILE *f;
	int c, rc;

	memset(t, 0, sizeof(*t));
	t->file = file;
	t->nfiles = fi__replay_ff_files(file, &t->files);
	if (t->nfiles) {
		rc = fi__replay_read_ff(t->files, t->nfiles, t);
		if (rc == 0 && t->n == 0)
			rc = fi__replay_error(t, 0, "holds no syscall");
		if (rc)
			fi__replay_free(t);
		return rc;
	}
	t->files = fi__util_xmalloc(sizeof(*t->files));
	t->files[t->nfiles++] = fi__util_xstrdup(file);
	f = fopen(file, "re");
	if (!f)
		return fi__replay_error(t, 0, "cannot read: %s",
					strerror(errno));
	while ((c = getc(f)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		;
	if (c == EOF && ferror(f)) { /* a directory: EISDIR */
		rc = errno;
		fclose(f);
		return fi__replay_error(t, 0, "cannot read: %s", strerror(rc));
	}
	if (c == EOF) {
		fclose(f);
		return fi__replay_error(
			t, 1, "empty: neither an fi trace nor a strace log");
	}
	rewind(f);
	t->strace = c != '{';
	rc = t->strace ? fi__replay_read_strace(f, t)
		       : fi__replay_read_fi(f, t);
	if (rc == 0 && ferror(f))
		rc = fi__replay_error(t, 0, "cannot read: %s", strerror(errno));
	fclose(f);
	if (rc == 0 && t->n == 0)
		rc = fi__replay_error(t, 1, "holds no syscall");
	if (rc)
		fi__replay_free(t);
	return rc;
}
