/* fi.h: the public C API of fi, syscall-level fault injection for tests.
 *
 * Link with libfi (pkg-config fi, or find_package(fi) and fi::fi). Once
 * libfi is loaded, every syscall of the process passes through fi; these
 * functions decide what some of them return.
 *
 * Conventions: every function returns 0 (or a count) on success and a
 * negative errno on failure, with the reason in fi_last_error(). Possible
 * codes: -EINVAL (a rule, name or number that does not parse), -ENOENT (a
 * file that does not exist), -EACCES / -EIO (a file that cannot be read),
 * -ENOSPC (too many rules armed), -ENOSYS (libfi is not active in this
 * process), -EPROTO (fi_verify: an expectation or rule was not met).
 *
 * ABI promise: within one major version, functions are only added, never
 * changed or removed; types stay opaque. FI_VERSION_* give the version of
 * these headers, fi_version() that of the loaded library.
 */
#ifndef FI_H
#define FI_H

#ifdef __cplusplus
extern "C" {
#endif

#define FI_VERSION_MAJOR 0
#define FI_VERSION_MINOR 1
#define FI_VERSION_PATCH 0

#if defined(FI_BUILDING_LIBFI)
#define FI_API __attribute__((visibility("default")))
#else
#define FI_API
#endif

/* Arm one rule in the .fi language (docs/rules.md), or strace's
 * "inject=SYSCALL:error=E:when=N" form. Counting starts now.
 * Thread-safe. Returns 0, or -EINVAL with the reason. */
FI_API int fi_rule(const char *rule);

/* Arm every rule of a .fi file. All or nothing: a file with one bad line
 * arms no rule, and fi_last_error() reads "file:line:col: error: ...".
 * Thread-safe. */
FI_API int fi_load_scenario(const char *path);

/* The n-th call of `syscall` from now (n >= 1) fails with errno `err`.
 * Same as fi_rule("SYSCALL when=N error=ERR"). Thread-safe. */
FI_API int fi_fail_nth(const char *syscall, unsigned n, int err);

/* The next call of `syscall` not yet claimed by an earlier fi_expect() of
 * the same syscall returns `result` without entering the kernel: a negative
 * errno (-EINTR) or a value (4242). Expectations queue in order.
 * Thread-safe. */
FI_API int fi_expect(const char *syscall, long result);

/* Calls of `syscall` made by the code under test since the last fi_reset()
 * or the first use of this API, in all threads. Negative errno for an
 * unknown name. Thread-safe. */
FI_API long fi_count(const char *syscall);

/* 0 when every expectation was consumed and every rule with a when= fired;
 * otherwise -EPROTO, and fi_last_error() names the syscall and the rule.
 * The rules of the environment (fi-run -s, -r) are fi-run's to report. */
FI_API int fi_verify(void);

/* Disarm every rule and expectation and restart counting. The rules of
 * the environment (FI_SCENARIO, FI_RULES: fi-run -s, -r) stay armed, with
 * their counts, so that a suite can run under a scenario. */
FI_API void fi_reset(void);

/* Calls made from inside the named module (a path or a file name such as
 * "libcmocka.so.0") are never counted or failed. libcmocka is ignored by
 * default. Thread-safe. */
FI_API int fi_ignore_module(const char *module);

/* The reason for the last failure of an fi_* call in this thread. Never
 * NULL; "" when there was none. Valid until the next fi_* call. */
FI_API const char *fi_last_error(void);

/* The version of the loaded libfi, "MAJOR.MINOR.PATCH". */
FI_API const char *fi_version(void);

/* fi_rule() and fi_fail_nth(), naming where they were called: the rule's
 * origin is "FILE:LINE" (FILE's last component, "test_cfg.c:42") in
 * fi_verify()'s messages, parse errors and fi-run's summary, where the
 * plain functions say "<rule>:1" and "fi_fail_nth:1". A NULL or empty
 * file is the same as the plain function. */
FI_API int fi_rule_at(const char *rule, const char *file, int line);
FI_API int fi_fail_nth_at(const char *syscall, unsigned n, int err,
			  const char *file, int line);

/* fi_expect(), naming where it was called: fi_verify() says of an
 * expectation never used "(fi_expect #1 of read at test_io.c:42)", where
 * the plain function says "(fi_expect #1 of read)". A NULL or empty file
 * is the same as the plain function. */
FI_API int fi_expect_at(const char *syscall, long result, const char *file,
			int line);

/* The calls in a program name their source line by default; define
 * FI_NO_LINE_MACROS before including fi.h for the plain functions (or
 * write (fi_rule)(...)). */
#if !defined(FI_NO_LINE_MACROS) && !defined(FI_BUILDING_LIBFI)
#define fi_rule(rule) fi_rule_at((rule), __FILE__, __LINE__)
#define fi_fail_nth(syscall, n, err)                                           \
	fi_fail_nth_at((syscall), (n), (err), __FILE__, __LINE__)
#define fi_expect(syscall, result)                                             \
	fi_expect_at((syscall), (result), __FILE__, __LINE__)
#endif

#ifdef __cplusplus
}
#endif

#endif /* FI_H */
