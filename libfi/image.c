/* image.c: patched objects kept whole in the cache; see image.h.
 *
 * An image is one file, DIR/<build-id>-<offset>-<length>.img/<name>:
 *
 *     [0, size of the object's file)    the file, its code patched
 *     [stubs_off, stubs_off+stubs_len)  the stub pages (page-aligned)
 *     then the body                     each patch point's offset, samples of
 *                                       the bytes before patching, and
 *                                       the syscall instructions left alone
 *     [end - sizeof(meta), end)         struct meta
 *
 * Written to a temporary name and renamed, like the plan cache's entries.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "area.h"
#include "arena.h"
#include "log.h"
#include "raw.h"
#include "registry.h"

#define GAP (1ull << 30)       /* from the code down to its area */
#define MAX_FILE (64ull << 20) /* larger objects are patched in place */
#define SAMPLE_EVERY 32
#define MAGIC "FIIMAGE1"

struct meta {
	char magic[8];
	uint32_t version; /* fi__cache_version() */
	uint32_t npoints, nsamples, nrefused, npadded;
	uint32_t page_off; /* start - start's page */
	uint64_t len;	   /* of the region */
	int64_t delta;	   /* area - start's page */
	uint64_t text_off; /* file offset of start's page */
	uint64_t text_len; /* bytes of code mapped from there */
	uint64_t stubs_off, stubs_len;
	uint64_t body_len;
	uint64_t sum; /* FNV-1a of the body */
};

/* The bytes a patch overwrote, for a look at memory before mapping. */
struct sample {
	uint32_t off; /* from start */
	uint8_t len;
	uint8_t bytes[16];
	uint8_t unused[3];
};

static int traced = -1;

static uint64_t page_of(uint64_t a)
{
	return a & ~(FI_PAGE - 1);
}

static uint64_t text_len_of(uint64_t start, size_t len)
{
	return ((start + len + FI_PAGE - 1) & ~(FI_PAGE - 1)) - page_of(start);
}

static size_t body_len_of(uint32_t npoints, uint32_t nsamples,
			  uint32_t nrefused)
{
	return (((size_t)npoints * 4 + 7) & ~(size_t)7) +
	       (size_t)nsamples * sizeof(struct sample) +
	       (size_t)nrefused * sizeof(struct fi__refusal);
}

uint64_t fi__image_spot(uint64_t start)
{
	uint64_t page = page_of(start);
	return page > GAP + (4ull << 30) ? page - GAP : 0;
}

bool fi__image_traced(void)
{
	char buf[4096];
	long fd, n = 0, r;

	if (traced >= 0)
		return traced;
	traced = 0;
	fd = fi__raw4(SYS_openat, AT_FDCWD, "/proc/self/status",
		      O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	while (n < (long)sizeof(buf) - 1 &&
	       (r = fi__raw3(SYS_read, fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	fi__raw1(SYS_close, fd);
	buf[n > 0 ? n : 0] = 0;
	const char *t = strstr(buf, "\nTracerPid:");
	if (t) {
		t += 11;
		while (*t == ' ' || *t == '\t')
			t++;
		traced = *t && *t != '0';
	}
	return traced;
}

/* DIR/<build-id>-<offset>-<length>.img/<name>; *slash is where the
 * directory's name ends. */
static bool image_path(char *out, size_t cap, const struct fi__module *m,
		       uint64_t start, size_t len, size_t *slash)
{
	size_t at, nl = strlen(m->name);

	if (!nl || !strcmp(m->name, ".") || !strcmp(m->name, "..") ||
	    !fi__cache_path(out, cap, m->build_id, m->build_id_len,
			    start - m->base, len, ".img"))
		return false;
	at = strlen(out);
	if (at + 1 + nl + 1 > cap)
		return false;
	*slash = at;
	out[at] = '/';
	memcpy(out + at + 1, m->name, nl + 1);
	return true;
}

static long pread_all(long fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		long r = fi__raw4(SYS_pread64, fd, (char *)buf + got, len - got,
				  off + got);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? r : -EIO;
		got += (size_t)r;
	}
	return 0;
}

static long pwrite_all(long fd, const void *buf, size_t len, uint64_t off)
{
	size_t put = 0;
	while (put < len) {
		long r = fi__raw4(SYS_pwrite64, fd, (const char *)buf + put,
				  len - put, off + put);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? r : -EIO;
		put += (size_t)r;
	}
	return 0;
}

/* --- mapping an image ------------------------------------------------ */

/* Is the meta consistent with itself, the file and this region? */
static bool meta_fits(const struct meta *mt, uint64_t size, uint64_t start,
		      size_t len, const struct fi__image_src *src)
{
	uint64_t page_off = start - page_of(start);
	uint64_t tail = sizeof(*mt) + mt->body_len;

	return !memcmp(mt->magic, MAGIC, 8) &&
	       mt->version == fi__cache_version() && mt->len == len &&
	       mt->page_off == page_off && src->file_off >= page_off &&
	       mt->text_off == src->file_off - page_off &&
	       mt->text_off % FI_PAGE == 0 &&
	       mt->text_len == text_len_of(start, len) && mt->npoints &&
	       mt->npoints <= FI_MAX_POINTS && mt->nsamples <= mt->npoints &&
	       mt->nrefused <= FI_MAX_POINTS &&
	       mt->body_len ==
		       body_len_of(mt->npoints, mt->nsamples, mt->nrefused) &&
	       tail <= size && mt->stubs_off % FI_PAGE == 0 &&
	       mt->stubs_len % FI_PAGE == 0 && mt->stubs_len &&
	       mt->stubs_off >= mt->text_off + mt->text_len &&
	       mt->stubs_off + mt->stubs_len <= size - tail;
}

/* Does memory still hold the bytes the image was patched from? */
static bool samples_match(const struct meta *mt, const uint8_t *body,
			  uint64_t start, size_t len)
{
	const uint32_t *points = (const uint32_t *)body;
	const struct sample *s =
		(const struct sample *)(body +
					((mt->npoints * 4ul + 7) & ~7ul));

	for (uint32_t i = 0; i < mt->npoints; i++)
		if (points[i] >= len)
			return false;
	for (uint32_t i = 0; i < mt->nsamples; i++)
		if (s[i].len > sizeof(s[i].bytes) ||
		    s[i].off + s[i].len > len ||
		    memcmp((const void *)(start + s[i].off), s[i].bytes,
			   s[i].len))
			return false;
	return true;
}

/* FI_DEBUG: what the plan path would have said. */
static void list_points(const struct fi__module *m, const struct meta *mt,
			const uint8_t *body, uint64_t start)
{
	const uint32_t *points = (const uint32_t *)body;
	const struct fi__refusal *f =
		(const struct fi__refusal *)(body + body_len_of(mt->npoints,
								mt->nsamples,
								0));
	for (uint32_t i = 0; fi__log_debug > 1 && i < mt->npoints; i++)
		fi__log("  patching %s+0x%lx", m->name,
			(unsigned long)(start + points[i] - m->base));
	for (uint32_t i = 0; i < mt->nrefused; i++) {
		char why[sizeof(f[i].why)];
		memcpy(why, f[i].why, sizeof(why));
		why[sizeof(why) - 1] = 0;
		fi__log("  left alone %s+0x%lx: %s", m->name,
			(unsigned long)(start + f[i].addr - m->base), why);
	}
}

/* Map the area (slot page and stub pages) and the patched code.
 * FI_IMAGE_UNUSABLE when the image is sound but cannot be used here. */
static long map_image(uint32_t mod, uint64_t start, int prot, long fd,
		      const struct meta *mt, const uint8_t *body)
{
	const uint32_t *points = (const uint32_t *)body;
	uint64_t page = page_of(start), area = page + (uint64_t)mt->delta;
	uint32_t base =
		__atomic_load_n(&fi__registry_npoints, __ATOMIC_RELAXED);
	long r;

	if (base + (uint64_t)mt->npoints > FI_MAX_POINTS)
		return FI_IMAGE_UNUSABLE;
	/* Populated: the slots are written at once (a fault saved). */
	if (!fi__map_at(area, FI_PAGE, PROT_READ | PROT_WRITE, MAP_POPULATE, -1,
			0))
		return FI_IMAGE_UNUSABLE; /* the spot is taken */
	/* Executable pages from the cache's file system first: where it is
	 * mounted noexec this fails, before anything of the code is touched. */
	if (!fi__map_at(area + FI_PAGE, mt->stubs_len, PROT_READ | PROT_EXEC, 0,
			(int)fd, mt->stubs_off)) {
		fi__raw2(SYS_munmap, area, FI_PAGE);
		return FI_IMAGE_UNUSABLE;
	}
	for (uint32_t i = 0; i < mt->npoints; i++) {
		fi__registry_points[base + i].addr = start + points[i];
		fi__registry_points[base + i].module = mod;
		fi__registry_points[base + i].flags = 0;
	}
	if (fi__area_fill_slots(area, base) < 0)
		goto undo;
	__atomic_store_n(&fi__registry_npoints, base + mt->npoints,
			 __ATOMIC_RELEASE);
	r = fi__raw6(SYS_mmap, page, mt->text_len, prot,
		     MAP_PRIVATE | MAP_FIXED, fd, mt->text_off);
	if ((uint64_t)r == page)
		return mt->npoints;
	__atomic_store_n(&fi__registry_npoints, base, __ATOMIC_RELEASE);
undo:
	fi__raw2(SYS_munmap, area, FI_PAGE + mt->stubs_len);
	return FI_IMAGE_UNUSABLE;
}

long fi__image_map(uint32_t mod, uint64_t start, size_t len, int prot,
		   const struct fi__image_src *src, unsigned *refused,
		   unsigned *padded)
{
	const struct fi__module *m = &fi__registry_modules[mod];
	char path[800];
	struct meta mt;
	struct stat st;
	uint8_t near[3072] __attribute__((aligned(8)));
	uint8_t *body = NULL, *mapped = NULL;
	size_t slash, tail;
	long fd, n = FI_IMAGE_MISSING;

	if (!src || !image_path(path, sizeof(path), m, start, len, &slash))
		return FI_IMAGE_UNUSABLE;
	fd = fi__raw4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return FI_IMAGE_MISSING; /* fi__image_store looks for a tracer */
	if (fi__image_traced()) {
		n = FI_IMAGE_UNUSABLE;
		goto out;
	}
	/* Code is about to run from this file: it must be ours alone. */
	if (fi__raw2(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != (uid_t)fi__raw0(SYS_geteuid) || (st.st_mode & 022) ||
	    (uint64_t)st.st_size < sizeof(mt)) {
		if (fi__log_debug)
			fi__log("  not using %s: not a file of this user's that only they can write",
				path);
		n = FI_IMAGE_UNUSABLE;
		goto out;
	}
	/* The meta and, when it is small (a few hundred patch points), the
	 * body before it in one read, on the stack: no mapping to make and
	 * unmap, no page to fault in. */
	tail = ((uint64_t)st.st_size < sizeof(near) ? (size_t)st.st_size
						    : sizeof(near)) &
	       ~(size_t)7; /* the body's words stay aligned */
	if (pread_all(fd, near, tail, (uint64_t)st.st_size - tail))
		goto out;
	memcpy(&mt, near + tail - sizeof(mt), sizeof(mt));
	if (!meta_fits(&mt, (uint64_t)st.st_size, start, len, src))
		goto out; /* stale or damaged: written again */
	if (mt.body_len + sizeof(mt) <= tail) {
		body = near + tail - sizeof(mt) - mt.body_len;
	} else {
		body = mapped = fi__pages(mt.body_len);
		if (!body) {
			n = FI_IMAGE_UNUSABLE;
			goto out;
		}
		if (pread_all(fd, body, mt.body_len,
			      (uint64_t)st.st_size - sizeof(mt) - mt.body_len))
			goto out;
	}
	if (fi__fnv1a(FI_FNV_SEED, body, mt.body_len) != mt.sum ||
	    !samples_match(&mt, body, start, len))
		goto out;
	n = map_image(mod, start, prot, fd, &mt, body);
	if (n >= 0) {
		*refused = mt.nrefused;
		*padded = mt.npadded;
		if (fi__log_debug)
			list_points(m, &mt, body, start);
	} else if (fi__log_debug) {
		fi__log("  not mapping the image of %s: its trampolines' place is taken, or its file system is mounted noexec",
			m->name);
	}
out:
	if (mapped)
		fi__pages_free(mapped, mt.body_len);
	fi__raw1(SYS_close, fd);
	return n;
}

/* --- writing an image ------------------------------------------------ */

/* The object's file, whole, into out. */
static bool copy_file(long in, long out, uint64_t size)
{
	const size_t chunk = 256u << 10;
	uint8_t *buf = fi__pages(chunk);
	bool ok = buf != NULL;

	for (uint64_t at = 0; ok && at < size; at += chunk) {
		size_t n = size - at < chunk ? (size_t)(size - at) : chunk;
		ok = !pread_all(in, buf, n, at) && !pwrite_all(out, buf, n, at);
	}
	if (buf)
		fi__pages_free(buf, chunk);
	return ok;
}

/* The body: patch point offsets, samples from the unpatched code in text, and
 * the refusals. */
static void fill_body(uint8_t *body, uint64_t start, const uint8_t *text,
		      uint32_t base, const struct fi__patch_write *pd, size_t n,
		      uint32_t nsamples, const struct fi__refusal *refused,
		      size_t nrefused)
{
	uint32_t *points = (uint32_t *)body;
	struct sample *s = (struct sample *)(body + ((n * 4 + 7) & ~(size_t)7));
	struct fi__refusal *f = (struct fi__refusal *)(s + nsamples);
	uint64_t page = page_of(start);
	uint32_t k = 0;

	for (size_t i = 0; i < n; i++) {
		points[i] =
			(uint32_t)(fi__registry_points[base + i].addr - start);
		if ((i % SAMPLE_EVERY == 0 || i + 1 == n) && k < nsamples) {
			s[k].off = (uint32_t)(pd[i].start - start);
			s[k].len = pd[i].len;
			fi__copy(s[k].bytes, text + (pd[i].start - page),
				 pd[i].len);
			k++;
		}
	}
	for (size_t i = 0; i < nrefused; i++) {
		f[i] = refused[i];
		f[i].addr -= start;
	}
}

/* Write the image to a temporary file next to path and rename it. */
static void write_image(char *path, size_t slash, long in, uint64_t size,
			const uint8_t *text, const struct meta *mt,
			const void *stubs, const uint8_t *body)
{
	char tmp[840];
	long out;
	bool ok;

	if (!fi__cache_make_dir())
		return;
	path[slash] = 0;
	fi__raw3(SYS_mkdirat, AT_FDCWD, path, 0700);
	path[slash] = '/';
	if (strlen(path) + 24 > sizeof(tmp))
		return;
	strcpy(tmp, path);
	char *at = tmp + strlen(tmp);
	*at++ = '.';
	for (long t = fi__raw0(SYS_gettid); t; t /= 10)
		*at++ = (char)('0' + t % 10);
	*at = 0;
	out = fi__raw4(SYS_openat, AT_FDCWD, tmp,
		       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return;
	ok = copy_file(in, out, size) &&
	     !pwrite_all(out, text,
			 mt->text_off + mt->text_len <= size
				 ? mt->text_len
				 : (size_t)(size - mt->text_off),
			 mt->text_off) &&
	     !pwrite_all(out, stubs, mt->stubs_len, mt->stubs_off) &&
	     !pwrite_all(out, body, mt->body_len,
			 mt->stubs_off + mt->stubs_len) &&
	     !pwrite_all(out, mt, sizeof(*mt),
			 mt->stubs_off + mt->stubs_len + mt->body_len);
	fi__raw1(SYS_close, out);
	if (!ok || fi__raw4(SYS_renameat, AT_FDCWD, tmp, AT_FDCWD, path) < 0)
		fi__raw3(SYS_unlinkat, AT_FDCWD, tmp, 0);
}

void fi__image_store(uint32_t mod, uint64_t start, size_t len,
		     const struct fi__image_src *src, uint64_t area,
		     size_t stubs_len, uint32_t base,
		     const struct fi__patch_write *pd, size_t n,
		     const struct fi__refusal *refused, size_t nrefused)
{
	const struct fi__module *m = &fi__registry_modules[mod];
	uint64_t page = page_of(start), tlen = text_len_of(start, len);
	uint32_t nsamples =
		(uint32_t)((n + SAMPLE_EVERY - 1) / SAMPLE_EVERY + 1);
	struct meta mt = {0};
	struct stat st;
	uint8_t *text = NULL, *body = NULL;
	char path[800];
	size_t slash, body_len;
	long in = -1;

	if (!src || !n || n > FI_MAX_POINTS || nrefused > FI_MAX_POINTS ||
	    src->file_off < start - page ||
	    (src->file_off - (start - page)) % FI_PAGE ||
	    !image_path(path, sizeof(path), m, start, len, &slash) ||
	    fi__image_traced())
		return;
	in = src->path ? fi__raw4(SYS_openat, AT_FDCWD, src->path,
				  O_RDONLY | O_CLOEXEC, 0)
		       : src->fd;
	if (in < 0 || fi__raw2(SYS_fstat, in, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE ||
	    (uint64_t)st.st_size <= src->file_off - (start - page))
		goto out;
	fi__copy(mt.magic, MAGIC, 8);
	mt.version = fi__cache_version();
	mt.npoints = (uint32_t)n;
	mt.nsamples = nsamples;
	mt.nrefused = (uint32_t)nrefused;
	for (size_t i = 0; i < n; i++)
		mt.npadded += pd[i].pad != 0;
	mt.page_off = (uint32_t)(start - page);
	mt.len = len;
	mt.delta = (int64_t)(area - page);
	mt.text_off = src->file_off - (start - page);
	mt.text_len = tlen;
	mt.stubs_off = ((uint64_t)st.st_size + FI_PAGE - 1) & ~(FI_PAGE - 1);
	if (mt.stubs_off < mt.text_off + tlen)
		goto out;
	mt.stubs_len = (stubs_len + FI_PAGE - 1) & ~(FI_PAGE - 1);
	body_len = body_len_of(mt.npoints, nsamples, mt.nrefused);
	mt.body_len = body_len;

	/* The file's code plus the patches must be exactly what memory
	 * holds now: anything else (relocated code, a breakpoint) and the
	 * image would not be this object. */
	text = fi__pages(tlen);
	body = fi__pages(body_len);
	if (!text || !body)
		goto out;
	if (pread_all(in, text,
		      mt.text_off + tlen <= (uint64_t)st.st_size
			      ? tlen
			      : (size_t)((uint64_t)st.st_size - mt.text_off),
		      mt.text_off))
		goto out;
	fill_body(body, start, text, base, pd, n, nsamples, refused, nrefused);
	for (size_t i = 0; i < n; i++) {
		fi__copy(text + (pd[i].start - page), pd[i].point, pd[i].len);
		if (pd[i].pad)
			fi__copy(text + (pd[i].pad - page), pd[i].padjmp,
				 sizeof(pd[i].padjmp));
	}
	if (memcmp(text, (const void *)page, tlen))
		goto out;
	mt.sum = fi__fnv1a(FI_FNV_SEED, body, body_len);
	write_image(path, slash, in, (uint64_t)st.st_size, text, &mt,
		    (const void *)(area + FI_PAGE), body);
out:
	if (text)
		fi__pages_free(text, tlen);
	if (body)
		fi__pages_free(body, body_len);
	if (src->path && in >= 0)
		fi__raw1(SYS_close, in);
}
