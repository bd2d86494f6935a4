/* t_mmap: heavy use of mmap, munmap, mprotect and mremap: anonymous and
 * file-backed mappings, splits, protection changes, growth. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>

#include "live.h"

#define PAGE 4096
#define ROUNDS 200

int main(void)
{
	live_begin();
	LIVE_CHECK(sysconf(_SC_PAGESIZE) == PAGE);
	uint64_t sum = 0;
	for (int r = 0; r < ROUNDS; r++) {
		size_t len = (size_t)(1 + r % 8) * PAGE;
		unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		LIVE_CHECK(m != MAP_FAILED);
		for (size_t i = 0; i < len; i += 512)
			m[i] = (unsigned char)(r + i / 512);
		LIVE_CHECK(mprotect(m, len, PROT_READ) == 0);
		for (size_t i = 0; i < len; i += 512)
			sum += m[i];
		LIVE_CHECK(mprotect(m, len, PROT_READ | PROT_WRITE) == 0);
		m[0] ^= 0xff;
		if (len > PAGE) {
			/* Split: drop the first page, then grow what is left. */
			LIVE_CHECK(munmap(m, PAGE) == 0);
			unsigned char *rest = m + PAGE;
			size_t rlen = len - PAGE;
			unsigned char *g = mremap(rest, rlen, rlen + 2 * PAGE,
						  MREMAP_MAYMOVE);
			LIVE_CHECK(g != MAP_FAILED);
			LIVE_CHECK(g[0] == (unsigned char)(r + PAGE / 512));
			LIVE_CHECK(munmap(g, rlen + 2 * PAGE) == 0);
		} else {
			LIVE_CHECK(munmap(m, len) == 0);
		}
	}
	printf("anonymous: %d rounds, checksum %llu\n", ROUNDS,
	       (unsigned long long)sum);

	/* File-backed, shared: a write through the mapping is seen by pread. */
	int fd = memfd_create("fi-live-mmap", MFD_CLOEXEC);
	LIVE_CHECK(fd >= 0);
	LIVE_CHECK(ftruncate(fd, 4 * PAGE) == 0);
	for (int r = 0; r < 50; r++) {
		char *f = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
		LIVE_CHECK(f != MAP_FAILED);
		f[PAGE * (r % 4)] = (char)('A' + r % 26);
		LIVE_CHECK(msync(f, 4 * PAGE, MS_SYNC) == 0);
		LIVE_CHECK(munmap(f, 4 * PAGE) == 0);
		char c;
		LIVE_CHECK(pread(fd, &c, 1, PAGE * (r % 4)) == 1 &&
			   c == (char)('A' + r % 26));
	}
	close(fd);
	printf("shared file mapping: 50 rounds seen through pread\n");

	/* A guard page: PROT_NONE in the middle of a mapping, then lifted. */
	char *g = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LIVE_CHECK(g != MAP_FAILED);
	LIVE_CHECK(mprotect(g + PAGE, PAGE, PROT_NONE) == 0);
	LIVE_CHECK(mprotect(g + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0);
	g[PAGE] = 1;
	LIVE_CHECK(munmap(g, 3 * PAGE) == 0);
	errno = 0;
	LIVE_CHECK(munmap((void *)1, PAGE) == -1 && errno == EINVAL);
	printf("guard page and munmap(1) -> EINVAL\n");
	printf("mmap ok\n");
	return 0;
}
