/* sweep_exec.c: the sweep's runs, -j at a time. Each run gets a scratch
 * slot of its own (ROOT/slot-K: work/ is its working directory and what
 * {} names, a copy of --workdir when given; its stdout, stderr and
 * report are memfds of fi-run's, see slot_files), its own process group,
 * /dev/null as stdin, a deadline after which the whole group is killed,
 * and a parent-death signal (fi__launch_spawn). The parent waits for
 * children and for SIGINT/SIGTERM/SIGHUP in one sigtimedwait.
 *
 * Slots are reused: once a run's outputs are read, its stdout, stderr
 * and report are emptied, anything else beside work/ removed, and work/
 * emptied, and the next run takes it. Making and removing a directory
 * is the dearest thing a run's scratch space needs (on an ext4 mounted
 * with discard, 1-5 ms each, more than a short program's whole run),
 * and files are cheap. A slot that cannot be emptied is left and a new
 * one made, so a run never sees what another left. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "reap.h"
#include "sweep.h"

extern char **environ;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *path2(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = fi__util_xmalloc(n);

	snprintf(s, n, "%s/%s", a, b);
	return s;
}

void fi__sweep_rmtree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = path2(path, e->d_name);
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			fi__sweep_rmtree(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
}

/* cp -a, for files, directories and symbolic links, times included: a
 * program that stores a file's time (gzip, tar) writes the same bytes in
 * every run. 0 or -errno. */
static int copy_tree(const char *src, const char *dst)
{
	struct stat st;
	int rc = 0;

	if (lstat(src, &st))
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *e;

		if (mkdir(dst,
			  st.st_mode & 07777 ? st.st_mode & 07777 : 0700) &&
		    errno != EEXIST)
			return -errno;
		d = opendir(src);
		if (!d)
			return -errno;
		while (!rc && (e = readdir(d))) {
			char *s, *t;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			s = path2(src, e->d_name);
			t = path2(dst, e->d_name);
			rc = copy_tree(s, t);
			free(s);
			free(t);
		}
		closedir(d);
		chmod(dst, st.st_mode & 07777);
		utimensat(AT_FDCWD, dst,
			  (struct timespec[2]){st.st_atim, st.st_mtim}, 0);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlink(target, dst))
			return -errno;
		utimensat(AT_FDCWD, dst,
			  (struct timespec[2]){st.st_atim, st.st_mtim},
			  AT_SYMLINK_NOFOLLOW);
	} else if (S_ISREG(st.st_mode)) {
		int in = open(src, O_RDONLY | O_CLOEXEC), out;
		char buf[65536];
		ssize_t n;

		if (in < 0)
			return -errno;
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			   st.st_mode & 07777);
		if (out < 0 && errno == EEXIST) {
			close(in); /* kept from the last run: see keep() */
			return 0;
		}
		if (out < 0) {
			rc = -errno;
			close(in);
			return rc;
		}
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n) {
				rc = -EIO;
				break;
			}
		if (n < 0)
			rc = -errno;
		futimens(out, (struct timespec[2]){st.st_atim, st.st_mtim});
		close(in);
		close(out);
	}
	/* sockets, fifos and devices are left out */
	return rc;
}

char **fi__sweep_expand(char *const *argv, const char *work)
{
	size_t n = 0, wl = strlen(work);
	char **v;

	while (argv[n])
		n++;
	v = fi__util_xmalloc((n + 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *a = argv[i], *p;
		size_t k = 0;
		char *o;

		for (p = a; (p = strstr(p, "{}")); p += 2)
			k++;
		v[i] = o = fi__util_xmalloc(strlen(a) + k * wl + 1);
		for (p = a; *p;) {
			if (p[0] == '{' && p[1] == '}') {
				memcpy(o, work, wl);
				o += wl;
				p += 2;
			} else {
				*o++ = *p++;
			}
		}
		*o = '\0';
	}
	v[n] = NULL;
	return v;
}

void fi__sweep_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Whether s is one of environ's own strings (fi__launch_free_env
 * frees only the others). */
static bool in_environ(const char *s)
{
	for (size_t i = 0; environ[i]; i++)
		if (environ[i] == s)
			return true;
	return false;
}

/* --coverage: the run writes its .gcda files under its own tree,
 * prefix + the object's absolute path; the user's GCOV_* give way.
 * FI_COVERAGE_SIGNALS=1: libfi writes the counts of a run that a fatal
 * signal ends, when the program exports __gcov_dump (libfi/gcov.c). */
static char **gcov_env(char **envp, const char *prefix)
{
	size_t n = 0, k = 0;
	char **v;

	while (envp[n])
		n++;
	v = fi__util_xmalloc((n + 4) * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], "GCOV_PREFIX=", 12) &&
		    strncmp(envp[i], "GCOV_PREFIX_STRIP=", 18) &&
		    strncmp(envp[i], "FI_COVERAGE_SIGNALS=", 20))
			v[k++] = envp[i];
		else if (!in_environ(envp[i]))
			free(envp[i]);
	v[k] = fi__util_xmalloc(strlen(prefix) + 13);
	sprintf(v[k++], "GCOV_PREFIX=%s", prefix);
	v[k++] = fi__util_xstrdup("GCOV_PREFIX_STRIP=0");
	v[k++] = fi__util_xstrdup("FI_COVERAGE_SIGNALS=1");
	v[k] = NULL;
	free(envp);
	return v;
}

enum { SLOT_OUT, SLOT_ERR, SLOT_REPORT, SLOT_FILES };

struct fi__sweep_slot {
	char *dir, *work;
	/* out, err and report: a memfd of fi-run's by its /proc path, or a
	 * file beside work/ (fd -1) */
	char *file[SLOT_FILES];
	int fd[SLOT_FILES];
	bool busy;
};

/* The slot's out, err and report. They live in memory (memfds the run
 * opens by their /proc/FI_RUN_PID/fd/N path): on a disk they were most
 * of fi-run's own time per run, and on an ext4 mounted with discard
 * every truncate waited for the disk. Files beside work/ when memfds
 * cannot be had. */
static void slot_files(struct fi__sweep_slot *s)
{
	static const char *const names[SLOT_FILES] = {"out", "err", "report"};

	for (int i = 0; i < SLOT_FILES; i++) {
		int fd = memfd_create(names[i], MFD_CLOEXEC);

		s->fd[i] = -1;
		if (fd >= 0) {
			s->file[i] = fi__util_xasprintf("/proc/%d/fd/%d",
							(int)getpid(), fd);
			if (!access(s->file[i], W_OK)) {
				s->fd[i] = fd;
				continue;
			}
			free(s->file[i]);
			close(fd);
		}
		s->file[i] = path2(s->dir, names[i]);
	}
}

/* A free slot, or a new one; its index, or -1 after a message. */
static long take_slot(struct fi__sweep_exec *x)
{
	struct fi__sweep_slot *s;
	char name[32];

	for (size_t i = 0; i < x->nslots; i++)
		if (!x->slots[i].busy) {
			x->slots[i].busy = true;
			return (long)i;
		}
	x->slots = realloc(x->slots, (x->nslots + 1) * sizeof(*x->slots));
	if (!x->slots) {
		fi__util_error("out of memory");
		exit(FI_RUN_EXIT_USAGE);
	}
	s = &x->slots[x->nslots];
	snprintf(name, sizeof(name), "slot-%zu", x->nslots);
	s->dir = path2(x->root, name);
	s->work = path2(s->dir, "work");
	s->busy = true;
	if (mkdir(s->dir, 0700) || mkdir(s->work, 0700)) {
		fi__util_error("--sweep: cannot make %s: %s", s->work,
			       strerror(errno));
		free(s->dir);
		free(s->work);
		return -1;
	}
	slot_files(s);
	return (long)x->nslots++;
}

/* A slot's own file that the next run writes anew: emptied, not
 * removed (see empty_dir). */
static bool slot_file(const char *name)
{
	return !strcmp(name, "out") || !strcmp(name, "err") ||
	       !strcmp(name, "report");
}

/* Whether a and b (regular files) hold the same bytes; n is their size. */
static bool same_bytes(const char *a, const char *b, off_t n)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW),
	    fb = open(b, O_RDONLY | O_CLOEXEC);
	char x[16384], y[sizeof(x)];
	bool same = fa >= 0 && fb >= 0;

	for (off_t at = 0; same && at < n;) {
		ssize_t r = pread(fa, x, sizeof(x), at);

		same = r > 0 && pread(fb, y, (size_t)r, at) == r &&
		       !memcmp(x, y, (size_t)r);
		at += r;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

/* Whether p, a run's copy of the --workdir file src, is still exactly
 * what copy_tree made it: then the next run in the slot gets it as it is
 * (its times put back), where removing it and making it again would cost
 * an inode each time. On ext4, making a file where many were just
 * removed scans the inode table past every one removed too recently:
 * that was a third of fi-run's time in a sweep of gzip, and it slows the
 * program's own files too. Kept: a file of ours alone (one link, our
 * owner, no extended attribute, no flag that a fresh copy lacks), with
 * the source's mode, size, time and bytes. */
static bool keep(const char *p, const char *src)
{
	struct stat a, b;
	unsigned long fl = 0;
	int fd;
	bool ok;

	if (lstat(p, &a) || stat(src, &b) || !S_ISREG(a.st_mode) ||
	    !S_ISREG(b.st_mode) || a.st_nlink != 1 || a.st_uid != geteuid() ||
	    a.st_gid != getegid() ||
	    (a.st_mode & 07777) != (b.st_mode & 07777) ||
	    a.st_size != b.st_size || a.st_size > (16 << 20) ||
	    a.st_mtim.tv_sec != b.st_mtim.tv_sec ||
	    a.st_mtim.tv_nsec != b.st_mtim.tv_nsec ||
	    llistxattr(p, NULL, 0) != 0)
		return false;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ok = (ioctl(fd, FS_IOC_GETFLAGS, &fl) ||
	      !(fl & FS_FL_USER_VISIBLE &
		~(FS_EXTENT_FL | FS_INLINE_DATA_FL))) &&
	     same_bytes(p, src, a.st_size) &&
	     !futimens(fd, (struct timespec[2]){b.st_atim, b.st_mtim});
	close(fd);
	return ok;
}

/* Remove everything in dir but the entry `keep` (NULL: nothing kept);
 * with `slot`, the slot's own files are emptied instead; with src (the
 * directory dir is a copy of), the files still as copied are kept (see
 * keep()) and the directories that are copies of one are emptied the
 * same way. Whether all else went. */
static bool empty_dir(const char *dir, const char *keep_name, bool slot,
		      const char *src)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;
	struct stat st;

	if (!d)
		return false;
	while ((e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (keep_name && !strcmp(e->d_name, keep_name)))
			continue;
		p = path2(dir, e->d_name);
		if (slot && e->d_type == DT_REG && slot_file(e->d_name) &&
		    !truncate(p, 0)) {
			free(p);
			continue;
		}
		if (src && (e->d_type == DT_REG || e->d_type == DT_DIR)) {
			char *sp = path2(src, e->d_name);
			struct stat a, b;
			bool kept =
				e->d_type == DT_REG
					? keep(p, sp)
					: !lstat(p, &a) && !stat(sp, &b) &&
						  S_ISDIR(a.st_mode) &&
						  S_ISDIR(b.st_mode) &&
						  a.st_uid == geteuid() &&
						  llistxattr(p, NULL, 0) == 0 &&
						  !chmod(p, 0700) &&
						  empty_dir(p, NULL, false, sp);

			free(sp);
			if (kept) {
				free(p);
				continue;
			}
		}
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
			fi__sweep_rmtree(p);
			if (!lstat(p, &st) || errno != ENOENT)
				empty = false;
		} else if (unlink(p) && errno != ENOENT) {
			empty = false;
		}
		free(p);
	}
	closedir(d);
	return empty;
}

void fi__sweep_release(struct fi__sweep_exec *x, const struct fi__sweep_job *j)
{
	struct fi__sweep_slot *s = &x->slots[j->slot];

	/* The run may have made its directory read-only, or replaced it.
	 * A slot left busy is never taken again. */
	for (int i = 0; i < SLOT_FILES; i++)
		if (s->fd[i] >= 0 && ftruncate(s->fd[i], 0))
			return;
	chmod(s->work, 0700);
	if (!empty_dir(s->dir, "work", true, NULL))
		return;
	if (!empty_dir(s->work, NULL, false, x->workdir)) {
		fi__sweep_rmtree(s->work);
		if (mkdir(s->work, 0700))
			return;
	}
	s->busy = false;
}

void fi__sweep_exec_free(struct fi__sweep_exec *x)
{
	for (size_t i = 0; i < x->nslots; i++) {
		free(x->slots[i].dir);
		free(x->slots[i].work);
		for (int k = 0; k < SLOT_FILES; k++) {
			free(x->slots[i].file[k]);
			if (x->slots[i].fd[k] >= 0)
				close(x->slots[i].fd[k]);
		}
	}
	free(x->slots);
	x->slots = NULL;
	x->nslots = 0;
}

/* Prepare the job's slot and start it. 0, or -1 after a message. */
static int start(struct fi__sweep_exec *x, struct fi__sweep_job *j,
		 const sigset_t *oldmask)
{
	struct fi__launch_env e = *x->env;
	char *trace = NULL;
	char **argv, **envp;
	struct fi__launch_spawn sp = {0};
	long slot = take_slot(x);
	pid_t pid;
	int rc;

	if (slot < 0)
		return -1;
	j->slot = (size_t)slot;
	j->dir = x->slots[slot].dir;
	j->work = x->slots[slot].work;
	j->out.path = x->slots[slot].file[SLOT_OUT];
	j->out.fd = x->slots[slot].fd[SLOT_OUT];
	j->err.path = x->slots[slot].file[SLOT_ERR];
	j->err.fd = x->slots[slot].fd[SLOT_ERR];
	j->report.path = x->slots[slot].file[SLOT_REPORT];
	j->report.fd = x->slots[slot].fd[SLOT_REPORT];
	rc = x->workdir ? copy_tree(x->workdir, j->work) : 0;
	if (rc) {
		fi__util_error(
			"--sweep: cannot make the working directory %s: %s",
			j->work, strerror(-rc));
		return -1;
	}
	if (j->record)
		trace = path2(j->dir, "trace.jsonl");
	/* A run the fork server can start: no trace, no --coverage tree */
	if (x->server && !j->record && !j->gcov &&
	    !fi__sweep_server_ready(x->server, x->verbose)) {
		fi__sweep_server_stop(x->server);
		x->server = NULL;
	}
	if (x->server && !j->record && !j->gcov) {
		j->secs = now();
		pid = fi__sweep_server_fork(x->server, j->rules, j->report.path,
					    j->work, j->out.path, j->err.path);
		if (pid > 0) {
			free(trace);
			j->pid = pid;
			return 0;
		}
		fi__util_error(
			"--sweep: the fork server failed (%s); the other runs are exec'd",
			strerror(errno));
		fi__sweep_server_stop(x->server);
		x->server = NULL;
	}
	e.rules = j->rules;
	e.trace = trace;
	e.report = j->report.path;
	envp = fi__launch_make_env(environ, &e);
	if (j->gcov)
		envp = gcov_env(envp, j->gcov);
	argv = fi__sweep_expand(x->argv, j->work);

	/* Not fork: the child shares fi-run's memory until it execs, so
	 * fi-run's pages are neither copied nor write-faulted one by one
	 * after each start (on this VM a page fault costs 12-19 us, and
	 * fork cost about 70 of them per run). Not posix_spawn either: the
	 * run gets a parent-death signal, so that it dies with fi-run. */
	sp.path = x->t->path;
	sp.argv = argv;
	sp.envp = envp;
	sp.in = "/dev/null";
	sp.out = j->out.path;
	sp.err = j->err.path;
	sp.dir = j->work;
	sp.mask = oldmask;
	j->secs = now();
	pid = fi__launch_spawn(&sp);
	rc = sp.error;
	fi__launch_free_env(envp, environ);
	fi__sweep_strv_free(argv);
	free(trace);
	if (pid < 0) {
		fi__util_error("--sweep: cannot start %s in %s: %s: %s",
			       x->t->path, j->work, sp.failed, strerror(rc));
		return -1;
	}
	j->pid = pid;
	return 0;
}

void fi__sweep_exec_end(struct fi__sweep_exec *x)
{
	fi__sweep_server_stop(x->server);
	x->server = NULL;
}

/* Start jobs until cap run or the source has none (*rc -1 when one
 * failed to start). */
static void fill(struct fi__sweep_exec *x, struct fi__sweep_job **active,
		 size_t *nactive, unsigned cap, const sigset_t *oldmask,
		 int *rc)
{
	struct fi__sweep_job *j;

	while (!*rc && !x->stop && *nactive < cap && (j = x->next(x->arg))) {
		if (start(x, j, oldmask)) {
			*rc = -1;
			break;
		}
		fi__reap_started(j->pid, j->report.path);
		active[(*nactive)++] = j;
		/* The fork server starts once the first run (the recorded
		 * one, which it cannot serve) has: its start is off the
		 * sweep's path, and it serves the next run. */
		if (!x->server_tried && !x->no_server) {
			x->server_tried = true;
			x->server = fi__sweep_server_start(x, oldmask);
		}
	}
}

/* Kill every run still running and reap it; done is not called. */
static void kill_all(struct fi__sweep_job **active, size_t nactive)
{
	for (size_t i = 0; i < nactive; i++)
		kill(-active[i]->pid, SIGKILL);
	for (size_t i = 0; i < nactive; i++) {
		waitpid(active[i]->pid, NULL, 0);
		fi__reap_ended(active[i]->pid);
	}
}

int fi__sweep_exec_run(struct fi__sweep_exec *x)
{
	struct fi__sweep_job **active, **ended;
	size_t nactive = 0, nended = 0;
	unsigned cap = x->jobs ? x->jobs : 1;
	sigset_t wait_set, oldmask;
	int rc = 0;

	active = fi__util_xmalloc(cap * sizeof(*active));
	ended = fi__util_xmalloc(cap * sizeof(*ended));
	/* fi-run killed: the keeper kills the runs' groups. One for all
	 * the runs of this fi-run; it ends when fi-run exits. */
	fi__launch_keeper_start();
	fi__reap_begin();
	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	sigaddset(&wait_set, SIGINT);
	sigaddset(&wait_set, SIGTERM);
	sigaddset(&wait_set, SIGHUP);
	sigprocmask(SIG_BLOCK, &wait_set, &oldmask);
	for (;;) {
		double t, wake;
		struct timespec ts;
		siginfo_t si;
		int sig;

		fill(x, active, &nactive, cap, &oldmask, &rc);
		if (!nactive)
			break;
		t = now();
		wake = t + 1.0;
		/* Reap what ended; kill what outlived its deadline. */
		for (size_t i = 0; i < nactive;) {
			struct fi__sweep_job *j = active[i];
			int st;
			pid_t w = waitpid(j->pid, &st, WNOHANG);

			if (w == j->pid) {
				fi__reap_ended(j->pid); /* what it left */
				j->status = st;
				j->secs = now() - j->secs;
				active[i] = active[--nactive];
				ended[nended++] = j;
				continue;
			}
			/* --coverage: SIGTERM first, on which libfi writes
			 * the counts; SIGKILL a second later. The timeout
			 * may change while the run runs (the sweep's is
			 * known once its baseline runs have ended). */
			if (!j->timed_out && t - j->secs > x->timeout) {
				j->timed_out = true;
				kill(-j->pid, j->gcov ? SIGTERM : SIGKILL);
			} else if (j->timed_out &&
				   t - j->secs > x->timeout + 1) {
				kill(-j->pid, SIGKILL);
			}
			if (!j->timed_out && j->secs + x->timeout < wake)
				wake = j->secs + x->timeout;
			else if (j->timed_out &&
				 j->secs + x->timeout + 1 < wake)
				wake = j->secs + x->timeout + 1;
			i++;
		}
		/* The next runs start before the ended ones are read and
		 * compared: fi-run's own work overlaps theirs. */
		if (nended) {
			fill(x, active, &nactive, cap, &oldmask, &rc);
			for (size_t i = 0; i < nended && !x->stop; i++)
				x->done(ended[i], x->arg);
			nended = 0;
			if (x->stop) {
				kill_all(active, nactive);
				nactive = 0;
				rc = -1;
				break;
			}
			continue;
		}
		if (!nactive)
			break;
		{
			double d = wake - now();

			if (d < 0.001)
				d = 0.001;
			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
			sig = sigtimedwait(&wait_set, &si, &ts);
			if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
				x->stop_signal = sig;
				kill_all(active, nactive);
				nactive = 0;
				rc = -1;
				break;
			}
		}
	}
	fi__reap_end();
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	free(active);
	free(ended);
	return rc;
}
