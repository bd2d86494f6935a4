/* test_mem.c: libfi's own allocator (mem.c): every size class and the
 * blocks mapped alone, realloc keeping what a block holds, calloc's zeros,
 * freed blocks reused, threads at once, and never the program's heap. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem.h"

static const size_t sizes[] = {0,    1,	   15,	 16,	17,    100,
			       1000, 4080, 4096, 32752, 32753, 1 << 20};

static void test_sizes(void **state)
{
	void *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = fi__mem_malloc(sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)i + 1, sizes[i]);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const unsigned char *b = p[i];

		for (size_t k = 0; k < sizes[i]; k++)
			assert_int_equal(b[k], i + 1);
		fi__mem_free(p[i]);
	}
	fi__mem_free(NULL);
}

static void test_reuse(void **state)
{
	void *a, *b;

	(void)state;
	a = fi__mem_malloc(200);
	fi__mem_free(a);
	b = fi__mem_malloc(180); /* the same class */
	assert_ptr_equal(a, b);
	fi__mem_free(b);
}

static void test_realloc_keeps(void **state)
{
	char *p = fi__mem_realloc(NULL, 10), *q;

	(void)state;
	assert_non_null(p);
	strcpy(p, "fi rules");
	q = fi__mem_realloc(p, 12); /* fits: the same block */
	assert_ptr_equal(p, q);
	for (size_t n = 64; n <= (size_t)4 << 20; n *= 4) {
		q = fi__mem_realloc(q, n);
		assert_non_null(q);
		assert_string_equal(q, "fi rules");
		q[n - 1] = 'x';
	}
	fi__mem_free(q);
}

static void test_calloc_zeroes(void **state)
{
	unsigned char *p;

	(void)state;
	/* A block freed dirty comes back zeroed. */
	p = fi__mem_malloc(500);
	memset(p, 0xaa, 500);
	fi__mem_free(p);
	p = fi__mem_calloc(50, 10);
	assert_non_null(p);
	for (int i = 0; i < 500; i++)
		assert_int_equal(p[i], 0);
	fi__mem_free(p);
	assert_null(fi__mem_calloc(SIZE_MAX / 2, 4));
}

static void test_strings(void **state)
{
	char *a = fi__mem_strdup("write error=EIO"), *b;

	(void)state;
	assert_string_equal(a, "write error=EIO");
	b = fi__mem_strndup(a, 5);
	assert_string_equal(b, "write");
	fi__mem_free(b);
	b = fi__mem_strndup(a, 100);
	assert_string_equal(b, a);
	fi__mem_free(b);
	fi__mem_free(a);
}

static void *churn(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	void *held[64] = {0};

	for (int i = 0; i < 20000; i++) {
		int k = (int)((i * 7 + id) % 64);
		size_t n = (size_t)(i % 9000) + 1;

		if (held[k]) {
			if (*(uintptr_t *)held[k] != id)
				return (void *)1;
			fi__mem_free(held[k]);
		}
		held[k] = fi__mem_malloc(n < 8 ? 8 : n);
		if (!held[k])
			return (void *)1;
		*(uintptr_t *)held[k] = id;
	}
	for (int k = 0; k < 64; k++)
		fi__mem_free(held[k]);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	void *ret[4];

	(void)state;
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)i),
				 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], &ret[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_null(ret[i]);
}

/* The program's break does not move, whatever fi allocates. */
static void test_not_the_heap(void **state)
{
	void *before = sbrk(0), *p[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		p[i] = fi__mem_malloc((size_t)i * 1000);
	assert_ptr_equal(sbrk(0), before);
	for (int i = 0; i < 100; i++)
		fi__mem_free(p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_realloc_keeps),
		cmocka_unit_test(test_calloc_zeroes),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_not_the_heap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
