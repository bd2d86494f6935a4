/* area.c: trampoline areas, the pages that hold an object's stubs within
 * reach of its code (area.h). The patcher (patch.c) places and fills
 * them; images (image.c) map them from the cache and fill their slots. */
#include "area.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "arena.h"
#include "raw.h"
#include "runtime.h"

/* entry.S's fi__entry and fi__entry_post, from init.c. */
static uint64_t entry_addr, post_addr;

void fi__area_set_entries(void (*entry)(void), void (*post)(void))
{
	entry_addr = (uint64_t)entry;
	post_addr = (uint64_t)post;
}

/* Find `size` free bytes within 1 GiB of [lo, hi) by reading
 * /proc/self/maps with raw syscalls, and map them there. */
static void *alloc_near_maps(uint64_t lo, uint64_t hi, size_t size)
{
	static const char path[] = "/proc/self/maps";
	const size_t cap = 4u << 20;
	char *buf = fi__pages(cap);
	size_t n = 0;
	long fd, r;
	uint64_t prev_end = 0x10000, best = 0, best_dist = ~0ull;
	const uint64_t reach = 1ull << 30;

	if (!buf)
		return NULL;
	fd = fi__raw4(SYS_openat, -100, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		fi__pages_free(buf, cap);
		return NULL;
	}
	while (n < cap - 1 &&
	       (r = fi__raw3(SYS_read, fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	fi__raw1(SYS_close, fd);
	buf[n] = 0;

	/* Gaps between consecutive mappings; take the one closest to the
	 * region whose near edge leaves room for size. */
	for (char *p = buf; p < buf + n;) {
		uint64_t a = 0, b = 0;
		while (*p && *p != '-')
			a = a * 16 + (uint64_t)(*p <= '9'
							? *p - '0'
							: (*p | 32) - 'a' + 10),
			p++;
		if (*p == '-')
			p++;
		while (*p && *p != ' ')
			b = b * 16 + (uint64_t)(*p <= '9'
							? *p - '0'
							: (*p | 32) - 'a' + 10),
			p++;
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
		if (a >= prev_end + size) {
			/* gap [prev_end, a) */
			uint64_t cand, dist;
			if (a <= lo) {
				cand = (a - size) & ~(FI_PAGE - 1);
				dist = hi - cand;
			} else if (prev_end >= hi) {
				cand = prev_end;
				dist = cand + size - lo;
			} else {
				cand = 0, dist = ~0ull;
			}
			if (cand && cand >= prev_end && dist < reach &&
			    dist < best_dist)
				best = cand, best_dist = dist;
		}
		if (b > prev_end)
			prev_end = b;
	}
	fi__pages_free(buf, cap);
	if (!best)
		return NULL;
	if (!fi__map_at(best, size, PROT_READ | PROT_WRITE, MAP_POPULATE, -1,
			0))
		return NULL;
	return (void *)best;
}

void *fi__area_alloc(uint64_t spot, uint64_t lo, uint64_t hi, size_t size)
{
	/* The preferred spot first: it is what images are made for, and it
	 * spares reading the maps. */
	if (spot &&
	    fi__map_at(spot, size, PROT_READ | PROT_WRITE, MAP_POPULATE, -1, 0))
		return (void *)spot;
	return alloc_near_maps(lo, hi, size);
}

enum { SLOT_TABLE, SLOT_ENTRY, SLOT_POST, SLOT_BASE };

struct fi__stub_env fi__area_env(uint64_t area)
{
	struct fi__stub_env env = {
		.table_slot = area + 8 * SLOT_TABLE,
		.entry_slot = area + 8 * SLOT_ENTRY,
		.post_slot = area + 8 * SLOT_POST,
		.base_slot = area + 8 * SLOT_BASE,
	};
	return env;
}

long fi__area_fill_slots(uint64_t area, uint32_t base)
{
	uint64_t *slot = (uint64_t *)area;
	slot[SLOT_TABLE] = (uint64_t)fi__interest;
	slot[SLOT_ENTRY] = entry_addr;
	slot[SLOT_POST] = post_addr;
	slot[SLOT_BASE] = base;
	return fi__raw3(SYS_mprotect, area, FI_PAGE, PROT_READ);
}
