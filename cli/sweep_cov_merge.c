/* sweep_cov_merge.c: fi-run --merge a.json b.json ... --coverage DIR.
 * Each shard's report names the directory its own --coverage wrote (its
 * "coverage" key). The shards' tracefiles are copied into
 * DIR/tracefiles, then gcovr's HTML and the error-path view are made from
 * the merged report (sweep_cov_gcovr.c, sweep_cov_paths.c), as if one
 * job had run the whole plan. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "sweep.h"

static bool has_baseline(const char *traces)
{
	char *b = fi__util_xasprintf("%s/baseline.json", traces);
	bool ok = !access(b, R_OK);

	free(b);
	return ok;
}

/* DIR/tracefiles of the shard whose report is `input` and names `dir`:
 * relative to the report's own directory (where a CI job put the shard's
 * downloaded artifacts), else as it is. A new string, or NULL. */
static char *shard_traces(const char *input, const char *dir)
{
	const char *slash = strrchr(input, '/');
	char *t = NULL;

	if (dir[0] != '/' && slash) {
		t = fi__util_xasprintf("%.*s/%s/tracefiles",
				       (int)(slash - input), input, dir);
		if (has_baseline(t))
			return t;
		free(t);
	}
	t = fi__util_xasprintf("%s/tracefiles", dir);
	if (has_baseline(t))
		return t;
	free(t);
	return NULL;
}

/* Whether two paths name one directory. */
static bool same_dir(const char *a, const char *b)
{
	struct stat x, y;

	return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	char buf[1 << 16];
	ssize_t n;

	if (in >= 0)
		out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) >= 0) {
		if (!n) {
			rc = 0;
			break;
		}
		for (ssize_t w, k = 0; k < n; k += w)
			if ((w = write(out, buf + k, (size_t)(n - k))) < 0)
				goto done;
	}
done:
	if (out >= 0 && close(out))
		rc = -1;
	if (in >= 0)
		close(in);
	return rc;
}

/* Copy the tracefiles of one shard: run-*.json, and baseline.json when
 * `baseline` (the first shard's; every shard measured the same one). */
static int copy_shard(const char *from, const char *to, bool baseline)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		fi__util_error("--coverage: cannot read %s: %s", from,
			       strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	while (!rc && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char *a, *b;

		if (l < 5 || strcmp(e->d_name + l - 5, ".json") ||
		    (strncmp(e->d_name, "run-", 4) &&
		     !(baseline && !strcmp(e->d_name, "baseline.json"))))
			continue;
		a = fi__util_xasprintf("%s/%s", from, e->d_name);
		b = fi__util_xasprintf("%s/%s", to, e->d_name);
		if (copy_file(a, b)) {
			fi__util_error("--coverage: cannot copy %s to %s: %s",
				       a, b, strerror(errno));
			rc = FI_RUN_EXIT_USAGE;
		}
		free(a);
		free(b);
	}
	closedir(d);
	return rc;
}

int fi__sweep_cov_merge(struct fi__sweep_cov *cv, const char **inputs,
			json_t *dirs, json_t *merged, FILE *out)
{
	char *to = fi__util_xasprintf("%s/tracefiles", cv->dir);
	char *trees =
		fi__util_xasprintf("%s/fi-merge-cov.XXXXXX", fi__scratch_dir());
	int rc = 0;

	if (!mkdtemp(trees)) {
		fi__util_error("--coverage: cannot make a directory in %s: %s",
			       fi__scratch_dir(), strerror(errno));
		free(to);
		free(trees);
		return FI_RUN_EXIT_USAGE;
	}
	if (mkdir(to, 0777) && errno != EEXIST) {
		fi__util_error("--coverage: cannot make %s: %s", to,
			       strerror(errno));
		fi__sweep_rmtree(trees);
		free(to);
		free(trees);
		return FI_RUN_EXIT_USAGE;
	}
	cv->trees = trees;
	for (size_t i = 0; !rc && i < json_array_size(dirs); i++) {
		const char *d = json_string_value(json_array_get(dirs, i));
		char *from = d ? shard_traces(inputs[i], d) : NULL;

		if (!d) {
			fi__util_error(
				"--merge --coverage: %s comes from a sweep without --coverage; sweep every shard with --coverage DIR",
				inputs[i]);
			rc = FI_RUN_EXIT_USAGE;
		} else if (!from) {
			fi__util_error(
				"--merge --coverage: the coverage of %s is not found: %s/tracefiles holds no baseline.json, beside the report or here; keep each shard's --coverage DIR beside its report",
				inputs[i], d);
			rc = FI_RUN_EXIT_USAGE;
		} else if (same_dir(from, to)) {
			fi__util_error(
				"--merge --coverage: the coverage of %s is %s, where the merged report goes; give --coverage another directory",
				inputs[i], d);
			rc = FI_RUN_EXIT_USAGE;
		} else {
			rc = copy_shard(from, to, i == 0);
		}
		free(from);
	}
	if (!rc)
		rc = fi__sweep_cov_html(cv, merged);
	if (!rc)
		rc = fi__sweep_cov_paths(cv, merged, out);
	fi__sweep_rmtree(trees);
	free(to);
	return rc;
}
