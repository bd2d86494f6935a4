/* follow.c: will libfi be in the image an exec starts? dispatch.c asks
 * before an execve or execveat goes to the kernel, and report.c names a
 * child fi cannot follow, for fi-run's summary. The same facts as fi-run's
 * own check of the program (cli/target.c), asked again inside the
 * program, where no libc may be called: raw syscalls on an fd of libfi's
 * own, and the program's memory only through fi__safe_read. */
#include "follow.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "jsonw.h"
#include "raw.h"
#include "safe_read.h"

/* Set at load, read in the hook: libfi's own file as LD_PRELOAD named it,
 * and which of the variables libfi needs in a child it was started with. */
static char self_path[512];
static const char *self_base = "libfi.so";
static bool had_rules, had_report;

__attribute__((constructor)) static void follow_init(void)
{
	Dl_info info;
	const char *r = getenv("FI_RULES"), *s = getenv("FI_SCENARIO");
	const char *rep = getenv("FI_REPORT");
	size_t n;

	had_rules = (r && *r) || (s && *s);
	had_report = rep && *rep;
	if (!dladdr((void *)follow_init, &info) || !info.dli_fname)
		return;
	n = fi__jw_strlen(info.dli_fname);
	if (n == 0 || n >= sizeof(self_path))
		return;
	fi__jw_copy(self_path, info.dli_fname, n + 1);
	self_base = self_path;
	for (size_t i = 0; i < n; i++)
		if (self_path[i] == '/')
			self_base = self_path + i + 1;
}

static const char *base_name(const char *p)
{
	const char *b = p;

	for (; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

static bool starts(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

/* Does one LD_PRELOAD entry [e, e+n) name libfi? Its own path, or a file
 * of the same name elsewhere (another copy of libfi). */
static bool names_libfi(const char *e, size_t n)
{
	size_t b = 0, sl = fi__jw_strlen(self_base);

	if (self_path[0] && n == fi__jw_strlen(self_path)) {
		size_t i = 0;
		while (i < n && e[i] == self_path[i])
			i++;
		if (i == n)
			return true;
	}
	for (size_t i = 0; i < n; i++)
		if (e[i] == '/')
			b = i + 1;
	if (self_path[0]) {
		if (n - b != sl)
			return false;
		for (size_t i = 0; i < sl; i++)
			if (e[b + i] != self_base[i])
				return false;
		return true;
	}
	/* No path of our own (dladdr failed): any libfi.so* */
	for (size_t i = 0; i < sl; i++)
		if (b + i >= n || e[b + i] != self_base[i])
			return false;
	return true;
}

/* ld.so splits LD_PRELOAD at spaces and colons. */
static bool preload_names_libfi(const char *v)
{
	while (*v) {
		size_t n = 0;
		while (*v == ' ' || *v == ':')
			v++;
		while (v[n] && v[n] != ' ' && v[n] != ':')
			n++;
		if (n && names_libfi(v, n))
			return true;
		v += n;
	}
	return false;
}

/* The new environment, read through fi__safe_read: does it keep what
 * libfi needs to start, arm the rules and report? ld.so takes the last
 * LD_PRELOAD. A NULL envp is empty, as the kernel takes it. */
/* The program's page that holds its environment strings: they lie
 * together (on the initial stack, or in a few heap chunks), in any order,
 * so one read of a whole page serves most of them. A page is readable
 * whole or not at all. */
struct window {
	unsigned long at, len;
	char *bytes; /* FI_PAGE bytes */
};

/* The start of the program's string at p, cut to cap - 1 bytes, into
 * head (NUL-terminated). Returns 0, or a negative errno when the string
 * cannot be read. */
static int head_of(struct window *w, const char *p, char *head, size_t cap)
{
	unsigned long a = (unsigned long)p;
	int n;

	if (!(w->len && a >= w->at && a < w->at + w->len)) {
		w->at = a & ~(FI_PAGE - 1);
		w->len = fi__safe_read(w->bytes, (const void *)w->at,
				       FI_PAGE) == 0
				 ? FI_PAGE
				 : 0;
	}
	if (w->len) {
		for (size_t k = 0; k + 1 < cap && a - w->at + k < w->len; k++) {
			head[k] = w->bytes[a - w->at + k];
			if (!head[k])
				return 0;
			if (k + 2 == cap) {
				head[k + 1] = '\0';
				return 0;
			}
		}
	}
	/* The string goes on past its page, or the page is not readable. */
	n = fi__safe_copy_str(p, head, cap);
	return n >= 0 || n == -ENAMETOOLONG ? 0 : n;
}

static enum fi__follow_why check_env(const void *envp, char *page)
{
	const char *const *env = envp;
	const char *ptrs[16];
	char buf[1024];
	struct window w = {.bytes = page};
	size_t base = 0, have = 0; /* ptrs holds env[base, base + have) */
	bool preload = false, named = false, rules = false, report = false;

	for (size_t i = 0; env; i++) {
		char head[16];
		int n;

		if (i >= base + have) {
			/* 16 at a time; one at a time when the array ends
			 * just before an unmapped page. */
			base = i;
			have = 16;
			if (fi__safe_read(ptrs, env + i, sizeof(ptrs)) < 0) {
				have = 1;
				if (fi__safe_read(ptrs, env + i,
						  sizeof(ptrs[0])) < 0)
					return FI_FOLLOW_YES; /* EFAULT */
			}
		}
		if (!ptrs[i - base])
			break;
		/* A prefix first: most variables are not ours. */
		if (head_of(&w, ptrs[i - base], head, sizeof(head)) < 0)
			return FI_FOLLOW_YES; /* EFAULT, or fi cannot look */
		if (starts(head, "LD_PRELOAD=")) {
			/* ld.so takes the last one. */
			n = fi__safe_copy_str(ptrs[i - base], buf, sizeof(buf));
			preload = true;
			named = n >= 0 && preload_names_libfi(buf + 11);
			if (n == -ENAMETOOLONG && !named)
				return FI_FOLLOW_YES; /* too long to judge */
		} else if (starts(head, "FI_RULES=")) {
			rules = rules || head[9];
		} else if (starts(head, "FI_SCENARIO=")) {
			rules = rules || head[12];
		} else if (starts(head, "FI_REPORT=")) {
			report = report || head[10];
		}
	}
	if (!preload)
		return FI_FOLLOW_NO_PRELOAD;
	if (!named)
		return FI_FOLLOW_NOT_NAMED;
	if (had_rules && !rules)
		return FI_FOLLOW_NO_RULES;
	if (had_report && !report)
		return FI_FOLLOW_NO_REPORT;
	return FI_FOLLOW_YES;
}

static bool pread_all(int fd, void *buf, size_t n, long off)
{
	return fi__raw4(SYS_pread64, fd, buf, n, off) == (long)n;
}

/* The kernel marks an exec secure, and ld.so then ignores LD_PRELOAD,
 * when the effective ids after it differ from the real ones: a setuid
 * file of another owner, a setgid file of another group, or file
 * capabilities for a non-root user. nosuid mounts and no_new_privs make
 * the kernel ignore the bits. */
static enum fi__follow_why secure(int fd, const struct stat *st)
{
	unsigned ruid, euid, suid, rgid, egid, sgid;
	unsigned new_euid, new_egid;
	struct statfs sfs;
	bool bits = (st->st_mode & S_ISUID) ||
		    ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP));

	if (fi__raw3(SYS_getresuid, &ruid, &euid, &suid) < 0 ||
	    fi__raw3(SYS_getresgid, &rgid, &egid, &sgid) < 0)
		return FI_FOLLOW_YES;
	new_euid = euid;
	new_egid = egid;
	if (bits && fi__raw2(SYS_fstatfs, fd, &sfs) == 0 &&
	    !(sfs.f_flags & ST_NOSUID) &&
	    fi__raw2(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0) == 0) {
		if (st->st_mode & S_ISUID)
			new_euid = st->st_uid;
		if ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP))
			new_egid = st->st_gid;
	}
	if (new_euid != ruid)
		return FI_FOLLOW_SETUID;
	if (new_egid != rgid)
		return FI_FOLLOW_SETGID;
	if (ruid != 0 &&
	    fi__raw4(SYS_fgetxattr, fd, "security.capability", 0, 0) > 0)
		return FI_FOLLOW_CAPS;
	return FI_FOLLOW_YES;
}

/* An ELF file open as fd, whose first n bytes are in head: static,
 * another machine, secure, or fine. */
static enum fi__follow_why check_elf(int fd, const char *path,
				     const struct stat *st, const char *head,
				     long n)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[8];
	bool interp = false;

	if (n < EI_NIDENT || !starts(head, ELFMAG))
		return FI_FOLLOW_YES; /* not ELF: execve decides */
	if ((unsigned char)head[EI_CLASS] != ELFCLASS64 || n < (long)sizeof(eh))
		return FI_FOLLOW_NOT_X86_64;
	fi__jw_copy((char *)&eh, head, sizeof(eh));
	if (eh.e_machine != EM_X86_64)
		return FI_FOLLOW_NOT_X86_64;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > 4096)
		return FI_FOLLOW_YES; /* malformed: execve will say so */
	for (unsigned i = 0; i < eh.e_phnum && !interp; i += 8) {
		unsigned m = eh.e_phnum - i < 8 ? eh.e_phnum - i : 8;
		if (!pread_all(fd, ph, m * sizeof(ph[0]),
			       (long)(eh.e_phoff + i * sizeof(ph[0]))))
			return FI_FOLLOW_YES;
		for (unsigned k = 0; k < m; k++)
			if (ph[k].p_type == PT_INTERP)
				interp = true;
	}
	/* The loader run as a program has no PT_INTERP, and honours
	 * LD_PRELOAD. */
	if (!interp && !starts(base_name(path), "ld-linux"))
		return FI_FOLLOW_STATIC;
	return secure(fd, st);
}

/* "#!" at the start of the file's first n bytes (line, NUL-terminated):
 * its interpreter into out (cap bytes), true. The kernel reads the first
 * line, up to 256 bytes. */
static bool shebang(const char *line, long n, char *out, size_t cap)
{
	long i = 2;
	size_t k = 0;

	if (n < 2 || line[0] != '#' || line[1] != '!')
		return false;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	while (line[i] && line[i] != ' ' && line[i] != '\t' &&
	       line[i] != '\n' && k + 1 < cap)
		out[k++] = line[i++];
	out[k] = '\0';
	return true;
}

/* "/proc/self/fd/N" into buf, for execveat's AT_EMPTY_PATH. */
static void fd_path(int fd, char *buf)
{
	static const char pre[] = "/proc/self/fd/";

	fi__jw_copy(buf, pre, sizeof(pre) - 1);
	buf[sizeof(pre) - 1 + fi__fmt_long(buf + sizeof(pre) - 1, fd)] = '\0';
}

/* Scripts nest at most this deep, as the kernel allows (BINPRM_MAX_RECURSION). */
#define MAX_DEPTH 4

static enum fi__follow_why check_file(int dirfd, const char *path, int flags,
				      struct fi__follow *out)
{
	char proc[32];
	const char *cur = path;
	int at = dirfd;

	if ((flags & AT_EMPTY_PATH) && !*path) {
		fd_path(dirfd, proc);
		cur = proc;
		at = AT_FDCWD;
	}
	for (int depth = 0; depth <= MAX_DEPTH; depth++) {
		struct stat st;
		enum fi__follow_why why;
		char head[256];
		long fd, n;

		if (fi__raw4(SYS_newfstatat, at, cur, &st,
			     depth ? 0 : (flags & AT_SYMLINK_NOFOLLOW)) < 0 ||
		    !S_ISREG(st.st_mode))
			return FI_FOLLOW_YES;
		/* Read-only, and never a tty or a FIFO's wait: the file is
		 * regular, but it may be replaced between the two calls. */
		fd = fi__raw4(SYS_openat, at, cur,
			      O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
		if (fd < 0)
			return FI_FOLLOW_YES; /* execute-only: cannot tell */
		/* One read for the "#!" line or the ELF header. */
		n = fi__raw4(SYS_pread64, fd, head, sizeof(head) - 1, 0);
		head[n > 0 ? n : 0] = '\0';
		if (shebang(head, n, out->interp, sizeof(out->interp))) {
			fi__raw1(SYS_close, fd);
			if (!out->interp[0])
				return FI_FOLLOW_YES;
			cur = out->interp;
			at = AT_FDCWD;
			continue;
		}
		why = check_elf((int)fd, cur, &st, head, n);
		fi__raw1(SYS_close, fd);
		return why;
	}
	return FI_FOLLOW_YES;
}

void fi__follow_exec(long nr, const long *args, char *path, size_t cap,
		     char *page, struct fi__follow *out)
{
	bool at = nr == SYS_execveat;
	int dirfd = at ? (int)args[0] : AT_FDCWD;
	int flags = at ? (int)args[4] : 0;
	const void *envp = (const void *)args[at ? 3 : 2];

	out->why = FI_FOLLOW_YES;
	out->interp[0] = '\0';
	if (fi__safe_copy_str((const void *)args[at ? 1 : 0], path, cap) < 0)
		return; /* the kernel will refuse it too */
	out->why = check_file(dirfd, path, flags, out);
	if (out->why == FI_FOLLOW_STATIC || out->why == FI_FOLLOW_NOT_X86_64)
		return; /* nothing would load libfi, whatever the environment */
	if (out->why == FI_FOLLOW_YES) {
		out->interp[0] = '\0';
		out->why = check_env(envp, page);
	}
}

const char *fi__follow_why_name(enum fi__follow_why why)
{
	switch (why) {
	/* clang-format off */
	case FI_FOLLOW_YES: return "followed";
	case FI_FOLLOW_STATIC: return "static";
	case FI_FOLLOW_NOT_X86_64: return "not_x86_64";
	case FI_FOLLOW_SETUID: return "setuid";
	case FI_FOLLOW_SETGID: return "setgid";
	case FI_FOLLOW_CAPS: return "capabilities";
	case FI_FOLLOW_NO_PRELOAD: return "no_preload";
	case FI_FOLLOW_NOT_NAMED: return "preload_without_libfi";
	case FI_FOLLOW_NO_RULES: return "no_rules";
	case FI_FOLLOW_NO_REPORT: return "no_report";
		/* clang-format on */
	}
	return "unknown";
}
