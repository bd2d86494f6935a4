/* test_rules.c: the rule engine (rules.c) without any patching. Calls are
 * made up here and fed to fi__rules_decide(); the table rows read like
 * "openat when=3 -> ENOENT on call 3 only". */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "glob.h"
#include "rule_model.h"
#include "scenario.h"

/* ---- helpers ---- */

static struct fi__ruleset *arm(const char *list)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	int rc;

	assert_non_null(rs);
	rc = fi__scn_load_list(rs, list, "test.c", &err);
	if (rc < 0)
		fail_msg("%s", err.msg);
	return rs;
}

/* fd 7 is an open log file, every other fd a terminal. */
static int fake_fd_path(int fd, char *buf, size_t len)
{
	const char *p = fd == 7 ? "/tmp/app.log" : "/dev/pts/0";

	if (strlen(p) >= len)
		return -1;
	strcpy(buf, p);
	return (int)strlen(p);
}

/* A pointer that faults when read: the top half of the address space is
 * the kernel's. make_call puts it in every pointer argument, so a rule
 * that reads the program's memory through args crashes the test. */
#define POISON ((long)0xffff800000000000ul)

/* A path whose copy dispatch could not make (a bad pointer, one too long,
 * process_vm_readv refused): args holds the pointer, c->path is NULL. */
static const char unreadable[] = "!";

/* A call of `name` as dispatch describes it: its fd arguments (and the
 * open flags of an open or openat) `fd`; its
 * path copied into c->path (path == unreadable: not copied; NULL: a NULL
 * pointer); every pointer argument poisoned. */
static struct fi__call make_call(const char *name, int fd, const char *path)
{
	struct fi__call c = {0};
	const struct fi__sysinfo *s;
	int i;

	c.nr = fi__names_sys_nr(name);
	assert_true(c.nr >= 0);
	s = fi__names_sys(c.nr);
	for (i = 0; i < s->nargs; i++) {
		switch (s->arg[i]) {
		case FI_ARG_FD:
		case FI_ARG_OFLAGS:
			c.args[i] = fd;
			break;
		case FI_ARG_DIRFD:
			c.args[i] = -100; /* AT_FDCWD */
			break;
		case FI_ARG_PATH:
			c.args[i] = path ? POISON : 0;
			break;
		case FI_ARG_COUNT:
		case FI_ARG_IOVCNT:
			c.args[i] = 100;
			break;
		case FI_ARG_INT:
			c.args[i] = 0x1000;
			break;
		default:
			c.args[i] = POISON;
		}
	}
	if (fi__names_argindex(c.nr, FI_ARG_PATH) >= 0 && path != unreadable)
		c.path = path;
	c.pid = c.tid = 4242;
	c.comm = "app";
	c.module = "/usr/lib/libstore.so";
	c.offset = 0x1a2b;
	c.fd_path = fake_fd_path;
	return c;
}

/* What a verdict reads as in the table: "-" pass, "ENOSPC", "=0" retval,
 * "S1" short, "R" redirect, "D" delay only. */
static void verdict_text(bool acted, const struct fi__verdict *v, char *buf,
			 size_t len)
{
	if (!acted) {
		snprintf(buf, len, "-");
		return;
	}
	switch (v->action) {
	case FI_ACT_ERROR:
		snprintf(buf, len, "%s", fi__names_errno((int)v->value));
		break;
	case FI_ACT_RETVAL:
		snprintf(buf, len, "=%ld", v->value);
		break;
	case FI_ACT_SHORT:
		snprintf(buf, len, "S%ld", v->value);
		break;
	case FI_ACT_REDIRECT:
		snprintf(buf, len, "R");
		break;
	default:
		snprintf(buf, len, "D");
	}
}

/* A number in a table row; a typo in the table fails the test. */
static int row_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 100000)
		fail_msg("bad number '%s' in a table row", s);
	return (int)v;
}

/* ---- the table ---- */

struct row {
	const char *rules;
	const char *calls;  /* NAME[@FD][:PATH] ..., NAME*N repeats;
	                     * PATH "!": dispatch could not copy it */
	const char *expect; /* one verdict per call */
};

static const struct row rows[] = {
	/* when= in all of strace's forms */
	{"write when=3 error=ENOSPC", "write*5", "- - ENOSPC - -"},
	{"read when=1..2 error=EINTR", "read*4", "EINTR EINTR - -"},
	{"write when=2+ error=EIO", "write*4", "- EIO EIO EIO"},
	{"write when=2+3 error=EIO", "write*9", "- EIO - - EIO - - EIO -"},
	{"write when=2..8+3 error=EIO", "write*12",
	 "- EIO - - EIO - - EIO - - - -"},
	{"openat when=3 error=ENOENT", "openat*4", "- - ENOENT -"},
	/* no when=: every matching call */
	{"fsync error=EIO", "fsync*2", "EIO EIO"},
	{"getpid when=2 retval=4242", "getpid*3", "- =4242 -"},
	{"unlinkat retval=0", "unlinkat*2", "=0 =0"},
	/* other syscalls neither count nor match */
	{"write when=2 error=EIO", "read write read write write",
	 "- - - EIO -"},
	/* path globs */
	{"openat path=/etc/app/* error=EACCES",
	 "openat:/etc/app/x.conf openat:/etc/other openat:/etc/app/a/b",
	 "EACCES - EACCES"},
	{"openat path=/tmp/[a-c]?.txt error=ENOENT",
	 "openat:/tmp/b1.txt openat:/tmp/d1.txt openat:/tmp/b12.txt",
	 "ENOENT - -"},
	/* path= on an fd call matches the fd's path */
	{"write path=/tmp/*.log error=ENOSPC", "write@7 write@1 write@7",
	 "ENOSPC - ENOSPC"},
	/* count only the calls that pass the filters */
	{"openat path=/etc/* when=2 error=EACCES",
	 "openat:/tmp/a openat:/etc/a openat:/tmp/b openat:/etc/b",
	 "- - - EACCES"},
	{"write fd=1 short=1", "write@1 write@2 write@1", "S1 - S1"},
	{"write fd=5 when=2 error=EIO", "write@3 write@5 write@3 write@5",
	 "- - - EIO"},
	/* scripts */
	{"write script=ok,ok,ENOSPC,EINTR,ok", "write*7",
	 "- - ENOSPC EINTR - - -"},
	{"read script=0,5,-4,EAGAIN", "read*5", "=0 =5 EINTR EAGAIN -"},
	/* classes, families and lists share one count */
	{"%net when=1 error=ECONNREFUSED", "read connect socket",
	 "- ECONNREFUSED -"},
	{"@read when=2 error=EIO", "read readv pread64 write preadv2",
	 "- EIO - - -"},
	{"read,write when=2 error=EIO", "read write read", "- EIO -"},
	/* strace's forms */
	{"inject=write:error=ENOSPC:when=3+", "write*4", "- - ENOSPC ENOSPC"},
	{"fault=write:when=2", "write*3", "- ENOSYS -"},
	{"inject=%file:retval=0:when=1", "read openat:/x openat:/y", "- =0 -"},
	/* redirect */
	{"openat path=/etc/app.conf redirect=fixtures/app.conf",
	 "openat:/etc/app.conf openat:/etc/other", "R -"},
	/* delay without a result: the call goes ahead, later */
	{"connect delay=200ms", "connect", "D"},
	/* the first rule in arm order that acts decides; all count */
	{"write when=2 error=EIO; write when=2 error=ENOSPC", "write*3",
	 "- EIO -"},
	{"write when=3 error=EIO; write when=2..3 error=ENOSPC", "write*4",
	 "- ENOSPC EIO -"},
	{"write when=1 error=EIO; write when=2 error=ENOSPC", "write*3",
	 "EIO ENOSPC -"},
	/* a path dispatch could not copy (the pointer is bad): no path=
	 * rule matches or counts it, and the kernel says EFAULT */
	{"openat path=/etc/* error=EACCES",
	 "openat:/etc/a openat:! openat:/etc/b", "EACCES - EACCES"},
	{"openat path=* error=EACCES", "openat:! openat:/x", "- EACCES"},
	{"openat path=/etc/* when=2 error=EACCES",
	 "openat:/etc/a openat:! openat:/etc/b", "- - EACCES"},
	{"%file path=/etc/* error=EACCES",
	 "open:! stat:! access:! unlink:! newfstatat:! openat:/etc/x",
	 "- - - - - EACCES"},
	{"renameat path=/tmp/* error=EXDEV", "renameat:! renameat:/tmp/a",
	 "- EXDEV"},
	{"openat path=/etc/app.conf redirect=fixtures/app.conf",
	 "openat:! openat:/etc/app.conf", "- R"},
	/* other filters never read the program's memory either: they act
	 * on calls whose pointers are bad */
	{"openat when=2 error=ENOENT", "openat:! openat:!", "- ENOENT"},
	{"openat site=libstore.so error=EACCES", "openat:!", "EACCES"},
	{"openat comm=ap? error=EACCES", "openat:!", "EACCES"},
	{"readv fd=1 short=1", "readv@1 readv@2 readv@1", "S1 - S1"},
	{"readv path=/tmp/*.log error=EIO", "readv@7 readv@1", "EIO -"},
	{"@write fd=7 error=ENOSPC", "write@7 writev@7 pwritev2@7 write@1",
	 "ENOSPC ENOSPC ENOSPC -"},
	/* flags=: any of the access modes or bits named (@FD is the flags
	 * of an open: 1 O_WRONLY, 2 O_RDWR, 64 O_CREAT, 577 O_WRONLY|O_CREAT|
	 * O_TRUNC, 1024 O_APPEND) */
	{"openat flags=O_WRONLY|O_RDWR error=EROFS",
	 "openat@0 openat@1 openat@2 openat@577 openat@1024",
	 "- EROFS EROFS EROFS -"},
	{"openat flags=O_CREAT|O_APPEND error=EROFS",
	 "openat@0 openat@64 openat@577 openat@1024", "- EROFS EROFS EROFS"},
	{"openat flags=O_RDONLY error=EACCES", "openat@0 openat@1 openat@1024",
	 "EACCES - EACCES"},
	{"open,openat flags=O_WRONLY error=EROFS", "open@1 openat@1 open@0",
	 "EROFS EROFS -"},
	/* negation: the call has the value, and it differs */
	{"write fd!=2 error=ENOSPC", "write@1 write@2 write@7",
	 "ENOSPC - ENOSPC"},
	{"openat path!=/proc/* error=EACCES",
	 "openat:/proc/1 openat:/etc/a openat:!", "- EACCES -"},
	{"write path!=*.log error=EIO", "write@7 write@1", "- EIO"},
	{"openat comm!=ap? error=EACCES", "openat:/x", "-"},
	{"openat comm!=db error=EACCES", "openat:/x", "EACCES"},
	/* one thread: per=thread counts like the default */
	{"write when=2 per=thread error=EIO", "write*3", "- EIO -"},
	/* per=syscall: each syscall of the set counts apart, as strace does */
	{"read,write when=2 per=syscall error=EIO", "read write read write",
	 "- - EIO EIO"},
	{"read,write when=2 error=EIO", "read write read write", "- EIO - -"},
	{"inject=read,write:error=EIO:when=2", "read read write write",
	 "- EIO - EIO"},
	{"inject=read,write:error=EIO:when=2 per=process",
	 "read read write write", "- EIO - -"},
	{"write prob=1 error=EIO", "write*3", "EIO EIO EIO"},
};

static void run_row(const struct row *row)
{
	struct fi__ruleset *rs = arm(row->rules);
	char calls[256], expect[256], got[512] = "";
	char *save1 = NULL, *tok;
	size_t n = 0;

	snprintf(calls, sizeof(calls), "%s", row->calls);
	snprintf(expect, sizeof(expect), "%s", row->expect);
	for (tok = strtok_r(calls, " ", &save1); tok;
	     tok = strtok_r(NULL, " ", &save1)) {
		char *star = strchr(tok, '*'), *colon = strchr(tok, ':');
		char *at = strchr(tok, '@');
		int times = 1, fd = 3, k;
		const char *path = "/tmp/data";

		if (star) {
			*star = '\0';
			times = row_number(star + 1);
		}
		if (colon) {
			*colon = '\0';
			path = strcmp(colon + 1, unreadable) ? colon + 1
							     : unreadable;
		}
		if (at) {
			*at = '\0';
			fd = row_number(at + 1);
		}
		for (k = 0; k < times; k++) {
			struct fi__call c = make_call(tok, fd, path);
			struct fi__verdict v;
			char one[64];
			bool acted = fi__rules_decide(rs, &c, &v);

			verdict_text(acted, &v, one, sizeof(one));
			if (acted)
				assert_non_null(v.rule);
			strncat(got, n++ ? " " : "",
				sizeof(got) - strlen(got) - 1);
			strncat(got, one, sizeof(got) - strlen(got) - 1);
		}
	}
	if (strcmp(got, expect) != 0)
		fail_msg("rule \"%s\" on \"%s\": expected \"%s\", got \"%s\"",
			 row->rules, row->calls, expect, got);
	fi__rules_free(rs);
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

/* The table itself must catch a wrong outcome. */
static void test_table_detects_mismatch(void **state)
{
	struct fi__ruleset *rs = arm("write when=3 error=ENOSPC");
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__verdict v;
	char got[32];

	(void)state;
	assert_false(fi__rules_decide(rs, &c, &v));
	verdict_text(false, &v, got, sizeof(got));
	assert_string_equal(got, "-");
	assert_false(fi__rules_decide(rs, &c, &v));
	assert_true(fi__rules_decide(rs, &c, &v));
	verdict_text(true, &v, got, sizeof(got));
	assert_string_equal(got, "ENOSPC");
	assert_string_not_equal(got, "EIO");
	fi__rules_free(rs);
}

/* ---- pieces ---- */

static void test_glob(void **state)
{
	static const struct {
		const char *pat, *s;
		bool match;
	} g[] = {
		{"/etc/app/*", "/etc/app/x", true},
		{"/etc/app/*", "/etc/app/", true},
		{"/etc/app/*", "/etc/ap", false},
		{"/etc/app/*", "/etc/app/a/b", true},
		{"*.log", "/var/log/x.log", true},
		{"*.log", "/var/log/x.logs", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[abc]x", "bx", true},
		{"[!abc]x", "bx", false},
		{"[^abc]x", "dx", true},
		{"[a-c]", "b", true},
		{"[a-c]", "d", false},
		{"[]]", "]", true},
		{"\\*", "*", true},
		{"\\*", "x", false},
		{"*a*b*c", "xxaxxbxxc", true},
		{"*a*b*c", "xxaxxcxxb", false},
		{"", "", true},
		{"", "x", false},
		{"**", "", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (fi__glob_match(g[i].pat, g[i].s) != g[i].match)
			fail_msg("glob '%s' on '%s': expected %d", g[i].pat,
				 g[i].s, g[i].match);
	assert_int_equal(fi__glob_check("/a/[bc]*"), -1);
	assert_int_equal(fi__glob_check("/a/[bc"), 3);
	assert_int_equal(fi__glob_check("ab\\"), 2);
	assert_int_equal(fi__glob_check("[]"), 0);
	assert_int_equal(fi__glob_check("[]]"), -1);
}

static void test_when(void **state)
{
	struct fi__when one = {3, 3, 1}, open = {2, UINT64_MAX, 1};
	struct fi__when step = {2, UINT64_MAX, 3}, rng = {2, 8, 3};

	(void)state;
	assert_false(fi__rules_when(&one, 2));
	assert_true(fi__rules_when(&one, 3));
	assert_false(fi__rules_when(&one, 4));
	assert_false(fi__rules_when(&open, 1));
	assert_true(fi__rules_when(&open, 1000000));
	assert_true(fi__rules_when(&step, 2));
	assert_false(fi__rules_when(&step, 3));
	assert_true(fi__rules_when(&step, 5));
	assert_true(fi__rules_when(&rng, 8));
	assert_false(fi__rules_when(&rng, 11));
}

static void test_filters_site_comm(void **state)
{
	struct fi__ruleset *rs = arm("write site=libstore.so+0x1a2b error=EIO;"
				     "read site=libother.so error=EIO;"
				     "close comm=ap? error=EBADF;"
				     "fsync site=/usr/lib/lib*.so error=EROFS");
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__verdict v;

	(void)state;
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.value, EIO);
	c.offset = 0x1a2c;
	assert_false(fi__rules_decide(rs, &c, &v));
	c.offset = 0x1a2b;
	c.module = NULL;
	assert_false(fi__rules_decide(rs, &c, &v));

	c = make_call("read", 3, NULL);
	assert_false(fi__rules_decide(rs, &c, &v));
	c.module = "libother.so";
	assert_true(fi__rules_decide(rs, &c, &v));

	c = make_call("close", 3, NULL);
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.value, EBADF);
	c.comm = "apple";
	assert_false(fi__rules_decide(rs, &c, &v));
	c.comm = NULL;
	assert_false(fi__rules_decide(rs, &c, &v));

	c = make_call("fsync", 3, NULL);
	assert_true(fi__rules_decide(rs, &c, &v));
	c.module = "/opt/lib/libstore.so";
	assert_false(fi__rules_decide(rs, &c, &v));
	fi__rules_free(rs);
}

/* site=MODULE+0xLO..0xHI, and the several spans of a FILE:LINE: any one
 * of them, both ends in, the object's name too. */
static void test_filters_site_spans(void **state)
{
	struct fi__ruleset *rs;
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__verdict v;
	static const struct {
		const char *module;
		unsigned long offset;
		bool match;
	} spans[] = {
		{"prog", 0x1a20, false},      {"prog", 0x1a21, true},
		{"prog", 0x1a3f, true},	      {"prog", 0x1a40, false},
		{"libfoo.so.1", 0x10, true},  {"libfoo.so.1", 0x1a30, false},
		{"libfoo.so.1", 0x21, false}, {"other", 0x1a30, false},
	};

	(void)state;
	setenv("FI_SITES",
	       "foo.c:42\tprog+0x1a21..0x1a3f libfoo.so.1+0x10..0x20", 1);
	rs = arm("write site=foo.c:42 error=EIO");
	unsetenv("FI_SITES");
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		c.module = spans[i].module;
		c.offset = spans[i].offset;
		assert_int_equal(fi__rules_decide(rs, &c, &v), spans[i].match);
	}
	fi__rules_free(rs);
}

static void test_path_edge_cases(void **state)
{
	struct fi__ruleset *rs = arm("openat path=* error=EACCES;"
				     "write path=/tmp/* error=ENOSPC");
	struct fi__call c = make_call("openat", 3, NULL);
	struct fi__rule_stats st;
	struct fi__verdict v;
	static const char real[] = "/etc/passwd";
	const long bad[] = {
		0,	1,  4095,      0x10000,
		POISON, -1, (long)real /* readable, but not the copy */};
	size_t i;

	(void)state;
	/* a NULL path is the kernel's EFAULT to give, never a crash */
	assert_false(fi__rules_decide(rs, &c, &v));
	/* whatever the register holds, only dispatch's copy counts: no copy,
	 * no match, no count, no crash */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = make_call("openat", 3, unreadable);
		c.args[1] = bad[i];
		assert_false(fi__rules_decide(rs, &c, &v));
	}
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_int_equal(st.matched, 0);
	/* the copy matches, whatever the register holds */
	c = make_call("openat", 3, real);
	assert_int_equal(c.args[1], POISON);
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.value, EACCES);
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_int_equal(st.matched, 1);

	c = make_call("write", 7, NULL);
	c.fd_path = NULL;
	assert_false(fi__rules_decide(rs, &c, &v));
	c.fd_path = fake_fd_path;
	assert_true(fi__rules_decide(rs, &c, &v));
	fi__rules_free(rs);
}

static void test_verdict_fields(void **state)
{
	struct fi__ruleset *rs = arm("connect delay=200ms;"
				     "kill signal=SIGUSR1;"
				     "write delay=5us signal=SEGV error=EIO;"
				     "openat redirect=/dev/null");
	struct fi__call c = make_call("connect", 3, NULL);
	struct fi__verdict v;

	(void)state;
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.action, FI_ACT_PASS);
	assert_int_equal(v.delay_ns, 200000000L);
	assert_int_equal(v.signal, 0);

	c = make_call("kill", 3, NULL);
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.action, FI_ACT_PASS);
	assert_int_equal(v.signal, 10);
	assert_int_equal(v.delay_ns, 0);

	c = make_call("write", 3, NULL);
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.action, FI_ACT_ERROR);
	assert_int_equal(v.value, EIO);
	assert_int_equal(v.delay_ns, 5000);
	assert_int_equal(v.signal, 11);

	c = make_call("openat", 3, "/etc/x");
	assert_true(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.action, FI_ACT_REDIRECT);
	assert_string_equal(v.redirect, "/dev/null");

	c = make_call("read", 3, NULL);
	assert_false(fi__rules_decide(rs, &c, &v));
	assert_int_equal(v.action, FI_ACT_PASS);
	assert_null(v.rule);
	fi__rules_free(rs);
}

/* ---- expectations ---- */

static void test_expect_queue(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__call w = make_call("write", 3, NULL);
	struct fi__call r = make_call("read", 3, NULL);
	struct fi__verdict v;
	char msg[512];

	(void)state;
	assert_int_equal(fi__rules_expect(rs, SYS_write, -EINTR), 0);
	assert_int_equal(fi__rules_expect(rs, SYS_write, 4242), 0);
	assert_int_equal(fi__rules_expect(rs, SYS_read, 0), 0);
	assert_int_equal(fi__rules_expect(rs, FI_NR_MAX, 0), -EINVAL);

	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(
		msg, "expected read to return 0 (fi_expect #1 of read) "
		     "but it was not called: 0 of 1 expectation consumed\n"
		     "expected write to return -EINTR (fi_expect #1 of "
		     "write) but it was not called: 0 of 2 expectations "
		     "consumed");

	assert_true(fi__rules_decide(rs, &w, &v));
	assert_int_equal(v.action, FI_ACT_ERROR);
	assert_int_equal(v.value, EINTR);
	assert_null(v.rule);

	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(
		msg, "expected read to return 0 (fi_expect #1 of read) "
		     "but it was not called: 0 of 1 expectation consumed\n"
		     "expected write to return 4242 (fi_expect #2 of "
		     "write) but it was not called: 1 of 2 expectations "
		     "consumed");
	assert_true(fi__rules_decide(rs, &r, &v));
	assert_int_equal(v.action, FI_ACT_RETVAL);
	assert_int_equal(v.value, 0);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg,
			    "expected write to return 4242 (fi_expect #2 of "
			    "write) but it was not called: 1 of 2 expectations "
			    "consumed");

	assert_true(fi__rules_decide(rs, &w, &v));
	assert_int_equal(v.action, FI_ACT_RETVAL);
	assert_int_equal(v.value, 4242);
	assert_false(fi__rules_decide(rs, &w, &v));
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");

	/* queued again after being drained */
	assert_int_equal(fi__rules_expect(rs, SYS_write, -ENOSPC), 0);
	assert_true(fi__rules_decide(rs, &w, &v));
	assert_int_equal(v.value, ENOSPC);
	fi__rules_free(rs);
}

/* fi_expect_at: the first expectation not used names where it was
 * queued; each keeps its own origin, also through a clear. */
static void test_expect_origin(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__call w = make_call("write", 3, NULL);
	struct fi__verdict v;
	char msg[512];
	char origin[32];

	(void)state;
	strcpy(origin, "t_io.c:7");
	assert_int_equal(fi__rules_expect_at(rs, SYS_write, -EINTR, origin), 0);
	strcpy(origin, "t_io.c:8"); /* the set keeps its own copy */
	assert_int_equal(fi__rules_expect_at(rs, SYS_write, 1, origin), 0);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg,
			    "expected write to return -EINTR (fi_expect #1 of "
			    "write at t_io.c:7) but it was not called: 0 of 2 "
			    "expectations consumed");
	assert_true(fi__rules_decide(rs, &w, &v));
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg,
			    "expected write to return 1 (fi_expect #2 of "
			    "write at t_io.c:8) but it was not called: 1 of 2 "
			    "expectations consumed");
	fi__rules_clear(rs);
	assert_int_equal(fi__rules_expect_at(rs, SYS_write, 2, "t_io.c:9"), 0);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg,
			    "expected write to return 2 (fi_expect #1 of "
			    "write at t_io.c:9) but it was not called: 0 of 1 "
			    "expectation consumed");
	fi__rules_free(rs);
}

/* An expectation decides the call; rules still count it. */
static void test_expect_before_rules(void **state)
{
	struct fi__ruleset *rs = arm("write when=2 error=EIO");
	struct fi__call w = make_call("write", 3, NULL);
	struct fi__verdict v;

	(void)state;
	assert_int_equal(fi__rules_expect(rs, SYS_write, -EINTR), 0);
	assert_true(fi__rules_decide(rs, &w, &v));
	assert_int_equal(v.value, EINTR);
	assert_true(fi__rules_decide(rs, &w, &v));
	assert_int_equal(v.value, EIO);
	assert_false(fi__rules_decide(rs, &w, &v));
	fi__rules_free(rs);
}

/* ---- verify and stats ---- */

static struct fi__ruleset *arm_one(const char *text)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	struct fi__rule *r = fi__scn_parse_rule(text, "test.c", 12, &err);

	if (!r)
		fail_msg("%s", err.msg);
	assert_int_equal(fi__rules_add(rs, r), 0);
	return rs;
}

static void calls(struct fi__ruleset *rs, const char *name, int n)
{
	struct fi__call c = make_call(name, 3, "/tmp/x");
	struct fi__verdict v;

	while (n-- > 0)
		fi__rules_decide(rs, &c, &v);
}

static void test_verify_when_never_fired(void **state)
{
	struct fi__ruleset *rs = arm_one("write when=3 error=ENOSPC");
	char msg[512];

	(void)state;
	calls(rs, "write", 2);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "expected write to fail (rule \"write when=3 "
				 "error=ENOSPC\" at test.c:12) but it never "
				 "fired: 2 matching calls");
	calls(rs, "write", 1);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), 0);
	fi__rules_free(rs);

	rs = arm_one("getpid when=1 retval=7");
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "expected getpid to return 7 (rule \"getpid "
				 "when=1 retval=7\" at test.c:12) but it never "
				 "fired: 0 matching calls");
	fi__rules_free(rs);

	rs = arm_one("%net when=1 error=ECONNREFUSED");
	calls(rs, "connect", 0);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "expected %net to fail (rule \"%net when=1 "
				 "error=ECONNREFUSED\" at test.c:12) but it "
				 "never fired: 0 matching calls");
	fi__rules_free(rs);
}

static void test_verify_script_and_plain(void **state)
{
	struct fi__ruleset *rs = arm_one("write script=ok,ENOSPC,ok,EINTR");
	char msg[512];

	(void)state;
	calls(rs, "write", 3);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "expected write to follow its script (rule "
				 "\"write script=ok,ENOSPC,ok,EINTR\" at "
				 "test.c:12) but it fired 1 of 2 times: 3 "
				 "matching calls");
	calls(rs, "write", 1);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), 0);
	fi__rules_free(rs);

	/* no when=: a rule that never fires is no failure */
	rs = arm_one("openat path=/etc/* error=EACCES");
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), 0);
	fi__rules_free(rs);
}

static void test_stats(void **state)
{
	struct fi__ruleset *rs = arm("write when=2+ error=EIO; read error=EIO");
	struct fi__rule_stats st;
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__verdict v;

	(void)state;
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_int_equal(st.matched, 0);
	assert_int_equal(st.fired, 0);
	assert_null(st.first_module);
	fi__rules_decide(rs, &c, &v);
	c.pid = 77;
	c.offset = 0x99;
	fi__rules_decide(rs, &c, &v);
	c.pid = 78;
	fi__rules_decide(rs, &c, &v);
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_string_equal(st.text, "write when=2+ error=EIO");
	assert_string_equal(st.origin, "test.c:1");
	assert_int_equal(st.matched, 3);
	assert_int_equal(st.fired, 2);
	assert_string_equal(st.first_module, "/usr/lib/libstore.so");
	assert_int_equal(st.first_offset, 0x99);
	assert_int_equal(st.first_pid, 77);
	assert_true(fi__rules_stats(rs, 1, &st));
	assert_string_equal(st.text, "read error=EIO");
	assert_int_equal(st.fired, 0);
	assert_false(fi__rules_stats(rs, 2, &st));
	fi__rules_free(rs);
}

static void test_clear_and_interest(void **state)
{
	struct fi__ruleset *rs = arm("write when=1 error=EIO; %net error=EIO");
	unsigned char table[FI_NR_MAX] = {0};
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__rule_stats st;
	struct fi__verdict v;
	char msg[256];

	(void)state;
	assert_int_equal(fi__rules_expect(rs, SYS_fsync, 0), 0);
	fi__rules_interest(rs, table);
	assert_int_equal(table[SYS_write], 1);
	assert_int_equal(table[SYS_connect], 1);
	assert_int_equal(table[SYS_fsync], 1);
	assert_int_equal(table[SYS_read], 0);

	fi__rules_clear(rs);
	memset(table, 0, sizeof(table));
	fi__rules_interest(rs, table);
	for (int i = 0; i < FI_NR_MAX; i++)
		assert_int_equal(table[i], 0);
	assert_false(fi__rules_decide(rs, &c, &v));
	assert_false(fi__rules_stats(rs, 0, &st));
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), 0);

	/* counting restarts for rules armed after a clear */
	{
		struct fi__scn_error err;

		assert_int_equal(fi__scn_load_list(rs, "write when=1 error=EIO",
						   "x", &err),
				 1);
	}
	assert_true(fi__rules_decide(rs, &c, &v));
	fi__rules_free(rs);
}

/* Every unmet rule is listed, one a line; what does not fit is counted. */
static void test_verify_lists_all(void **state)
{
	struct fi__ruleset *rs = arm("write when=1 error=EIO; read when=2 "
				     "error=EIO; fsync when=1 error=EIO");
	char msg[4096], small[300];

	(void)state;
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(
		msg,
		"expected write to fail (rule \"write when=1 error=EIO\" at "
		"test.c:1) but it never fired: 0 matching calls\n"
		"expected read to fail (rule \"read when=2 error=EIO\" at "
		"test.c:1) but it never fired: 0 matching calls\n"
		"expected fsync to fail (rule \"fsync when=1 error=EIO\" at "
		"test.c:1) but it never fired: 0 matching calls");
	assert_int_equal(fi__rules_verify(rs, small, sizeof(small)), -EPROTO);
	assert_string_equal(
		small,
		"expected write to fail (rule \"write when=1 error=EIO\" at "
		"test.c:1) but it never fired: 0 matching calls\n"
		"expected read to fail (rule \"read when=2 error=EIO\" at "
		"test.c:1) but it never fired: 0 matching calls\n"
		"(1 more that do not fit here)");
	fi__rules_free(rs);
}

/* The environment's rules (fi-run -s) are the base: a clear (fi_reset)
 * keeps them with their counts, and verify leaves them to the summary. */
static void test_clear_keeps_base(void **state)
{
	struct fi__ruleset *rs =
		arm("write when=2+ error=ENOSPC; fsync when=1 error=EIO");
	struct fi__call w = make_call("write", 3, NULL);
	struct fi__call r = make_call("read", 3, NULL);
	struct fi__scn_error err;
	struct fi__rule_stats st;
	struct fi__verdict v;
	char msg[256];

	(void)state;
	fi__rules_keep_base(rs);
	assert_int_equal(
		fi__scn_load_list(rs, "read error=EIO; getpid when=1 retval=3",
				  "test", &err),
		2);
	assert_false(fi__rules_decide(rs, &w, &v)); /* write 1 */
	assert_true(fi__rules_decide(rs, &r, &v));
	/* the test's unmet rule fails verify; the scenario's fsync does not */
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), -EPROTO);
	assert_non_null(strstr(msg, "getpid"));
	assert_null(strstr(msg, "fsync"));

	fi__rules_clear(rs);
	assert_false(fi__rules_decide(rs, &r, &v)); /* the test's rule went */
	assert_true(fi__rules_decide(rs, &w, &v));  /* write 2: counts go on */
	assert_int_equal(v.value, ENOSPC);
	assert_int_equal(fi__rules_verify(rs, msg, sizeof(msg)), 0);
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_string_equal(st.text, "write when=2+ error=ENOSPC");
	assert_true(fi__rules_stats(rs, 1, &st));
	assert_false(fi__rules_stats(rs, 2, &st));
	fi__rules_free(rs);
}

static void test_too_many_rules(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	int i;

	(void)state;
	for (i = 0; i < FI_RULES_MAX; i++)
		assert_int_equal(
			fi__rules_add(rs, fi__scn_parse_rule("write error=EIO",
							     "t", 1, &err)),
			0);
	assert_int_equal(fi__rules_add(rs, fi__scn_parse_rule("write error=EIO",
							      "t", 1, &err)),
			 -ENOSPC);
	fi__rules_free(rs);
}

/* ---- prob= ---- */

static unsigned prob_run(uint64_t seed, char *pattern, size_t n)
{
	struct fi__ruleset *rs = arm("fsync prob=0.25 error=EIO");
	struct fi__call c = make_call("fsync", 3, NULL);
	struct fi__verdict v;
	unsigned hits = 0;
	size_t i;

	fi__rules_seed(rs, seed);
	for (i = 0; i < n; i++) {
		bool acted = fi__rules_decide(rs, &c, &v);

		pattern[i] = acted ? 'x' : '.';
		hits += acted;
	}
	pattern[n] = '\0';
	fi__rules_free(rs);
	return hits;
}

static void test_prob(void **state)
{
	char a[1001], b[1001], d[1001];
	unsigned ha, hb, hd;

	(void)state;
	ha = prob_run(42, a, 1000);
	hb = prob_run(42, b, 1000);
	hd = prob_run(43, d, 1000);
	assert_string_equal(a, b);
	assert_int_equal(ha, hb);
	assert_string_not_equal(a, d);
	assert_in_range(ha, 200, 300);
	assert_in_range(hd, 200, 300);
}

/* ---- threads (asserts only in the main thread, after join) ---- */

struct worker {
	struct fi__ruleset *rs;
	const char *name;
	int calls;
	int tid;
	int failed;
	int claimed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct fi__call c = make_call(w->name, 3, NULL);
	struct fi__verdict v;
	int i;

	c.tid = w->tid;
	for (i = 0; i < w->calls; i++) {
		if (fi__rules_decide(w->rs, &c, &v)) {
			if (v.rule)
				w->failed++;
			else
				w->claimed++;
		}
	}
	return NULL;
}

static void run_threads(struct fi__ruleset *rs, const char *name, int n,
			int calls, struct worker *w)
{
	pthread_t t[16];
	int i;

	for (i = 0; i < n; i++) {
		w[i] = (struct worker){rs, name, calls, 1000 + i, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void test_threads_exact_count(void **state)
{
	struct fi__ruleset *rs = arm("write when=500 error=ENOSPC");
	struct worker w[4];
	struct fi__rule_stats st;
	int failed = 0, i;

	(void)state;
	run_threads(rs, "write", 4, 250, w);
	for (i = 0; i < 4; i++)
		failed += w[i].failed;
	assert_int_equal(failed, 1);
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_int_equal(st.matched, 1000);
	assert_int_equal(st.fired, 1);
	fi__rules_free(rs);
}

/* thread= and proc= ask dispatch where the call stands: here, the
 * answers a test sets. */
static int test_thread_no = 1;
static const char *test_proc = "0";

static int fake_thread_number(int pid, int tid)
{
	(void)pid;
	(void)tid;
	return test_thread_no;
}

static const char *fake_proc_path(void)
{
	return test_proc;
}

static void test_thread_and_proc(void **state)
{
	struct fi__ruleset *rs =
		arm("write thread=2 proc=1.2 when=2 error=EIO");
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__verdict v;
	/* thread, place, and whether the rule acts on that call */
	static const struct {
		int thread;
		const char *proc;
		bool acts;
	} seq[] = {
		{2, "1.2", false}, /* its first call */
		{1, "1.2", false}, /* another thread: not counted */
		{2, "1", false},   /* another process: not counted */
		{2, "0", false},
		{0, "1.2", false}, /* a thread fi did not see made */
		{2, "1.2", true},  /* its second call */
		{2, "1.2", false},
	};

	(void)state;
	c.thread_number = fake_thread_number;
	c.proc_path = fake_proc_path;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		test_thread_no = seq[i].thread;
		test_proc = seq[i].proc;
		assert_int_equal(fi__rules_decide(rs, &c, &v), seq[i].acts);
	}
	/* without the answers (a caller that cannot tell): never */
	c.thread_number = NULL;
	c.proc_path = NULL;
	assert_false(fi__rules_decide(rs, &c, &v));
	assert_int_equal(fi__rules_quick(rs, c.nr, &(long){0}), FI_QUICK_MORE);
	fi__rules_free(rs);
}

static void test_threads_per_thread(void **state)
{
	struct fi__ruleset *rs = arm("write when=100 per=thread error=EIO");
	struct worker w[4];
	int i;

	(void)state;
	run_threads(rs, "write", 4, 250, w);
	for (i = 0; i < 4; i++)
		assert_int_equal(w[i].failed, 1);
	fi__rules_free(rs);
}

static void test_threads_expect(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct worker w[4];
	int i, claimed = 0;

	(void)state;
	for (i = 0; i < 700; i++)
		assert_int_equal(fi__rules_expect(rs, SYS_read, -EINTR), 0);
	run_threads(rs, "read", 4, 250, w);
	for (i = 0; i < 4; i++)
		claimed += w[i].claimed;
	assert_int_equal(claimed, 700);
	assert_int_equal(fi__rules_verify(rs, NULL, 0), 0);
	fi__rules_free(rs);
}

/* Arming and clearing while other threads decide: no crash, no
 * use-after-free (run under ASan), and the rules act once armed. */
struct churn {
	struct fi__ruleset *rs;
	volatile int stop;
	long decided;
};

static void *decider(void *arg)
{
	struct churn *ch = arg;
	struct fi__call c = make_call("write", 3, NULL);
	struct fi__verdict v;

	while (!__atomic_load_n(&ch->stop, __ATOMIC_ACQUIRE))
		if (fi__rules_decide(ch->rs, &c, &v))
			__atomic_fetch_add(&ch->decided, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_arm_while_deciding(void **state)
{
	struct churn ch = {fi__rules_new(), 0, 0};
	struct fi__scn_error err;
	pthread_t t[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, decider, &ch), 0);
	for (i = 0; i < 300; i++) {
		assert_int_equal(
			fi__scn_load_list(ch.rs,
					  "write error=EIO; read error=EIO",
					  "churn", &err),
			2);
		assert_int_equal(fi__rules_expect(ch.rs, SYS_write, -EINTR), 0);
		if (i % 3 == 0)
			fi__rules_clear(ch.rs);
	}
	/* leave a rule armed so the deciders see it act */
	assert_int_equal(
		fi__scn_load_list(ch.rs, "write error=EIO", "churn", &err), 1);
	while (__atomic_load_n(&ch.decided, __ATOMIC_RELAXED) == 0)
		;
	__atomic_store_n(&ch.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_true(ch.decided > 0);
	fi__rules_free(ch.rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_detects_mismatch),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_filters_site_comm),
		cmocka_unit_test(test_filters_site_spans),
		cmocka_unit_test(test_path_edge_cases),
		cmocka_unit_test(test_verdict_fields),
		cmocka_unit_test(test_expect_queue),
		cmocka_unit_test(test_expect_origin),
		cmocka_unit_test(test_expect_before_rules),
		cmocka_unit_test(test_verify_when_never_fired),
		cmocka_unit_test(test_verify_script_and_plain),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_clear_and_interest),
		cmocka_unit_test(test_clear_keeps_base),
		cmocka_unit_test(test_verify_lists_all),
		cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_prob),
		cmocka_unit_test(test_threads_exact_count),
		cmocka_unit_test(test_thread_and_proc),
		cmocka_unit_test(test_threads_per_thread),
		cmocka_unit_test(test_threads_expect),
		cmocka_unit_test(test_arm_while_deciding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
