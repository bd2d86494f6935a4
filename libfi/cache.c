/* cache.c: the patch-plan cache; see cache.h. An entry is one file,
 * DIR/<build-id>-<offset>-<length>.plan, written to a temporary name and
 * renamed, so readers never see half of one. Addresses inside are relative
 * to the region's start. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arena.h"
#include "fi.h"
#include "raw.h"

#define MAGIC "FIPLAN4\n"

struct header {
	char magic[8];
	uint32_t version;   /* of libfi: plans may change with it */
	uint32_t plan_size; /* sizeof(struct fi__plan): the layout */
	uint64_t len;	    /* of the region */
	uint64_t nplans, nrefused;
	uint64_t sum; /* FNV-1a of everything after the header */
};

/* One plan and the bytes it was made for. */
struct entry {
	struct fi__plan plan;
	uint8_t point[16];
	uint8_t pad[FI_JMP32_LEN];
};

_Static_assert(sizeof(struct header) % 8 == 0 &&
		       sizeof(struct entry) % 8 == 0 &&
		       sizeof(struct fi__refusal) % 8 == 0,
	       "entries are read in place, and fi-plan writes them end to end");

static char dir[512], parent[512];

/* Nothing is created at start-up: reading the cache needs no directory,
 * and most runs only read. */
void fi__cache_init(void)
{
	const char *v = getenv("FI_CACHE_DIR");

	dir[0] = parent[0] = 0;
	if (v && !strcmp(v, "off"))
		return;
	if (v && *v) {
		fi__str_add(dir, sizeof(dir), 0, v);
	} else if ((v = getenv("XDG_CACHE_HOME")) && *v) {
		fi__str_add(parent, sizeof(parent), 0, v);
		fi__str_add(dir, sizeof(dir),
			    fi__str_add(dir, sizeof(dir), 0, v), "/fi");
	} else if ((v = getenv("HOME")) && *v) {
		fi__str_add(parent, sizeof(parent),
			    fi__str_add(parent, sizeof(parent), 0, v),
			    "/.cache");
		fi__str_add(dir, sizeof(dir),
			    fi__str_add(dir, sizeof(dir), 0, v), "/.cache/fi");
	} else {
		return;
	}
}

bool fi__cache_make_dir(void)
{
	long r;
	if (!dir[0])
		return false;
	if (parent[0])
		fi__raw3(SYS_mkdirat, AT_FDCWD, parent, 0700);
	r = fi__raw3(SYS_mkdirat, AT_FDCWD, dir, 0700);
	return r == 0 || r == -EEXIST;
}

bool fi__cache_has(const uint8_t *build_id, size_t id_len, uint64_t off,
		   size_t len)
{
	char path[700];
	return fi__cache_path(path, sizeof(path), build_id, id_len, off, len,
			      ".plan") &&
	       access(path, R_OK) == 0;
}

static size_t put_str(char *out, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		out[at++] = *s++;
	out[at] = 0;
	return at;
}

static size_t put_hex(char *out, size_t at, size_t cap, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[17];
	int n = 0;
	do
		tmp[n++] = hex[v & 15], v >>= 4;
	while ((v || n < digits) && n < 16);
	while (n && at + 1 < cap)
		out[at++] = tmp[--n];
	out[at] = 0;
	return at;
}

bool fi__cache_path(char *out, size_t cap, const uint8_t *id, size_t id_len,
		    uint64_t off, size_t len, const char *suffix)
{
	size_t at;
	if (!dir[0] || !id_len)
		return false;
	at = put_str(out, 0, cap, dir);
	at = put_str(out, at, cap, "/");
	for (size_t i = 0; i < id_len; i++)
		at = put_hex(out, at, cap, id[i], 2);
	at = put_str(out, at, cap, "-");
	at = put_hex(out, at, cap, off, 1);
	at = put_str(out, at, cap, "-");
	at = put_hex(out, at, cap, len, 1);
	at = put_str(out, at, cap, suffix);
	return at + 1 < cap;
}

uint32_t fi__cache_version(void)
{
	return (uint32_t)FI_VERSION_MAJOR << 24 |
	       (uint32_t)FI_VERSION_MINOR << 16 |
	       (uint32_t)FI_VERSION_PATCH << 8 | FI_PLANNER_REVISION;
}

uint64_t fi__fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static void rebase_insn(struct fi__insn *in, int64_t delta)
{
	in->addr += (uint64_t)delta;
	switch (in->kind) {
	case FI_INSN_JMP_REL:
	case FI_INSN_JCC_REL:
	case FI_INSN_CALL_REL:
	case FI_INSN_OTHER_REL:
	case FI_INSN_RIP_REL:
		in->target += delta;
		break;
	default:
		break;
	}
}

static void rebase(struct fi__plan *p, int64_t delta)
{
	p->start += (uint64_t)delta;
	p->sys += (uint64_t)delta;
	p->resume += (uint64_t)delta;
	if (p->pad)
		p->pad += (uint64_t)delta;
	for (int i = 0; i < p->npre; i++)
		rebase_insn(&p->pre[i], delta);
	for (int i = 0; i < p->npost; i++)
		rebase_insn(&p->post[i], delta);
}

bool fi__cache_parse(const void *entry, size_t size, uint64_t start, size_t len,
		     struct fi__planset *ps)
{
	const uint8_t *buf = entry, *at;
	struct header h;
	size_t need;

	ps->nplans = ps->nrefused = 0;
	if (size < sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, MAGIC, 8) || h.version != fi__cache_version() ||
	    h.plan_size != sizeof(struct fi__plan) || h.len != len ||
	    h.nplans > (1u << 20) || h.nrefused > (1u << 20))
		return false;
	need = sizeof(h) + h.nplans * sizeof(struct entry) +
	       h.nrefused * sizeof(struct fi__refusal);
	if (need != size ||
	    fi__fnv1a(FI_FNV_SEED, buf + sizeof(h), size - sizeof(h)) != h.sum)
		return false; /* truncated or damaged */
	at = buf + sizeof(h);
	for (uint64_t i = 0; i < h.nplans; i++, at += sizeof(struct entry)) {
		const struct entry *e = (const struct entry *)at;
		uint64_t s0 = e->plan.start + start, pad = e->plan.pad;
		if (e->plan.len > sizeof(e->point) ||
		    e->plan.start + e->plan.len > len ||
		    (pad && pad + start + FI_JMP32_LEN > start + len))
			return false;
		/* The build-id names the bytes, and the entry is checksummed,
		 * so a sample of the patch points is compared with memory rather
		 * than all: reading every page that holds a patch point costs a page
		 * fault each, for nothing. */
		if ((i % 32 == 0 || i + 1 == h.nplans) &&
		    (memcmp((const void *)s0, e->point, e->plan.len) ||
		     (pad && memcmp((const void *)(pad + start), e->pad,
				    FI_JMP32_LEN))))
			return false; /* not the bytes it was planned on */
	}
	if (h.nrefused &&
	    !fi__pages_grow((void **)&ps->refused, &ps->caprefused, h.nrefused,
			    sizeof(*ps->refused)))
		return false;
	for (uint64_t i = 0; i < h.nrefused;
	     i++, at += sizeof(struct fi__refusal)) {
		memcpy(&ps->refused[i], at, sizeof(ps->refused[i]));
		ps->refused[i].addr += start;
		ps->refused[i].why[sizeof(ps->refused[i].why) - 1] = 0;
	}
	ps->nplans = h.nplans;
	ps->nrefused = h.nrefused;
	ps->mapped = buf;
	ps->mapped_len = 0;
	ps->base = start;
	return true;
}

bool fi__cache_load(const uint8_t *build_id, size_t id_len, uint64_t off,
		    uint64_t start, size_t len, struct fi__planset *ps)
{
	char path[700];
	struct stat st;
	size_t size;
	long fd, r;
	bool ok = false;

	if (!fi__cache_path(path, sizeof(path), build_id, id_len, off, len,
			    ".plan"))
		return false;
	fd = fi__raw4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (fi__raw2(SYS_fstat, fd, &st) < 0 ||
	    st.st_size < (long)sizeof(struct header) ||
	    st.st_size > (64l << 20))
		goto out;
	size = (size_t)st.st_size;
	if (size == sizeof(struct header)) {
		/* No plan: a region whose syscall-looking bytes are none.
		 * Read, not mapped (a mapping costs two more syscalls). */
		struct header h;
		r = fi__raw4(SYS_pread64, fd, &h, sizeof(h), 0);
		ok = r == (long)sizeof(h) &&
		     fi__cache_parse(&h, sizeof(h), start, len, ps);
		ps->mapped = NULL; /* nothing to read there */
		goto out;
	}
	/* Mapped whole, in one call: no copy, no page faults. */
	r = fi__raw6(SYS_mmap, 0, (long)size, PROT_READ,
		     MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (r < 0 && r > -4096)
		goto out;
	ok = fi__cache_parse((const void *)r, size, start, len, ps);
	if (ok)
		ps->mapped_len = size; /* kept: the plans live there */
	else
		fi__raw2(SYS_munmap, r, size);
out:
	fi__raw1(SYS_close, fd);
	return ok;
}

void fi__planset_get(const struct fi__planset *ps, size_t i,
		     struct fi__plan *out)
{
	if (!ps->mapped) {
		*out = ps->plans[i];
		return;
	}
	memcpy(out,
	       (const uint8_t *)ps->mapped + sizeof(struct header) +
		       i * sizeof(struct entry),
	       sizeof(*out));
	rebase(out, (int64_t)ps->base);
}

size_t fi__cache_entry_size(const struct fi__planset *ps)
{
	return sizeof(struct header) + ps->nplans * sizeof(struct entry) +
	       ps->nrefused * sizeof(struct fi__refusal);
}

bool fi__cache_write(int fd, uint64_t start, size_t len,
		     const struct fi__planset *ps)
{
	struct header h;
	uint8_t *body;
	size_t body_len;
	bool ok;

	fi__fill(&h, 0, sizeof(h));
	fi__copy(h.magic, MAGIC, 8);
	h.version = fi__cache_version();
	h.plan_size = sizeof(struct fi__plan);
	h.len = len;
	h.nplans = ps->nplans;
	h.nrefused = ps->nrefused;
	body_len = ps->nplans * sizeof(struct entry) +
		   ps->nrefused * sizeof(struct fi__refusal);
	body = fi__pages(body_len ? body_len : 1);
	ok = body != NULL;
	for (size_t i = 0; ok && i < ps->nplans; i++) {
		struct entry e;
		fi__fill(&e, 0, sizeof(e));
		fi__planset_get(ps, i, &e.plan);
		fi__copy(e.point, (const void *)e.plan.start, e.plan.len);
		if (e.plan.pad)
			fi__copy(e.pad, (const void *)e.plan.pad, FI_JMP32_LEN);
		rebase(&e.plan, -(int64_t)start);
		fi__copy(body + i * sizeof(e), &e, sizeof(e));
	}
	for (size_t i = 0; ok && i < ps->nrefused; i++) {
		struct fi__refusal r = ps->refused[i];
		r.addr -= start;
		fi__copy(body + ps->nplans * sizeof(struct entry) +
				 i * sizeof(r),
			 &r, sizeof(r));
	}
	if (ok) {
		h.sum = fi__fnv1a(FI_FNV_SEED, body, body_len);
		ok = fi__raw_write_all(fd, &h, sizeof(h)) &&
		     fi__raw_write_all(fd, body, body_len);
	}
	if (body)
		fi__pages_free(body, body_len ? body_len : 1);
	return ok;
}

void fi__cache_store(const uint8_t *build_id, size_t id_len, uint64_t off,
		     uint64_t start, size_t len, const struct fi__planset *ps)
{
	char path[700], tmp[720];
	bool ok;
	long fd;
	size_t at;

	if (!fi__cache_path(path, sizeof(path), build_id, id_len, off, len,
			    ".plan") ||
	    !fi__cache_make_dir())
		return;
	at = put_str(tmp, 0, sizeof(tmp), path);
	at = put_str(tmp, at, sizeof(tmp), ".");
	put_hex(tmp, at, sizeof(tmp), (uint64_t)fi__raw0(SYS_gettid), 1);
	fd = fi__raw4(SYS_openat, AT_FDCWD, tmp,
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ok = fi__cache_write((int)fd, start, len, ps);
	fi__raw1(SYS_close, fd);
	if (!ok || fi__raw4(SYS_renameat, AT_FDCWD, tmp, AT_FDCWD, path) < 0)
		fi__raw3(SYS_unlinkat, AT_FDCWD, tmp, 0);
}

void fi__planset_free(struct fi__planset *ps)
{
	if (ps->mapped && ps->mapped_len)
		fi__raw2(SYS_munmap, ps->mapped, ps->mapped_len);
	if (ps->hold)
		fi__raw2(SYS_munmap, ps->hold, ps->hold_len);
	if (ps->plans)
		fi__pages_free(ps->plans, ps->capplans * sizeof(*ps->plans));
	if (ps->refused)
		fi__pages_free(ps->refused,
			       ps->caprefused * sizeof(*ps->refused));
	fi__fill(ps, 0, sizeof(*ps));
}
