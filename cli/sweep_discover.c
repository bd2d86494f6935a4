/* sweep_discover.c: the sweep's first stage. The trace of one recorded
 * run is read into the distinct (syscall, site) pairs it reached, with
 * how often each fired, in order of first appearance. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libsearch.h"
#include "sweep.h"
#include "tracefile.h"

/* Sites in the runtime itself: a call made by the loader or by libc on
 * its own (no frame of the program's on the stack). Failing them tests
 * glibc's start-up, not the program. */
static bool runtime_site(const char *site)
{
	static const char *const prefixes[] = {
		"ld-linux", "ld.so",   "libc.so", "libfi",	   "libasan",
		"libubsan", "liblsan", "libtsan", "libpthread.so", "libdl.so",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(site, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static struct fi__sweep_site *find(struct fi__sweep_sites *s, const char *name,
				   const char *site)
{
	/* Linear: a program reaches hundreds of pairs, not millions. Search
	 * from the end, where the pairs of a loop are. */
	for (size_t i = s->n; i-- > 0;)
		if (!strcmp(s->v[i].site, site) &&
		    !strcmp(s->v[i].syscall, name))
			return &s->v[i];
	return NULL;
}

/* The call of record r, for the errno table's conditions. */
static void take_call(struct fi__sweep_call *c, json_t *r)
{
	json_t *args = json_object_get(r, "args");
	const char *path = json_string_value(json_object_get(r, "path"));

	c->known = json_array_size(args) == 6;
	for (size_t i = 0; c->known && i < 6; i++) {
		json_t *a = json_array_get(args, i);

		c->known = json_is_integer(a);
		c->args[i] = c->known ? (long long)json_integer_value(a) : 0;
	}
	c->pid = json_integer_value(json_object_get(r, "pid"));
	c->path = path ? fi__util_xstrdup(path) : NULL;
}

static void add(struct fi__sweep_sites *s, const char *name, const char *site,
		json_t *r)
{
	struct fi__sweep_site *e = find(s, name, site);

	if (e) {
		e->count++;
		return;
	}
	s->v = fi__util_xgrow(s->v, s->n, &s->cap, sizeof(*s->v), 64);
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->syscall = fi__util_xstrdup(name);
	e->site = fi__util_xstrdup(site);
	e->count = 1;
	take_call(&e->call, r);
}

/* A library the run opened (a dlopen()), by an absolute path. */
static void note_library(struct fi__sweep_sites *s, const char *name, json_t *r)
{
	const char *path = json_string_value(json_object_get(r, "path"));
	const char *slash = path ? strrchr(path, '/') : NULL;
	size_t n = 0;

	if (!slash || path[0] != '/' || !fi__libs_name(slash + 1) ||
	    (strcmp(name, "openat") && strcmp(name, "open")) ||
	    json_integer_value(json_object_get(r, "ret")) < 0)
		return;
	while (s->libs && s->libs[n])
		if (!strcmp(s->libs[n++], path))
			return;
	s->libs = realloc(s->libs, (n + 2) * sizeof(*s->libs));
	if (!s->libs) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	s->libs[n] = fi__util_xstrdup(path);
	s->libs[n + 1] = NULL;
}

/* Processes that ran a second thread: a record whose tid is not its
 * pid. */
struct pids {
	long long *v;
	size_t n;
};

static void note_thread(struct pids *t, json_t *r)
{
	long long pid = json_integer_value(json_object_get(r, "pid"));
	long long tid = json_integer_value(json_object_get(r, "tid"));

	if (!tid || tid == pid)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == pid)
			return;
	t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	if (!t->v) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	t->v[t->n++] = pid;
}

int fi__sweep_discover(const char *trace, struct fi__sweep_sites *out)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, torn = 0;
	unsigned long lineno = 0;
	ssize_t len;
	struct pids threads = {0};

	memset(out, 0, sizeof(*out));
	/* A process the run left behind, killed when the run ended, may have
	 * been killed in the middle of a record (reap.c): that record goes. */
	fi__tracefile_tidy(trace, &torn);
	f = fopen(trace, "re");
	if (!f) {
		fi__util_error("--sweep: the discovery trace %s: %s", trace,
			       strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_error_t err;
		json_t *r;
		const char *name, *site;

		lineno++;
		r = json_loadb(line, (size_t)len, 0, &err);
		if (!r || !json_is_object(r)) {
			fi__util_error(
				"--sweep: the discovery trace %s:%lu: not a record: %s",
				trace, lineno, r ? "not an object" : err.text);
			json_decref(r);
			free(line);
			free(threads.v);
			fclose(f);
			return FI_RUN_EXIT_USAGE;
		}
		name = json_string_value(json_object_get(r, "name"));
		site = json_string_value(json_object_get(r, "site"));
		note_thread(&threads, r);
		if (name) {
			note_library(out, name, r);
			out->calls++;
			if (!site)
				out->no_site++;
			else if (runtime_site(site))
				out->runtime++;
			else
				add(out, name, site, r);
		}
		json_decref(r);
	}
	for (size_t i = 0; i < out->n; i++)
		for (size_t k = 0; k < threads.n; k++)
			if (threads.v[k] == out->v[i].call.pid)
				out->v[i].call.threaded = true;
	free(threads.v);
	free(line);
	fclose(f);
	return 0;
}

void fi__sweep_sites_free(struct fi__sweep_sites *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].syscall);
		free(s->v[i].site);
		free(s->v[i].line_site);
		free(s->v[i].function);
		free(s->v[i].file);
		free((char *)s->v[i].call.path);
	}
	for (size_t i = 0; s->libs && s->libs[i]; i++)
		free(s->libs[i]);
	free(s->libs);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
