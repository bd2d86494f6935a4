/* planner.c: runs fi-plan, the out-of-process planner, and reads what it
 * wrote. See planner.h for the picture. Raw syscalls only. */
#include "planner.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "arena.h"
#include "jsonw.h"
#include "log.h"
#include "raw.h"
#include "registry.h"

#define PLANNER_REL "fi/fi-plan"

_Static_assert(sizeof(struct fi__planner_record) % 8 == 0,
	       "records and the entries after them stay 8-byte aligned");

static char plan_path[4096];

static bool same(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	while (n--)
		if (*x++ != *y++)
			return false;
	return true;
}

/* Append s at out[at], NUL-terminated; returns the new end (capped). */
static size_t put(char *out, size_t at, size_t cap, const char *s)
{
	if (at >= cap)
		return at;
	while (*s && at + 1 < cap)
		out[at++] = *s++;
	out[at] = 0;
	return at;
}

static size_t put_num(char *out, size_t at, size_t cap, uint64_t v,
		      unsigned radix)
{
	static const char digit[] = "0123456789abcdef";
	char tmp[24];
	int n = 0;
	if (at >= cap)
		return at;
	do
		tmp[n++] = digit[v % radix], v /= radix;
	while (v);
	while (n && at + 1 < cap)
		out[at++] = tmp[--n];
	out[at] = 0;
	return at;
}

/* plan_path from the directory of libfi's file, named by `name`. */
static void set_path(const char *name)
{
	size_t at = 0, cut;

	plan_path[0] = 0;
	if (!name || !*name)
		return;
	if (name[0] != '/') {
		/* A relative LD_PRELOAD: relative to where the program
		 * started, which is now; the program may chdir later. */
		if (fi__raw2(SYS_getcwd, plan_path, sizeof(plan_path) - 1) <= 0)
			return;
		at = put(plan_path, fi__jw_strlen(plan_path), sizeof(plan_path),
			 "/");
	}
	at = put(plan_path, at, sizeof(plan_path), name);
	for (cut = at; cut > 0 && plan_path[cut - 1] != '/'; cut--)
		;
	plan_path[cut] = 0;
	at = put(plan_path, cut, sizeof(plan_path), PLANNER_REL);
	if (at + 1 >= sizeof(plan_path))
		plan_path[0] = 0; /* did not fit */
}

static uint64_t hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if ((c | 32) >= 'a' && (c | 32) <= 'f')
			v = v * 16 + (uint64_t)((c | 32) - 'a' + 10);
		else
			return v;
	}
}

/* The file mapped at self, from /proc/self/maps: for when the loader
 * cannot tell yet (an LD_AUDIT module, early). */
static void path_from_maps(uint64_t self)
{
	const size_t cap = 4u << 20;
	char *buf = fi__pages(cap);
	size_t n = 0;
	long fd, r;

	if (!buf)
		return;
	fd = fi__raw4(SYS_openat, AT_FDCWD, "/proc/self/maps",
		      O_RDONLY | O_CLOEXEC, 0);
	while (fd >= 0 && n < cap - 1 &&
	       (r = fi__raw3(SYS_read, fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	if (fd >= 0)
		fi__raw1(SYS_close, fd);
	buf[n] = 0;
	for (const char *p = buf; *p;) {
		const char *line = p, *name;
		uint64_t lo = hex(&p), hi = (*p == '-' ? p++, hex(&p) : 0);
		while (*p && *p != '\n')
			p++;
		if (*p)
			*(char *)p++ = 0;
		if (self < lo || self >= hi)
			continue;
		name = line;
		while (*name && *name != '/')
			name++;
		set_path(name);
		break;
	}
	fi__pages_free(buf, cap);
}

static const void *self_addr;

void fi__planner_init(const void *self)
{
	struct dl_find_object o;

	self_addr = self;
	plan_path[0] = 0;
	if (_dl_find_object((void *)self, &o) == 0 && o.dlfo_link_map)
		set_path(o.dlfo_link_map->l_name);
}

const char *fi__planner_path(void)
{
	return plan_path;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	if (fi__raw2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the helper processes need, in memory they share with the parent. */
struct spawn {
	const char *path;
	char **argv, **envp;
	uint8_t *stack2;	      /* the top of the grandchild's stack */
	int keep[FI_MAX_MODULES + 1]; /* fds fi-plan inherits */
	size_t nkeep;
};

static long spawn_child(unsigned long flags, void *stack_top,
			void (*fn)(void *), struct spawn *sp);

/* fi-plan itself, on a stack of its own. */
static __attribute__((noreturn, used)) void grandchild(void *arg)
{
	const struct spawn *sp = arg;

	fi__raw3(SYS_execve, sp->path, sp->argv, sp->envp);
	for (;;)
		fi__raw1(SYS_exit, 127);
}

/* The child of clone(CLONE_VM|CLONE_VFORK) with exit signal 0, on a stack
 * of its own, with every signal blocked, sharing the program's memory and
 * thread pointer: only raw syscalls, nothing written but its stack. It
 * does not exec fi-plan itself: exec would set its exit signal back to
 * SIGCHLD, for the program to receive. It runs fi-plan as its own child,
 * waits for it and exits with its status: the program, whose thread is
 * held in clone meanwhile, sees no signal. Its fd table and signal
 * actions are copies of the program's, so changing them here changes
 * nothing there. */
static __attribute__((noreturn, used)) void child(void *arg)
{
	struct spawn *sp = arg;
	const unsigned long dfl[4] = {0}; /* SIG_DFL: no auto-reaping */
	int status = 0;
	long pid, r;

	fi__raw4(SYS_rt_sigaction, SIGCHLD, dfl, 0, sizeof(unsigned long));
	fi__raw3(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
	for (size_t i = 0; i < sp->nkeep; i++)
		fi__raw3(SYS_fcntl, sp->keep[i], F_SETFD, 0);
	pid = spawn_child(CLONE_VM | CLONE_VFORK, sp->stack2, grandchild, sp);
	if (pid < 0)
		for (;;)
			fi__raw1(SYS_exit, 126);
	do
		r = fi__raw4(SYS_wait4, pid, &status, __WALL, 0);
	while (r == -EINTR);
	for (;;)
		fi__raw1(SYS_exit, r != pid		 ? 125
				   : WIFSIGNALED(status) ? 124
							 : WEXITSTATUS(status));
}

/* clone with a new stack: the child calls fn(sp) and never returns here;
 * the parent gets the child's tid or a negative errno. */
static long spawn_child(unsigned long flags, void *stack_top,
			void (*fn)(void *), struct spawn *sp)
{
	long ret;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	register void (*f)(void *) __asm__("r12") = fn;
	register void *arg __asm__("r13") = sp;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(SYS_clone), "D"(flags), "S"(stack_top), "d"(0),
			   "r"(r10), "r"(r8), "r"(f), "r"(arg)
			 : "rcx", "r11", "memory");
	return ret;
}

/* A number high above what lowest-free numbering hands the program, but
 * below fds.h's own (FI_FDS_HEADROOM below the limit). */
static long move_high(long fd)
{
	struct rlimit rl;
	long hi, r;

	if (fi__raw4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &rl) < 0 ||
	    rl.rlim_cur < 128)
		return fd;
	hi = (long)(rl.rlim_cur > 1024 ? 1024 : rl.rlim_cur) - 48;
	r = fi__raw3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, hi);
	if (r < 0)
		return fd;
	fi__raw1(SYS_close, fd);
	return r;
}

bool fi__planner_run(const struct fi__plan_request *req, size_t n, bool full,
		     struct fi__planner_out *out, const char **why)
{
	const size_t stack_len = 16384;
	struct spawn *sp = NULL;
	char *strs = NULL;
	size_t cap = 256, at = 0, k = 0, sp_len = sizeof(*sp);
	uint8_t *stack = NULL;
	unsigned long all = ~0ul, old;
	long fd = -1, pid, r;
	int status = 0;
	uint64_t t0 = now_ns();
	struct stat st;
	bool ok = false;

	fi__fill(out, 0, sizeof(*out));
	if (!n)
		return true;
	if (!plan_path[0] && self_addr)
		path_from_maps((uint64_t)self_addr);
	if (!plan_path[0]) {
		*why = "cannot tell where libfi.so was loaded from, so where fi-plan is";
		return false;
	}
	if (fi__raw4(SYS_faccessat, AT_FDCWD, plan_path, X_OK, 0) < 0) {
		*why = "fi-plan is missing beside libfi.so (LIBDIR/" PLANNER_REL
		       ")";
		return false;
	}
	if (n > FI_MAX_MODULES) {
		*why = "too many regions at once";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		cap += (req[i].path ? fi__jw_strlen(req[i].path) : 0) + 3 * 24;
	cap += fi__jw_strlen(plan_path) + 64;
	sp_len += (3 * n + 8) * 2 * sizeof(char *);
	strs = fi__pages(cap);
	sp = fi__pages(sp_len);
	stack = fi__pages(stack_len);
	if (!strs || !sp || !stack) {
		*why = "out of memory";
		goto out;
	}
	fd = fi__raw2(SYS_memfd_create, "fi-plan", MFD_CLOEXEC);
	if (fd < 0) {
		*why = "memfd_create failed";
		goto out;
	}
	fd = move_high(fd);

	/* fi-plan [--full] OUTFD (fd:N | file:PATH | vdso:) OFF LEN ... */
	sp->argv = (char **)(sp + 1);
	sp->envp = sp->argv + 3 * n + 6;
	sp->path = plan_path;
	sp->argv[k++] = plan_path;
	if (full) {
		sp->argv[k++] = strs + at;
		at = put(strs, at, cap, "--full") + 1;
	}
	sp->argv[k++] = strs + at;
	at = put_num(strs, at, cap, (uint64_t)fd, 10) + 1;
	sp->keep[sp->nkeep++] = (int)fd;
	for (size_t i = 0; i < n; i++) {
		sp->argv[k++] = strs + at;
		if (req[i].fd >= 0) {
			at = put(strs, at, cap, "fd:");
			at = put_num(strs, at, cap, (uint64_t)req[i].fd, 10) +
			     1;
			sp->keep[sp->nkeep++] = req[i].fd;
		} else if (req[i].path) {
			at = put(strs, at, cap, "file:");
			at = put(strs, at, cap, req[i].path) + 1;
		} else {
			at = put(strs, at, cap, "vdso:") + 1;
		}
		sp->argv[k++] = strs + at;
		at = put_num(strs, at, cap, req[i].off, 16) + 1;
		sp->argv[k++] = strs + at;
		at = put_num(strs, at, cap, req[i].len, 16) + 1;
	}
	sp->argv[k] = NULL;
	sp->envp[0] = NULL; /* no LD_PRELOAD, nothing of the program's */
	if (at + 1 >= cap) {
		*why = "arguments too long";
		goto out;
	}

	/* No handler of the program may run in the child (it shares the
	 * program's memory): block everything across the clone. */
	fi__raw4(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, sizeof(all));
	sp->stack2 = stack + stack_len / 2;
	pid = spawn_child(CLONE_VM | CLONE_VFORK, stack + stack_len, child, sp);
	fi__raw4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, sizeof(old));
	if (pid < 0) {
		*why = "cannot start fi-plan (clone failed)";
		goto out;
	}
	do
		r = fi__raw4(SYS_wait4, pid, &status, __WALL, 0);
	while (r == -EINTR);
	if (r != pid) {
		*why = "lost track of fi-plan (someone else reaped it)";
		goto out;
	}
	switch (WIFEXITED(status) ? WEXITSTATUS(status) : -1) {
	case 0:
		break;
	case 127:
		*why = "cannot run fi-plan (execve failed)";
		goto out;
	case 124:
		*why = "fi-plan was killed by a signal";
		goto out;
	default:
		*why = "fi-plan failed";
		goto out;
	}
	if (fi__raw2(SYS_fstat, fd, &st) < 0 || st.st_size <= 0) {
		*why = "fi-plan wrote nothing";
		goto out;
	}
	r = fi__raw6(SYS_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (r < 0 && r > -4096) {
		*why = "cannot map what fi-plan wrote";
		goto out;
	}
	out->map = (const uint8_t *)r;
	out->len = (size_t)st.st_size;
	out->n = n;
	ok = true;
out:
	if (fd >= 0)
		fi__raw1(SYS_close, fd);
	if (fi__log_debug)
		fi__log("fi-plan (%s) planned %zu region%s: %s, %lu.%lu ms",
			plan_path, n, n == 1 ? "" : "s", ok ? "ok" : *why,
			(unsigned long)((now_ns() - t0) / 1000000),
			(unsigned long)((now_ns() - t0) / 100000 % 10));
	fi__pages_free(strs, cap);
	fi__pages_free(sp, sp_len);
	fi__pages_free(stack, stack_len);
	return ok;
}

bool fi__planner_take(const struct fi__planner_out *out, size_t i,
		      const uint8_t *build_id, size_t id_len, uint64_t start,
		      struct fi__planset *ps, const char **why)
{
	static __thread char
		reason[sizeof(((struct fi__planner_record *)0)->why)];
	struct fi__planner_record rec;
	size_t at = 0;

	*why = "fi-plan wrote too little";
	for (size_t k = 0; out->map && k <= i && k < out->n; k++) {
		if (at + sizeof(rec) > out->len)
			return false;
		fi__copy(&rec, out->map + at, sizeof(rec));
		if (!same(rec.magic, FI_PLANNER_MAGIC, 8) ||
		    rec.size > out->len - at - sizeof(rec) || rec.size % 8) {
			*why = "fi-plan wrote something else";
			return false;
		}
		if (k < i) {
			at += sizeof(rec) + rec.size;
			continue;
		}
		if (rec.err) {
			fi__copy(reason, rec.why, sizeof(reason));
			reason[sizeof(reason) - 1] = 0;
			*why = reason;
			return false;
		}
		if (rec.id_len != id_len || id_len > sizeof(rec.build_id) ||
		    !same(rec.build_id, build_id, id_len)) {
			*why = "the file fi-plan read is not the object mapped here (another build-id)";
			return false;
		}
		if (!fi__cache_parse(out->map + at + sizeof(rec), rec.size,
				     start, rec.len, ps)) {
			*why = "fi-plan's plans do not fit the code here";
			return false;
		}
		return true;
	}
	return false;
}

void fi__planner_free(struct fi__planner_out *out)
{
	if (out->map)
		fi__raw2(SYS_munmap, out->map, out->len);
	fi__fill(out, 0, sizeof(*out));
}
