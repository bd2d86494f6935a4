/* dispatch.c: the C side of the hook. fi__entry (entry.S) calls
 * fi__dispatch before a syscall whose number is in the interest table; it
 * decides pass, done (the result is in %rax, the kernel is not entered) or
 * pass-then-post. fi__dispatch_post runs after the real syscall for the
 * recorder and to patch code that ld.so just mapped.
 *
 * Everything here is allocation-free, lock-free and async-signal-safe, and
 * built with -mgeneral-regs-only: no libc calls except where the vector
 * state is saved first (patching a new object). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "arena.h"
#include "dispatch.h"
#include "fdpath.h"
#include "fds.h"
#include "follow.h"
#include "frame.h"
#include "lineage.h"
#include "mem.h"
#include "patch.h"
#include "registry.h"
#include "raw.h"
#include "report.h"
#include "rules.h"
#include "runtime.h"
#include "safe_read.h"
#include "scratch.h"
#include "site.h"
#include "trace.h"
#include "xstate.h"

#define VERDICT_PASS FI_VERDICT_PASS
#define VERDICT_DONE FI_VERDICT_DONE
#define VERDICT_POST FI_VERDICT_POST

_Static_assert(FI_QUICK_PASS == FI_VERDICT_PASS &&
		       FI_QUICK_DONE == FI_VERDICT_DONE &&
		       FI_QUICK_MORE == FI_VERDICT_FULL,
	       "fi__rules_quick answers in the stub's verdicts");

/* Hooks active in this thread. A signal handler that runs while the hook
 * does may take the hook once more (depth 1, its own scratch); deeper, and
 * while the API works (FI_SUSPENDED), calls pass untouched. */
#define FI_MAX_DEPTH 2
#define FI_SUSPENDED 1000
static __thread int in_hook;

/* Cached ids; fork-like calls forget them in fi__dispatch_post. */
static __thread int my_tid;
static int my_pid;

static inline __attribute__((always_inline)) void ids(struct fi__call *c)
{
	if (!my_pid)
		my_pid = (int)fi__raw0(SYS_getpid);
	if (!my_tid)
		my_tid = (int)fi__raw0(SYS_gettid);
	c->pid = my_pid;
	c->tid = my_tid;
}

/* What pre hands to post across the real syscall, as a per-thread stack:
 * a signal handler's calls nest above the call it interrupted, and a vfork
 * child's calls above its parent's vfork (the child shares this TLS). A
 * post takes the topmost entry of its own patch point and drops anything above
 * it (left by a handler that longjmp'ed away). */
#define PENDING_MAX 8
struct pending {
	long nr;
	long args[6];
	uint32_t point;	    /* the patch point (fi__frame_point) */
	unsigned long seq;  /* of a record already written, or 0 */
	const char *module; /* the calling code, as pre found it */
	unsigned long offset;
	long delay_exit_ns; /* delay_exit=: sleep once the call returns */
	const struct fi__pokes *poke_exit; /* poke_exit=: write once it returns */
	int signal; /* signal=: raise it once the call returned, as strace */
	unsigned long unfollowed; /* an exec's line in the report (follow.h) */
	bool injected;	   /* a rule changed the call (short=, redirect=) */
	bool makes_thread; /* a fork-like call with CLONE_THREAD */
	unsigned char before_bit; /* fd_before's buffer (before_taken) */
	long lineage;	       /* ... the number of what it makes (lineage.c) */
	uint64_t first_sp;     /* ... a new thread's first %rsp (lineage.h) */
	const char *fd_before; /* the fd's path before a close (path_before) */
	struct fi__trace_more more; /* ... how: args holds the program's */
};
static __thread struct pending pend[PENDING_MAX];
static __thread int npend;

/* The scratch's fdpath_before buffers in use (bit k: buffer k), each from
 * path_before until its call's record is written. Taken and given back
 * with one atomic instruction each: a signal handler of this thread may
 * take one at any point in between, in the hook or out of it. */
static __thread unsigned before_taken;

static void give_back(unsigned bit)
{
	if (bit)
		__atomic_fetch_and(&before_taken, ~bit, __ATOMIC_RELAXED);
}

static struct pending *push_pending(void)
{
	if (npend == PENDING_MAX) {
		give_back(pend[0].before_bit);
		for (int i = 1; i < PENDING_MAX; i++)
			pend[i - 1] = pend[i];
		npend--;
	}
	return &pend[npend++];
}

/* The call, as the program made it, for post to find after the syscall. */
static struct pending *pend_call(const struct fi__frame *f,
				 const struct fi__call *c, bool changed,
				 const struct fi__trace_more *chg,
				 const struct fi__verdict *v)
{
	struct pending *p = push_pending();

	p->nr = c->nr;
	for (int i = 0; i < 6; i++)
		p->args[i] = c->args[i];
	p->point = fi__frame_point(f);
	p->module = c->module;
	p->offset = c->offset;
	p->seq = 0;
	p->unfollowed = 0;
	p->injected = changed;
	p->makes_thread = false;
	p->lineage = 0;
	p->first_sp = 0;
	p->fd_before = 0;
	p->before_bit = 0;
	p->more = *chg;
	p->delay_exit_ns = v ? v->delay_exit_ns : 0;
	p->poke_exit = v ? v->poke_exit : 0;
	p->signal = v ? v->signal : 0;
	return p;
}

static int find_pending(uint32_t point)
{
	for (int i = npend - 1; i >= 0; i--)
		if (pend[i].point == point)
			return i;
	return -1;
}

/* For the recorder, the path of the fd argument of a call that may close
 * or replace fds (close; dup2 and dup3, whose fd argument is the one they
 * copy), read before the call: after a close the fd has none. It waits
 * for the record in a buffer of the scratch taken in before_taken (*bit;
 * give_back once the record is written), since a signal handler's close
 * may come between a close and its record. NULL: not such a call, or both
 * buffers are taken; "": the fd has no path. */
static const char *path_before(const struct fi__call *c, struct fi__scratch *s,
			       unsigned *bit)
{
	int fi = fi__runtime_nr.closing_fd_arg[c->nr];

	*bit = 0;
	if (fi < 0)
		return 0;
	for (unsigned k = 0; k < 2; k++) {
		unsigned b = 1u << k;

		if (__atomic_fetch_or(&before_taken, b, __ATOMIC_RELAXED) & b)
			continue;
		if (fi__fdpath_get(c->pid, (int)c->args[fi],
				   s->fdpath_before[k], FI_SCRATCH_PATH) > 0) {
			*bit = b;
			return s->fdpath_before[k];
		}
		give_back(b);
		return "";
	}
	return 0;
}

_Static_assert(FI_MAX_DEPTH <= FI_SCRATCH_DEPTH,
	       "every depth of the hook has scratch of its own");

static uint64_t *arg_slot(struct fi__frame *f, int i)
{
	switch (i) {
	/* clang-format off */
	case 0: return &f->rdi;
	case 1: return &f->rsi;
	case 2: return &f->rdx;
	case 3: return &f->r10;
	case 4: return &f->r8;
	default: return &f->r9;
		/* clang-format on */
	}
}

static inline __attribute__((always_inline)) void point_of(uint32_t id,
							   struct fi__call *c)
{
	if (id < __atomic_load_n(&fi__registry_npoints, __ATOMIC_ACQUIRE)) {
		const struct fi__patch_point *s = &fi__registry_points[id];
		c->module = fi__registry_modules[s->module].name;
		c->offset = s->addr - fi__registry_modules[s->module].base;
	}
}

/* A fork-like call's clone flags (vfork: CLONE_VM|CLONE_VFORK, fork: 0).
 * clone3's are in the program's struct: read safely. Unreadable (the call
 * then failed with EFAULT, or a CLONE_VM child unmapped it since): say
 * CLONE_VM, which only forgets cached ids and never restarts the rules'
 * counts. */
static uint64_t clone_flags(long nr, const long *a)
{
	uint64_t flags;

	if (nr == SYS_vfork)
		return CLONE_VM | CLONE_VFORK;
	if (nr == SYS_clone)
		return (uint64_t)a[0];
	if (nr == SYS_clone3) {
		if (fi__safe_read(&flags,
				  (const char *)a[0] +
					  offsetof(struct clone_args, flags),
				  sizeof(flags)) < 0)
			return CLONE_VM;
		return flags;
	}
	return 0;
}

/* The %rsp a thread made by clone or clone3 starts with: the stack the
 * call names (clone3's stack + stack_size, as the kernel computes it), or
 * the caller's own when it names none. 0 when clone3's struct cannot be
 * read. */
static uint64_t first_sp(long nr, const long *a, const struct fi__frame *f)
{
	uint64_t st[2];

	if (nr == SYS_clone)
		return a[1] ? (uint64_t)a[1] : fi__frame_user_rsp(f);
	if (fi__safe_read(
		    st, (const char *)a[0] + offsetof(struct clone_args, stack),
		    sizeof(st)) < 0)
		return 0;
	_Static_assert(offsetof(struct clone_args, stack_size) ==
			       offsetof(struct clone_args, stack) + 8,
		       "stack_size follows stack");
	return st[0] ? st[0] + st[1] : fi__frame_user_rsp(f);
}

/* Whether a fork-like call's child shares our memory. */
static bool shares_vm(long nr, const long *a)
{
	return (clone_flags(nr, a) & CLONE_VM) != 0;
}

static bool is_fork_family(long nr)
{
	return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork ||
	       nr == SYS_vfork;
}

/* Name the calling module by unwinding past libc, and tell whether the
 * call comes from an ignored module (the test harness). */
static bool caller(const struct fi__frame *f, struct fi__call *c)
{
	struct fi__site_regs r;
	struct fi__site_info si;
	uint32_t id = fi__frame_point(f);

	if (id >= __atomic_load_n(&fi__registry_npoints, __ATOMIC_ACQUIRE))
		return false;
	fi__site_regs_from_frame(f, fi__registry_points[id].addr, &r);
	if (fi__site_resolve(&r, &si)) {
		c->module = si.module;
		c->module_path = si.path;
		c->offset = si.offset;
	}
	return si.ignored;
}

/* fi__call.caller: the calling code, for a rule's first firing. */
static void resolve_caller(const struct fi__call *c, const char **module,
			   unsigned long *offset)
{
	struct fi__call tmp = *c;
	caller((const struct fi__frame *)c->ctx, &tmp);
	*module = tmp.module;
	*offset = tmp.offset;
}

/* Calls that may not come back: exec, exit, and a signal sent to our own
 * process (it may kill us). */
static bool no_return(const struct fi__call *c)
{
	switch (c->nr) {
	case SYS_exit:
	case SYS_exit_group:
		return true;
	case SYS_kill:
	case SYS_tgkill:
		return c->args[0] == c->pid || c->args[0] == 0;
	case SYS_tkill:
		return true;
	default:
		return false;
	}
}

/* The child of a fork-like call sees 0; only the parent records it. */
static bool child_side(long nr, long ret)
{
	return is_fork_family(nr) && ret == 0;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000L,
			      .tv_nsec = ns % 1000000000L};
	fi__raw4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &ts);
}

/* A short readv/writev: the first iovecs, cut at n bytes in all. The
 * array is the program's, read safely and whole, as the kernel reads it:
 * when it cannot be (a bad pointer, a count the kernel refuses), false,
 * and the call goes to the kernel as it is, for its own answer. */
#define IOV_KEEP 64	    /* entries kept; the rest only checked */
#define IOV_MAX_KERNEL 1024 /* UIO_MAXIOV: more is EINVAL */
static bool short_iov(long nr, const long *a, long n, long *ret)
{
	struct iovec iov[IOV_KEEP], probe[16];
	const struct iovec *src = (const struct iovec *)a[1];
	long cnt = a[2], keep, k = 0;

	if (cnt < 0 || cnt > IOV_MAX_KERNEL)
		return false;
	keep = cnt < IOV_KEEP ? cnt : IOV_KEEP;
	if (fi__safe_read(iov, src, (size_t)keep * sizeof(iov[0])) < 0)
		return false;
	for (long i = keep; i < cnt; i += 16) {
		long m = cnt - i < 16 ? cnt - i : 16;
		if (fi__safe_read(probe, src + i,
				  (size_t)m * sizeof(probe[0])) < 0)
			return false;
	}
	for (long i = 0; i < keep && n > 0; i++, k++) {
		if ((long)iov[k].iov_len > n)
			iov[k].iov_len = (size_t)n;
		n -= (long)iov[k].iov_len;
	}
	if (k == 0)
		k = cnt ? 1 : 0, iov[0].iov_base = 0, iov[0].iov_len = 0;
	*ret = fi__raw6(nr, a[0], (long)iov, k, a[3], a[4], a[5]);
	return true;
}

/* poke_enter= / poke_exit=: write each poke's bytes where its argument
 * points (args are the program's), as strace does; an argument the call
 * does not have, or memory that cannot be written, is left alone and
 * marked in *failed (bit shift + i). */
static void poke(const long *args, long nr, const struct fi__pokes *pk,
		 unsigned shift, unsigned *failed)
{
	const struct fi__sysinfo *si = fi__names_sys(nr);

	for (int i = 0; i < pk->n; i++) {
		const struct fi__poke *p = &pk->p[i];

		if ((si && p->arg >= si->nargs) ||
		    fi__safe_write((void *)args[p->arg], p->data, p->len) < 0)
			*failed |= 1u << (shift + i);
	}
}

/* Carry out a verdict. Returns the stub's verdict; *chg says what the
 * kernel is given instead of the program's arguments, for the recorder
 * (true: the call was changed). */
static long do_act(struct fi__frame *f, struct fi__call *c,
		   const struct fi__verdict *v, struct fi__trace_more *chg,
		   bool *changed);

static void raise_signal(int sig)
{
	fi__raw3(SYS_tgkill, fi__raw0(SYS_getpid), fi__raw0(SYS_gettid), sig);
}

/* signal=: strace makes the signal pending as the call enters and it is
 * delivered when the call returns, so the call runs first (a write
 * reaches its file before a SIGPIPE kills the writer). A call fi decides
 * gets it here, after the result; a call that runs gets it in post. */
static long act(struct fi__frame *f, struct fi__call *c,
		const struct fi__verdict *v, struct fi__trace_more *chg,
		bool *changed)
{
	long verdict = do_act(f, c, v, chg, changed);

	if (v->poke_enter || (v->poke_exit && verdict == VERDICT_DONE))
		*changed = true;
	/* A call that is over already gets its poke_exit= now; others in
	 * post, once the kernel returned. */
	if (v->poke_exit && verdict == VERDICT_DONE) {
		poke(c->args, c->nr, v->poke_exit, 8, &chg->poke_failed);
		chg->poked_exit = v->poke_exit;
	}
	if (v->signal > 0 && verdict == VERDICT_DONE)
		raise_signal(v->signal);
	return verdict;
}

static long do_act(struct fi__frame *f, struct fi__call *c,
		   const struct fi__verdict *v, struct fi__trace_more *chg,
		   bool *changed)
{
	if (v->poke_enter) {
		poke(c->args, c->nr, v->poke_enter, 0, &chg->poke_failed);
		chg->poked_enter = v->poke_enter;
	}
	if (v->delay_ns > 0)
		sleep_ns(v->delay_ns);
	/* delay_exit= on a call that never reaches the kernel: the result is
	 * decided now, so sleeping now is sleeping after it. */
	if (v->delay_exit_ns > 0 &&
	    (v->action == FI_ACT_ERROR || v->action == FI_ACT_RETVAL))
		sleep_ns(v->delay_exit_ns);
	if (v->instead &&
	    (v->action == FI_ACT_ERROR || v->action == FI_ACT_RETVAL)) {
		/* syscall=: the kernel runs this one, the program gets the
		 * rule's result, as under strace */
		fi__raw0(v->instead);
		chg->ran_instead = v->instead;
	}
	switch (v->action) {
	case FI_ACT_ERROR:
		f->rax = (uint64_t)-v->value;
		return VERDICT_DONE;
	case FI_ACT_RETVAL:
		f->rax = (uint64_t)v->value;
		return VERDICT_DONE;
	case FI_ACT_SHORT: {
		int i = fi__names_argindex(c->nr, FI_ARG_COUNT);
		if (i >= 0) {
			uint64_t *slot = arg_slot(f, i);
			if (*slot > (uint64_t)v->value)
				*slot = (uint64_t)v->value;
			*changed = true;
			chg->has_short = true;
			chg->short_to = (long)*slot;
			return VERDICT_PASS;
		}
		if (fi__names_argindex(c->nr, FI_ARG_IOV) == 1) {
			long ret;
			if (!short_iov(c->nr, c->args, v->value, &ret))
				return VERDICT_PASS;
			f->rax = (uint64_t)ret;
			*changed = true;
			chg->has_short = true;
			chg->short_to = v->value;
			return VERDICT_DONE;
		}
		return VERDICT_PASS;
	}
	case FI_ACT_REDIRECT: {
		int i = fi__names_argindex(c->nr, FI_ARG_PATH);
		if (i >= 0) {
			*arg_slot(f, i) = (uint64_t)v->redirect;
			*changed = true;
			chg->redirected_to = v->redirect;
		}
		return VERDICT_PASS;
	}
	default:
		return VERDICT_PASS;
	}
}

/* The call as the engine sees it, from the saved registers. The caller
 * is found only when a rule first fires (resolve_caller). */
static void describe(struct fi__frame *f, long nr, struct fi__call *c)
{
	c->nr = nr;
	c->args[0] = (long)f->rdi;
	c->args[1] = (long)f->rsi;
	c->args[2] = (long)f->rdx;
	c->args[3] = (long)f->r10;
	c->args[4] = (long)f->r8;
	c->args[5] = (long)f->r9;
	c->comm = fi__runtime_comm[0] ? fi__runtime_comm : 0;
	c->module = 0;
	c->module_path = 0;
	c->offset = 0;
	c->path = 0;
	c->fd_path = fi__fdpath_read;
	c->thread_number = fi__lineage_thread;
	c->proc_path = fi__lineage_proc;
	c->caller = resolve_caller;
	c->ctx = f;
	ids(c);
	point_of(fi__frame_point(f), c);
}

/* An exec about to go to the kernel: if the image it starts will run
 * without libfi, say so in the report, for fi-run's summary. The line has
 * to be written now, as a successful exec never comes back; when the exec
 * fails, post writes a second line that takes the first back (report.h),
 * and fi-run drops both. So a line without its take-back names an exec
 * that succeeded, or a process that died between the failed exec and its
 * post, which is a signal in that window of a few instructions. Returns
 * the line's id, for post, or 0. */
_Static_assert(FI_SCRATCH_PAGE == FI_PAGE, "follow.c reads a whole page");

static unsigned long note_unfollowed(struct fi__frame *f, long nr, int depth,
				     struct fi__scratch *s)
{
	struct fi__follow fw;
	long args[6] = {(long)f->rdi, (long)f->rsi, (long)f->rdx,
			(long)f->r10, (long)f->r8,  (long)f->r9};

	if (!fi__report_enabled())
		return 0;
	/* The registers as they go to the kernel; fdpath[depth] is free
	 * until post (path[depth] may hold the program's path, for the
	 * trace). */
	fi__follow_exec(nr, args, s->fdpath[depth], FI_SCRATCH_PATH,
			s->page[depth], &fw);
	if (fw.why == FI_FOLLOW_YES)
		return 0;
	return fi__report_unfollowed(s->fdpath[depth],
				     fi__follow_why_name(fw.why), fw.interp);
}

/* The whole full path: the recorder, counting, call sites, the report,
 * fd protection, new code to patch. */
static long see_all(struct fi__frame *f, long nr, int depth,
		    struct fi__scratch *s)
{
	struct fi__call c;
	struct fi__verdict v;
	struct fi__trace_more chg = {0};
	long verdict = VERDICT_PASS;
	bool tracing = fi__trace_enabled(), harness = false, changed = false;
	/* The rule's verdict, for post: delay_exit=, poke_exit= */
	const struct fi__verdict *decided = 0;
	bool acting = fi__runtime_mode.have_rules || fi__runtime_mode.counting;
	char *path = s->path[depth];
	const char *before = 0; /* path_before */
	unsigned before_bit = 0;
	unsigned long unfollowed = 0;

	describe(f, nr, &c);
	/* Name the calling code now when the harness must be told apart
	 * (its calls are never counted or failed), a rule of this number
	 * has site= or the recorder needs it; otherwise only if a rule fires
	 * for the first time. */
	if ((acting && fi__runtime_nr.need_site[nr]) || tracing) {
		c.caller = 0;
		harness = caller(f, &c) && acting;
	}

	if (nr == SYS_mmap)
		fi__site_forget(); /* code may come where unloaded code was */
	if (nr == SYS_exit_group || nr == SYS_execve || nr == SYS_execveat)
		fi__report_flush();
	if (tracing) {
		before = path_before(&c, s, &before_bit);
		fi__fdpath_begin(nr); /* a close or dup2 forgets fd paths */
	}

	if (acting && !harness) {
		int pi = fi__runtime_nr.path_arg[nr];
		/* Only rules look at the path; counting does not. */
		if (fi__runtime_mode.have_rules && pi >= 0 &&
		    fi__safe_copy_str((const void *)c.args[pi], path,
				      FI_SCRATCH_PATH) >= 0)
			c.path = path;
		if (fi__runtime_mode.counting)
			__atomic_fetch_add(&fi__runtime_counts[nr], 1,
					   __ATOMIC_RELAXED);
		if (fi__runtime_mode.have_rules &&
		    fi__rules_decide(fi__rs, &c, &v)) {
			verdict = act(f, &c, &v, &chg, &changed);
			decided = &v;
			if (verdict == VERDICT_DONE && tracing) {
				const char *fdp = s->fdpath[depth];
				int fi = fi__names_argindex(nr, FI_ARG_FD);
				if (before)
					fdp = *before ? before : 0;
				else if (fi < 0 ||
					 fi__fdpath_get(c.pid, (int)c.args[fi],
							s->fdpath[depth],
							FI_SCRATCH_PATH) <= 0)
					fdp = 0;
				fi__trace_write_more(&c, (long)f->rax, true,
						     c.module, c.offset, fdp, 0,
						     &chg);
				goto out;
			}
		}
	}
	if (verdict == VERDICT_PASS && fi__fds_guarded(nr)) {
		long ret;

		/* fi's own fds are not the program's: its calls on them act
		 * as on closed fds. */
		if (fi__fds_guard(nr, c.args, &ret)) {
			f->rax = (uint64_t)ret;
			if (tracing)
				fi__trace_write(&c, ret, false, c.module,
						c.offset, 0);
			verdict = VERDICT_DONE;
			goto out;
		}
	}
	if (verdict == VERDICT_PASS && tracing && no_return(&c)) {
		/* Success never comes back: record it now, result unknown. */
		fi__trace_write(&c, FI_TRACE_RET_NONE, false, c.module,
				c.offset, 0);
		if (nr == SYS_exit_group)
			fi__trace_exit(c.pid);
		goto out;
	}
	if (verdict == VERDICT_PASS && (nr == SYS_execve || nr == SYS_execveat))
		unfollowed = note_unfollowed(f, nr, depth, s);
	if (verdict == VERDICT_PASS &&
	    (tracing || unfollowed ||
	     (decided && (decided->delay_exit_ns > 0 || decided->poke_exit ||
			  decided->signal > 0)) ||
	     is_fork_family(nr) ||
	     (nr == SYS_mmap && (c.args[2] & PROT_EXEC) &&
	      (int)c.args[4] >= 0))) {
		/* What the program passed, not what fi changed */
		struct pending *p = pend_call(f, &c, changed, &chg, decided);

		p->unfollowed = unfollowed;
		p->fd_before = before;
		p->before_bit = (unsigned char)before_bit;
		if (is_fork_family(nr)) {
			p->makes_thread =
				(clone_flags(nr, c.args) & CLONE_THREAD) != 0;
			if (p->makes_thread)
				p->first_sp = first_sp(nr, c.args, f);
			p->lineage = fi__lineage_making(p->makes_thread,
							p->first_sp);
		}

		if (tracing && (nr == SYS_execve || nr == SYS_execveat)) {
			/* Success never comes back: record it now, with what
			 * it runs; a failure completes this record in post. */
			int pi = fi__runtime_nr.path_arg[nr];
			if (!c.path && pi >= 0 &&
			    fi__safe_copy_str((const void *)c.args[pi], path,
					      FI_SCRATCH_PATH) >= 0)
				c.path = path;
			p->more.argv =
				(const void *)c.args[nr == SYS_execve ? 1 : 2];
			p->seq = fi__trace_write_more(&c, FI_TRACE_RET_NONE,
						      changed, c.module,
						      c.offset, 0, 0, &p->more);
		}
		verdict = VERDICT_POST;
	}
out:
	if (tracing && verdict != VERDICT_POST)
		fi__fdpath_end(nr);
	if (verdict != VERDICT_POST)
		give_back(before_bit);
	return verdict;
}

/* The full path when only rules are armed and this number needs nothing
 * else: rules that look at more than the number (a path, a site, ...). */
static long rules_only(struct fi__frame *f, long nr, int depth,
		       struct fi__scratch *s)
{
	struct fi__call c;
	struct fi__verdict v;
	int pi = fi__runtime_nr.path_arg[nr];

	describe(f, nr, &c);
	if (pi >= 0 && fi__safe_copy_str((const void *)c.args[pi],
					 s->path[depth], FI_SCRATCH_PATH) >= 0)
		c.path = s->path[depth];
	struct fi__trace_more chg = {0};
	bool changed = false;

	long verdict;

	if (!fi__rules_decide(fi__rs, &c, &v))
		return VERDICT_PASS;
	verdict = act(f, &c, &v, &chg, &changed);
	if (verdict == VERDICT_PASS &&
	    (v.delay_exit_ns > 0 || v.poke_exit || v.signal > 0)) {
		/* delay_exit=, poke_exit=, signal=: in post, once the call
		 * returned */
		pend_call(f, &c, changed, &chg, &v);
		verdict = VERDICT_POST;
	}
	return verdict;
}

/* The full path: entry.S saved the whole frame. */
static __attribute__((noinline)) long full_path(struct fi__frame *f, long nr,
						int depth)
{
	long verdict;
	struct fi__scratch *s;

	if (nr == SYS_exit && !fi__runtime_mode.exit_wanted) {
		if (depth == 0)
			fi__scratch_thread_exit();
		return VERDICT_PASS;
	}
	s = fi__scratch_begin();
	if (!s)
		return VERDICT_PASS; /* no memory for scratch: untouched */
	in_hook = depth + 1;
	if (!fi__runtime_mode.see_all && !fi__runtime_nr.special[nr])
		verdict = fi__runtime_mode.have_rules
				  ? rules_only(f, nr, depth, s)
				  : VERDICT_PASS;
	else
		verdict = see_all(f, nr, depth, s);
	in_hook = depth;
	fi__scratch_end(s);
	/* The thread ends: its scratch goes back (a failed exit maps it
	 * again on its next call). */
	if (nr == SYS_exit && verdict == VERDICT_PASS && depth == 0)
		fi__scratch_thread_exit();
	return verdict;
}

/* The quick path, before entry.S saves everything: rules that need the
 * syscall number only. Reentrant (atomics only, no syscalls). */
long fi__dispatch_quick(struct fi__qframe *q)
{
	long nr = (long)q->rax;

	if ((unsigned long)nr >= FI_NR_MAX || !fi__runtime_nr.quick_ok[nr] ||
	    in_hook)
		return FI_VERDICT_FULL;
	return fi__rules_quick(fi__rs, nr, (long *)&q->rax);
}

long fi__dispatch(struct fi__frame *f)
{
	long nr = (long)f->rax;
	int depth = in_hook;

	if (depth >= FI_MAX_DEPTH || (unsigned long)nr >= FI_NR_MAX)
		return VERDICT_PASS;
	return full_path(f, nr, depth);
}

/* ld.so mapped an executable segment of a new object: patch it now,
 * before its constructors run. */
static void patch_mapping(const long *a, long addr, char *target, size_t cap)
{
	struct fi__xstate xs;

	fi__xstate_save(&xs);
	if (fi__fdpath_read((int)a[4], target, cap) > 0) {
		fi__patch_mapping(target, (uint64_t)addr, (size_t)a[1], a[5],
				  (int)a[2], (int)a[4]);
	}
	fi__xstate_restore(&xs);
}

void fi__dispatch_post(struct fi__frame *f)
{
	struct fi__call c;
	struct pending p;
	long ret = (long)f->rax;
	int depth = in_hook, i, sig = 0;
	char *fdp, *path;
	struct fi__scratch *s;

	if (depth >= FI_MAX_DEPTH || !(s = fi__scratch_begin()))
		return;
	in_hook = depth + 1;
	fdp = s->fdpath[depth];
	path = s->path[depth];
	i = find_pending(fi__frame_point(f));
	if (i < 0) {
		/* A new thread with a TLS of its own, back from the clone
		 * that made it (or a call whose entry was lost). */
		if (ret == 0) {
			my_pid = 0;
			my_tid = 0;
			fi__lineage_started(fi__frame_user_rsp(f));
		}
		goto out;
	}
	p = pend[i];
	if (is_fork_family(p.nr) && (ret == 0 || shares_vm(p.nr, p.args))) {
		/* A child, or a parent whose vfork child ran on our TLS. */
		my_pid = 0;
		my_tid = 0;
	}
	if (child_side(p.nr, ret)) {
		/* The parent records it. A vfork parent still will: keep
		 * its entry. */
		if (!shares_vm(p.nr, p.args)) {
			/* A process of its own: its own counts (when= counts
			 * per process, as strace does), reported apart. */
			if (fi__rs)
				fi__rules_forked(fi__rs);
			fi__patch_forked();
			fi__mem_forked();
			fi__report_fork_child();
			fi__fdpath_forked((int)fi__raw0(SYS_getpid));
			fi__scratch_forked((int)fi__raw0(SYS_gettid));
			fi__lineage_child(p.lineage);
		} else if (p.makes_thread) {
			/* a thread on its maker's TLS (no CLONE_SETTLS) */
			fi__lineage_started(fi__frame_user_rsp(f));
		}
		goto out;
	}
	if (is_fork_family(p.nr))
		fi__lineage_made(p.makes_thread, p.lineage, p.first_sp, ret);
	/* Entries above ours were left by handlers that longjmp'ed away. */
	for (int k = i + 1; k < npend; k++)
		give_back(pend[k].before_bit);
	npend = i;
	if (p.unfollowed && ret < 0 && ret > -4096)
		fi__report_exec_failed(p.unfollowed, ret);
	if (p.delay_exit_ns > 0)
		sleep_ns(p.delay_exit_ns);
	if (p.poke_exit) {
		poke(p.args, p.nr, p.poke_exit, 8, &p.more.poke_failed);
		p.more.poked_exit = p.poke_exit;
		p.injected = true;
	}

	if (p.nr == SYS_mmap && (p.args[2] & PROT_EXEC) &&
	    (int)p.args[4] >= 0 && !(ret < 0 && ret > -4096))
		patch_mapping(p.args, ret, fdp, FI_SCRATCH_PATH);

	if (fi__trace_enabled()) {
		const char *fdpath = 0;
		int pi, fi;

		fi__fdpath_end(p.nr);
		/* The call as pre saw it: the program's args (a rule may have
		 * changed the registers since) and the caller pre found. */
		describe(f, p.nr, &c);
		for (int k = 0; k < 6; k++)
			c.args[k] = p.args[k];
		c.caller = 0;
		c.ctx = 0;
		c.module = p.module;
		c.offset = p.offset;
		pi = fi__names_argindex(c.nr, FI_ARG_PATH);
		if (pi >= 0 && fi__safe_copy_str((const void *)c.args[pi], path,
						 FI_SCRATCH_PATH) >= 0)
			c.path = path;
		fi = fi__names_argindex(c.nr, FI_ARG_FD);
		if (p.fd_before)
			fdpath = *p.fd_before ? p.fd_before : 0;
		else if (pi < 0 && fi >= 0 && ret >= 0 &&
			 fi__fdpath_get(c.pid, (int)c.args[fi], fdp,
					FI_SCRATCH_PATH) > 0)
			fdpath = fdp;
		fi__trace_write_more(&c, ret, p.injected, c.module, c.offset,
				     fdpath, p.seq, &p.more);
	}
	sig = p.signal; /* once the call is recorded and the hook left */
	give_back(p.before_bit);
out:
	in_hook = depth;
	fi__scratch_end(s);
	if (sig > 0)
		raise_signal(sig);
}

/* --- dispatch.h ------------------------------------------------------ */

void fi__dispatch_suspend(void)
{
	in_hook += FI_SUSPENDED;
}

void fi__dispatch_resume(void)
{
	in_hook -= FI_SUSPENDED;
}
