/* test_site.c: call-site identity (libfi/site.c). Each test records its
 * own registers in a small asm function and unwinds from there, as the hook
 * would from a syscall instruction: through frames in libc (qsort's
 * comparator, dl_iterate_phdr's callback) up to a known function of this
 * binary. Also: ignored modules, and bad stacks that must not crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "site.h"

/* test_site_here(out): records the registers as they are at its own first
 * instruction (plus one push and a frame pointer, to exercise more CFI),
 * then resolves the site from there while the stack is intact. Placed in
 * its own section, which the tests declare "internal" (like libc). */
void test_site_here(struct fi__site_info *out);
__asm__(".pushsection fi_test_internal,\"ax\",@progbits\n"
	".globl test_site_here\n"
	".type test_site_here,@function\n"
	"test_site_here:\n"
	".cfi_startproc\n"
	"push %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset rbp, -16\n"
	"mov %rsp, %rbp\n"
	".cfi_def_cfa_register rbp\n"
	"1:\n"
	"sub $144, %rsp\n" /* struct fi__site_regs: 136 bytes, aligned */
	"mov %rax, 8(%rsp)\n"
	"mov %rdx, 16(%rsp)\n"
	"mov %rcx, 24(%rsp)\n"
	"mov %rbx, 32(%rsp)\n"
	"mov %rsi, 40(%rsp)\n"
	"mov %rdi, 48(%rsp)\n"
	"mov %rbp, 56(%rsp)\n"
	"mov %rbp, 64(%rsp)\n" /* rsp at label 1 equals rbp */
	"mov %r8, 72(%rsp)\n"
	"mov %r9, 80(%rsp)\n"
	"mov %r10, 88(%rsp)\n"
	"mov %r11, 96(%rsp)\n"
	"mov %r12, 104(%rsp)\n"
	"mov %r13, 112(%rsp)\n"
	"mov %r14, 120(%rsp)\n"
	"mov %r15, 128(%rsp)\n"
	"lea 1b(%rip), %rax\n"
	"mov %rax, 0(%rsp)\n"
	"mov %rdi, %rsi\n"
	"mov %rsp, %rdi\n"
	"call fi__site_resolve\n"
	"leave\n"
	".cfi_def_cfa rsp, 8\n"
	"ret\n"
	".cfi_endproc\n"
	".size test_site_here, .-test_site_here\n"
	".popsection\n");

#define INTERNAL __attribute__((noinline, section("fi_test_internal")))
#define IN_SECTION(s) __attribute__((noinline, section(s)))

extern char __start_fi_test_internal[], __stop_fi_test_internal[];
extern char __start_fi_test_direct[], __stop_fi_test_direct[];
extern char __start_fi_test_qsort[], __stop_fi_test_qsort[];
extern char __start_fi_test_phdr[], __stop_fi_test_phdr[];
extern char __start_fi_test_ignored[], __stop_fi_test_ignored[];
extern char __start_fi_test_handler[], __stop_fi_test_handler[];
extern char __start_fi_test_other[], __stop_fi_test_other[];
extern char __start_fi_test_later[], __stop_fi_test_later[];

static struct fi__site_info got;
static bool got_ok;
static volatile int sink;

/* ---- callees in the "internal" section ---- */

INTERNAL static int cmp_and_resolve(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (!sink) {
		sink = 1;
		test_site_here(&got);
		got_ok = got.module != NULL;
	}
	return (x > y) - (x < y);
}

INTERNAL static int phdr_and_resolve(struct dl_phdr_info *info, size_t size,
				     void *data)
{
	(void)info;
	(void)size;
	(void)data;
	if (!sink) {
		sink = 1;
		test_site_here(&got);
		got_ok = got.module != NULL;
	}
	return 1; /* stop after the first object */
}

/* ---- the expected sites, each in a section of its own ---- */

IN_SECTION("fi_test_direct") static void direct_caller(void)
{
	test_site_here(&got);
	got_ok = got.module != NULL;
	sink++; /* not a tail call */
}

IN_SECTION("fi_test_qsort") static void qsort_caller(void)
{
	int v[6] = {5, 3, 9, 1, 7, 2};

	sink = 0;
	qsort(v, 6, sizeof(v[0]), cmp_and_resolve);
	sink++;
}

IN_SECTION("fi_test_phdr") static void phdr_caller(void)
{
	sink = 0;
	dl_iterate_phdr(phdr_and_resolve, NULL);
	sink++;
}

IN_SECTION("fi_test_ignored") static void ignored_caller(void)
{
	int v[4] = {4, 3, 2, 1};

	sink = 0;
	qsort(v, 4, sizeof(v[0]), cmp_and_resolve);
	sink++;
}

/* A second caller of the same "syscall" (test_site_here's label): the
 * frames above it are cached by address, and must not mix. */
IN_SECTION("fi_test_other") static void other_caller(void)
{
	test_site_here(&got);
	got_ok = got.module != NULL;
	sink++;
}

/* Declared internal after its site was cached (test_range_forgets). */
IN_SECTION("fi_test_later") static void later_caller(void)
{
	test_site_here(&got);
	got_ok = got.module != NULL;
	sink++;
}

/* A signal handler on an alternate stack: the site is the handler. */
IN_SECTION("fi_test_handler") static void handler(int sig)
{
	(void)sig;
	test_site_here(&got);
	got_ok = got.module != NULL;
	sink++;
}

/* Nest a few levels so the walk has more than one frame above the site. */
static __attribute__((noinline)) void nest(void (*fn)(void), int depth)
{
	if (depth)
		nest(fn, depth - 1);
	else
		fn();
	sink++;
}

static char exe[256];

static const char *exe_base(void)
{
	ssize_t n;

	if (!exe[0]) {
		char path[4096];
		const char *b;

		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		assert_true(n > 0);
		path[n] = '\0';
		b = strrchr(path, '/');
		b = b ? b + 1 : path;
		assert_true(strlen(b) < sizeof(exe));
		memcpy(exe, b, strlen(b) + 1);
	}
	return exe;
}

/* The site must be this binary, inside [lo, hi). */
static void assert_site_in(const char *lo, const char *hi)
{
	const char *mod;
	unsigned long lo_off;

	assert_true(got_ok);
	assert_non_null(got.module);
	assert_string_equal(got.module, exe_base());
	assert_true(fi__site_module_of((uint64_t)(uintptr_t)lo, &mod, &lo_off));
	assert_string_equal(mod, exe_base());
	assert_true(got.offset > lo_off);
	assert_true(got.offset <= lo_off + (unsigned long)(hi - lo));
}

static int setup(void **state)
{
	static bool once;

	(void)state;
	if (!once) {
		once = true;
		fi__site_init();
		assert_int_equal(
			fi__site_add_range(
				(uint64_t)(uintptr_t)__start_fi_test_internal,
				(uint64_t)(uintptr_t)__stop_fi_test_internal,
				FI_SITE_INTERNAL),
			0);
		assert_int_equal(
			fi__site_add_range(
				(uint64_t)(uintptr_t)__start_fi_test_ignored,
				(uint64_t)(uintptr_t)__stop_fi_test_ignored,
				FI_SITE_IGNORED),
			0);
	}
	memset(&got, 0, sizeof(got));
	got_ok = false;
	return 0;
}

static void test_direct_caller(void **state)
{
	(void)state;
	nest(direct_caller, 3);
	assert_site_in(__start_fi_test_direct, __stop_fi_test_direct);
	assert_false(got.ignored);
}

static void test_through_qsort(void **state)
{
	(void)state;
	nest(qsort_caller, 2);
	assert_site_in(__start_fi_test_qsort, __stop_fi_test_qsort);
	assert_false(got.ignored);
}

static void test_through_dl_iterate_phdr(void **state)
{
	(void)state;
	nest(phdr_caller, 1);
	assert_site_in(__start_fi_test_phdr, __stop_fi_test_phdr);
	assert_false(got.ignored);
}

/* Like a write from cmocka's printer: the syscall is in libc, the first
 * frame outside is an ignored module. */
static void test_ignored_range(void **state)
{
	(void)state;
	nest(ignored_caller, 1);
	assert_site_in(__start_fi_test_ignored, __stop_fi_test_ignored);
	assert_true(got.ignored);
	assert_true(
		fi__site_is_ignored_pc((uint64_t)(uintptr_t)ignored_caller));
	assert_false(fi__site_is_ignored_pc((uint64_t)(uintptr_t)qsort_caller));
}

static void test_module_of(void **state)
{
	const char *mod = NULL;
	unsigned long off = 0;
	void *anon;

	(void)state;
	/* not &qsort: sanitizer runtimes intercept that one */
	assert_true(fi__site_module_of(
		(uint64_t)(uintptr_t)&gnu_get_libc_version, &mod, &off));
	assert_string_equal(mod, "libc.so.6");
	anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(anon != MAP_FAILED);
	assert_false(fi__site_module_of((uint64_t)(uintptr_t)anon, &mod, &off));
	munmap(anon, 4096);
}

static void test_ignore_names(void **state)
{
	char name[80];

	(void)state;
	assert_int_equal(fi__site_ignore(NULL), -EINVAL);
	assert_int_equal(fi__site_ignore(""), -EINVAL);
	assert_int_equal(fi__site_ignore("/usr/lib/"), -EINVAL);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(fi__site_ignore(name), -EINVAL);
	assert_int_equal(fi__site_ignore("/opt/x/libnever.so.3"), 0);
	assert_int_equal(fi__site_ignore("libnever.so.3"), 0); /* again: ok */
}

static void *thread_main(void *arg)
{
	(void)arg;
	nest(qsort_caller, 2);
	return NULL;
}

/* In another thread the stack bounds come from the thread's TCB. */
static void test_in_thread(void **state)
{
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, thread_main, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_site_in(__start_fi_test_qsort, __stop_fi_test_qsort);
	assert_false(got.ignored);
}

/* On a sigaltstack the stack is probed page by page. */
static void test_on_sigaltstack(void **state)
{
	static char altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	stack_t old;
	struct sigaction sa, oldsa;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	assert_int_equal(sigaltstack(&ss, &old), 0);
	assert_int_equal(sigaction(SIGUSR1, &sa, &oldsa), 0);
	raise(SIGUSR1);
	sigaction(SIGUSR1, &oldsa, NULL);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	assert_site_in(__start_fi_test_handler, __stop_fi_test_handler);
}

/* One patch point, two callers, over and over: each call gets its own
 * caller, though every frame above is answered from the cache after the
 * first round. */
static void test_two_callers_one_point(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++) {
		memset(&got, 0, sizeof(got));
		nest(i & 1 ? other_caller : direct_caller, i % 3);
		if (i & 1)
			assert_site_in(__start_fi_test_other,
				       __stop_fi_test_other);
		else
			assert_site_in(__start_fi_test_direct,
				       __stop_fi_test_direct);
	}
}

/* A range declared internal after a site in it was cached: the walk now
 * goes through it to its caller (nest, outside every test section). */
static void test_range_forgets(void **state)
{
	const char *mod;
	unsigned long lo, hi;

	(void)state;
	nest(later_caller, 0);
	assert_site_in(__start_fi_test_later, __stop_fi_test_later);
	nest(later_caller, 0); /* now from the cache */
	assert_site_in(__start_fi_test_later, __stop_fi_test_later);
	assert_int_equal(
		fi__site_add_range((uint64_t)(uintptr_t)__start_fi_test_later,
				   (uint64_t)(uintptr_t)__stop_fi_test_later,
				   FI_SITE_INTERNAL),
		0);
	memset(&got, 0, sizeof(got));
	nest(later_caller, 0);
	assert_true(got_ok);
	assert_string_equal(got.module, exe_base());
	assert_true(fi__site_module_of(
		(uint64_t)(uintptr_t)__start_fi_test_later, &mod, &lo));
	hi = lo + (unsigned long)(__stop_fi_test_later - __start_fi_test_later);
	assert_true(got.offset <= lo || got.offset > hi);
}

/* Threads resolve from their own callers through a cache of one slot, so
 * that each frame evicts the others and the slot is rewritten under
 * readers all the time (another thread keeps forgetting it, too): a torn
 * slot must be a miss, never another frame's. */
#define RACE_THREADS 3
#define RACE_ROUNDS 200000

static volatile int race_stop;

struct racer {
	int which;
	unsigned long wrong, unknown;
};

static void race_check(struct racer *r, const struct fi__site_info *in, bool ok)
{
	const char *lo = r->which ? __start_fi_test_other
				  : __start_fi_test_direct;
	const char *hi = r->which ? __stop_fi_test_other
				  : __stop_fi_test_direct;
	const char *mod;
	unsigned long off;

	if (!ok || !in->module) {
		r->unknown++;
		return;
	}
	if (!fi__site_module_of((uint64_t)(uintptr_t)lo, &mod, &off) ||
	    strcmp(in->module, mod) != 0 || in->offset <= off ||
	    in->offset > off + (unsigned long)(hi - lo))
		r->wrong++;
}

IN_SECTION("fi_test_direct") static void race_direct(struct racer *r)
{
	struct fi__site_info in;

	test_site_here(&in);
	race_check(r, &in, in.module != NULL);
	sink++;
}

IN_SECTION("fi_test_other") static void race_other(struct racer *r)
{
	struct fi__site_info in;

	test_site_here(&in);
	race_check(r, &in, in.module != NULL);
	sink++;
}

static void *race_main(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < RACE_ROUNDS; i++) {
		r->which = (i + r->which) & 1;
		if (r->which)
			race_other(r);
		else
			race_direct(r);
	}
	return NULL;
}

static void *forget_main(void *arg)
{
	(void)arg;
	while (!race_stop)
		fi__site_forget();
	return NULL;
}

static void test_threads_race(void **state)
{
	pthread_t t[RACE_THREADS], f;
	struct racer r[RACE_THREADS];

	(void)state;
	race_stop = 0;
	fi__site_cache_bits(0);
	assert_int_equal(pthread_create(&f, NULL, forget_main, NULL), 0);
	for (int i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct racer){.which = i & 1};
		assert_int_equal(pthread_create(&t[i], NULL, race_main, &r[i]),
				 0);
	}
	for (int i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	race_stop = 1;
	assert_int_equal(pthread_join(f, NULL), 0);
	fi__site_cache_bits(32);
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(r[i].wrong, 0);
		assert_int_equal(r[i].unknown, 0);
	}
}

/* Runs last: ignoring this binary by name marks its sites ignored. */
static void test_ignore_by_name(void **state)
{
	char path[300];

	(void)state;
	snprintf(path, sizeof(path), "/some/dir/%s", exe_base());
	nest(qsort_caller, 0);
	assert_site_in(__start_fi_test_qsort, __stop_fi_test_qsort);
	assert_false(got.ignored); /* and the frames are in the cache */
	assert_int_equal(fi__site_ignore(path), 0);
	nest(qsort_caller, 0);
	assert_site_in(__start_fi_test_qsort, __stop_fi_test_qsort);
	assert_true(got.ignored);
}

/* Registers pointing at garbage must give "unknown", never a crash. */
static void test_bad_stacks(void **state)
{
	struct fi__site_regs r;
	struct fi__site_info info;
	uint64_t pcs[3];
	long page = sysconf(_SC_PAGESIZE);
	uint64_t *mem;
	unsigned seed = 12345;

	(void)state;
	pcs[0] = (uint64_t)(uintptr_t)&qsort;
	pcs[1] = (uint64_t)(uintptr_t)&dl_iterate_phdr;
	pcs[2] = (uint64_t)(uintptr_t)__start_fi_test_internal;

	/* Two readable pages, then a hole: reads must stop at the hole. */
	mem = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	munmap((char *)mem + 2 * page, page);

	for (int iter = 0; iter < 2000; iter++) {
		size_t nwords = 2 * page / 8;

		for (size_t i = 0; i < nwords; i++) {
			seed = seed * 1103515245u + 12345u;
			switch (seed >> 28) {
			case 0:
			case 1:
			case 2:
				mem[i] = pcs[(seed >> 8) % 3] +
					 ((seed >> 12) & 0xff);
				break;
			case 3:
				mem[i] = (uint64_t)(uintptr_t)&mem[(seed >> 4) %
								   nwords];
				break;
			default:
				mem[i] = ((uint64_t)seed << 20) ^ seed;
			}
		}
		memset(&r, 0, sizeof(r));
		for (int i = 0; i < 16; i++)
			r.gpr[i] = mem[(seed >> (i & 7)) % nwords];
		r.rip = pcs[iter % 3] + (uint64_t)(iter & 0xf);
		r.gpr[7] = (uint64_t)(uintptr_t)&mem[(seed >> 3) % nwords];
		r.gpr[6] = r.gpr[7] + 16;
		(void)fi__site_resolve(&r, &info);
	}
	/* rsp that is not mapped at all, and the very top of a mapping */
	r.rip = pcs[0];
	r.gpr[7] = 0x1000;
	assert_false(fi__site_resolve(&r, &info));
	assert_null(info.module);
	r.gpr[7] = (uint64_t)(uintptr_t)((char *)mem + 2 * page - 4);
	assert_false(fi__site_resolve(&r, &info));
	/* a pc in no object */
	r.rip = 0x10;
	r.gpr[7] = (uint64_t)(uintptr_t)mem;
	assert_false(fi__site_resolve(&r, &info));
	munmap(mem, 2 * page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_direct_caller, setup),
		cmocka_unit_test_setup(test_through_qsort, setup),
		cmocka_unit_test_setup(test_through_dl_iterate_phdr, setup),
		cmocka_unit_test_setup(test_ignored_range, setup),
		cmocka_unit_test_setup(test_module_of, setup),
		cmocka_unit_test_setup(test_ignore_names, setup),
		cmocka_unit_test_setup(test_bad_stacks, setup),
		cmocka_unit_test_setup(test_in_thread, setup),
		cmocka_unit_test_setup(test_on_sigaltstack, setup),
		cmocka_unit_test_setup(test_two_callers_one_point, setup),
		cmocka_unit_test_setup(test_threads_race, setup),
		cmocka_unit_test_setup(test_range_forgets, setup),
		cmocka_unit_test_setup(test_ignore_by_name, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
