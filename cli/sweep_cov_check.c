/* sweep_cov_check.c: fi-run --sweep --coverage DIR, before any run: the
 * program was built with --coverage (its .gcno notes are where it says),
 * gcovr is installed, and DIR may take the report. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep.h"

/* A program built with --coverage holds the absolute path of each
 * object's .gcda file, where libgcov writes the counts at exit; the
 * compiler wrote the .gcno notes beside it. Counts how many such paths
 * `elf` names (*named) and how many of their .gcno files exist; the
 * first missing one goes to *missing (a new string). */
static int gcno_files(const char *elf, size_t *named, char **missing)
{
	int fd = open(elf, O_RDONLY | O_CLOEXEC);
	struct stat st;
	const char *m, *p, *end;
	size_t found = 0;

	*named = 0;
	*missing = NULL;
	if (fd < 0 || fstat(fd, &st) || st.st_size < 6) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	end = m + st.st_size;
	for (p = m; (p = memmem(p, (size_t)(end - p), ".gcda", 6)); p += 6) {
		const char *s = p;
		char *gcno;
		size_t n;

		while (s > m && s[-1] >= 0x20 && s[-1] < 0x7f)
			s--;
		if (*s != '/')
			continue;
		n = (size_t)(p - s);
		gcno = fi__util_xmalloc(n + 6);
		memcpy(gcno, s, n);
		memcpy(gcno + n, ".gcno", 6);
		(*named)++;
		if (!access(gcno, R_OK))
			found++;
		else if (!*missing)
			*missing = gcno, gcno = NULL;
		free(gcno);
	}
	munmap((void *)m, (size_t)st.st_size);
	return (int)found;
}

/* The first executable `name` on PATH (a new string), or NULL. */
static char *on_path(const char *name)
{
	const char *path = getenv("PATH"), *p;

	for (p = path; p && *p; p += *p == ':') {
		size_t n = strcspn(p, ":");
		char *f = fi__util_xmalloc(n + strlen(name) + 2);

		snprintf(f, n + strlen(name) + 2, "%.*s/%s", (int)n, p, name);
		if (n && !access(f, X_OK))
			return f;
		free(f);
		p += n;
	}
	return NULL;
}

/* 1 when dir holds an entry, 0 when empty, -errno when unreadable. */
static int has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while (!rc && (e = readdir(d)))
		rc = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return rc;
}

int fi__sweep_cov_out(const struct fi__sweep_opts *so, struct fi__sweep_cov *cv)
{
	const char *dir = so->coverage;
	struct stat st;
	int e;

	cv->gcovr = on_path("gcovr");
	if (!cv->gcovr) {
		fi__util_error(
			"--coverage needs gcovr, which is not on PATH; install the Debian package gcovr (apt-get install gcovr) or pip install gcovr");
		return FI_RUN_EXIT_USAGE;
	}
	if (!stat(dir, &st) && !S_ISDIR(st.st_mode)) {
		fi__util_error("--coverage: %s exists and is not a directory",
			       dir);
		return FI_RUN_EXIT_USAGE;
	}
	e = has_entries(dir);
	if (e > 0 && !so->force) {
		fi__util_error(
			"--coverage: %s exists and is not empty; give a new or empty directory, or add --force to write the report over what is there",
			dir);
		return FI_RUN_EXIT_USAGE;
	}
	if (e == -ENOENT && mkdir(dir, 0777)) {
		fi__util_error("--coverage: cannot make %s: %s", dir,
			       strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	if (e < 0 && e != -ENOENT) {
		fi__util_error("--coverage: cannot read %s: %s", dir,
			       strerror(-e));
		return FI_RUN_EXIT_USAGE;
	}
	cv->dir = dir;
	cv->jobs = so->jobs ? so->jobs : 1;
	return 0;
}

int fi__sweep_cov_check(const struct fi__sweep_opts *so,
			const struct fi__target *t, const char *root,
			struct fi__sweep_cov *cv)
{
	size_t named;
	char *missing;
	int found = gcno_files(t->elf, &named, &missing), e;

	memset(cv, 0, sizeof(*cv));
	if (!named) {
		fi__util_error(
			"--coverage: %s was not built with --coverage (no .gcno file found for it); rebuild it with --coverage when compiling and linking, for example gcc -O0 -g --coverage -o prog prog.c, or cmake -DCMAKE_C_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage",
			t->path);
		return FI_RUN_EXIT_USAGE;
	}
	if (!found) {
		fi__util_error(
			"--coverage: %s was built with --coverage, but its notes file %s is missing (the compiler writes it beside the object file); rebuild it where it was built",
			t->path, missing);
		free(missing);
		return FI_RUN_EXIT_USAGE;
	}
	free(missing);
	if ((e = fi__sweep_cov_out(so, cv)))
		return e;
	cv->trees = fi__util_xmalloc(strlen(root) + 5);
	sprintf(cv->trees, "%s/cov", root);
	if (mkdir(cv->trees, 0700)) {
		fi__util_error("--coverage: cannot make %s: %s", cv->trees,
			       strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	return 0;
}

size_t fi__sweep_cov_drop_gcov(struct fi__sweep_sites *s)
{
	size_t k = 0, n = s->n;

	for (size_t i = 0; i < s->n; i++) {
		const char *f = s->v[i].function;

		if (f &&
		    (!strncmp(f, "__gcov", 6) || !strncmp(f, "gcov_", 5))) {
			free(s->v[i].syscall);
			free(s->v[i].site);
			free(s->v[i].function);
			free(s->v[i].file);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
	return n - k;
}

char *fi__sweep_cov_tree(const struct fi__sweep_cov *cv, const char *name)
{
	size_t n = strlen(cv->trees) + strlen(name) + 2;
	char *s = fi__util_xmalloc(n);

	snprintf(s, n, "%s/%s", cv->trees, name);
	return s;
}

void fi__sweep_cov_free(struct fi__sweep_cov *cv)
{
	free(cv->gcovr);
	free(cv->trees);
	memset(cv, 0, sizeof(*cv));
}
