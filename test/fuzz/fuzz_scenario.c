/* fuzz_scenario.c: fuzzes the .fi parser and the engine behind it.
 *
 * Built two ways. With clang and -fsanitize=fuzzer it is a libFuzzer
 * target (LLVMFuzzerTestOneInput). Otherwise FI_FUZZ_STANDALONE adds a
 * main() that runs each file named on the command line, then a bounded
 * loop of random inputs built from the language's own words and from
 * byte-level mutations of those files:
 *
 *   fuzz_scenario [--seed N] [--iterations N] [--seconds S] [FILE...]
 *
 * Every input must either arm rules or fail with "origin:...error:";
 * anything else (a crash, a sanitizer report, a malformed message)
 * aborts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rule_model.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_fd_path(int fd, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/tmp/fuzz/%d.log", fd);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

static void check_error(const struct fi__scn_error *err, const char *origin)
{
	size_t n = strlen(origin);

	if (strncmp(err->msg, origin, n) != 0 || err->msg[n] != ':' ||
	    !strstr(err->msg, "error: ")) {
		fprintf(stderr, "malformed parser message: '%s'\n", err->msg);
		abort();
	}
}

/* Run a few calls through whatever was armed. */
static void exercise(struct fi__ruleset *rs)
{
	static const long nrs[] = {0, 1, 2, 3, 17, 20, 42, 74, 257, 262};
	struct fi__call c = {0};
	struct fi__verdict v;
	struct fi__rule_stats st;
	char msg[1024];
	size_t i, k;

	c.args[0] = 3;
	c.args[1] = (long)"/etc/app/conf";
	c.args[2] = 100;
	c.pid = c.tid = 1234;
	c.comm = "fuzzer";
	c.module = "libfuzz.so";
	c.offset = 0x1a2b;
	c.fd_path = fake_fd_path;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
			c.nr = nrs[i];
			c.args[1] = fi__names_argindex(c.nr, FI_ARG_PATH) == 1
					    ? (long)"/etc/app/conf"
					    : 0x1000;
			if (fi__rules_decide(rs, &c, &v) &&
			    v.action == FI_ACT_REDIRECT && !v.redirect)
				abort();
		}
	}
	for (i = 0; fi__rules_stats(rs, i, &st); i++)
		if (!st.text || !st.origin)
			abort();
	if (fi__rules_verify(rs, msg, sizeof(msg)) < 0 && !msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fi__scn_error err;
	struct fi__ruleset *rs;
	char *text = malloc(size + 1);
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	rs = fi__rules_new();
	rc = fi__scn_load_text(rs, text, "fuzz.fi", &err);
	if (rc < 0)
		check_error(&err, "fuzz.fi");
	else
		exercise(rs);
	fi__rules_free(rs);

	rs = fi__rules_new();
	rc = fi__scn_load_list(rs, text, "FI_RULES", &err);
	if (rc < 0)
		check_error(&err, "FI_RULES");
	else
		exercise(rs);
	fi__rules_free(rs);
	free(text);
	return 0;
}

#ifdef FI_FUZZ_STANDALONE

/* clang-format off */
static const char *const words[] = {
	"write", "read", "openat", "open", "close", "connect", "fsync",
	"%net", "%file", "%desc", "%stat", "@read", "@write", "@open",
	"read,write", "wrte", "%nett", "@bogus", "?nosuch", "inject=",
	"fault=", ":", ",", " ", " ", " ", "\t", "\n", "#", ";", "\"", "=",
	"when=", "error=", "retval=", "short=", "delay=", "signal=", "prob=",
	"path=", "fd=", "site=", "script=", "redirect=", "comm=", "per=",
	"delay_enter=", "delay_exit=", "syscall=", "1", "3", "0", "-1",
	"2+", "1..3", "2..1", "5+2", "1..9+3", "99999999999999999999999",
	"ENOSPC", "EINTR", "EAGAIN", "EWOULDBLOCK", "ENOSPCC", "28", "4096",
	"SIGSEGV", "SEGV", "9", "65", "0.25", "25%", "1.0", "2", "0", ".5",
	"ok", "ok,ENOSPC,EINTR,ok", "200ms", "1s", "5", "10us", "3min",
	"/etc/app/*", "/tmp/[a-z]*", "[", "\\", "lib*.so+0x1a2b", "+0x",
	"thread", "process", "fixtures/app.conf", "x", "proc=", "thread=",
	"2.1", "0.1", "1.", "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17",
};
/* clang-format on */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t random_words(char *buf, size_t cap)
{
	size_t len = 0, n = 1 + rnd() % 24, i;

	for (i = 0; i < n; i++) {
		const char *w =
			words[rnd() % (sizeof(words) / sizeof(words[0]))];
		size_t wl = strlen(w);

		if (len + wl >= cap)
			break;
		memcpy(buf + len, w, wl);
		len += wl;
	}
	return len;
}

static size_t mutate(char *buf, size_t len, size_t cap)
{
	size_t n = 1 + rnd() % 8, i;

	for (i = 0; i < n && len; i++) {
		size_t at = rnd() % len;

		switch (rnd() % 4) {
		case 0: /* flip */
			buf[at] = (char)(rnd() & 0x7f);
			break;
		case 1: /* delete */
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		case 2: /* duplicate */
			if (len < cap) {
				memmove(buf + at + 1, buf + at, len - at);
				len++;
			}
			break;
		default: /* a word */
			len += random_words(buf + len, cap - len);
			break;
		}
	}
	return len;
}

/* A command-line number; exits on anything else. */
static unsigned long long number(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "fuzz_scenario: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(1 << 16);
	if (buf)
		*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	unsigned long iterations = 10000, seconds = 20, i;
	unsigned long long seed = 1;
	char **files = calloc((size_t)argc, sizeof(*files));
	size_t nfiles = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	time_t start = time(NULL);
	int a;

	if (!files || !buf)
		return 2;
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = number(argv[++a]);
		else if (!strcmp(argv[a], "--iterations") && a + 1 < argc)
			iterations = (unsigned long)number(argv[++a]);
		else if (!strcmp(argv[a], "--seconds") && a + 1 < argc)
			seconds = (unsigned long)number(argv[++a]);
		else
			files[nfiles++] = argv[a];
	}
	rng_state = seed;
	printf("fuzz_scenario: seed %llu, %zu files, up to %lu iterations "
	       "or %lu s\n",
	       seed, nfiles, iterations, seconds);
	for (i = 0; i < nfiles; i++) {
		size_t len = 0;
		char *t = read_all(files[i], &len);

		if (!t) {
			fprintf(stderr, "fuzz_scenario: cannot read %s\n",
				files[i]);
			return 2;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)t, len);
		free(t);
	}
	for (i = 0; i < iterations; i++) {
		size_t len;

		if ((i & 255) == 0 &&
		    (unsigned long)(time(NULL) - start) >= seconds)
			break;
		if (nfiles && rnd() % 2) {
			char *t = read_all(files[rnd() % nfiles], &len);

			if (!t)
				return 2;
			memcpy(buf, t, len < cap ? len : cap);
			free(t);
			len = mutate(buf, len < cap ? len : cap, cap / 2);
		} else {
			len = random_words(buf, 512);
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	}
	printf("fuzz_scenario: %lu random inputs, no failure\n", i);
	free(buf);
	free(files);
	return 0;
}

#endif
