/* scratch.c: the full path's scratch memory, one block per thread, mapped
 * on the thread's first call through the full path and handed back to a
 * small pool when the thread exits.
 *
 * Why not thread-local arrays: glibc carves static TLS out of every
 * thread's stack, and 28 KiB of buffers there made pthread_create with a
 * PTHREAD_STACK_MIN stack fail with EINVAL under libfi. Why not the stack:
 * the hook may run on a signal handler's small alternate stack. So each
 * thread keeps one pointer in TLS and the buffers in a mapping of its own.
 *
 * A thread that cannot get memory borrows the one spare block while no
 * other thread holds it; failing that its call passes untouched (fi's
 * memory is never taken from the program's allocator). Hook-safe: raw
 * syscalls and atomics only. */
#include "scratch.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "raw.h"

#define BLOCK_BYTES ((sizeof(struct fi__scratch) + 4095) & ~(size_t)4095)
#define POOL_SLOTS 64

static __thread struct fi__scratch *mine;
static __thread struct fi__scratch *held; /* of the current pass */
static __thread int held_depth;

/* Blocks of threads that exited, for the next threads to take. Each slot
 * changes hands by one atomic exchange, so a block has one owner. */
static struct fi__scratch *pool[POOL_SLOTS];

static struct fi__scratch spare;
static int spare_busy;

static struct fi__scratch *from_pool(void)
{
	for (int i = 0; i < POOL_SLOTS; i++) {
		struct fi__scratch *s;

		if (!__atomic_load_n(&pool[i], __ATOMIC_RELAXED))
			continue;
		s = __atomic_exchange_n(&pool[i], NULL, __ATOMIC_ACQUIRE);
		if (s)
			return s;
	}
	return NULL;
}

static struct fi__scratch *map_block(void)
{
	long p = fi__raw6(SYS_mmap, 0, (long)BLOCK_BYTES,
			  PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	if (p < 0 && p > -4096)
		return NULL;
	return (struct fi__scratch *)p;
}

struct fi__scratch *fi__scratch_begin(void)
{
	struct fi__scratch *s = mine;

	if (held) {
		/* nested in a signal handler: the same block, next depth */
		held_depth++;
		return held;
	}
	if (!s) {
		s = from_pool();
		if (!s)
			s = map_block();
		if (s) {
			s->owner = (int)fi__raw0(SYS_gettid);
			mine = s;
		} else if (!__atomic_exchange_n(&spare_busy, 1,
						__ATOMIC_ACQUIRE)) {
			s = &spare;
		} else {
			return NULL;
		}
	}
	held = s;
	held_depth = 0;
	return s;
}

void fi__scratch_end(struct fi__scratch *s)
{
	if (!s)
		return;
	if (held_depth > 0) {
		held_depth--;
		return;
	}
	held = NULL;
	if (s == &spare)
		__atomic_store_n(&spare_busy, 0, __ATOMIC_RELEASE);
}

struct fi__scratch *fi__scratch_current(void)
{
	return held;
}

void fi__scratch_thread_exit(void)
{
	struct fi__scratch *s = mine;

	if (!s || held || s->owner != (int)fi__raw0(SYS_gettid))
		return;
	mine = NULL;
	for (int i = 0; i < POOL_SLOTS; i++) {
		struct fi__scratch *none = NULL;

		if (__atomic_compare_exchange_n(&pool[i], &none, s, false,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return;
	}
	fi__raw2(SYS_munmap, s, BLOCK_BYTES);
}

void fi__scratch_forked(int tid)
{
	if (mine)
		mine->owner = tid;
}
