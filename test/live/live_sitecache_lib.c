/* live_sitecache_lib.c: built twice, as live_sitecache_a.so and
 * live_sitecache_b.so (names of one length, so that both have the same
 * layout): t_sitecache loads one, calls sitecache_write, unloads it and
 * loads the other at the same address, where the same call has the same
 * return address in another object. */
#include <errno.h>
#include <unistd.h>

__attribute__((visibility("default"))) int sitecache_write(int fd)
{
	ssize_t n = write(fd, "x", 1);

	return n == 1 ? 0 : errno; /* uses the result: no tail call */
}
