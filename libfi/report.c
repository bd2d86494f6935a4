/* report.c: the end-of-run report to fi-run. dispatch calls
 * fi__report_flush() before the image goes away (exit_group, execve); each
 * armed rule becomes one JSON line with its counts (docs/trace.md). */
#include "report.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "fds.h"
#include "jsonw.h"
#include "names.h"
#include "raw.h"
#include "rules.h"
#include "runtime.h"
#include "trace.h"

/* Rules beyond this many are reported once, with absolute counts. */
#define MAX_RULES 512

static bool report_on;
static int owner_pid;	  /* whose counters these are; 0: nobody yet */
static int busy;	  /* a flush is running */
static size_t reported_n; /* rules [0, reported_n) were reported */

/* Counts already reported (or the parent's, at fork), per rule index. The
 * text pointer tells whether index i is still the same rule. */
static struct {
	const char *text;
	unsigned long matched, fired;
} base[MAX_RULES];

static void atfork_child(void)
{
	fi__report_fork_child();
}

int fi__report_open(const char *path, bool truncate)
{
	int r;

	if (report_on)
		return -EBUSY;
	r = fi__fds_open(FI_FD_REPORT, path, truncate, false);
	if (r < 0)
		return r;
	owner_pid = (int)fi__raw0(SYS_getpid);
	pthread_atfork(NULL, NULL, atfork_child);
	__atomic_store_n(&report_on, true, __ATOMIC_RELEASE);
	return 0;
}

bool fi__report_enabled(void)
{
	return __atomic_load_n(&report_on, __ATOMIC_RELAXED);
}

/* Record the current counts as already accounted for. */
static size_t snapshot(void)
{
	struct fi__rule_stats st;
	size_t i;

	for (i = 0; fi__rs && fi__rules_stats(fi__rs, i, &st); i++) {
		if (i >= MAX_RULES)
			continue;
		base[i].text = st.text;
		base[i].matched = st.matched;
		base[i].fired = st.fired;
	}
	for (size_t j = i; j < MAX_RULES && base[j].text; j++)
		base[j].text = NULL;
	return i;
}

void fi__report_fork_child(void)
{
	int pid = (int)fi__raw0(SYS_getpid);

	if (pid == owner_pid)
		return;
	/* A fork in the middle of a parent's flush copies `busy` as set. */
	__atomic_store_n(&busy, 0, __ATOMIC_RELAXED);
	fi__fds_forked();
	snapshot();
	reported_n = 0;
	owner_pid = pid;
}

/* Room kept for ,"truncated":true}\n while the texts are written. */
#define TAIL_ROOM 24

static void write_line(int pid, const char *comm, size_t i,
		       const struct fi__rule_stats *st, unsigned long matched,
		       unsigned long fired, bool site)
{
	char buf[2048];
	struct fi__jw w;

	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_reserve(&w, TAIL_ROOM);
	fi__jw_obj_begin(&w);
	fi__jw_key(&w, "pid");
	fi__jw_int(&w, pid);
	fi__jw_key(&w, "comm");
	fi__jw_str(&w, comm);
	fi__jw_key(&w, "rule");
	fi__jw_uint(&w, i);
	fi__jw_key(&w, "matched");
	fi__jw_uint(&w, matched);
	fi__jw_key(&w, "fired");
	fi__jw_uint(&w, fired);
	fi__jw_key(&w, "site");
	if (site)
		fi__jw_str_hex(&w, st->first_module, "+", st->first_offset);
	else
		fi__jw_null(&w);
	fi__jw_key(&w, "origin");
	fi__jw_str(&w, st->origin);
	fi__jw_key(&w, "text");
	fi__jw_str(&w, st->text);
	fi__jw_release(&w, TAIL_ROOM);
	if (w.trunc) {
		fi__jw_key(&w, "truncated");
		fi__jw_bool(&w, true);
	}
	fi__jw_obj_end(&w);
	fi__jw_raw(&w, "\n");
	if (!w.broken)
		fi__fds_write(FI_FD_REPORT, buf, w.len);
}

/* The trace's records this process could not write since the last flush,
 * and why: one line, for fi-run to say and to fail the run. */
static void write_lost(int pid, const char *comm)
{
	char buf[256];
	struct fi__jw w;
	int err;
	unsigned long lost = fi__fds_take_lost(FI_FD_TRACE, &err);
	const char *e = fi__names_errno(err);

	if (!lost)
		return;
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_obj_begin(&w);
	fi__jw_key(&w, "pid");
	fi__jw_int(&w, pid);
	fi__jw_key(&w, "comm");
	fi__jw_str(&w, comm);
	fi__jw_key(&w, "lost");
	fi__jw_uint(&w, lost);
	fi__jw_key(&w, "what");
	fi__jw_str(&w, "trace");
	fi__jw_key(&w, "errno");
	fi__jw_str(&w, e ? e : "EIO");
	fi__jw_obj_end(&w);
	fi__jw_raw(&w, "\n");
	if (!w.broken)
		fi__fds_write(FI_FD_REPORT, buf, w.len);
}

/* Exec ids, per process: a pid and an id name one exec attempt. */
static unsigned long exec_ids;

unsigned long fi__report_unfollowed(const char *path, const char *why,
				    const char *interp)
{
	char buf[1024], comm[17] = {0};
	struct fi__jw w;
	unsigned long id;

	if (!fi__report_enabled())
		return 0;
	id = __atomic_add_fetch(&exec_ids, 1, __ATOMIC_RELAXED);
	if (fi__raw2(SYS_prctl, PR_GET_NAME, comm) != 0)
		comm[0] = '\0';
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_obj_begin(&w);
	fi__jw_key(&w, "pid");
	fi__jw_int(&w, fi__raw0(SYS_getpid));
	fi__jw_key(&w, "comm");
	fi__jw_str(&w, comm);
	fi__jw_key(&w, "exec");
	fi__jw_uint(&w, id);
	fi__jw_key(&w, "why");
	fi__jw_str(&w, why);
	if (interp && *interp) {
		fi__jw_key(&w, "interp");
		fi__jw_str(&w, interp);
	}
	fi__jw_key(&w, "unfollowed");
	fi__jw_str(&w, path);
	fi__jw_obj_end(&w);
	fi__jw_raw(&w, "\n");
	if (w.broken)
		return 0;
	fi__fds_write(FI_FD_REPORT, buf, w.len);
	return id;
}

void fi__report_exec_failed(unsigned long id, long err)
{
	char buf[128];
	struct fi__jw w;
	const char *e = fi__names_errno((int)-err);

	if (!id || !fi__report_enabled())
		return;
	fi__jw_init(&w, buf, sizeof(buf));
	fi__jw_obj_begin(&w);
	fi__jw_key(&w, "pid");
	fi__jw_int(&w, fi__raw0(SYS_getpid));
	fi__jw_key(&w, "exec");
	fi__jw_uint(&w, id);
	fi__jw_key(&w, "failed");
	fi__jw_str(&w, e ? e : "?");
	fi__jw_obj_end(&w);
	fi__jw_raw(&w, "\n");
	if (!w.broken)
		fi__fds_write(FI_FD_REPORT, buf, w.len);
}

void fi__report_flush(void)
{
	struct fi__rule_stats st;
	char comm[17] = {0};
	int pid;
	size_t i;

	if (!fi__report_enabled())
		return;
	pid = (int)fi__raw0(SYS_getpid);
	if (pid != owner_pid)
		return;
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	if (fi__raw2(SYS_prctl, PR_GET_NAME, comm) != 0)
		comm[0] = '\0';
	write_lost(pid, comm);
	if (!fi__rs)
		goto done;

	for (i = 0; fi__rules_stats(fi__rs, i, &st); i++) {
		unsigned long bm = 0, bf = 0;

		if (i < MAX_RULES && base[i].text == st.text) {
			bm = base[i].matched;
			bf = base[i].fired;
		}
		if (st.matched < bm || st.fired < bf)
			bm = bf = 0; /* the counters were reset */
		if (i < reported_n &&
		    (i >= MAX_RULES || (st.matched == bm && st.fired == bf)))
			continue;
		write_line(pid, comm, i, &st, st.matched - bm, st.fired - bf,
			   st.fired > bf && st.first_module &&
				   st.first_pid == pid);
		if (i < MAX_RULES) {
			base[i].text = st.text;
			base[i].matched = st.matched;
			base[i].fired = st.fired;
		}
	}
	if (i > reported_n)
		reported_n = i;
done:
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void report_at_exit(void)
{
	fi__report_flush();
}
