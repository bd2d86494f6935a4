/* trace.c: the recorder. dispatch hands each finished call here; it
 * becomes one JSON Lines record (docs/trace.md), copied into the trace's
 * shared mapping (tracebuf.c), or written with one write(2) where the
 * trace is not a regular file. */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "fds.h"
#include "jsonw.h"
#include "names.h"
#include "raw.h"
#include "safe_read.h"
#include "scratch.h"
#include "tracebuf.h"

static bool trace_on;
static unsigned long trace_seq;

int fi__trace_open(const char *path, bool truncate)
{
	struct stat st;
	int r;

	if (trace_on)
		return -EBUSY;
	/* A regular file (or a new one) is mapped, so it is opened
	 * read-write; a device or a pipe is written as before. */
	r = fi__fds_open(FI_FD_TRACE, path, truncate,
			 stat(path, &st) < 0 || S_ISREG(st.st_mode));
	if (r < 0)
		return r;
	r = fi__tracebuf_open(fi__fds_fd(FI_FD_TRACE), truncate);
	if (r < 0)
		return r;
	__atomic_store_n(&trace_on, true, __ATOMIC_RELEASE);
	return 0;
}

/* ---- the hook side: no libc from here on ---- */

bool fi__trace_enabled(void)
{
	return __atomic_load_n(&trace_on, __ATOMIC_RELAXED);
}

/* Room kept for the record's tail while the path is written:
 * ,"path_truncated":true}\n */
#define TAIL_ROOM 32
/* The longest run of bounded members: the numbers (at most 20 bytes
 * each), keys, names (identifiers of at most 32 bytes) and the comm (at
 * most COMM_MAX bytes, 6 each when escaped), with FI_JW_SLACK. */
#define HEAD_MAX 1024
#define COMM_MAX 16

/* "site":"object+0x1f2e": the name escaped, in one check when the room
 * holds its longest form (it does, but for a name of some hundred bytes
 * late in a long record); else the checked writer, which cuts the name. */
static void put_site(struct fi__jw *w, const char *module, unsigned long offset)
{
	size_t n = module ? fi__jw_strlen(module) : 0;
	char *d;

	if (!module || fi__jw_room(w) < 6 * n + 48) {
		fi__jw_key(w, "site");
		fi__jw_str_hex(w, module, "+", offset);
		return;
	}
	d = fi__jw_end(w);
	d = FI_JW_LIT(d, ",\"site\":\"");
	d = fi__jw_put_esc(d, module, n);
	d = FI_JW_LIT(d, "+0x");
	d = fi__jw_put_hex(d, offset);
	*d++ = '"';
	fi__jw_commit(w, d);
}

void fi__trace_write(const struct fi__call *c, long ret, bool injected,
		     const char *site_module, unsigned long site_offset,
		     const char *fd_path)
{
	fi__trace_write_seq(c, ret, injected, site_module, site_offset, fd_path,
			    0);
}

#define MAX_NEST FI_SCRATCH_DEPTH

unsigned long fi__trace_write_seq(const struct fi__call *c, long ret,
				  bool injected, const char *site_module,
				  unsigned long site_offset,
				  const char *fd_path, unsigned long resumes)
{
	return fi__trace_write_more(c, ret, injected, site_module, site_offset,
				    fd_path, resumes, NULL);
}

/* An execve's argv: at most ARGV_MAX entries, each copied (safely) into
 * a per-thread scratch of ARG_MAX_LEN bytes, and all of it within the
 * record's room less PATH_ROOM kept for the path. Returns true when
 * something was left out or cut. */
#define ARGV_MAX 256
#define ARG_MAX_LEN FI_SCRATCH_ARGV
#define PATH_ROOM 1100

static bool put_argv(struct fi__jw *w, const void *argv, char *scratch)
{
	const char *const *v = argv;
	bool cut = false;

	fi__jw_reserve(w, PATH_ROOM);
	fi__jw_key(w, "argv");
	fi__jw_arr_begin(w);
	for (int i = 0;; i++) {
		const char *p;
		int n;

		if (fi__safe_read(&p, v + i, sizeof(p)) < 0) {
			cut = true; /* the kernel would say EFAULT */
			break;
		}
		if (!p)
			break;
		if (i == ARGV_MAX || fi__jw_room(w) < 16) {
			cut = true;
			break;
		}
		n = fi__safe_copy_str(p, scratch, ARG_MAX_LEN);
		if (n == -EFAULT) {
			cut = true;
			break;
		}
		if (n < 0)
			cut = true;
		bool before = w->trunc;
		fi__jw_str(w, scratch);
		if (w->trunc && !before)
			cut = true;
	}
	/* the reserve keeps room for the bracket */
	fi__jw_release(w, PATH_ROOM);
	fi__jw_arr_end(w);
	return cut;
}

/* "poked": [{"arg":2,"at":"exit","len":4,"data":"41424344"}, ...]: what
 * poke_enter= and poke_exit= wrote (arg 1-based, as strace counts), the
 * data's first POKE_SHOWN bytes in hex, "failed":true where the memory
 * could not be written. */
#define POKE_SHOWN 64
static void put_pokes(struct fi__jw *w, const struct fi__trace_more *more)
{
	static const char hexd[] = "0123456789abcdef";
	const struct fi__pokes *set[2] = {more->poked_enter, more->poked_exit};
	char hex[2 * POKE_SHOWN + 1];

	fi__jw_key(w, "poked");
	fi__jw_arr_begin(w);
	for (int s = 0; s < 2; s++) {
		for (int i = 0; set[s] && i < set[s]->n; i++) {
			const struct fi__poke *pk = &set[s]->p[i];
			size_t n = pk->len < POKE_SHOWN ? pk->len : POKE_SHOWN;

			for (size_t k = 0; k < n; k++) {
				hex[2 * k] = hexd[pk->data[k] >> 4];
				hex[2 * k + 1] = hexd[pk->data[k] & 15];
			}
			hex[2 * n] = '\0';
			fi__jw_obj_begin(w);
			fi__jw_key(w, "arg");
			fi__jw_int(w, pk->arg + 1);
			fi__jw_key(w, "at");
			fi__jw_str(w, s ? "exit" : "enter");
			fi__jw_key(w, "len");
			fi__jw_uint(w, pk->len);
			fi__jw_key(w, "data");
			fi__jw_str(w, hex);
			if (more->poke_failed & (1u << (8 * s + i))) {
				fi__jw_key(w, "failed");
				fi__jw_bool(w, true);
			}
			fi__jw_obj_end(w);
		}
	}
	fi__jw_arr_end(w);
}

/* Records of this process between their room and their '{' (shared
 * with a vfork child, which counts its own), and the process whose
 * exit_group is on its way (fi__trace_exit; 0: none). */
static int appending, ending;

/* Append to the mapped trace, unless this process's exit_group is on
 * its way: then this thread dies with it before its record would be
 * whole, and it waits for that instead of taking room it would leave
 * empty. The pid is asked anew: a vfork child that ends shares this
 * memory, and the cached one (dispatch.c) may be the child's. */
static int append(const char *buf, size_t len)
{
	int r, e;

	__atomic_add_fetch(&appending, 1, __ATOMIC_SEQ_CST);
	e = __atomic_load_n(&ending, __ATOMIC_SEQ_CST);
	if (e && e == (int)fi__raw0(SYS_getpid)) {
		__atomic_sub_fetch(&appending, 1, __ATOMIC_SEQ_CST);
		for (;;)
			fi__raw0(SYS_pause);
	}
	r = fi__tracebuf_append(buf, len);
	__atomic_sub_fetch(&appending, 1, __ATOMIC_RELEASE);
	return r;
}

unsigned long fi__trace_write_more(const struct fi__call *c, long ret,
				   bool injected, const char *site_module,
				   unsigned long site_offset,
				   const char *fd_path, unsigned long resumes,
				   const struct fi__trace_more *more)
{
	/* In the thread's scratch, not on the stack: a handler on a small
	 * sigaltstack may be what is being recorded. A handler that
	 * interrupts a record takes the next buffer; deeper nesting is not
	 * recorded. */
	static __thread int nest;
	struct fi__scratch *sc = fi__scratch_current();
	struct fi__jw w;
	const struct fi__sysinfo *si = fi__names_sys(c->nr);
	const char *path = NULL, *name, *errname = NULL;
	char sysname[32] = "syscall_", errnoname[32] = "errno_";
	unsigned long seq;
	char *buf, *d;

	if (!fi__trace_enabled() || nest >= MAX_NEST || !sc)
		return 0;
	buf = sc->record[nest++];
	seq = resumes ? resumes
		      : __atomic_add_fetch(&trace_seq, 1, __ATOMIC_RELAXED);

	fi__jw_init(&w, buf, FI_SCRATCH_RECORD);
	fi__jw_reserve(&w, TAIL_ROOM);
	fi__jw_obj_begin(&w);
	if (si) {
		name = si->name;
	} else {
		fi__fmt_long(sysname + 8, c->nr);
		name = sysname;
	}
	if (ret != FI_TRACE_RET_NONE && ret < 0 && ret >= -4095) {
		errname = fi__names_errno((int)-ret);
		if (!errname) {
			fi__fmt_long(errnoname + 6, -ret);
			errname = errnoname;
		}
	}
	/* The members of bounded length go in as one run with one check (the
	 * buffer always has the room; the check keeps it so). Names are
	 * identifiers (the generated tables, or the two forms above): no
	 * escaping, and short; a comm is at most 15 bytes. */
	if (fi__jw_room(&w) < HEAD_MAX) {
		w.broken = true;
		goto out;
	}
	d = fi__jw_end(&w);
	d = FI_JW_LIT(d, "\"seq\":");
	d = fi__jw_put_dec(d, (long long)seq);
	d = FI_JW_LIT(d, ",\"pid\":");
	d = fi__jw_put_dec(d, c->pid);
	d = FI_JW_LIT(d, ",\"tid\":");
	d = fi__jw_put_dec(d, c->tid);
	if (c->comm) {
		size_t n = fi__jw_strlen(c->comm);

		d = FI_JW_LIT(d, ",\"comm\":\"");
		d = fi__jw_put_esc(d, c->comm, n < COMM_MAX ? n : COMM_MAX);
		*d++ = '"';
	}
	d = FI_JW_LIT(d, ",\"nr\":");
	d = fi__jw_put_dec(d, c->nr);
	d = FI_JW_LIT(d, ",\"name\":\"");
	d = fi__jw_put_plain(d, name);
	d = FI_JW_LIT(d, "\",\"args\":[");
	for (int i = 0; i < 6; i++) {
		long a = c->args[i];

		/* An fd is a C int: the kernel ignores the upper half of the
		 * register, so AT_FDCWD reads -100, not 4294967196. */
		if (si && i < si->nargs &&
		    (si->arg[i] == FI_ARG_FD || si->arg[i] == FI_ARG_DIRFD))
			a = (int)a;
		if (i)
			*d++ = ',';
		d = fi__jw_put_dec(d, a);
	}
	d = FI_JW_LIT(d, "],\"ret\":");
	if (ret == FI_TRACE_RET_NONE) {
		d = FI_JW_LIT(d, "null");
	} else {
		d = fi__jw_put_dec(d, ret);
		if (errname) {
			d = FI_JW_LIT(d, ",\"errno\":\"");
			d = fi__jw_put_plain(d, errname);
			*d++ = '"';
		}
	}
	if (injected)
		d = FI_JW_LIT(d, ",\"injected\":true");
	if (resumes)
		d = FI_JW_LIT(d, ",\"resumed\":true");
	fi__jw_commit(&w, d);
	put_site(&w, site_module, site_offset);
	if (more && more->has_short) {
		fi__jw_key(&w, "short_to");
		fi__jw_int(&w, more->short_to);
	}
	if (more && more->argv &&
	    put_argv(&w, more->argv, sc->argv[nest - 1])) {
		fi__jw_key(&w, "argv_truncated");
		fi__jw_bool(&w, true);
	}
	if (more && more->ran_instead) {
		const struct fi__sysinfo *ri = fi__names_sys(more->ran_instead);

		fi__jw_key(&w, "ran_instead");
		fi__jw_str(&w, ri ? ri->name : 0);
	}
	if (more && (more->poked_enter || more->poked_exit))
		put_pokes(&w, more);
	if (more && more->redirected_to) {
		/* half the record at most: the path comes next */
		fi__jw_reserve(&w, 2048);
		fi__jw_key(&w, "redirected_to");
		fi__jw_str(&w, more->redirected_to);
		fi__jw_release(&w, 2048);
	}

	/* Last, since it is the only field of unbounded length. */
	if (fi__names_argindex(c->nr, FI_ARG_PATH) >= 0)
		path = c->path;
	else
		path = fd_path;
	if (path) {
		bool before = w.trunc;
		size_t n = fi__jw_strlen(path);

		if (fi__jw_room(&w) >= 6 * n + 16) { /* whole: one check */
			d = fi__jw_end(&w);
			d = FI_JW_LIT(d, ",\"path\":\"");
			d = fi__jw_put_esc(d, path, n);
			*d++ = '"';
			fi__jw_commit(&w, d);
		} else {
			fi__jw_key(&w, "path");
			fi__jw_strn(&w, path, n);
		}
		fi__jw_release(&w, TAIL_ROOM);
		if (w.trunc && !before) {
			fi__jw_key(&w, "path_truncated");
			fi__jw_bool(&w, true);
		}
	} else {
		fi__jw_release(&w, TAIL_ROOM);
	}
	fi__jw_obj_end(&w);
	fi__jw_raw(&w, "\n");
out:
	/* A broken record cannot happen with a 4 KiB buffer; never write
	 * junk. */
	if (w.broken)
		;
	else if (fi__tracebuf_on()) {
		int r = append(buf, w.len);
		if (r < 0)
			fi__fds_lost(FI_FD_TRACE, -r);
	} else {
		fi__fds_write(FI_FD_TRACE, buf, w.len);
	}
	nest--;
	return seq;
}

void fi__trace_exit(int pid)
{
	/* Its other threads die with the call; a record one of them has
	 * room for but has not written yet would stay NUL bytes in the
	 * file. They finish theirs first; a record begun after this one
	 * never is (append). Bounded: an append does not block. */
	__atomic_store_n(&ending, pid, __ATOMIC_SEQ_CST);
	for (int i = 0;
	     i < 100000 && __atomic_load_n(&appending, __ATOMIC_SEQ_CST); i++)
		fi__raw0(SYS_sched_yield);
	fi__tracebuf_trim();
}
