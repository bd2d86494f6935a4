/* replay_ff.c: the logs of `strace -ff -o LOG`, one file LOG.PID per
 * process and thread, read as one trace. Each file is read on its own
 * (its lines name no pid: the file's name does), then the records are
 * laid out so that every process and thread comes right after the fork,
 * clone or vfork that made it: the order in which replay counts
 * children and threads (replay_image.c, replay_compile.c). */
#include "replay.h"

#include <errno.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fi_run.h"
#include "names.h"

/* The pid in "LOG.1234", or 0. */
static int ff_pid(const char *name)
{
	const char *dot = strrchr(name, '.');
	char *end;
	long v;

	if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
		return 0;
	v = strtol(dot + 1, &end, 10);
	return v > 0 && v <= 0x7fffffff ? (int)v : 0;
}

static int by_pid(const void *a, const void *b)
{
	int x = ff_pid(*(char *const *)a), y = ff_pid(*(char *const *)b);

	return x < y ? -1 : x > y;
}

size_t fi__replay_ff_files(const char *file, char ***files)
{
	struct stat st;
	char *prefix, *slash;
	const char *dir = ".", *base;
	struct dirent *e;
	DIR *d;
	size_t n = 0, cap = 0;

	*files = NULL;
	if (stat(file, &st) == 0 && !ff_pid(file))
		return 0; /* a file of its own */
	prefix = fi__util_xstrdup(file);
	if (stat(file, &st) == 0)
		*strrchr(prefix, '.') = '\0'; /* LOG.1234: the set of LOG */
	slash = strrchr(prefix, '/');
	base = slash ? slash + 1 : prefix;
	if (slash) {
		*slash = '\0';
		dir = *prefix ? prefix : "/";
	}
	d = *base ? opendir(dir) : NULL;
	while (d && (e = readdir(d))) {
		size_t len = strlen(base);

		if (strncmp(e->d_name, base, len) || e->d_name[len] != '.' ||
		    !ff_pid(e->d_name) || strchr(e->d_name + len + 1, '.'))
			continue;
		*files = fi__util_xgrow(*files, n, &cap, sizeof(**files), 8);
		if (asprintf(&(*files)[n++], "%s%s%s", slash ? dir : "",
			     slash && strcmp(dir, "/") ? "/" : "",
			     e->d_name) < 0) {
			fputs("fi-run: out of memory\n", stderr);
			exit(FI_RUN_EXIT_USAGE);
		}
	}
	if (d)
		closedir(d);
	free(prefix);
	if (n)
		qsort(*files, n, sizeof(**files), by_pid);
	return n;
}

struct part {
	struct fi__rtrace t;
	int tid;
	bool done;
};

static bool makes(const struct fi__rrec *r)
{
	const struct fi__sysinfo *si = fi__names_sys(r->nr);

	return si && r->has_ret && r->ret > 0 &&
	       (!strcmp(si->name, "fork") || !strcmp(si->name, "vfork") ||
		!strcmp(si->name, "clone") || !strcmp(si->name, "clone3"));
}

/* Part i's records into t, each part it made right after the call. */
static void lay_out(struct part *parts, size_t n, size_t i,
		    struct fi__rtrace *t)
{
	parts[i].done = true;
	for (size_t k = 0; k < parts[i].t.n; k++) {
		struct fi__rrec *r = fi__replay_push(t, 0);

		*r = parts[i].t.r[k];
		r->src = (unsigned)i;
		/* the strings now belong to t */
		parts[i].t.r[k].path = NULL;
		parts[i].t.r[k].comm = NULL;
		if (!makes(r))
			continue;
		for (size_t j = 0; j < n; j++)
			if (!parts[j].done && parts[j].tid == (int)r->ret)
				lay_out(parts, n, j, t);
	}
}

int fi__replay_read_ff(char **files, size_t n, struct fi__rtrace *t)
{
	struct part *parts = fi__util_xmalloc(n * sizeof(*parts));
	const char *named = t->file;
	int rc = 0;

	memset(parts, 0, n * sizeof(*parts));
	for (size_t i = 0; i < n && rc == 0; i++) {
		FILE *f = fopen(files[i], "re");

		parts[i].tid = ff_pid(files[i]);
		parts[i].t.file = files[i];
		parts[i].t.ff_tid = parts[i].tid;
		parts[i].t.strace = true;
		if (!f) {
			rc = fi__replay_error(&parts[i].t, 0, "cannot read: %s",
					      strerror(errno));
			break;
		}
		rc = fi__replay_read_strace(f, &parts[i].t);
		if (rc == 0 && ferror(f))
			rc = fi__replay_error(&parts[i].t, 0, "cannot read: %s",
					      strerror(errno));
		fclose(f);
	}
	t->strace = true;
	t->file = named;
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool made = false;

		/* the first processes: those no file says it made */
		for (size_t j = 0; j < n && !made; j++)
			for (size_t k = 0; k < parts[j].t.n && !made; k++)
				made = makes(&parts[j].t.r[k]) &&
				       (int)parts[j].t.r[k].ret == parts[i].tid;
		if (!made && !parts[i].done)
			lay_out(parts, n, i, t);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!parts[i].done)
			lay_out(parts, n, i, t);
	for (size_t i = 0; i < n; i++)
		fi__replay_free(&parts[i].t);
	free(parts);
	if (rc == 0)
		fi__replay_strace_threads(t);
	return rc;
}
