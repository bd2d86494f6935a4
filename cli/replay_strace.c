/* replay_strace.c: reading a log of `strace -f -o LOG` for --replay, into
 * the records replay_trace.c gives for fi's own traces. Takes the thread
 * prefix (`PID ` or `[pid PID] `, or none), -t/-tt/-ttt/-r timestamps,
 * -T times, -y fd paths, `<unfinished ...>` and `<... NAME resumed>`
 * pairs; signal, exit and -k lines are read past. Only what replay needs
 * is kept: the name, the first fd, the path, the result, clone's flags. */
#include "replay.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fi_run.h"
#include "names.h"

#define CLONE_VM_BIT 0x100UL
#define CLONE_VFORK_BIT 0x4000UL
#define CLONE_THREAD_BIT 0x10000UL

/* Skip a C string literal starting at s ('"'); return past its end and,
 * if out, the bytes it holds (a new string). NULL when it never ends. */
static const char *read_string(const char *s, char **out)
{
	size_t n = 0;
	char *buf = malloc(strlen(s) + 1);

	if (!buf) {
		fputs("fi-run: out of memory\n", stderr);
		exit(FI_RUN_EXIT_USAGE);
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s != '\\') {
			buf[n++] = *s;
			continue;
		}
		s++;
		if (*s >= '0' && *s <= '7') {
			int v = 0;

			for (int i = 0; i < 3 && *s >= '0' && *s <= '7'; i++)
				v = v * 8 + (*s++ - '0');
			s--;
			buf[n++] = (char)v;
		} else if (*s == 'x' && isxdigit((unsigned char)s[1])) {
			char hex[3] = {s[1],
				       isxdigit((unsigned char)s[2]) ? s[2] : 0,
				       0};

			buf[n++] = (char)strtol(hex, NULL, 16);
			s += hex[1] ? 2 : 1;
		} else if (*s) {
			static const char from[] = "ntrvfab",
					  to[] = "\n\t\r\v\f\a\b";
			const char *p = strchr(from, *s);

			buf[n++] = p ? to[p - from] : *s;
		} else {
			break;
		}
	}
	buf[n] = '\0';
	if (*s != '"') {
		free(buf);
		return NULL;
	}
	if (out)
		*out = buf;
	else
		free(buf);
	return s + 1;
}

/* The arguments between '(' and the matching ')' (or the end of an
 * unfinished line): start and end of each top-level one. Returns the
 * count found, at most max; *end points past the ')' or at NULL. */
static size_t split_args(const char *s, const char **start, const char **stop,
			 size_t max, const char **end)
{
	int depth = 0;
	size_t n = 0;
	const char *a = s;

	*end = NULL;
	for (; *s; s++) {
		if (*s == '"') {
			const char *e = read_string(s, NULL);

			if (!e)
				return n;
			s = e - 1;
		} else if (*s == '(' || *s == '{' || *s == '[' ||
			   (*s == '<' && s[1] != '.' && s[1] != 'u')) {
			depth++;
		} else if ((*s == '}' || *s == ']' || *s == '>') && depth) {
			depth--;
		} else if (*s == ')' && depth) {
			depth--;
		} else if ((*s == ',' || *s == ')') && depth == 0) {
			if (n < max) {
				start[n] = a;
				stop[n] = s;
			}
			n++;
			a = s + 1;
			while (*a == ' ')
				a++;
			if (*s == ')') {
				*end = s + 1;
				return n;
			}
		}
	}
	return n;
}

/* The result after " = ": a number, "?" (none), with an errno name. */
static int read_result(struct fi__rtrace *t, struct fi__rrec *r, const char *s,
		       unsigned line)
{
	char *end;
	long v;

	s = strstr(s, " = ");
	if (!s)
		return fi__replay_error(
			t, line, "no result (' = ') in this strace line");
	s += 3;
	if (*s == '?') {
		r->has_ret = false; /* exit_group, or ERESTARTSYS and its kin */
		return 0;
	}
	v = strtol(s, &end, 0);
	if (end == s)
		return fi__replay_error(
			t, line, "the result '%.20s' is not a number", s);
	if (v == -1 && end[0] == ' ' && end[1] == 'E') {
		char name[64];
		size_t n = strspn(end + 1,
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		int e;

		snprintf(name, sizeof(name), "%.*s", (int)n, end + 1);
		e = fi__names_errno_nr(name);
		if (e < 0)
			return fi__replay_error(t, line, "unknown errno '%s'",
						name);
		v = -e;
	}
	r->has_ret = true;
	r->ret = v;
	return 0;
}

/* clone's and clone3's flags, by name, as strace prints them. */
static unsigned long clone_flags(const char *args)
{
	const char *f = strstr(args, "flags=");
	size_t n;
	unsigned long v = 0;

	if (!f)
		return 0;
	f += 6;
	n = strcspn(f, ",}) ");
	for (const char *p = f; p < f + n;
	     p += strcspn(p, "|") + (p[strcspn(p, "|")] == '|')) {
		size_t l = strcspn(p, "|,}) ");

		if (l == 8 && !strncmp(p, "CLONE_VM", 8))
			v |= CLONE_VM_BIT;
		else if (l == 11 && !strncmp(p, "CLONE_VFORK", 11))
			v |= CLONE_VFORK_BIT;
		else if (l == 12 && !strncmp(p, "CLONE_THREAD", 12))
			v |= CLONE_THREAD_BIT;
		if (l == 0)
			break;
	}
	return v;
}

/* The arguments that replay needs, from the text after "name(". */
static int read_args(struct fi__rtrace *t, struct fi__rrec *r, const char *s,
		     unsigned line)
{
	const char *start[6], *stop[6], *end;
	size_t n = split_args(s, start, stop, 6, &end);
	int pi = fi__names_argindex(r->nr, FI_ARG_PATH);
	int fi = fi__names_argindex(r->nr, FI_ARG_FD);

	if (fi < 0)
		fi = fi__names_argindex(r->nr, FI_ARG_DIRFD);
	if (pi >= 0 && (size_t)pi < n && n <= 6 && *start[pi] == '"') {
		if (!read_string(start[pi], &r->path))
			return fi__replay_error(t, line,
						"a string that never ends");
	}
	if (fi >= 0 && (size_t)fi < n && n <= 6) {
		char *e;
		long v = strtol(start[fi], &e, 10);

		if (e != start[fi]) {
			r->has_fd = true;
			r->fd = (int)v;
		} else if (!strncmp(start[fi], "AT_FDCWD", 8)) {
			r->has_fd = true;
			r->fd = -100;
		}
	}
	if (fi__names_sys_nr("vfork") == r->nr)
		r->flags = CLONE_VM_BIT | CLONE_VFORK_BIT;
	else if (fi__names_sys_nr("clone") == r->nr ||
		 fi__names_sys_nr("clone3") == r->nr)
		r->flags = clone_flags(s);
	return 0;
}

/* The prefix: "PID " or "[pid PID] ", then a timestamp. */
static const char *read_prefix(const char *s, int *tid)
{
	char *end;
	long v;

	if (!strncmp(s, "[pid ", 5)) {
		v = strtol(s + 5, &end, 10);
		if (end != s + 5 && *end == ']') {
			*tid = (int)v;
			s = end + 1;
		}
	} else if (isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		/* "PID ", and not a timestamp's seconds (-ttt: "1700000000.5") */
		if (*end == ' ') {
			*tid = (int)v;
			s = end;
		}
	}
	while (*s == ' ')
		s++;
	/* -t, -tt, -ttt, -r: digits with ':' or '.' */
	if (isdigit((unsigned char)*s)) {
		size_t n = strspn(s, "0123456789:.");

		if (n && s[n] == ' ' && strpbrk(s, ":.") &&
		    strpbrk(s, ":.") < s + n)
			s += n;
	}
	while (*s == ' ')
		s++;
	return s;
}

struct pending {
	int tid;
	size_t rec;
};

int fi__replay_read_strace(FILE *f, struct fi__rtrace *t)
{
	char *buf = NULL;
	size_t cap = 0, npend = 0;
	struct pending pend[512];
	ssize_t len;
	unsigned no = 0;
	int rc = 0;

	while (rc == 0 && (len = getline(&buf, &cap, f)) >= 0) {
		int tid = 0;
		const char *s, *open;
		char name[64];
		struct fi__rrec *r;
		long nr;

		no++;
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (strlen(buf) != (size_t)len)
			return fi__replay_error(
				t, no,
				"not a strace line: it holds a NUL byte (a binary file?)");
		s = read_prefix(buf, &tid);
		if (strstr(s, "runs in 32 bit mode") ||
		    strstr(s, "runs in x32 mode"))
			return fi__replay_error(
				t, no,
				"a process in 32-bit or x32 mode: not an x86_64 strace log");
		if (!tid)
			tid = t->ff_tid; /* -ff: the file's, from its name */
		if (!*s || !strncmp(s, "---", 3) || !strncmp(s, "+++", 3) ||
		    !strncmp(s, "> ", 2) || strstr(s, "<detached ...>"))
			continue;
		if (!strncmp(s, "<... ", 5)) {
			/* <... NAME resumed> the rest) = RET */
			size_t i;

			for (i = 0; i < npend && pend[i].tid != tid; i++)
				;
			if (i == npend)
				return fi__replay_error(
					t, no,
					"a call resumed that was never unfinished");
			r = &t->r[pend[i].rec];
			pend[i] = pend[--npend];
			if (fi__names_sys_nr("clone") == r->nr ||
			    fi__names_sys_nr("clone3") == r->nr)
				r->flags |= clone_flags(s);
			rc = read_result(t, r, s, no);
			if (rc == 0 && r->nr == fi__names_sys_nr("execve") &&
			    r->has_ret && r->ret == 0)
				r->new_image = true;
			continue;
		}
		open = strchr(s, '(');
		if (!open || open == s || (size_t)(open - s) >= sizeof(name) ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
			    (size_t)(open - s))
			return fi__replay_error(
				t, no, "not a strace line: '%.40s'", s);
		snprintf(name, sizeof(name), "%.*s", (int)(open - s), s);
		nr = fi__names_sys_nr(name);
		if (nr < 0)
			return fi__replay_error(
				t, no,
				"unknown syscall '%s': not an x86_64 strace log",
				name);
		r = fi__replay_push(t, no);
		r->tid = r->pid = tid;
		r->nr = nr;
		rc = read_args(t, r, open + 1, no);
		if (rc)
			break;
		if (strstr(open, "<unfinished ...>")) {
			if (npend == sizeof(pend) / sizeof(pend[0]))
				return fi__replay_error(
					t, no,
					"more than 512 calls unfinished at once");
			pend[npend].tid = tid;
			pend[npend++].rec = t->n - 1;
			continue;
		}
		rc = read_result(t, r, open, no);
		if (rc == 0 && nr == fi__names_sys_nr("execve") && r->has_ret &&
		    r->ret == 0)
			r->new_image = true;
	}
	free(buf);
	if (rc)
		return rc;
	fi__replay_strace_threads(t);
	return 0;
}

void fi__replay_strace_threads(struct fi__rtrace *t)
{
	/* Threads: strace names the thread; its process is the one whose
	 * clone(CLONE_THREAD) made it, or that of the thread which did. */
	for (size_t i = 0; i < t->n; i++) {
		struct fi__rrec *c = &t->r[i];

		if (!(c->flags & CLONE_THREAD_BIT) || !c->has_ret ||
		    c->ret <= 0)
			continue;
		for (size_t j = 0; j < t->n; j++)
			if (t->r[j].tid == (int)c->ret)
				t->r[j].pid = c->pid;
	}
}
