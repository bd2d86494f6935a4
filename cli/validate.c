/* validate.c: finds every scenario (a file, or a bundled one by name),
 * reads each exactly once, checks it and every rule with the runtime's
 * parser (libfi/scenario.c) into a scratch rule set, before anything
 * runs, and prepares FI_SCENARIO and FI_RULES for libfi. A scenario that
 * is not a regular file (a pipe, /dev/stdin, a FIFO) is read into a
 * private copy that libfi and the program's children can read again. */
#include "validate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libsearch.h"
#include "locate.h"
#include "rules.h"
#include "scenario.h"
#include "scratch.h"
#include "symbols.h"
#include "target.h"

/* The most fi-run reads of a scenario that is not a regular file: libfi's
 * limit for a .fi file (16 MiB), and a byte more, so that the parser says
 * it is too large. */
#define COPY_MAX ((16u << 20) + 1)

/* How long fi-run waits quietly for a pipe or device to have data, ms. */
#define QUIET_WAIT_MS 1000

/* The parser's message, with the file it read (`read`) named as the user
 * typed it (`typed`) when they differ. */
static void print_parse_error(const struct fi__scn_error *err, const char *read,
			      const char *typed)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));
	const char *msg = err->msg;
	size_t rl = read ? strlen(read) : 0;

	if (read && typed && strcmp(read, typed) && n >= rl &&
	    !strncmp(msg, read, rl) && msg[rl] == ':') {
		fputs(typed, stderr);
		msg += rl;
		n -= rl;
	}
	fwrite(msg, 1, n, stderr);
	if (n == 0 || msg[n - 1] != '\n')
		fputc('\n', stderr);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the bundled scenarios in dir, without ".fi", sorted and
 * joined by ", "; a new string. */
static char *bundled_names(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, *list;
	size_t n = 0, cap = 0;

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l <= 3 || strcmp(e->d_name + l - 3, ".fi") ||
		    e->d_name[0] == '.')
			continue;
		names = fi__util_xgrow(names, n, &cap, sizeof(*names), 16);
		names[n] = fi__util_xstrdup(e->d_name);
		names[n++][l - 3] = '\0';
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	list = fi__util_join((const char *const *)names, n, ", ");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return list;
}

/* The file `typed` names: itself; or, when it has no '/' and there is no
 * such file here, the bundled scenario of that name, with or without
 * ".fi". A new string, or NULL after printing why. */
static char *find_scenario(const char *typed, bool verbose)
{
	static const char *const suffixes[] = {"", ".fi"};
	struct stat st;
	char *dir, *found = NULL, *names;

	if (!*typed || strchr(typed, '/') || stat(typed, &st) == 0 ||
	    errno != ENOENT)
		return fi__util_xstrdup(typed);
	dir = fi__locate_scenarios();
	if (!dir) /* none: the parser says that the file is missing */
		return fi__util_xstrdup(typed);
	for (size_t i = 0; i < 2 && !found; i++) {
		size_t n = strlen(dir) + 1 + strlen(typed) +
			   strlen(suffixes[i]) + 1;
		char *cand = fi__util_xmalloc(n);

		snprintf(cand, n, "%s/%s%s", dir, typed, suffixes[i]);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			found = cand;
		else
			free(cand);
	}
	if (found) {
		if (verbose)
			fprintf(stderr, "fi-run: scenario %s: the bundled %s\n",
				typed, found);
	} else {
		names = bundled_names(dir);
		fprintf(stderr,
			"%s: error: no such file, and no bundled scenario of that name (bundled: %s)\n",
			typed, names);
		free(names);
	}
	free(dir);
	return found;
}

/* Wait until fd (O_NONBLOCK) has data or its end; say so once if that
 * takes a while: a FIFO waits for a writer, a terminal for input. */
static void wait_for_data(int fd, const char *typed)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int timeout = QUIET_WAIT_MS;

	for (;;) {
		int n = poll(&p, 1, timeout);

		if (n > 0 || (n < 0 && errno != EINTR))
			return;
		if (n == 0 && timeout > 0) {
			fprintf(stderr,
				"fi-run: %s: waiting for data to read to its end, as it is not a regular file\n",
				typed);
			timeout = -1;
		}
	}
}

/* Reads the scenario at path, not a regular file, to its end, once, into
 * a private scratch file that libfi can read as often as it needs. The
 * private file's path (owned by scratch.c), or NULL after printing
 * "TYPED: error: ...". */
static char *copy_scenario(const char *path, const char *typed, bool verbose)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), out = -1;
	char *buf = NULL, *copy = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if (in < 0) {
		fprintf(stderr, "%s: error: cannot read: %s\n", typed,
			strerror(errno));
		return NULL;
	}
	wait_for_data(in, typed);
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
	while (len < COPY_MAX) {
		ssize_t n;

		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			if (cap > COPY_MAX)
				cap = COPY_MAX;
			buf = realloc(buf, cap);
			if (!buf) {
				fputs("fi-run: out of memory\n", stderr);
				exit(FI_RUN_EXIT_USAGE);
			}
		}
		n = read(in, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errno;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(in);
	if (err) {
		fprintf(stderr, "%s: error: cannot read: %s\n", typed,
			strerror(err));
		goto out;
	}
	out = fi__scratch_make("fi-run-scenario", &copy);
	if (out < 0) {
		fprintf(stderr, "%s: error: cannot keep a copy in %s: %s\n",
			typed, fi__scratch_dir(), strerror(errno));
		copy = NULL;
		goto out;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(out, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				"%s: error: cannot keep a copy in %s: %s\n",
				typed, copy,
				n < 0 ? strerror(errno) : "short write");
			copy = NULL;
			goto out;
		}
		done += (size_t)n;
	}
	if (verbose)
		fprintf(stderr, "fi-run: scenario %s: read into %s\n", typed,
			copy);
out:
	if (out >= 0)
		close(out);
	free(buf);
	return copy;
}

/* origin, with a leading `read` (the file the parser read) replaced by
 * `typed` (the name the user gave it); a new string. */
static char *shown_origin(const char *origin, const char *read,
			  const char *typed)
{
	size_t rl = read ? strlen(read) : 0;
	const char *parts[2];

	if (!read || strncmp(origin, read, rl) ||
	    (origin[rl] && origin[rl] != ':'))
		return fi__util_xstrdup(origin);
	parts[0] = typed;
	parts[1] = origin + rl;
	return fi__util_join(parts, 2, "");
}

/* Appends the rules of rs from index `from` on to out->rules, their
 * origins naming `read` as `typed` (both NULL: as they are). */
static void collect(struct fi__validated *out, const struct fi__ruleset *rs,
		    size_t from, const char *read, const char *typed)
{
	struct fi__rule_stats st;
	size_t i;

	for (i = from; fi__rules_stats(rs, i, &st); i++) {
		struct fi__summary_rule *r = &out->rules[out->nrules];

		if (out->nrules % 64 == 0) {
			struct fi__summary_rule *v = realloc(
				out->rules, (out->nrules + 64) * sizeof(*v));

			if (!v) {
				fputs("fi-run: out of memory\n", stderr);
				exit(FI_RUN_EXIT_USAGE);
			}
			out->rules = v;
			r = &out->rules[out->nrules];
		}
		r->origin =
			shown_origin(st.origin ? st.origin : "?", read, typed);
		r->text = fi__util_xstrdup(st.text ? st.text : "?");
		out->nrules++;
	}
}

static size_t count_rules(const struct fi__ruleset *rs)
{
	struct fi__rule_stats st;
	size_t i = 0;

	while (fi__rules_stats(rs, i, &st))
		i++;
	return i;
}

/* site=FILE:LINE: read the program's line tables when the first one
 * comes, and keep every answer for FI_SITES. */
struct lines_ctx {
	const char *prog;
	const char *const *libs; /* --lib */
	size_t nlibs;
	char *path;    /* the program as found (fi__target's path) */
	bool searched; /* the libraries it may dlopen() were added */
	struct fi__lines *lines;
	char *env;
	int target_rc; /* the program cannot run: 126 or 127 */
};

static char *resolve_line(const char *file_line, char *why, size_t whylen,
			  void *arg)
{
	struct lines_ctx *c = arg;
	char *spans, *line;
	const char *parts[2];

	if (strpbrk(file_line, "\t\n")) {
		snprintf(why, whylen,
			 "site=%s: a FILE:LINE cannot hold a tab or a newline",
			 file_line);
		return NULL;
	}
	if (!c->lines) {
		struct fi__target t = {0};

		if ((c->target_rc = fi__target_check(c->prog, &t))) {
			snprintf(
				why, whylen,
				"site=%s needs the program's debug info, but %s cannot be read (above)",
				file_line, c->prog);
			return NULL;
		}
		c->lines = fi__lines_open(&t, c->prog);
		c->path = t.path ? fi__util_xstrdup(t.path) : NULL;
		fi__target_free(&t);
	}
	spans = fi__lines_spans(c->lines, file_line, why, whylen);
	if (!spans && !c->searched) {
		/* Not in the program or what it links: a library it may
		 * dlopen(), from --lib or its own directory tree. */
		char **libs = fi__libs_search(c->path, c->libs, c->nlibs);

		c->searched = true;
		for (size_t i = 0; libs[i]; i++)
			fi__lines_add(c->lines, libs[i]);
		fi__libs_free(libs);
		spans = fi__lines_spans(c->lines, file_line, why, whylen);
	}
	if (!spans) {
		size_t n = strlen(why);

		if (strstr(why, ": no source file "))
			snprintf(
				why + n, whylen - n,
				" (a library loaded with dlopen() is searched in the program's directory tree, or with --lib PATH)");
		return NULL;
	}
	line = fi__util_xasprintf("%s\t%s\n", file_line, spans);
	parts[0] = c->env ? c->env : "";
	parts[1] = line;
	if (!c->env || !strstr(c->env, line)) {
		char *env = fi__util_join(parts, 2, "");

		free(c->env);
		c->env = env;
	}
	free(line);
	return spans;
}

void fi__validate_free(struct fi__validated *v)
{
	size_t i;

	for (i = 0; i < v->nrules; i++) {
		free((char *)v->rules[i].origin);
		free((char *)v->rules[i].text);
	}
	for (i = 0; i < v->naliases; i++)
		free((char *)v->aliases[i].from);
	free(v->rules);
	free(v->aliases);
	free(v->scenario_env);
	free(v->rules_env);
	free(v->sites_env);
	memset(v, 0, sizeof(*v));
}

int fi__validate(const struct fi__run_opts *o, struct fi__validated *out)
{
	struct fi__scn_error err;
	struct fi__ruleset *rs;
	struct lines_ctx lc = {0};
	char **abs = NULL;
	size_t i, armed, nabs;
	int rc = FI_RUN_EXIT_USAGE;

	memset(out, 0, sizeof(*out));
	rs = fi__rules_new();
	if (!rs) {
		fputs("fi-run: out of memory\n", stderr);
		return FI_RUN_EXIT_USAGE;
	}
	lc.prog = o->argv ? o->argv[0] : NULL;
	lc.libs = o->libs;
	lc.nlibs = o->nlibs;
	if (lc.prog)
		fi__scn_set_lines(resolve_line, &lc);

	/* Scenarios, in the order libfi arms them: messages name each file as
	 * the user typed it. */
	abs = fi__util_xmalloc((o->nscenarios + o->nreplay + 1) * sizeof(*abs));
	out->aliases = fi__util_xmalloc((o->nscenarios + o->nreplay + 2) *
					sizeof(*out->aliases));
	for (i = 0; i < o->nscenarios; i++) {
		const char *typed = o->scenarios[i];
		char *path = find_scenario(typed, o->verbose);
		struct stat st;
		int loaded;

		if (!path)
			goto out;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
		    !S_ISDIR(st.st_mode)) {
			char *copy = copy_scenario(path, typed, o->verbose);

			free(path);
			if (!copy)
				goto out;
			path = fi__util_xstrdup(copy);
		}
		memset(&err, 0, sizeof(err));
		armed = count_rules(rs);
		loaded = fi__scn_load_file(rs, path, &err);
		if (loaded < 0) {
			print_parse_error(&err, path, typed);
			free(path);
			goto out;
		}
		collect(out, rs, armed, path, typed);
		abs[i] = fi__util_abspath(path);
		free(path);
		out->aliases[out->naliases].from = abs[i];
		out->aliases[out->naliases].to = o->scenarios[i];
		out->naliases++;
		if (strchr(abs[i], ':')) {
			fprintf(stderr,
				"fi-run: %s: a scenario path cannot contain ':' (FI_SCENARIO separates paths with it)\n",
				o->scenarios[i]);
			goto out;
		}
	}

	/* The rules --replay compiled, named after the trace they replay. */
	nabs = o->nscenarios;
	for (i = 0; i < o->nreplay; i++) {
		armed = count_rules(rs);
		memset(&err, 0, sizeof(err));
		if (fi__scn_load_file(rs, o->replay_rules[i], &err) < 0) {
			print_parse_error(&err, o->replay_rules[i],
					  o->replay_names[i]);
			goto out;
		}
		collect(out, rs, armed, o->replay_rules[i], o->replay_names[i]);
		abs[nabs] = fi__util_abspath(o->replay_rules[i]);
		out->aliases[out->naliases].from = abs[nabs++];
		out->aliases[out->naliases++].to = o->replay_names[i];
	}

	/* Each -r / -e on its own, so that a message points into what the
	 * user typed: the n-th is line n of "<rule>". */
	for (i = 0; i < o->nrules; i++) {
		struct fi__ruleset *one = fi__rules_new();
		const char *nl = strchr(o->rules[i], '\n');
		int line = (int)i + 1;

		if (!one) {
			fputs("fi-run: out of memory\n", stderr);
			goto out;
		}
		if (nl) {
			/* one option, one line: its origin names it */
			fprintf(stderr,
				"%s:%d:%d: error: a newline in -r or -e: separate rules with ';', or write them in a scenario file (-s)\n",
				FI_RUN_RULES_ORIGIN, line,
				(int)(nl - o->rules[i]) + 1);
			fi__rules_free(one);
			goto out;
		}
		memset(&err, 0, sizeof(err));
		if (fi__scn_load_list_at(one, o->rules[i], FI_RUN_RULES_ORIGIN,
					 line, &err) < 0) {
			print_parse_error(&err, NULL, NULL);
			fi__rules_free(one);
			goto out;
		}
		if (!count_rules(one)) {
			/* -r '' (or only blanks and comments): the error
			 * fi_rule("") gives, "empty rule" (parsing "" arms
			 * nothing) */
			fi__rules_free(one);
			memset(&err, 0, sizeof(err));
			(void)fi__scn_parse_rule("", FI_RUN_RULES_ORIGIN, line,
						 &err);
			print_parse_error(&err, NULL, NULL);
			goto out;
		}
		fi__rules_free(one);
	}

	/* Then all of them together, exactly as libfi will read FI_RULES:
	 * one option a line, so that each has an origin of its own. */
	if (o->nrules) {
		out->rules_env = fi__util_join(o->rules, o->nrules, "\n");
		out->aliases[out->naliases].from =
			fi__util_xstrdup(FI_RUN_RULES_ORIGIN_LIBFI);
		out->aliases[out->naliases].to = FI_RUN_RULES_ORIGIN;
		out->naliases++;
		armed = count_rules(rs);
		memset(&err, 0, sizeof(err));
		if (fi__scn_load_list(rs, out->rules_env, FI_RUN_RULES_ORIGIN,
				      &err) < 0) {
			print_parse_error(&err, NULL, NULL);
			goto out;
		}
		collect(out, rs, armed, NULL, NULL);
	}
	if (nabs)
		out->scenario_env =
			fi__util_join((const char *const *)abs, nabs, ":");
	out->sites_env = lc.env;
	lc.env = NULL;
	rc = 0;
out:
	fi__scn_set_lines(NULL, NULL);
	if (rc && lc.target_rc)
		rc = lc.target_rc;
	fi__lines_close(lc.lines);
	free(lc.path);
	free(lc.env);
	free(abs); /* the strings live on in out->aliases */
	fi__rules_free(rs);
	if (rc)
		fi__validate_free(out);
	return rc;
}
