/* t_sitecache: the call site of a write in a library that is unloaded,
 * then replaced by another library at the same address (same code, same
 * return address, another object). fi caches call sites by address; the
 * second library's write must be named after it, never after the first.
 *
 *   live_sitecache LIB_A LIB_B
 *
 * Loads A, writes twice to /dev/null through it, unloads it, loads B,
 * writes twice through B, and again for A. Prints one line per library
 * load: "NAME: ok" or "NAME: ERRNO-NAME" for each write, then "same
 * address" when B came back where A was (what makes the test bite) or
 * "moved". Exits 1 on a setup failure. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

/* Load path, write twice through it, unload; *fn_at gets the function's
 * address. Returns 0, or 1 when the library cannot be used. */
static int run(const char *path, int fd, void **fn_at)
{
	int (*fn)(int);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int e1, e2;

	if (!h) {
		fprintf(stderr, "t_sitecache: %s\n", dlerror());
		return 1;
	}
	*(void **)&fn = dlsym(h, "sitecache_write");
	if (!fn) {
		fprintf(stderr, "t_sitecache: %s\n", dlerror());
		return 1;
	}
	*fn_at = (void *)fn;
	e1 = fn(fd);
	e2 = fn(fd);
	printf("%s: %s %s\n", base_name(path), e1 ? strerrorname_np(e1) : "ok",
	       e2 ? strerrorname_np(e2) : "ok");
	fflush(stdout);
	return dlclose(h) != 0;
}

int main(int argc, char **argv)
{
	void *a = NULL, *b = NULL, *a2 = NULL;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: t_sitecache LIB_A LIB_B\n");
		return 1;
	}
	fd = open("/dev/null", O_WRONLY);
	if (fd < 0 || run(argv[1], fd, &a) || run(argv[2], fd, &b) ||
	    run(argv[1], fd, &a2))
		return 1;
	printf("%s\n", a == b && b == a2 ? "same address" : "moved");
	return 0;
}
