/* api.c: the public functions of fi.h, thin sugar over the rule engine
 * (rules.c), the parser (scenario.c) and the runtime's counters. They run
 * in the program's context, never in the hook, so they may allocate; the
 * syscalls they make themselves are not counted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fi.h"
#include "gcov.h"
#include "mem.h"
#include "names.h"
#include "rules.h"
#include "runtime.h"
#include "scenario.h"
#include "site.h"

/* The thread's last message; one that does not fit (fi_verify listing
 * many rules) goes to the heap, kept until the thread's next message. */
static __thread char last_error[512];
static __thread char *long_error;

static __attribute__((format(printf, 1, 2))) void set_error(const char *fmt,
							    ...)
{
	va_list ap;
	int n;

	fi__mem_free(long_error);
	long_error = NULL;
	va_start(ap, fmt);
	n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(last_error) &&
	    (long_error = fi__mem_malloc((size_t)n + 1))) {
		va_start(ap, fmt);
		vsnprintf(long_error, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
}

/* Every API call: clear the error, make sure the runtime is there, and
 * start counting (the first use of the API starts the test's scope). */
static int enter(void)
{
	last_error[0] = 0;
	fi__mem_free(long_error);
	long_error = NULL;
	if (!fi__runtime_active() || !fi__runtime_rules()) {
		set_error(
			"libfi is not active in this process (no syscall site could be patched)");
		return -ENOSYS;
	}
	fi__dispatch_suspend();
	fi__runtime_count_all();
	return 0;
}

static int leave(int r)
{
	fi__dispatch_resume();
	return r;
}

static long lookup(const char *syscall)
{
	long nr;
	if (!syscall) {
		set_error("syscall name is NULL");
		return -EINVAL;
	}
	nr = fi__names_sys_nr(syscall);
	if (nr < 0) {
		set_error("unknown syscall '%s'", syscall);
		return -EINVAL;
	}
	return nr;
}

/* enter(), then the number of the syscall named: >= 0 with the API
 * entered (leave() to follow), or a negative errno, left. */
static long enter_syscall(const char *syscall)
{
	int r = enter();
	long nr;

	if (r < 0)
		return r;
	nr = lookup(syscall);
	return nr < 0 ? leave((int)nr) : nr;
}

static int arm(struct fi__rule *r, const struct fi__scn_error *err)
{
	int e;
	if (!r) {
		set_error("%s", err->msg);
		return -EINVAL;
	}
	e = fi__rules_add(fi__rs, r);
	if (e < 0) {
		set_error(e == -ENOSPC ? "too many rules armed"
				       : "out of memory");
		return e;
	}
	fi__runtime_rules_changed();
	return 0;
}

/* A caller's file as a rule's origin: its last component. */
static const char *origin_of(const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;

	return slash ? slash + 1 : file;
}

static int rule_from(const char *rule, const char *origin, int line,
		     const void *caller)
{
	struct fi__scn_error err;
	int r = enter();
	if (r < 0)
		return r;
	if (!rule) {
		set_error("rule is NULL");
		return leave(-EINVAL);
	}
	r = arm(fi__scn_parse_rule(rule, origin, line, &err), &err);
	if (!r)
		fi__gcov_armed(caller, rule);
	return leave(r);
}

int fi_rule(const char *rule)
{
	return rule_from(rule, "<rule>", 1, __builtin_return_address(0));
}

int fi_rule_at(const char *rule, const char *file, int line)
{
	return file && *file ? rule_from(rule, origin_of(file), line,
					 __builtin_return_address(0))
			     : rule_from(rule, "<rule>", 1,
					 __builtin_return_address(0));
}

int fi_load_scenario(const char *path)
{
	struct fi__scn_error err;
	char text[512];
	int r = enter();
	if (r < 0)
		return r;
	if (!path) {
		set_error("scenario path is NULL");
		return leave(-EINVAL);
	}
	r = fi__scn_load_file(fi__rs, path, &err);
	if (r < 0) {
		set_error("%s", err.msg);
		return leave(r);
	}
	fi__runtime_rules_changed();
	snprintf(text, sizeof(text), "scenario %s", path);
	fi__gcov_armed(__builtin_return_address(0), text);
	return leave(0);
}

static int fail_nth(const char *syscall, unsigned n, int err,
		    const char *origin, int line, const void *caller)
{
	struct fi__scn_error perr;
	char text[256];
	long nr = enter_syscall(syscall);
	int r;

	if (nr < 0)
		return (int)nr;
	if (n == 0) {
		set_error("fi_fail_nth: n counts from 1");
		return leave(-EINVAL);
	}
	if (err <= 0 || err > 4095) {
		set_error("fi_fail_nth: errno %d is out of range 1..4095", err);
		return leave(-EINVAL);
	}
	/* The errno by name where it has one: the text is also what a
	 * coverage window (gcov.c) shows. */
	if (fi__names_errno(err))
		snprintf(text, sizeof(text), "%s when=%u error=%s", syscall, n,
			 fi__names_errno(err));
	else
		snprintf(text, sizeof(text), "%s when=%u error=%d", syscall, n,
			 err);
	r = arm(fi__scn_parse_rule(text, origin, line, &perr), &perr);
	if (!r)
		fi__gcov_armed(caller, text);
	return leave(r);
}

int fi_fail_nth(const char *syscall, unsigned n, int err)
{
	return fail_nth(syscall, n, err, "fi_fail_nth", 1,
			__builtin_return_address(0));
}

int fi_fail_nth_at(const char *syscall, unsigned n, int err, const char *file,
		   int line)
{
	return file && *file ? fail_nth(syscall, n, err, origin_of(file), line,
					__builtin_return_address(0))
			     : fail_nth(syscall, n, err, "fi_fail_nth", 1,
					__builtin_return_address(0));
}

/* origin: "FILE:LINE" of the caller, or NULL. */
static int expect(const char *syscall, long result, const char *origin,
		  const void *caller)
{
	char text[128];
	long nr = enter_syscall(syscall);
	int r;

	if (nr < 0)
		return (int)nr;
	r = fi__rules_expect_at(fi__rs, nr, result, origin);
	if (r < 0) {
		set_error("cannot queue an expectation for %s", syscall);
		return leave(r);
	}
	fi__runtime_rules_changed();
	if (result < 0 && result >= -4095 && fi__names_errno((int)-result))
		snprintf(text, sizeof(text), "fi_expect %s -%s", syscall,
			 fi__names_errno((int)-result));
	else
		snprintf(text, sizeof(text), "fi_expect %s %ld", syscall,
			 result);
	fi__gcov_armed(caller, text);
	return leave(r);
}

int fi_expect(const char *syscall, long result)
{
	return expect(syscall, result, NULL, __builtin_return_address(0));
}

int fi_expect_at(const char *syscall, long result, const char *file, int line)
{
	char origin[256];

	if (!file || !*file)
		return expect(syscall, result, NULL,
			      __builtin_return_address(0));
	snprintf(origin, sizeof(origin), "%s:%d", origin_of(file), line);
	return expect(syscall, result, origin, __builtin_return_address(0));
}

long fi_count(const char *syscall)
{
	long nr = enter_syscall(syscall);

	if (nr < 0)
		return nr;
	leave(0);
	return fi__runtime_count(nr);
}

int fi_verify(void)
{
	size_t len = 64 << 10;
	char *msg;
	int r = enter();
	if (r < 0)
		return r;
	msg = fi__mem_malloc(len);
	if (!msg) {
		set_error("out of memory");
		return leave(-ENOMEM);
	}
	r = fi__rules_verify(fi__rs, msg, len);
	if (r < 0)
		set_error("%s", msg);
	fi__mem_free(msg);
	return leave(r);
}

void fi_reset(void)
{
	if (enter() < 0)
		return;
	fi__rules_clear(fi__rs);
	fi__runtime_reset_counts();
	fi__runtime_rules_changed();
	fi__gcov_disarmed();
	leave(0);
}

int fi_ignore_module(const char *module)
{
	int r = enter();
	if (r < 0)
		return r;
	if (!module || !*module) {
		set_error("module name is empty");
		return leave(-EINVAL);
	}
	if (strpbrk(module, "*?[")) {
		set_error(
			"fi_ignore_module takes an object's file name, not a pattern: '%s'",
			module);
		return leave(-EINVAL);
	}
	r = fi__site_ignore(module);
	if (r < 0)
		set_error("cannot ignore %s: too many modules (32 at most)",
			  module);
	return leave(r);
}

const char *fi_last_error(void)
{
	return long_error ? long_error : last_error;
}

const char *fi_version(void)
{
	return FI_VERSION_STRING;
}
