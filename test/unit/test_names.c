/* test_names.c: the generated syscall, errno and signal tables and their
 * lookups (names.c), against the numbers the system headers give. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "names.h"

static void test_sys_round_trip(void **state)
{
	long nr, named = 0;

	(void)state;
	for (nr = 0; nr < FI_NR_MAX; nr++) {
		const struct fi__sysinfo *s = fi__names_sys(nr);

		if (!s)
			continue;
		named++;
		assert_int_equal(fi__names_sys_nr(s->name), nr);
		assert_true(s->nargs <= 6);
	}
	/* x86_64 has some 360 syscalls; every one in the header is named. */
	assert_true(named >= 350);
	assert_int_equal(fi__names_sys_nr("read"), SYS_read);
	assert_int_equal(fi__names_sys_nr("write"), SYS_write);
	assert_int_equal(fi__names_sys_nr("openat"), SYS_openat);
	assert_int_equal(fi__names_sys_nr("newfstatat"), SYS_newfstatat);
	assert_int_equal(fi__names_sys_nr("pread64"), SYS_pread64);
	assert_int_equal(fi__names_sys_nr("_sysctl"), 156);
	assert_int_equal(fi__names_sys_nr("set_mempolicy_home_node"), 450);
	assert_string_equal(fi__names_sys(SYS_clone3)->name, "clone3");
	assert_string_equal(fi__names_sys(SYS_exit_group)->name, "exit_group");
}

static void test_sys_unknown(void **state)
{
	(void)state;
	assert_int_equal(fi__names_sys_nr("wrte"), -1);
	assert_int_equal(fi__names_sys_nr(""), -1);
	assert_int_equal(fi__names_sys_nr("WRITE"), -1);
	assert_int_equal(fi__names_sys_nr("write "), -1);
	assert_int_equal(fi__names_sys_nr(NULL), -1);
	assert_null(fi__names_sys(-1));
	assert_null(fi__names_sys(FI_NR_MAX));
	assert_null(fi__names_sys(400)); /* the gap 335..423 */
	assert_null(fi__names_sys(1L << 40));
}

static void test_errno(void **state)
{
	(void)state;
	assert_string_equal(fi__names_errno(ENOSPC), "ENOSPC");
	assert_string_equal(fi__names_errno(EINTR), "EINTR");
	assert_string_equal(fi__names_errno(EHWPOISON), "EHWPOISON");
	/* duplicates: the canonical name is printed, both parse */
	assert_string_equal(fi__names_errno(EAGAIN), "EAGAIN");
	assert_string_equal(fi__names_errno(EDEADLK), "EDEADLK");
	assert_string_equal(fi__names_errno(EOPNOTSUPP), "EOPNOTSUPP");
	assert_int_equal(fi__names_errno_nr("EWOULDBLOCK"), EAGAIN);
	assert_int_equal(fi__names_errno_nr("EAGAIN"), EAGAIN);
	assert_int_equal(fi__names_errno_nr("EDEADLOCK"), EDEADLK);
	assert_int_equal(fi__names_errno_nr("ENOTSUP"), EOPNOTSUPP);
	assert_int_equal(fi__names_errno_nr("ENOSPC"), ENOSPC);
	assert_int_equal(fi__names_errno_nr("ENOSPCC"), -1);
	assert_int_equal(fi__names_errno_nr("enospc"), -1);
	assert_null(fi__names_errno(0));
	assert_null(fi__names_errno(-5));
	assert_null(fi__names_errno(4000));
	for (int e = 1; e < 134; e++) {
		const char *n = fi__names_errno(e);

		if (n)
			assert_int_equal(fi__names_errno_nr(n), e);
	}
}

static void test_signal(void **state)
{
	(void)state;
	assert_string_equal(fi__names_signal(SIGSEGV), "SIGSEGV");
	assert_string_equal(fi__names_signal(SIGIO), "SIGIO");
	assert_string_equal(fi__names_signal(SIGCHLD), "SIGCHLD");
	assert_string_equal(fi__names_signal(SIGABRT), "SIGABRT");
	assert_int_equal(fi__names_signal_nr("SIGSEGV"), SIGSEGV);
	assert_int_equal(fi__names_signal_nr("SEGV"), SIGSEGV);
	assert_int_equal(fi__names_signal_nr("SIGPOLL"), SIGIO);
	assert_int_equal(fi__names_signal_nr("IOT"), SIGABRT);
	assert_int_equal(fi__names_signal_nr("SIGUSR1"), SIGUSR1);
	assert_int_equal(fi__names_signal_nr("SIGFOO"), -1);
	assert_int_equal(fi__names_signal_nr("SIGSTKSZ"), -1);
	assert_int_equal(fi__names_signal_nr("SIGRTMIN"), -1);
	assert_int_equal(fi__names_signal_nr("segv"), -1);
	assert_int_equal(fi__names_signal_nr(""), -1);
	assert_int_equal(
		fi__names_signal_nr("AVERYLONGNAMETHATDOESNOTFITANYBUFFER"),
		-1);
	assert_null(fi__names_signal(0));
	assert_null(fi__names_signal(65));
	for (int s = 1; s < 32; s++)
		assert_int_equal(fi__names_signal_nr(fi__names_signal(s)), s);
}

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(fi__names_class("file"), FI_CLASS_FILE);
	assert_int_equal(fi__names_class("net"), FI_CLASS_NET);
	assert_int_equal(fi__names_class("network"), FI_CLASS_NET);
	assert_int_equal(fi__names_class("stat"), FI_CLASS_STAT);
	assert_int_equal(fi__names_class("%stat"), FI_CLASS_STAT);
	assert_int_equal(fi__names_class("files"), 0);
	assert_int_equal(fi__names_class(""), 0);

	/* strace: %file takes a file name, %desc an fd */
	assert_true(fi__names_sys(SYS_openat)->classes & FI_CLASS_FILE);
	assert_true(fi__names_sys(SYS_openat)->classes & FI_CLASS_DESC);
	assert_true(fi__names_sys(SYS_execve)->classes & FI_CLASS_FILE);
	assert_true(fi__names_sys(SYS_execve)->classes & FI_CLASS_PROCESS);
	assert_false(fi__names_sys(SYS_read)->classes & FI_CLASS_FILE);
	assert_true(fi__names_sys(SYS_read)->classes & FI_CLASS_DESC);
	assert_true(fi__names_sys(SYS_connect)->classes & FI_CLASS_NET);
	assert_false(fi__names_sys(SYS_connect)->classes & FI_CLASS_FILE);
	assert_true(fi__names_sys(SYS_mmap)->classes & FI_CLASS_MEMORY);
	assert_true(fi__names_sys(SYS_kill)->classes & FI_CLASS_SIGNAL);
	assert_true(fi__names_sys(SYS_shmget)->classes & FI_CLASS_IPC);
	assert_true(fi__names_sys(SYS_setuid)->classes & FI_CLASS_CREDS);
	assert_true(fi__names_sys(SYS_clock_gettime)->classes & FI_CLASS_CLOCK);
	assert_true(fi__names_sys(SYS_statx)->classes & FI_CLASS_STAT);
	assert_true(fi__names_sys(SYS_fstat)->classes & FI_CLASS_STAT);
	assert_false(fi__names_sys(SYS_getpid)->classes);
	{
		unsigned i, bits = 0;

		for (i = 0; fi__names_class_name(i); i++)
			bits |= fi__names_class(fi__names_class_name(i));
		assert_int_equal(bits, (FI_CLASS_STAT << 1) - 1);
		assert_true(i >= 10);
		assert_null(fi__names_class_name(1000));
	}
}

static void expect_family(const char *fam, const long *members, size_t n)
{
	unsigned char set[FI_NR_MAX] = {0};
	size_t i, count = 0;

	assert_true(fi__names_family(fam, set));
	for (i = 0; i < n; i++)
		assert_int_equal(set[members[i]], 1);
	for (i = 0; i < FI_NR_MAX; i++)
		count += set[i];
	assert_int_equal(count, n);
}

static void test_families(void **state)
{
	static const long rd[] = {SYS_read, SYS_readv, SYS_pread64, SYS_preadv,
				  SYS_preadv2};
	static const long wr[] = {SYS_write, SYS_writev, SYS_pwrite64,
				  SYS_pwritev, SYS_pwritev2};
	static const long op[] = {SYS_open, SYS_openat, SYS_openat2, SYS_creat};
	static const long st[] = {SYS_stat, SYS_fstat, SYS_lstat,
				  SYS_newfstatat, SYS_statx};
	static const long cl[] = {SYS_close, SYS_close_range};
	static const long snd[] = {SYS_sendto, SYS_sendmsg, SYS_sendmmsg};
	static const long rcv[] = {SYS_recvfrom, SYS_recvmsg, SYS_recvmmsg};
	unsigned char set[FI_NR_MAX] = {0};
	unsigned i;

	(void)state;
	expect_family("read", rd, 5);
	expect_family("write", wr, 5);
	expect_family("open", op, 4);
	expect_family("stat", st, 5);
	expect_family("close", cl, 2);
	expect_family("send", snd, 3);
	expect_family("recv", rcv, 3);
	assert_false(fi__names_family("reed", set));
	assert_false(fi__names_family("", set));
	for (i = 0; i < FI_NR_MAX; i++)
		assert_int_equal(set[i], 0);
	for (i = 0; fi__names_family_name(i); i++)
		assert_true(fi__names_family(fi__names_family_name(i), set));
	assert_true(i >= 10);
}

static void test_argkinds(void **state)
{
	const struct fi__sysinfo *s;

	(void)state;
	s = fi__names_sys(SYS_openat);
	assert_int_equal(s->nargs, 4);
	assert_int_equal(s->arg[0], FI_ARG_DIRFD);
	assert_int_equal(s->arg[1], FI_ARG_PATH);
	assert_int_equal(s->arg[2], FI_ARG_OFLAGS);
	assert_int_equal(s->arg[3], FI_ARG_INT);

	s = fi__names_sys(SYS_read);
	assert_int_equal(s->nargs, 3);
	assert_int_equal(s->arg[0], FI_ARG_FD);
	assert_int_equal(s->arg[1], FI_ARG_OUTBUF);
	assert_int_equal(s->arg[2], FI_ARG_COUNT);

	s = fi__names_sys(SYS_writev);
	assert_int_equal(s->nargs, 3);
	assert_int_equal(s->arg[0], FI_ARG_FD);
	assert_int_equal(s->arg[1], FI_ARG_IOV);
	assert_int_equal(s->arg[2], FI_ARG_IOVCNT);

	assert_int_equal(fi__names_argindex(SYS_openat, FI_ARG_PATH), 1);
	assert_int_equal(fi__names_argindex(SYS_openat, FI_ARG_FD), -1);
	assert_int_equal(fi__names_argindex(SYS_openat, FI_ARG_DIRFD), 0);
	assert_int_equal(fi__names_argindex(SYS_write, FI_ARG_BUF), 1);
	assert_int_equal(fi__names_argindex(SYS_renameat, FI_ARG_PATH), 1);
	assert_int_equal(fi__names_argindex(SYS_mmap, FI_ARG_FD), 4);
	assert_int_equal(fi__names_argindex(SYS_getpid, FI_ARG_FD), -1);
	assert_int_equal(fi__names_argindex(SYS_open, FI_ARG_OFLAGS), 1);
	assert_int_equal(fi__names_argindex(SYS_creat, FI_ARG_OFLAGS), -1);
	assert_int_equal(fi__names_argindex(-1, FI_ARG_FD), -1);
	assert_int_equal(fi__names_sys(SYS_getpid)->nargs, 0);
	assert_int_equal(fi__names_sys(SYS_rt_sigreturn)->nargs, 0);
}

/* docs/rules.md lists every class and family with its members; it must
 * not drift from syscalls.spec. */
static void test_docs_match_tables(void **state)
{
	FILE *f = fopen(FI_SOURCE_DIR "/docs/rules.md", "r");
	static char doc[1 << 17];
	size_t n;
	unsigned i;

	(void)state;
	assert_non_null(f);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	for (i = 0; fi__names_class_name(i); i++) {
		char want[64];

		snprintf(want, sizeof(want), "`%%%s`", fi__names_class_name(i));
		if (!strstr(doc, want))
			fail_msg("docs/rules.md does not mention %s", want);
	}
	for (i = 0; fi__names_family_name(i); i++) {
		const char *fam = fi__names_family_name(i);
		unsigned char set[FI_NR_MAX] = {0};
		char head[64], row[1024], *end;
		const char *at;
		long nr;

		snprintf(head, sizeof(head), "\n| `@%s` |", fam);
		at = strstr(doc, head);
		if (!at)
			fail_msg("docs/rules.md has no row for @%s", fam);
		snprintf(row, sizeof(row), "%s", at + strlen(head));
		end = strchr(row, '\n');
		if (end)
			*end = '\0';
		if (strstr(row, " the "))
			continue; /* described, not listed */
		assert_true(fi__names_family(fam, set));
		for (nr = 0; nr < FI_NR_MAX; nr++) {
			char name[64];

			if (!set[nr])
				continue;
			snprintf(name, sizeof(name), "`%s`",
				 fi__names_sys(nr)->name);
			if (!strstr(row, name))
				fail_msg("docs/rules.md: @%s lacks %s", fam,
					 name);
		}
		/* and lists nothing else */
		{
			size_t ticks = 0;
			const char *c;

			for (c = row; *c; c++)
				ticks += *c == '`';
			n = 0;
			for (nr = 0; nr < FI_NR_MAX; nr++)
				n += set[nr];
			if (ticks != 2 * n)
				fail_msg("docs/rules.md: @%s lists %zu names, "
					 "the table %zu",
					 fam, ticks / 2, n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sys_round_trip),
		cmocka_unit_test(test_sys_unknown),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_argkinds),
		cmocka_unit_test(test_docs_match_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
