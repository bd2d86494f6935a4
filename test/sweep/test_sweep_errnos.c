/* test_sweep_errnos.c: every syscall and errno the sweep's table names
 * (cli/sweep_errnos.c) is one fi knows, no syscall is listed twice, no
 * errno twice in a row, every argument condition names an errno of its
 * syscall's row, and the examples hold. Exit 0 or 1 with
 * one line per problem. */
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "sweep_errnos.h"

static int bad;

static void problem(const char *what, const char *a, const char *b)
{
	printf("FAIL: %s: %s %s\n", what, a, b ? b : "");
	bad = 1;
}

/* list must start with the given errnos, in that order */
static void starts(const char *sys, const char *e0, const char *e1,
		   const char *e2)
{
	const char *const *l = fi__sweep_errnos(sys);
	const char *want[3] = {e0, e1, e2};

	if (!l) {
		problem("not in the table", sys, NULL);
		return;
	}
	for (int i = 0; i < 3 && want[i]; i++)
		if (!l[i] || strcmp(l[i], want[i]))
			problem("unexpected rank", sys, want[i]);
}

int main(void)
{
	for (size_t i = 0; i < fi__sweep_errno_rows; i++) {
		const struct fi__sweep_errno_row *r = &fi__sweep_errno_table[i];

		if (fi__names_sys_nr(r->syscall) < 0)
			problem("unknown syscall", r->syscall, NULL);
		if (!r->errnos[0])
			problem("no errno", r->syscall, NULL);
		for (size_t k = 0;
		     k < sizeof(r->errnos) / sizeof(r->errnos[0]) &&
		     r->errnos[k];
		     k++) {
			if (fi__names_errno_nr(r->errnos[k]) < 0)
				problem("unknown errno", r->syscall,
					r->errnos[k]);
			for (size_t m = 0; m < k; m++)
				if (!strcmp(r->errnos[m], r->errnos[k]))
					problem("errno twice", r->syscall,
						r->errnos[k]);
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(fi__sweep_errno_table[j].syscall,
				    r->syscall))
				problem("listed twice", r->syscall, NULL);
	}
	for (size_t i = 0; i < fi__sweep_errno_nconditions; i++) {
		const struct fi__sweep_errno_condition *c =
			&fi__sweep_errno_conditions[i];
		const char *const *l = fi__sweep_errnos(c->syscall);
		bool listed = false;

		for (size_t k = 0; l && k < 6 && l[k]; k++)
			listed |= !strcmp(l[k], c->err);
		if (!listed)
			problem("condition on an errno the table does not list",
				c->syscall, c->err);
	}
	/* The kernel gives EBADF, not EMFILE, for a dup2/dup3 target past
	 * RLIMIT_NOFILE (ksys_dup3). */
	for (const char *d = "dup2"; d; d = strcmp(d, "dup2") ? NULL : "dup3")
		for (size_t k = 0; k < 6 && fi__sweep_errnos(d)[k]; k++)
			if (!strcmp(fi__sweep_errnos(d)[k], "EMFILE"))
				problem("never returned", d, "EMFILE");
	/* getdents64 fails with ENOENT only on a directory already removed,
	 * so empty, and glibc's readdir reads it as the end (POSIX): failing
	 * a full directory's read with it made tar archive it empty, exit 0,
	 * an "ignored" no machine can produce. */
	for (size_t k = 0; k < 6 && fi__sweep_errnos("getdents64")[k]; k++)
		if (!strcmp(fi__sweep_errnos("getdents64")[k], "ENOENT"))
			problem("reads as the end of the directory",
				"getdents64", "ENOENT");
	starts("write", "ENOSPC", "EIO", "EINTR");
	starts("openat", "ENOENT", "EACCES", "EMFILE");
	starts("read", "EIO", "EINTR", NULL);
	if (fi__sweep_errnos("brk") || fi__sweep_errnos("ioctl") ||
	    fi__sweep_errnos("exit_group"))
		problem("swept, but left out on purpose",
			"brk/ioctl/exit_group", NULL);
	if (!fi__sweep_transient("EINTR") || !fi__sweep_transient("EAGAIN") ||
	    fi__sweep_transient("EIO"))
		problem("transient", "EINTR EAGAIN EIO", NULL);
	return bad;
}
