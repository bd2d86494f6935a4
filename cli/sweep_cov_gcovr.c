/* sweep_cov_gcovr.c: fi-run --sweep --coverage, after the runs. Each
 * run left its .gcda files in a tree of its own (GCOV_PREFIX, with the
 * objects' absolute paths below it); gcovr turns each tree into a JSON
 * tracefile in DIR/tracefiles/, at most -j gcovr processes at a time,
 * then all the tracefiles into one HTML report, DIR/index.html. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep.h"

/* Start argv with stdin from /dev/null and its output into log. */
static pid_t start_logged(char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int fi__sweep_cov_spawn(char *const *argv, const char *log)
{
	int st;
	pid_t pid = start_logged(argv, log);

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Beside every .gcda under `dir` (in tree `top`), a link to the .gcno
 * the compiler wrote beside the real one: gcov reads both. Returns how
 * many .gcda files there are. */
static size_t link_notes(const char *top, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, tl = strlen(top);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = fi__util_xmalloc(strlen(dir) + l + 2);
		sprintf(p, "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			n += link_notes(top, p);
		} else if (l > 5 && !strcmp(e->d_name + l - 5, ".gcda")) {
			char *note = fi__util_xstrdup(p);

			strcpy(note + strlen(note) - 5, ".gcno");
			n++;
			/* note + tl: the real path, without the prefix */
			if (symlink(note + tl, note) && errno != EEXIST)
				fi__util_error("--coverage: cannot link %s: %s",
					       note, strerror(errno));
			free(note);
		}
		free(p);
	}
	closedir(d);
	return n;
}

/* The notes of one run's tree, or of the baseline's three (base/0..2). */
static size_t notes(const char *tree, bool baseline)
{
	size_t n = 0;

	if (!baseline)
		return link_notes(tree, tree);
	for (int i = 0; i < 3; i++) {
		char *t = fi__util_xmalloc(strlen(tree) + 4);

		sprintf(t, "%s/%d", tree, i);
		n += link_notes(t, t);
		free(t);
	}
	return n;
}

struct job {
	char *tree, *out, *log;
	const char *what; /* "the baseline", "run 5" */
	pid_t pid;
};

static pid_t start(const struct fi__sweep_cov *cv, struct job *j)
{
	char *argv[] = {cv->gcovr, "--root",	"/",	 "--filter",
			"/",	   "--exclude", "/usr/", "--object-directory",
			j->tree,   "--json",	j->out,	 j->tree,
			NULL};

	return start_logged(argv, j->log);
}

/* Why gcovr failed: its status and the end of its output. */
static void gcovr_failed(const struct job *j, int st)
{
	size_t len;
	char *log = fi__sweep_slurp(j->log, 1 << 16, &len);

	fi__util_error(
		"--coverage: gcovr failed on the counts of %s (exit status %d); its output:",
		j->what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	if (log && len)
		fprintf(stderr, "%s%s", len > 2000 ? log + len - 2000 : log,
			log[len - 1] == '\n' ? "" : "\n");
	free(log);
}

int fi__sweep_cov_tracefiles(const struct fi__sweep_cov *cv, json_t *report)
{
	json_t *runs = json_object_get(report, "runs");
	size_t n = 0, next = 0, active = 0, nruns = json_array_size(runs);
	struct job *jobs = calloc(nruns + 1, sizeof(*jobs));
	char *dir = fi__util_xmalloc(strlen(cv->dir) + 12), name[64];
	int rc = 0;

	sprintf(dir, "%s/tracefiles", cv->dir);
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fi__util_error("--coverage: cannot make %s: %s", dir,
			       strerror(errno));
		free(dir);
		free(jobs);
		return FI_RUN_EXIT_USAGE;
	}
	for (size_t i = 0; i <= nruns; i++) {
		struct job *j = &jobs[n];
		long long id = i ? json_integer_value(json_object_get(
					   json_array_get(runs, i - 1), "id"))
				 : -1;

		if (i)
			snprintf(name, sizeof(name), "run-%lld", id);
		else
			snprintf(name, sizeof(name), "base");
		j->tree = fi__sweep_cov_tree(cv, name);
		/* A run killed by a signal or the timeout wrote no counts. */
		if (!notes(j->tree, !i)) {
			free(j->tree);
			j->tree = NULL;
			continue;
		}
		j->out = fi__util_xmalloc(strlen(dir) + strlen(name) + 16);
		sprintf(j->out, "%s/%s.json", dir, i ? name : "baseline");
		j->log = fi__util_xmalloc(strlen(j->tree) + 12);
		sprintf(j->log, "%s/gcovr.log", j->tree);
		j->what = i ? "a run" : "the baseline";
		n++;
	}
	while ((next < n || active) && !rc) {
		int st;
		pid_t w;

		while (next < n && active < cv->jobs) {
			jobs[next].pid = start(cv, &jobs[next]);
			if (jobs[next].pid < 0) {
				fi__util_error("--coverage: fork: %s",
					       strerror(errno));
				rc = FI_RUN_EXIT_USAGE;
				break;
			}
			next++;
			active++;
		}
		if (!active)
			break;
		w = waitpid(-1, &st, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < next; i++)
			if (jobs[i].pid == w) {
				active--;
				jobs[i].pid = 0;
				if (!WIFEXITED(st) || WEXITSTATUS(st)) {
					gcovr_failed(&jobs[i], st);
					rc = FI_RUN_EXIT_USAGE;
				}
			}
	}
	for (size_t i = 0; i < next; i++)
		if (jobs[i].pid > 0)
			waitpid(jobs[i].pid, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].tree);
		free(jobs[i].out);
		free(jobs[i].log);
	}
	if (!rc && (!n || strcmp(jobs[0].what, "the baseline"))) {
		fi__util_error(
			"--coverage: the baseline runs wrote no .gcda file under their GCOV_PREFIX; does the program reset GCOV_PREFIX, or exit through _exit?");
		rc = FI_RUN_EXIT_USAGE;
	}
	free(jobs);
	free(dir);
	return rc;
}

/* The longest directory all the tracefiles' source files share. */
static char *common_dir(const char *baseline)
{
	json_t *t = json_load_file(baseline, 0, NULL);
	json_t *files = json_object_get(t, "files"), *f;
	char *c = NULL;
	size_t i;

	json_array_foreach(files, i, f)
	{
		const char *p = json_string_value(json_object_get(f, "file"));
		size_t k = 0;

		if (!p)
			continue;
		if (!c) {
			c = fi__util_xstrdup(p);
			continue;
		}
		while (c[k] && c[k] == p[k])
			k++;
		c[k] = '\0';
	}
	json_decref(t);
	if (c && strrchr(c, '/'))
		strrchr(c, '/')[c == strrchr(c, '/') ? 1 : 0] = '\0';
	return c ? c : fi__util_xstrdup("/");
}

int fi__sweep_cov_html(const struct fi__sweep_cov *cv, json_t *report)
{
	json_t *runs = json_object_get(report, "runs"), *cmd;
	size_t nruns = json_array_size(runs), k = 0;
	char **argv = fi__util_xmalloc((2 * nruns + 16) * sizeof(*argv));
	char *base = fi__util_xmalloc(strlen(cv->dir) + 32), *root, *html, *log,
	     *title;
	const char *prog;
	int st, rc = 0;

	sprintf(base, "%s/tracefiles/baseline.json", cv->dir);
	root = common_dir(base);
	html = fi__util_xmalloc(strlen(cv->dir) + 12);
	sprintf(html, "%s/index.html", cv->dir);
	log = fi__sweep_cov_tree(cv, "gcovr-html.log");
	cmd = json_array_get(json_object_get(report, "command"), 0);
	prog = json_string_value(cmd) ? json_string_value(cmd) : "?";
	title = fi__util_xmalloc(strlen(prog) + 64);
	sprintf(title, "fi-run --sweep --coverage: %s, with every fault",
		strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog);
	argv[k++] = cv->gcovr;
	argv[k++] = "--root";
	argv[k++] = root;
	argv[k++] = "--html-details";
	argv[k++] = html;
	argv[k++] = "--html-title";
	argv[k++] = title;
	argv[k++] = "--add-tracefile";
	argv[k++] = base;
	for (size_t i = 0; i < nruns; i++) {
		char *p = fi__util_xmalloc(strlen(cv->dir) + 48);

		sprintf(p, "%s/tracefiles/run-%lld.json", cv->dir,
			json_integer_value(json_object_get(
				json_array_get(runs, i), "id")));
		if (access(p, R_OK)) {
			free(p);
			continue;
		}
		argv[k++] = "--add-tracefile";
		argv[k++] = p;
	}
	argv[k] = NULL;
	st = fi__sweep_cov_spawn(argv, log);
	if (st) {
		size_t len;
		char *out = fi__sweep_slurp(log, 1 << 16, &len);

		fi__util_error(
			"--coverage: gcovr failed to write %s (exit status %d); its output:",
			html, st);
		if (out && len)
			fprintf(stderr, "%s%s",
				len > 2000 ? out + len - 2000 : out,
				out[len - 1] == '\n' ? "" : "\n");
		free(out);
		rc = FI_RUN_EXIT_USAGE;
	}
	for (size_t i = 10; i < k; i += 2)
		free(argv[i]);
	free(argv);
	free(base);
	free(root);
	free(html);
	free(log);
	free(title);
	return rc;
}
