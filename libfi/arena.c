/* arena.c: mmap-backed memory for the patcher and capstone. See arena.h. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <string.h>
#include <errno.h>

extern char **environ;

#include "raw.h"

void *fi__pages(size_t len)
{
	long r = fi__raw6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r < 0 && r > -4096)
		return NULL;
	return (void *)r;
}

void fi__pages_free(void *p, size_t len)
{
	if (p)
		fi__raw2(SYS_munmap, p, len);
}

bool fi__pages_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return true;
	ncap = *cap * 2 > need ? *cap * 2 : need;
	if (ncap < 256)
		ncap = 256;
	p = fi__pages(ncap * elem);
	if (!p)
		return false;
	if (*arr) {
		fi__copy(p, *arr, *cap * elem);
		fi__pages_free(*arr, *cap * elem);
	}
	*arr = p;
	*cap = ncap;
	return true;
}

bool fi__map_at(uint64_t addr, size_t len, int prot, int flags, int fd,
		uint64_t off)
{
	long r = fi__raw6(SYS_mmap, addr, len, prot,
			  flags | MAP_PRIVATE | MAP_FIXED_NOREPLACE |
				  (fd < 0 ? MAP_ANONYMOUS : 0),
			  fd, off);
	if ((uint64_t)r == addr)
		return true;
	if (r >= 0 || r < -4095)
		fi__raw2(SYS_munmap, r, len);
	return false;
}

void fi__copy(void *dst, const void *src, size_t n)
{
	volatile unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
}

void fi__fill(void *dst, int c, size_t n)
{
	volatile unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
}

size_t fi__str_add(char *out, size_t cap, size_t at, const char *s)
{
	for (; *s; s++, at++)
		if (at + 1 < cap)
			out[at] = *s;
	if (cap)
		out[at < cap ? at : cap - 1] = 0;
	return at;
}

/* A bump arena in 1 MiB chunks. Each block carries its size so realloc can
 * copy; free releases nothing (the patcher's working set is small). An
 * atomic bump keeps it safe when two threads dlopen at once. */
#define CHUNK (1u << 20)

static char *chunk;
static size_t used;
static int lock;

static void take(void)
{
	while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void give(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

void fi__arena_forked(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

static void *arena_malloc(size_t n)
{
	size_t need = (n + sizeof(size_t) + 15) & ~(size_t)15;
	char *p;

	take();
	if (need > CHUNK) {
		give();
		p = fi__pages(need);
		if (!p)
			return NULL;
		*(size_t *)p = n;
		return p + 16;
	}
	if (!chunk || used + need + 16 > CHUNK) {
		chunk = fi__pages(CHUNK);
		used = 0;
		if (!chunk) {
			give();
			return NULL;
		}
	}
	p = chunk + used;
	used += need + 16;
	give();
	*(size_t *)p = n;
	return p + 16;
}

static void *arena_calloc(size_t n, size_t size)
{
	void *p;
	if (size && n > SIZE_MAX / size)
		return NULL;
	p = arena_malloc(n * size);
	if (p)
		fi__fill(p, 0, n * size);
	return p;
}

static void arena_free(void *p)
{
	(void)p;
}

static void *arena_realloc(void *old, size_t n)
{
	void *p;
	size_t had;
	if (!old)
		return arena_malloc(n);
	had = *(size_t *)((char *)old - 16);
	if (n <= had)
		return old;
	p = arena_malloc(n);
	if (p)
		fi__copy(p, old, had);
	return p;
}

void fi__arena_mem(struct fi__disasm_mem *m)
{
	*m = (struct fi__disasm_mem){
		.malloc = arena_malloc,
		.calloc = arena_calloc,
		.realloc = arena_realloc,
		.free = arena_free,
		.vsnprintf = vsnprintf,
	};
}

/* The entries and environ's array come from pages of fi's own, a page
 * at a time: a run of the fork server sets several variables, and an mmap
 * each would cost a page fault each. */
static char *env_bump;
static size_t env_left;
static char **env_own; /* the array fi made last, when environ is it */
static size_t env_cap;

static void *env_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n > env_left) {
		size_t len = (n + 4095) & ~(size_t)4095;
		char *p = fi__pages(len);

		if (!p)
			return NULL;
		env_bump = p;
		env_left = len;
	}
	env_left -= n;
	env_bump += n;
	return env_bump - n;
}

int fi__env_set(const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), n = 0;
	char *entry;
	char **env;
	long at = -1;

	for (env = environ; env && env[n]; n++)
		if (at < 0 && !strncmp(env[n], name, nl) && env[n][nl] == '=')
			at = (long)n;
	if (at >= 0 && !strcmp(environ[at] + nl + 1, value))
		return 0; /* already so (an exec'd child of a run) */
	entry = env_alloc(nl + vl + 2);
	if (!entry)
		return -ENOMEM;
	fi__copy(entry, name, nl);
	entry[nl] = '=';
	fi__copy(entry + nl + 1, value, vl + 1);
	if (at >= 0) {
		environ[at] = entry;
		return 0;
	}
	if (environ != env_own || n + 2 > env_cap) {
		env = env_alloc((n + 16) * sizeof(char *));
		if (!env)
			return -ENOMEM;
		if (n)
			fi__copy(env, environ, n * sizeof(char *));
		env_own = env;
		env_cap = n + 16;
		environ = env;
	}
	environ[n] = entry;
	environ[n + 1] = NULL;
	return 0;
}

void fi__env_unset(const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; environ && environ[i];) {
		if (strncmp(environ[i], name, nl) || environ[i][nl] != '=') {
			i++;
			continue;
		}
		for (size_t j = i; environ[j]; j++)
			environ[j] = environ[j + 1];
	}
}
