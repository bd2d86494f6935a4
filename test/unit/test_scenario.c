/* test_scenario.c: the .fi parser (scenario.c). Each key has its success
 * case (the compiled fields) and its failure case (the exact message). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "rule_model.h"
#include "scenario.h"

static struct fi__rule *parse(const char *text)
{
	struct fi__scn_error err;
	struct fi__rule *r = fi__scn_parse_rule(text, "t.fi", 3, &err);

	if (!r)
		fail_msg("'%s' did not parse: %s", text, err.msg);
	return r;
}

static size_t count_nrs(const struct fi__rule *r)
{
	size_t i, n = 0;

	for (i = 0; i < FI_NR_MAX; i++)
		n += r->nrs[i];
	return n;
}

/* ---- success cases ---- */

static void test_when_forms(void **state)
{
	static const struct {
		const char *text;
		uint64_t first, last, step;
	} w[] = {
		{"write when=3 error=ENOSPC", 3, 3, 1},
		{"write when=1..2 error=EIO", 1, 2, 1},
		{"write when=2+ error=EIO", 2, UINT64_MAX, 1},
		{"write when=2+3 error=EIO", 2, UINT64_MAX, 3},
		{"write when=2..8+3 error=EIO", 2, 8, 3},
		{"inject=write:error=EIO:when=3+", 3, UINT64_MAX, 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct fi__rule *r = parse(w[i].text);

		assert_true(r->has_when);
		assert_int_equal(r->when.first, w[i].first);
		assert_int_equal(r->when.last, w[i].last);
		assert_int_equal(r->when.step, w[i].step);
		fi__rules_rule_free(r);
	}
}

static void test_basic_rule(void **state)
{
	struct fi__rule *r =
		parse("  write    when=3   error=ENOSPC   # the 3rd");

	(void)state;
	assert_string_equal(r->text, "write    when=3   error=ENOSPC");
	assert_string_equal(r->origin, "t.fi:3");
	assert_string_equal(r->what, "write");
	assert_int_equal(count_nrs(r), 1);
	assert_int_equal(r->nrs[SYS_write], 1);
	assert_int_equal(r->action, FI_ACT_ERROR);
	assert_int_equal(r->value, ENOSPC);
	assert_false(r->has_prob);
	assert_null(r->path);
	fi__rules_rule_free(r);
}

static void test_actions(void **state)
{
	struct fi__rule *r;

	(void)state;
	r = parse("write error=28");
	assert_int_equal(r->value, ENOSPC);
	fi__rules_rule_free(r);
	r = parse("read error=EWOULDBLOCK");
	assert_int_equal(r->value, EAGAIN);
	fi__rules_rule_free(r);
	r = parse("unlinkat retval=0");
	assert_int_equal(r->action, FI_ACT_RETVAL);
	assert_int_equal(r->value, 0);
	fi__rules_rule_free(r);
	r = parse("getpid retval=0x10");
	assert_int_equal(r->value, 16);
	fi__rules_rule_free(r);
	r = parse("getpid retval=-1");
	assert_int_equal(r->value, -1);
	fi__rules_rule_free(r);
	r = parse("write fd=1 short=1");
	assert_int_equal(r->action, FI_ACT_SHORT);
	assert_int_equal(r->value, 1);
	assert_true(r->has_fd);
	assert_int_equal(r->fd, 1);
	fi__rules_rule_free(r);
	r = parse("openat path=/etc/app.conf redirect=fixtures/app.conf");
	assert_int_equal(r->action, FI_ACT_REDIRECT);
	assert_string_equal(r->redirect, "fixtures/app.conf");
	assert_string_equal(r->path, "/etc/app.conf");
	fi__rules_rule_free(r);
	r = parse("kill signal=SIGUSR1");
	assert_int_equal(r->action, FI_ACT_PASS);
	assert_int_equal(r->signal, 10);
	fi__rules_rule_free(r);
	r = parse("kill signal=SEGV");
	assert_int_equal(r->signal, 11);
	fi__rules_rule_free(r);
	r = parse("kill signal=9");
	assert_int_equal(r->signal, 9);
	fi__rules_rule_free(r);
}

static void test_delay_units(void **state)
{
	static const struct {
		const char *text;
		long ns;
	} d[] = {
		{"connect delay=200ms", 200000000L},
		{"connect delay=1s", 1000000000L},
		{"connect delay=10us", 10000L},
		{"connect delay=5ns", 5L},
		{"connect delay=3600s", 3600000000000L},
		{"inject=connect:delay_enter=1500", 1500000L},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct fi__rule *r = parse(d[i].text);

		assert_int_equal(r->delay_ns, d[i].ns);
		assert_int_equal(r->action, FI_ACT_PASS);
		fi__rules_rule_free(r);
	}
}

static void test_prob_fixed_point(void **state)
{
	static const struct {
		const char *text;
		uint64_t t;
	} p[] = {
		{"fsync prob=0.25 error=EIO", FI_PROB_ONE / 4},
		{"fsync prob=25% error=EIO", FI_PROB_ONE / 4},
		{"fsync prob=.5 error=EIO", FI_PROB_ONE / 2},
		{"fsync prob=1 error=EIO", FI_PROB_ONE},
		{"fsync prob=1.000 error=EIO", FI_PROB_ONE},
		{"fsync prob=100% error=EIO", FI_PROB_ONE},
		{"fsync prob=0.0000000002 error=EIO",
		 1}, /* the smallest step */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		struct fi__rule *r = parse(p[i].text);

		assert_true(r->has_prob);
		assert_int_equal(r->prob, p[i].t);
		fi__rules_rule_free(r);
	}
}

static void test_filters(void **state)
{
	struct fi__rule *r;

	(void)state;
	r = parse("openat path=/etc/app/* error=EACCES");
	assert_string_equal(r->path, "/etc/app/*");
	fi__rules_rule_free(r);
	r = parse("openat path=\"/tmp/my dir/*\" error=ENOENT");
	assert_string_equal(r->path, "/tmp/my dir/*");
	fi__rules_rule_free(r);
	r = parse("write site=libstore.so+0x1a2b when=1 error=EIO");
	assert_int_equal(r->nsites, 1);
	assert_string_equal(r->sites[0].module, "libstore.so");
	assert_int_equal(r->sites[0].lo, 0x1a2b);
	assert_int_equal(r->sites[0].hi, 0x1a2b);
	fi__rules_rule_free(r);
	r = parse("write site=libstore.so error=EIO");
	assert_int_equal(r->nsites, 1);
	assert_string_equal(r->sites[0].module, "libstore.so");
	assert_int_equal(r->sites[0].lo, 0);
	assert_true(r->sites[0].hi == ULONG_MAX);
	fi__rules_rule_free(r);
	r = parse("write site=prog+0x1a21..0x1a3f error=EIO");
	assert_int_equal(r->nsites, 1);
	assert_string_equal(r->sites[0].module, "prog");
	assert_int_equal(r->sites[0].lo, 0x1a21);
	assert_int_equal(r->sites[0].hi, 0x1a3f);
	fi__rules_rule_free(r);
	r = parse("write comm=worker-* error=EIO");
	assert_string_equal(r->comm, "worker-*");
	fi__rules_rule_free(r);
	r = parse("write per=thread when=2 error=EIO");
	assert_true(r->per_thread);
	fi__rules_rule_free(r);
	r = parse("write per=process when=2 error=EIO");
	assert_false(r->per_thread);
	assert_false(r->per_syscall);
	fi__rules_rule_free(r);
	r = parse("@write per=thread,syscall when=2 error=EIO");
	assert_true(r->per_thread);
	assert_true(r->per_syscall);
	fi__rules_rule_free(r);
	/* negation */
	r = parse("@write fd!=2 error=ENOSPC");
	assert_true(r->has_fd);
	assert_true(r->not_fd);
	assert_int_equal(r->fd, 2);
	fi__rules_rule_free(r);
	r = parse("openat path!=/proc/* comm!=sh error=EACCES");
	assert_string_equal(r->path, "/proc/*");
	assert_true(r->not_path);
	assert_true(r->not_comm);
	fi__rules_rule_free(r);
	r = parse("openat path=/etc/* fd=3 error=EACCES");
	assert_false(r->not_path);
	assert_false(r->not_fd);
	fi__rules_rule_free(r);
	/* flags=: access modes apart, other bits as a mask; @open keeps the
	 * members with open flags (open, openat) */
	r = parse("@open flags=O_WRONLY|O_RDWR|O_CREAT|0x200000 error=EROFS");
	assert_true(r->has_flags);
	assert_int_equal(r->accmodes, (1 << 1) | (1 << 2));
	assert_int_equal(r->flags_any, 0100 | 0x200000);
	assert_int_equal(r->nrs[SYS_open], 1);
	assert_int_equal(r->nrs[SYS_openat], 1);
	assert_int_equal(r->nrs[SYS_creat], 0);
	assert_int_equal(r->nrs[SYS_openat2], 0);
	fi__rules_rule_free(r);
	r = parse("openat flags=O_RDONLY|O_TMPFILE error=EACCES");
	assert_int_equal(r->accmodes, 1);
	assert_int_equal(r->flags_any, 020000000);
	fi__rules_rule_free(r);
	r = parse("write proc=2.10.1 thread=3 when=5 error=EIO");
	assert_string_equal(r->proc, "2.10.1");
	assert_int_equal(r->thread, 3);
	fi__rules_rule_free(r);
	r = parse("write proc=0 error=EIO");
	assert_string_equal(r->proc, "0");
	assert_int_equal(r->thread, 0);
	fi__rules_rule_free(r);
}

static void test_script(void **state)
{
	struct fi__rule *r = parse("write script=ok,ok,ENOSPC,EINTR,ok,-5,7");

	(void)state;
	assert_int_equal(r->script_len, 7);
	assert_int_equal(r->script[0].kind, FI_STEP_OK);
	assert_int_equal(r->script[2].kind, FI_STEP_ERROR);
	assert_int_equal(r->script[2].value, ENOSPC);
	assert_int_equal(r->script[3].value, EINTR);
	assert_int_equal(r->script[4].kind, FI_STEP_OK);
	assert_int_equal(r->script[5].kind, FI_STEP_ERROR);
	assert_int_equal(r->script[5].value, EIO);
	assert_int_equal(r->script[6].kind, FI_STEP_RETVAL);
	assert_int_equal(r->script[6].value, 7);
	fi__rules_rule_free(r);
}

static void test_sets(void **state)
{
	struct fi__rule *r;

	(void)state;
	r = parse("%net when=1 error=ECONNREFUSED");
	assert_int_equal(r->nrs[SYS_connect], 1);
	assert_int_equal(r->nrs[SYS_socket], 1);
	assert_int_equal(r->nrs[SYS_read], 0);
	fi__rules_rule_free(r);
	r = parse("@read when=2 error=EIO");
	assert_int_equal(count_nrs(r), 5);
	assert_int_equal(r->nrs[SYS_preadv2], 1);
	assert_int_equal(r->nrs[SYS_write], 0);
	fi__rules_rule_free(r);
	r = parse("read,write when=2 error=EIO");
	assert_int_equal(count_nrs(r), 2);
	assert_string_equal(r->what, "read,write");
	fi__rules_rule_free(r);
	r = parse("?nosuchcall,write error=EIO");
	assert_int_equal(count_nrs(r), 1);
	fi__rules_rule_free(r);
	r = parse("%file,@read error=EIO");
	assert_int_equal(r->nrs[SYS_openat], 1);
	assert_int_equal(r->nrs[SYS_readv], 1);
	fi__rules_rule_free(r);
	/* short= and redirect= keep only the members they can act on */
	r = parse("%desc short=1");
	assert_int_equal(r->nrs[SYS_read], 1);
	assert_int_equal(r->nrs[SYS_writev], 1);
	assert_int_equal(r->nrs[SYS_close], 0);
	fi__rules_rule_free(r);
	r = parse("%desc redirect=/dev/null");
	assert_int_equal(r->nrs[SYS_openat], 1);
	assert_int_equal(r->nrs[SYS_read], 0);
	fi__rules_rule_free(r);
}

static void test_strace_forms(void **state)
{
	struct fi__rule *r;

	(void)state;
	r = parse("inject=read,write:retval=0:signal=SIGUSR1:delay_enter=1000:"
		  "when=2..4+2");
	assert_int_equal(count_nrs(r), 2);
	assert_int_equal(r->action, FI_ACT_RETVAL);
	assert_int_equal(r->signal, 10);
	assert_int_equal(r->delay_ns, 1000000);
	assert_int_equal(r->when.first, 2);
	assert_int_equal(r->when.last, 4);
	assert_int_equal(r->when.step, 2);
	fi__rules_rule_free(r);
	r = parse("fault=openat:when=1");
	assert_int_equal(r->action, FI_ACT_ERROR);
	assert_int_equal(r->value, ENOSYS);
	fi__rules_rule_free(r);
	r = parse("fault=%file:error=EACCES");
	assert_int_equal(r->value, EACCES);
	assert_int_equal(r->nrs[SYS_openat], 1);
	fi__rules_rule_free(r);
	/* syscall=: a pure syscall run in place of the call */
	r = parse("inject=read:syscall=getppid:error=EIO");
	assert_int_equal(r->instead, SYS_getppid);
	assert_int_equal(r->action, FI_ACT_ERROR);
	fi__rules_rule_free(r);
	r = parse("read syscall=gettid retval=3");
	assert_int_equal(r->instead, SYS_gettid);
	fi__rules_rule_free(r);
	/* poke_enter= / poke_exit=: @argN=HEX, a comma list, any case */
	r = parse("inject=read:poke_exit=@arg2=41424344,@arg4=00fF");
	assert_null(r->poke_enter);
	assert_non_null(r->poke_exit);
	assert_int_equal(r->poke_exit->n, 2);
	assert_int_equal(r->poke_exit->p[0].arg, 1);
	assert_int_equal(r->poke_exit->p[0].len, 4);
	assert_memory_equal(r->poke_exit->p[0].data, "ABCD", 4);
	assert_int_equal(r->poke_exit->p[1].arg, 3);
	assert_int_equal(r->poke_exit->p[1].len, 2);
	assert_memory_equal(r->poke_exit->p[1].data, "\x00\xff", 2);
	assert_int_equal(r->action, FI_ACT_PASS); /* a poke is an action */
	fi__rules_rule_free(r);
	r = parse("write poke_enter=@arg2=5a when=2");
	assert_int_equal(r->poke_enter->n, 1);
	assert_int_equal(r->poke_enter->p[0].data[0], 'Z');
	fi__rules_rule_free(r);
	/* fi keys may follow strace's form */
	r = parse("inject=openat:error=ENOENT path=/etc/*");
	assert_string_equal(r->path, "/etc/*");
	fi__rules_rule_free(r);
	/* strace counts when= per thread and per syscall of the set */
	r = parse("inject=read,write:error=EIO:when=2");
	assert_true(r->per_thread);
	assert_true(r->per_syscall);
	fi__rules_rule_free(r);
	r = parse("inject=write:error=EIO:when=2");
	assert_true(r->per_thread);
	assert_false(r->per_syscall);
	fi__rules_rule_free(r);
	r = parse("inject=read,write:error=EIO");
	assert_false(r->per_thread); /* no when=: nothing to count */
	fi__rules_rule_free(r);
	/* strace 6.1's spellings */
	r = parse("inject=write:error=eio:when=2..5+:when=3");
	assert_int_equal(r->value, EIO);
	assert_int_equal(r->when.first, 3);
	assert_int_equal(r->when.last, 3);
	fi__rules_rule_free(r);
	r = parse("inject=write:error=EIO:when=2..5+");
	assert_int_equal(r->when.first, 2);
	assert_int_equal(r->when.last, 5);
	assert_int_equal(r->when.step, 1);
	fi__rules_rule_free(r);
	r = parse("inject=write:signal=usr1");
	assert_int_equal(r->signal, SIGUSR1);
	fi__rules_rule_free(r);
	r = parse("inject=write:signal=SIGRT_2");
	assert_int_equal(r->signal, 34);
	fi__rules_rule_free(r);
	r = parse("inject=write:signal=sigrtmin+3");
	assert_int_equal(r->signal, 35);
	fi__rules_rule_free(r);
	r = parse("inject=write:signal=SIGRTMAX");
	assert_int_equal(r->signal, 64);
	fi__rules_rule_free(r);
	r = parse("inject=write:delay_enter=1s:retval=0");
	assert_int_equal(r->delay_ns, 1000000000L);
	fi__rules_rule_free(r);
	r = parse("inject=write:delay_enter=0.25ms:retval=0");
	assert_int_equal(r->delay_ns, 250000L);
	fi__rules_rule_free(r);
	r = parse("inject=write:delay_exit=2ms");
	assert_int_equal(r->delay_exit_ns, 2000000L);
	assert_int_equal(r->delay_ns, 0);
	assert_int_equal(r->action, FI_ACT_PASS);
	fi__rules_rule_free(r);
	r = parse("inject=write:delay_enter=1:delay_exit=3:error=eio");
	assert_int_equal(r->delay_ns, 1000L);
	assert_int_equal(r->delay_exit_ns, 3000L);
	fi__rules_rule_free(r);
}

/* ---- failure cases: the exact message ---- */

static const struct {
	const char *text, *msg;
} bad[] = {
	{"wrte when=3 error=ENOSPC",
	 "t.fi:3:1: error: unknown syscall 'wrte'; did you mean 'write'?"},
	{"frobnicate error=EIO",
	 "t.fi:3:1: error: unknown syscall 'frobnicate'"},
	{"write when=3 error=ENOSPCC",
	 "t.fi:3:20: error: unknown errno 'ENOSPCC'; did you mean 'ENOSPC'?"},
	{"write when=abc error=EIO",
	 "t.fi:3:12: error: bad when= 'abc': expected N, N+, N..M, N+S or "
	 "N..M+S"},
	{"write when=0 error=EIO",
	 "t.fi:3:12: error: when= counts calls from 1, got 0"},
	{"write when=5..3 error=EIO",
	 "t.fi:3:15: error: when= range 5..3 ends before it starts"},
	{"write when=3+0 error=EIO",
	 "t.fi:3:14: error: when= step must be at least 1"},
	{"write when=1..3+ error=EIO",
	 "t.fi:3:16: error: bad when= '1..3+': expected N, N+, N..M, N+S or "
	 "N..M+S"},
	{"write when=99999999999999999999999 error=EIO",
	 "t.fi:3:12: error: when= number '99999999999999999999999' is out of "
	 "range"},
	{"fsync prob=2 error=EIO",
	 "t.fi:3:12: error: prob= 2 is out of range (0..1]"},
	{"fsync prob=0 error=EIO",
	 "t.fi:3:12: error: prob= 0 is out of range (0..1]"},
	{"fsync prob=abc error=EIO",
	 "t.fi:3:12: error: bad prob= 'abc': expected a fraction such as 0.25 "
	 "or a percentage such as 25%"},
	{"write short=-1",
	 "t.fi:3:13: error: bad short= '-1': expected a byte count, 0 or more"},
	{"write error=0",
	 "t.fi:3:13: error: error= errno 0 is out of range (1..4095)"},
	{"write retval=12abc",
	 "t.fi:3:14: error: bad retval= '12abc': expected an integer"},
	{"write error=EIO fd=x",
	 "t.fi:3:20: error: bad fd= 'x': expected a descriptor number, 0 or "
	 "more"},
	{"write signal=99",
	 "t.fi:3:14: error: signal 99 is out of range (1..64)"},
	{"write error=EIO signal=SIGFOO",
	 "t.fi:3:24: error: unknown signal 'SIGFOO'; did you mean 'SIGFPE'?"},
	{"connect delay=200",
	 "t.fi:3:18: error: delay= needs a unit: ns, us, ms or s "
	 "(delay=200ms)"},
	{"connect delay=5min",
	 "t.fi:3:16: error: unknown delay unit 'min'; use ns, us, ms or s"},
	{"connect delay=99999999s",
	 "t.fi:3:15: error: delay= 99999999s is too long (at most 3600s)"},
	{"write when=1 when=2 error=EIO",
	 "t.fi:3:14: error: duplicate key 'when='"},
	{"write error=EIO retval=0",
	 "t.fi:3:17: error: retval= conflicts with error=; a rule has one "
	 "result"},
	{"write short=1 error=EIO",
	 "t.fi:3:15: error: error= conflicts with short=; a rule has one "
	 "result"},
	{"openat flags=O_WRONY error=EROFS",
	 "t.fi:3:14: error: unknown open flag 'O_WRONY' in flags=; did you "
	 "mean 'O_WRONLY'?"},
	{"openat flags=O_WRONLY|| error=EROFS",
	 "t.fi:3:23: error: bad flags= 'O_WRONLY||': expected open flags "
	 "joined by '|', such as O_WRONLY|O_CREAT"},
	{"creat flags=O_CREAT error=EROFS",
	 "t.fi:3:1: error: flags= needs a syscall with open flags (open, "
	 "openat); 'creat' has none"},
	{"write error!=EIO",
	 "t.fi:3:7: error: 'error!=' cannot be negated; only path!=, fd!= and "
	 "comm!= can"},
	{"write fd=1 fd!=2 error=EIO", "t.fi:3:12: error: duplicate key 'fd='"},
	{"\xef\xbb\xbf"
	 "write error=EIO",
	 "t.fi:3:1: error: invisible character: a UTF-8 byte order mark "
	 "(U+FEFF)"},
	{"write error=EIO\x7f",
	 "t.fi:3:16: error: invisible character: DEL (0x7f)"},
	{"write\xc2\xa0"
	 "error=EIO",
	 "t.fi:3:6: error: invisible character: a no-break space (U+00A0)"},
	{"write error=\x01"
	 "EIO",
	 "t.fi:3:13: error: invisible character: control character 0x01"},
	{"write error=eio",
	 "t.fi:3:13: error: unknown errno 'eio'; did you mean 'EIO'?"},
	{"WRITE error=EIO",
	 "t.fi:3:1: error: unknown syscall 'WRITE'; did you mean 'write'?"},
	{"write prob=0.0000000001 error=EIO",
	 "t.fi:3:12: error: prob= 0.0000000001 is below fi's precision "
	 "(1/2^32, about 2.3e-10): the rule would never act"},
	{"write when=3",
	 "t.fi:3:1: error: rule has no action; add error=, retval=, short=, "
	 "delay=, signal=, redirect=, script= or poke_enter="},
	{"write when= error=EIO",
	 "t.fi:3:12: error: missing value for 'when='"},
	{"write error", "t.fi:3:12: error: missing value for 'error='"},
	{"write wen=3 error=EIO",
	 "t.fi:3:7: error: unknown key 'wen'; did you mean 'when'?"},
	{"write colour=red error=EIO", "t.fi:3:7: error: unknown key 'colour'"},
	{"write when=1 error=EIO extra",
	 "t.fi:3:24: error: expected KEY=VALUE, got 'extra'"},
	{"read write when=1 error=EIO",
	 "t.fi:3:6: error: expected KEY=VALUE, got 'write'; list several "
	 "syscalls as 'a,b'"},
	{"when=3 error=EIO",
	 "t.fi:3:1: error: missing syscall name before 'when='"},
	{"%nett error=EIO",
	 "t.fi:3:1: error: unknown class '%nett'; did you mean '%net'?"},
	{"@reed error=EIO",
	 "t.fi:3:1: error: unknown family '@reed'; did you mean '@read'?"},
	{"read,,write error=EIO",
	 "t.fi:3:6: error: empty syscall name in 'read,,write'"},
	{"!write error=EIO",
	 "t.fi:3:1: error: negated syscall sets ('!') are not supported; list "
	 "the syscalls"},
	{"close short=1",
	 "t.fi:3:7: error: short= needs a syscall with a byte count; 'close' "
	 "has none"},
	{"close redirect=/x",
	 "t.fi:3:7: error: redirect= needs a syscall with a path argument; "
	 "'close' has none"},
	{"getpid path=/x error=EIO",
	 "t.fi:3:1: error: path= needs a syscall with a path or fd argument; "
	 "'getpid' has none"},
	{"openat path=/etc/[abc error=EACCES",
	 "t.fi:3:18: error: bad pattern in path=: '[' without ']'"},
	{"openat path=\"/tmp/x error=EIO",
	 "t.fi:3:13: error: unterminated quote"},
	{"write script=ok,,EIO", "t.fi:3:17: error: empty step in script="},
	{"write script=ok,EIO when=2",
	 "t.fi:3:21: error: when= cannot be combined with script="},
	{"write script=ok,Eblah", "t.fi:3:17: error: unknown errno 'Eblah'"},
	{"write proc=0.1 error=EIO",
	 "t.fi:3:12: error: bad proc= '0.1': expected 0, or child numbers "
	 "from 1 joined by dots (2, 2.1)"},
	{"write proc=2. error=EIO",
	 "t.fi:3:12: error: bad proc= '2.': expected 0, or child numbers "
	 "from 1 joined by dots (2, 2.1)"},
	{"write proc=1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1 error=EIO",
	 "t.fi:3:12: error: bad proc= '1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1': "
	 "more than 16 levels"},
	{"write thread=0 error=EIO",
	 "t.fi:3:14: error: bad thread= '0': expected a thread's number in "
	 "creation order, 1 or more"},
	{"write per=job error=EIO",
	 "t.fi:3:11: error: bad per= 'job': expected process, thread, syscall "
	 "or thread,syscall"},
	{"inject=write:error=EIO:delay_enter=1h",
	 "t.fi:3:37: error: unknown delay_enter= unit 'h'; use s, ms, us or ns"},
	{"inject=write:error=EIO:delay_enter=x",
	 "t.fi:3:36: error: bad delay_enter= 'x': expected a number of "
	 "microseconds, or with a unit (s, ms, us, ns)"},
	{"inject=write:signal=SIGRT_40",
	 "t.fi:3:21: error: signal SIGRT_40 is out of range (SIGRTMIN is 32, "
	 "SIGRTMAX 64)"},
	{"inject=write:syscall=getpid",
	 "t.fi:3:8: error: rule has no action; add error=, retval=, short=, "
	 "delay=, signal=, redirect=, script= or poke_enter="},
	{"inject=write:syscall=write:error=EIO",
	 "t.fi:3:22: error: syscall=write: only a syscall without arguments "
	 "or side effects can run instead (getpid, getppid, gettid, getuid, "
	 "geteuid, getgid, getegid, getpgrp), as in strace"},
	{"inject=write:syscall=getpd:error=EIO",
	 "t.fi:3:22: error: unknown syscall 'getpd' in syscall="},
	{"inject=write:syscall=getpid:syscall=gettid:error=EIO",
	 "t.fi:3:29: error: duplicate key 'syscall='"},
	{"write syscall=getpid short=1",
	 "t.fi:3:22: error: short= cannot be combined with syscall=, which "
	 "runs in place of an error= or retval= call"},
	{"inject=read:poke_exit=@arg2=414",
	 "t.fi:3:29: error: bad poke_exit= data for @arg2: expected an even "
	 "number of hex digits, 2 for each byte"},
	{"inject=read:poke_exit=@arg2=41zz",
	 "t.fi:3:31: error: bad poke_exit= data for @arg2: 'z' is not a hex "
	 "digit"},
	{"inject=read:poke_exit=@arg7=41",
	 "t.fi:3:27: error: poke_exit=: @arg7 is out of range; a syscall has "
	 "@arg1 to @arg6"},
	{"inject=read:poke_exit=@arg2=41,@arg2=42",
	 "t.fi:3:32: error: poke_exit=: @arg2 given twice"},
	{"read poke_enter=arg2=41",
	 "t.fi:3:17: error: bad poke_enter= 'arg2=41': expected @argN=HEX, "
	 "several joined with ','"},
	{"read poke_enter=@arg2=41,",
	 "t.fi:3:26: error: bad poke_enter= '@arg2=41,': nothing after ','"},
	{"inject=read:poke_exit=@arg2=41:poke_exit=@arg3=42",
	 "t.fi:3:32: error: duplicate key 'poke_exit='"},
	{"write site=lib.so+0xzz error=EIO",
	 "t.fi:3:19: error: bad site= offset '0xzz': expected a number such "
	 "as 0x1a2b"},
	{"write site=lib.so+0x20..0x10 error=EIO",
	 "t.fi:3:25: error: bad site= range end '0x10': expected a number no "
	 "smaller than 0x20"},
	{"write site=+0x10 error=EIO",
	 "t.fi:3:12: error: bad site= '+0x10': expected MODULE, "
	 "MODULE+0xOFFSET, MODULE+0xLO..0xHI or FILE:LINE"},
	{"inject=write:error=ENOSPC:delay_exit=10h",
	 "t.fi:3:40: error: unknown delay_exit= unit 'h'; use s, ms, us or ns"},
	{"inject=write:path=/x",
	 "t.fi:3:14: error: unknown inject= key 'path'; strace's inject= "
	 "takes error, retval, signal, syscall, delay_enter, delay_exit, "
	 "poke_enter, poke_exit and when"},
	{"fault=write:retval=0",
	 "t.fi:3:13: error: fault= takes only error= and when=, not "
	 "'retval='"},
	{"inject=:error=EIO", "t.fi:3:8: error: missing syscall name"},
	{"", "t.fi:3:1: error: empty rule"},
	{"   # only a comment", "t.fi:3:1: error: empty rule"},
	{"write error=EIO\nread error=EIO",
	 "t.fi:3:16: error: one rule expected, but the text goes on after a "
	 "newline"},
};

/* site=FILE:LINE: the spans fi-run's resolver gives, or FI_SITES's. */
static char *fake_lines(const char *file_line, char *why, size_t whylen,
			void *arg)
{
	(void)arg;
	if (!strcmp(file_line, "foo.c:42"))
		return strdup("prog+0x1a21..0x1a3f libfoo.so.1+0x10..0x20");
	snprintf(why, whylen,
		 "no code at %s in prog; nearest lines with "
		 "code: 40, 44",
		 file_line);
	return NULL;
}

static void test_site_lines(void **state)
{
	struct fi__scn_error err;
	struct fi__rule *r;

	(void)state;
	/* In libfi, without fi-run: a clear refusal. */
	unsetenv("FI_SITES");
	r = fi__scn_parse_rule("write site=foo.c:42 error=EIO", "t.fi", 3,
			       &err);
	assert_null(r);
	assert_string_equal(
		err.msg, "t.fi:3:12: error: site=foo.c:42 names a source "
			 "line, which only fi-run turns into code addresses "
			 "(from the program's debug info, before it starts): "
			 "run the program under fi-run, or name the site as "
			 "MODULE+0xOFFSET, as traces and the sweep print it");
	/* Under fi-run: the spans it resolved, from FI_SITES. */
	setenv("FI_SITES",
	       "bar.c:7\tprog+0x5..0x9\nsrc/foo.c:42\tprog+0x1a21..0x1a3f "
	       "libfoo.so.1+0x10..0x20\n",
	       1);
	r = parse("write site=src/foo.c:42 error=EIO");
	assert_int_equal(r->nsites, 2);
	assert_string_equal(r->sites[0].module, "prog");
	assert_int_equal(r->sites[0].lo, 0x1a21);
	assert_int_equal(r->sites[0].hi, 0x1a3f);
	assert_string_equal(r->sites[1].module, "libfoo.so.1");
	assert_int_equal(r->sites[1].lo, 0x10);
	assert_int_equal(r->sites[1].hi, 0x20);
	assert_string_equal(r->text, "write site=src/foo.c:42 error=EIO");
	fi__rules_rule_free(r);
	r = fi__scn_parse_rule("write site=foo.c:42 error=EIO", "t.fi", 3,
			       &err);
	assert_null(r);
	assert_string_equal(err.msg,
			    "t.fi:3:12: error: site=foo.c:42: fi-run did not "
			    "resolve this source line (FI_SITES has no entry "
			    "for it)");
	unsetenv("FI_SITES");
	/* In fi-run: its resolver, whose message keeps the rule's place. */
	fi__scn_set_lines(fake_lines, NULL);
	r = parse("write site=foo.c:42 error=EIO");
	assert_int_equal(r->nsites, 2);
	assert_int_equal(r->sites[1].hi, 0x20);
	fi__rules_rule_free(r);
	r = fi__scn_parse_rule("write when=1 site=foo.c:1 error=EIO", "t.fi", 3,
			       &err);
	assert_null(r);
	assert_string_equal(err.msg,
			    "t.fi:3:19: error: no code at foo.c:1 in prog; "
			    "nearest lines with code: 40, 44");
	fi__scn_set_lines(NULL, NULL);
}

static void test_bad_rules(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fi__scn_error err;
		struct fi__rule *r =
			fi__scn_parse_rule(bad[i].text, "t.fi", 3, &err);

		if (r)
			fail_msg("'%s' parsed, expected: %s", bad[i].text,
				 bad[i].msg);
		if (strcmp(err.msg, bad[i].msg) != 0)
			fail_msg("'%s':\n  expected: %s\n  got:      %s",
				 bad[i].text, bad[i].msg, err.msg);
	}
}

/* ---- whole texts, lists and files ---- */

static void test_load_text(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	struct fi__rule_stats st;

	(void)state;
	assert_int_equal(
		fi__scn_load_text(rs,
				  "# header\n"
				  "\n"
				  "write when=3 error=ENOSPC\r\n"
				  "   read when=1 error=EINTR  # first\n"
				  "\t\n",
				  "x.fi", &err),
		2);
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_string_equal(st.origin, "x.fi:3");
	assert_string_equal(st.text, "write when=3 error=ENOSPC");
	assert_true(fi__rules_stats(rs, 1, &st));
	assert_string_equal(st.origin, "x.fi:4");
	assert_string_equal(st.text, "read when=1 error=EINTR");
	assert_false(fi__rules_stats(rs, 2, &st));
	assert_int_equal(fi__scn_load_text(rs, "# nothing\n\n", "y.fi", &err),
			 0);
	assert_int_equal(fi__scn_load_text(rs, "", "y.fi", &err), 0);
	fi__rules_free(rs);
}

/* One bad line arms nothing. */
static void test_all_or_nothing(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	struct fi__rule_stats st;
	unsigned char table[FI_NR_MAX] = {0};

	(void)state;
	assert_int_equal(fi__scn_load_text(rs,
					   "write when=3 error=ENOSPC\n"
					   "read when=1 error=EINTR\n"
					   "fsync prob=2 error=EIO\n",
					   "x.fi", &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "x.fi:3:12: error: prob= 2 is out of range (0..1]");
	assert_false(fi__rules_stats(rs, 0, &st));
	fi__rules_interest(rs, table);
	assert_int_equal(table[SYS_write], 0);
	assert_int_equal(table[SYS_read], 0);
	fi__rules_free(rs);
}

static void test_load_list(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	struct fi__rule_stats st;

	(void)state;
	assert_int_equal(fi__scn_load_list(rs,
					   "write when=1 error=EIO; read "
					   "error=EIO;openat path=\"/a;b\" "
					   "error=ENOENT;",
					   "FI_RULES", &err),
			 3);
	assert_true(fi__rules_stats(rs, 1, &st));
	assert_string_equal(st.text, "read error=EIO");
	assert_true(fi__rules_stats(rs, 2, &st));
	assert_string_equal(st.text, "openat path=\"/a;b\" error=ENOENT");
	assert_int_equal(fi__scn_load_list(rs,
					   "write error=EIO; wrte error=EIO",
					   "FI_RULES", &err),
			 -EINVAL);
	assert_string_equal(err.msg, "FI_RULES:1:18: error: unknown syscall "
				     "'wrte'; did you mean 'write'?");
	assert_false(fi__rules_stats(rs, 3, &st));
	fi__rules_free(rs);
}

/* Each line of a list is a line of its origin (fi-run's -r options, one a
 * line: FI_RULES:2 is the second); _at numbers the first line. */
static void test_load_list_lines(void **state)
{
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	struct fi__rule_stats st;

	(void)state;
	assert_int_equal(fi__scn_load_list(rs,
					   "write error=EIO; read error=EIO\n"
					   "write error=EIO",
					   "FI_RULES", &err),
			 3);
	assert_true(fi__rules_stats(rs, 0, &st));
	assert_string_equal(st.origin, "FI_RULES:1");
	assert_true(fi__rules_stats(rs, 1, &st));
	assert_string_equal(st.origin, "FI_RULES:1");
	assert_true(fi__rules_stats(rs, 2, &st));
	assert_string_equal(st.origin, "FI_RULES:2");
	assert_string_equal(st.text, "write error=EIO");
	assert_int_equal(fi__scn_load_list_at(rs, "fsync error=EIO", "<rule>",
					      3, &err),
			 1);
	assert_true(fi__rules_stats(rs, 3, &st));
	assert_string_equal(st.origin, "<rule>:3");
	assert_int_equal(fi__scn_load_list_at(rs, "fsync error=EZZ", "<rule>",
					      4, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "<rule>:4:13: error: unknown errno 'EZZ'");
	fi__rules_free(rs);
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/fi_test_scn_XXXXXX", path[128], missing[128];
	struct fi__ruleset *rs = fi__rules_new();
	struct fi__scn_error err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ok.fi", dir);
	snprintf(missing, sizeof(missing), "%s/missing.fi", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# disk full\nwrite when=2+ error=ENOSPC\n", f);
	fclose(f);
	assert_int_equal(fi__scn_load_file(rs, path, &err), 1);

	assert_int_equal(fi__scn_load_file(rs, missing, &err), -ENOENT);
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "%s: error: cannot read: No such file or directory",
			 missing);
		assert_string_equal(err.msg, want);
		assert_int_equal(fi__scn_load_file(rs, dir, &err), -EIO);
		snprintf(want, sizeof(want),
			 "%s: error: cannot read: Is a directory", dir);
		assert_string_equal(err.msg, want);
	}
	unlink(path);
	rmdir(dir);
	fi__rules_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_when_forms),
		cmocka_unit_test(test_basic_rule),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_delay_units),
		cmocka_unit_test(test_prob_fixed_point),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_strace_forms),
		cmocka_unit_test(test_site_lines),
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_load_text),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_load_list),
		cmocka_unit_test(test_load_list_lines),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
