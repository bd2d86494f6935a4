/* test_safe_read.c: the hook's reads of program memory (safe_read.h, and
 * trace.h's fi__safe_copy_str) against pointers a program may pass: NULL,
 * unmapped, PROT_NONE, kernel space, ranges that wrap or straddle into a
 * page that cannot be read, and a kernel that refuses process_vm_readv. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "safe_read.h"
#include "trace.h"

#define PAGE 4096ul
#define KERNEL_PTR ((const void *)0xffff800000000000ul)

/* Three pages: two readable (filled with 'a' and 'b'), then PROT_NONE. */
static char *pages(void)
{
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	memset(p, 'a', PAGE);
	memset(p + PAGE, 'b', PAGE);
	assert_int_equal(mprotect(p + 2 * PAGE, PAGE, PROT_NONE), 0);
	return p;
}

/* An address that was mapped a moment ago and is not now. */
static const void *unmapped(void)
{
	void *p =
		mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(munmap(p, PAGE), 0);
	return p;
}

/* Tests need process_vm_readv on ourselves; a sandbox may forbid it. */
static int setup(void **state)
{
	char src[8] = "1234567", dst[8];
	int r = fi__safe_read(dst, src, sizeof(dst));

	(void)state;
	if (r != 0) {
		fprintf(stderr,
			"process_vm_readv refused here (%d): skipping\n", r);
		exit(77);
	}
	return 0;
}

static void test_reads_exactly(void **state)
{
	char *p = pages();
	char dst[3 * PAGE];

	(void)state;
	memset(dst, 'x', sizeof(dst));
	/* n == 0 needs no memory and touches none */
	assert_int_equal(fi__safe_read(dst, NULL, 0), 0);
	assert_int_equal(fi__safe_read(dst, KERNEL_PTR, 0), 0);
	assert_int_equal(dst[0], 'x');
	/* within a page, up to its last byte, across two readable pages */
	assert_int_equal(fi__safe_read(dst, p + 10, 5), 0);
	assert_memory_equal(dst, "aaaaa", 5);
	assert_int_equal(dst[5], 'x');
	assert_int_equal(fi__safe_read(dst, p + PAGE - 3, 3), 0);
	assert_memory_equal(dst, "aaa", 3);
	assert_int_equal(fi__safe_read(dst, p + PAGE - 2, 4), 0);
	assert_memory_equal(dst, "aabb", 4);
	assert_int_equal(fi__safe_read(dst, p, 2 * PAGE), 0);
	assert_memory_equal(dst, p, 2 * PAGE);
	assert_int_equal(munmap(p, 3 * PAGE), 0);
}

static void test_bad_pointers(void **state)
{
	char *p = pages();
	char dst[2 * PAGE];

	(void)state;
	assert_int_equal(fi__safe_read(dst, NULL, 1), -EFAULT);
	assert_int_equal(fi__safe_read(dst, (const void *)1, 8), -EFAULT);
	assert_int_equal(fi__safe_read(dst, (const void *)0x10000, 8), -EFAULT);
	assert_int_equal(fi__safe_read(dst, unmapped(), 8), -EFAULT);
	assert_int_equal(fi__safe_read(dst, KERNEL_PTR, 8), -EFAULT);
	assert_int_equal(fi__safe_read(dst, (const void *)-8l, 8), -EFAULT);
	/* wraps past the top of the address space */
	assert_int_equal(fi__safe_read(dst, (const void *)-4l, 8), -EFAULT);
	assert_int_equal(fi__safe_read(dst, p, (size_t)-1), -EFAULT);
	/* PROT_NONE, and ranges that run into it by one byte or more */
	assert_int_equal(fi__safe_read(dst, p + 2 * PAGE, 1), -EFAULT);
	assert_int_equal(fi__safe_read(dst, p + 2 * PAGE - 4, 5), -EFAULT);
	assert_int_equal(fi__safe_read(dst, p + PAGE, PAGE + 1), -EFAULT);
	assert_int_equal(fi__safe_read(dst, p + 2 * PAGE - 4, 4), 0);
	assert_int_equal(munmap(p, 3 * PAGE), 0);
}

/* fi__safe_copy_str: a path that ends on a page's last byte, just before
 * a page that cannot be read, copies; one that runs into it does not. */
static void test_copy_str_edges(void **state)
{
	char *p = pages();
	char buf[64];

	(void)state;
	memcpy(p + 2 * PAGE - 5, "/etc", 5);
	assert_int_equal(fi__safe_copy_str(p + 2 * PAGE - 5, buf, sizeof(buf)),
			 4);
	assert_string_equal(buf, "/etc");
	p[2 * PAGE - 1] = 'x';
	assert_int_equal(fi__safe_copy_str(p + 2 * PAGE - 5, buf, sizeof(buf)),
			 -EFAULT);
	assert_int_equal(fi__safe_copy_str(NULL, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(fi__safe_copy_str(KERNEL_PTR, buf, sizeof(buf)),
			 -EFAULT);
	assert_int_equal(fi__safe_copy_str(unmapped(), buf, sizeof(buf)),
			 -EFAULT);
	assert_int_equal(munmap(p, 3 * PAGE), 0);
}

/* In a child: process_vm_readv fails with err, as under a seccomp filter
 * (a container's default profile, a sandbox). Exit 0 when the readers
 * say what safe_read.h and trace.h promise. */
static int refused_child(int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO |
				 ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	char src[16] = "/etc/passwd", dst[16];

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 10;
	/* refused is not the same as bad: the caller may say so */
	if (fi__safe_read(dst, src, sizeof(dst)) != -err)
		return 11;
	if (fi__safe_read(dst, KERNEL_PTR, 8) != -err)
		return 12;
	if (fi__safe_read(dst, src, 0) != 0)
		return 13;
	/* the path copy cannot tell, and says EFAULT: path= rules then do
	 * not match (docs/architecture.md, Known limits) */
	if (fi__safe_copy_str(src, dst, sizeof(dst)) != -EFAULT)
		return 14;
	return 0;
}

static void test_refused(void **state)
{
	static const int errs[] = {EPERM, ENOSYS, EACCES};

	(void)state;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(refused_child(errs[i]));
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && !WIFSIGNALED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_exactly),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_copy_str_edges),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
