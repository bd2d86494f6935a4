/* runtime.c: the state the runtime stages share (runtime.h): the armed
 * rule set, the interest table every stub reads, the per-number tables
 * that tell the hook (dispatch.c) what to do, and the API's counts. The
 * constructor and the API change them; the hook only reads them. */
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "arena.h"
#include "fds.h"
#include "raw.h"

unsigned char fi__interest[1u << 16] __attribute__((aligned(4096)));
struct fi__ruleset *fi__rs;
struct fi__runtime_mode fi__runtime_mode;
struct fi__runtime_nr fi__runtime_nr __attribute__((aligned(4096)));
long fi__runtime_counts[FI_NR_MAX];
char fi__runtime_comm[16];

static bool active;

bool fi__runtime_active(void)
{
	return active;
}

void fi__runtime_set_active(bool on)
{
	active = on;
}

void fi__runtime_set_channels(bool tracing, bool reporting)
{
	fi__runtime_mode.tracing = tracing;
	fi__runtime_mode.reporting = reporting;
}

/* The rule set exists only once something arms a rule, so that a run
 * without rules never touches the program's heap. */
struct fi__ruleset *fi__runtime_rules(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	if (__atomic_load_n(&fi__rs, __ATOMIC_ACQUIRE))
		return fi__rs;
	pthread_mutex_lock(&lock);
	if (!fi__rs)
		__atomic_store_n(&fi__rs, fi__rules_new(), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	return fi__rs;
}

static void mark(unsigned char *t, long nr)
{
	if (nr >= 0 && nr < FI_NR_MAX)
		t[nr] = 1;
}

void fi__runtime_rules_changed(void)
{
	struct fi__runtime_mode *m = &fi__runtime_mode;
	struct fi__runtime_nr *per_nr = &fi__runtime_nr;
	unsigned char t[FI_NR_MAX], sites[FI_NR_MAX];
	bool all = m->counting || m->tracing;

	fi__fill(t, all, sizeof(t));
	fi__fill(sites, m->counting, sizeof(sites));
	if (fi__rs) {
		fi__rules_interest(fi__rs, t);
		__atomic_store_n(&m->have_rules, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&m->need_site,
			 (fi__rs && fi__rules_need_site(fi__rs, sites)) ||
				 m->counting,
			 __ATOMIC_RELEASE);
	if (!fi__runtime_comm[0])
		fi__raw2(SYS_prctl, PR_GET_NAME, fi__runtime_comm);
	__atomic_store_n(&m->exit_wanted, t[SYS_exit], __ATOMIC_RELEASE);
	mark(t, SYS_exit);  /* a thread's scratch goes back */
	mark(t, SYS_mmap);  /* new code to patch */
	mark(t, SYS_clone); /* a child forgets cached ids */
	mark(t, SYS_clone3);
	mark(t, SYS_fork);
	mark(t, SYS_vfork);
	if (m->reporting) {
		mark(t, SYS_exit_group);
		mark(t, SYS_execve);
		mark(t, SYS_execveat);
	}
	if (m->tracing || m->reporting)
		for (long i = 0; i < FI_NR_MAX; i++)
			if (fi__fds_guarded(i))
				mark(t, i);
	t[SYS_rt_sigreturn] = 0; /* never intercepted */

	/* Numbers that only the whole full path serves: everything marked
	 * above but for the rules themselves. */
	static const long always[] = {
		SYS_exit,     SYS_mmap,	 SYS_clone,	  SYS_clone3,
		SYS_fork,     SYS_vfork, SYS_exit_group,  SYS_execve,
		SYS_execveat, SYS_close, SYS_close_range, SYS_dup2,
		SYS_dup3,     SYS_fcntl,
	};
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		__atomic_store_n(&per_nr->special[always[i]], 1,
				 __ATOMIC_RELAXED);
	for (long i = 0; i < FI_NR_MAX; i++) {
		const struct fi__sysinfo *si = fi__names_sys(i);

		per_nr->path_arg[i] =
			(signed char)fi__names_argindex(i, FI_ARG_PATH);
		per_nr->closing_fd_arg[i] =
			si && (si->facts & FI_FACT_FDCLOSE)
				? (signed char)fi__names_argindex(i, FI_ARG_FD)
				: -1;
		__atomic_store_n(&per_nr->need_site[i], sites[i],
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&m->see_all, m->counting || m->need_site || m->tracing,
			 __ATOMIC_RELEASE);
	for (long i = 0; i < FI_NR_MAX; i++)
		__atomic_store_n(&per_nr->quick_ok[i],
				 m->have_rules && !m->see_all &&
					 !per_nr->special[i],
				 __ATOMIC_RELAXED);
	for (long i = 0; i < FI_NR_MAX; i++)
		__atomic_store_n(&fi__interest[i], t[i], __ATOMIC_RELAXED);
	/* Numbers the kernel does not have still reach it through the stub. */
}

void fi__runtime_count_all(void)
{
	if (__atomic_exchange_n(&fi__runtime_mode.counting, 1,
				__ATOMIC_ACQ_REL))
		return;
	fi__runtime_reset_counts();
	fi__runtime_rules_changed();
}

long fi__runtime_count(long nr)
{
	if (nr < 0 || nr >= FI_NR_MAX)
		return -EINVAL;
	return __atomic_load_n(&fi__runtime_counts[nr], __ATOMIC_RELAXED);
}

void fi__runtime_reset_counts(void)
{
	for (int i = 0; i < FI_NR_MAX; i++)
		__atomic_store_n(&fi__runtime_counts[i], 0, __ATOMIC_RELAXED);
}
