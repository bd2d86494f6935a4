/* target.c: finds the program like execvp and reads its ELF headers (or
 * its "#!" line) to refuse, with a reason, programs into which nothing can
 * be preloaded: static ones, and secure-exec ones (setuid, setgid, file
 * capabilities), for which the loader ignores LD_PRELOAD. */
#include "target.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fi_run.h"

/* Nested "#!" interpreters the kernel follows (fs/exec.c allows a few). */
#define MAX_SCRIPT_DEPTH 4

static const char static_reason[] =
	"statically linked, so nothing can be preloaded into it; fi cannot intercept its syscalls";

/* Like execvp: a name with a '/' is a path; otherwise each PATH entry
 * (empty = current directory). Returns 0 and a new string in *out, or the
 * exit status after printing the reason. */
static int resolve(const char *prog, char **out)
{
	const char *path = getenv("PATH"), *p;
	bool denied = false;
	struct stat st;

	if (prog[0] == '\0') {
		fi__util_error("'': command not found");
		return FI_RUN_EXIT_NOT_FOUND;
	}
	if (strchr(prog, '/')) {
		if (stat(prog, &st) != 0) {
			fi__util_error("%s: %s", prog, strerror(errno));
			return errno == ENOENT || errno == ENOTDIR
				       ? FI_RUN_EXIT_NOT_FOUND
				       : FI_RUN_EXIT_CANNOT_RUN;
		}
		*out = fi__util_xstrdup(prog);
		return 0;
	}
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t n = len + 1 + strlen(prog) + 1;
		char *cand = fi__util_xmalloc(n);

		if (len)
			snprintf(cand, n, "%.*s/%s", (int)len, p, prog);
		else
			snprintf(cand, n, "%s", prog);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0) {
				*out = cand;
				return 0;
			}
			denied = true;
		}
		free(cand);
		if (!end)
			break;
		p = end;
	}
	if (denied) {
		fi__util_error("%s: %s", prog, strerror(EACCES));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	fi__util_error("%s: command not found", prog);
	return FI_RUN_EXIT_NOT_FOUND;
}

/* Regular and executable, as execve wants it. */
static int runnable(const char *shown, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fi__util_error("%s: %s", shown, strerror(errno));
		return errno == ENOENT ? FI_RUN_EXIT_NOT_FOUND
				       : FI_RUN_EXIT_CANNOT_RUN;
	}
	if (S_ISDIR(st.st_mode)) {
		fi__util_error("%s: %s", shown, strerror(EISDIR));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
		fi__util_error("%s: %s", shown, strerror(EACCES));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	return 0;
}

static bool read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n >= 0 && (size_t)n == len;
}

/* File offset of virtual address `va`, through the PT_LOAD headers. */
static bool va_to_off(const Elf64_Phdr *ph, size_t n, Elf64_Addr va, off_t *off)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr &&
		    va < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = (off_t)(ph[i].p_offset + (va - ph[i].p_vaddr));
			return true;
		}
	return false;
}

/* A NUL-terminated string of at most PATH_MAX bytes at `off`; new. */
static char *read_str(int fd, off_t off)
{
	char buf[PATH_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, off);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return fi__util_xstrdup(buf);
}

struct elf_facts {
	bool has_interp;
	char *interp;
	char *soname, *asan, *rpath, *runpath;
	char **needed;
};

/* Reads what matters of a 64-bit x86 ELF. Returns 0, or the exit status
 * after printing why the program cannot take libfi. */
static int read_elf(const char *shown, int fd, struct elf_facts *f)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	Elf64_Dyn *dyn = NULL;
	size_t ndyn = 0, i;
	Elf64_Addr strtab = 0;
	off_t stroff;
	long needed[64], nneeded = 0, soname = -1, rpath = -1, runpath = -1;

	memset(f, 0, sizeof(*f));
	if (!read_at(fd, eh.e_ident, EI_NIDENT, 0))
		return 0;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    !read_at(fd, &eh, sizeof(eh), 0) || eh.e_machine != EM_X86_64) {
		fi__util_error(
			"%s: not an x86_64 program, and libfi can be preloaded only into x86_64 programs",
			shown);
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > 4096)
		return 0; /* malformed: execve will say so */
	ph = fi__util_xmalloc(eh.e_phnum * sizeof(*ph));
	if (!read_at(fd, ph, eh.e_phnum * sizeof(*ph), (off_t)eh.e_phoff))
		goto done;
	for (i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP && ph[i].p_filesz > 1 &&
		    ph[i].p_filesz < PATH_MAX) {
			f->has_interp = true;
			f->interp = read_str(fd, (off_t)ph[i].p_offset);
		} else if (ph[i].p_type == PT_DYNAMIC && !dyn &&
			   ph[i].p_filesz / sizeof(Elf64_Dyn) < 65536) {
			ndyn = ph[i].p_filesz / sizeof(Elf64_Dyn);
			dyn = fi__util_xmalloc(ndyn * sizeof(*dyn));
			if (!read_at(fd, dyn, ndyn * sizeof(*dyn),
				     (off_t)ph[i].p_offset))
				ndyn = 0;
		}
	}
	for (i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		long v = (long)dyn[i].d_un.d_val;

		switch (dyn[i].d_tag) {
		/* clang-format off */
		case DT_STRTAB: strtab = dyn[i].d_un.d_ptr; break;
		case DT_NEEDED: if (nneeded < 64) needed[nneeded++] = v; break;
		case DT_SONAME: soname = v; break;
		case DT_RPATH: rpath = v; break;
		case DT_RUNPATH: runpath = v; break;
			/* clang-format on */
		}
	}
	if (strtab && va_to_off(ph, eh.e_phnum, strtab, &stroff)) {
		long kept = 0;

		f->needed = fi__util_xmalloc((size_t)(nneeded + 1) *
					     sizeof(*f->needed));
		for (long k = 0; k < nneeded; k++) {
			char *name = read_str(fd, stroff + needed[k]);

			if (!name)
				continue;
			f->needed[kept++] = name;
			if (!f->asan && !strncmp(name, "libasan.so", 10))
				f->asan = fi__util_xstrdup(name);
		}
		f->needed[kept] = NULL;
		if (soname >= 0)
			f->soname = read_str(fd, stroff + soname);
		if (rpath >= 0)
			f->rpath = read_str(fd, stroff + rpath);
		if (runpath >= 0)
			f->runpath = read_str(fd, stroff + runpath);
	}
done:
	free(ph);
	free(dyn);
	return 0;
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		return pw->pw_name;
	snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

static const char *group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		return gr->gr_name;
	snprintf(buf, len, "%u", (unsigned)gid);
	return buf;
}

/* The kernel marks an exec secure (AT_SECURE), and the loader then
 * ignores LD_PRELOAD, when the effective ids differ from the real ones
 * afterwards: a setuid file of another owner, a setgid file of another
 * group, or file capabilities that raise a non-root user's. */
static int secure_exec(const char *shown, const char *elf, bool interp)
{
	const char *what = interp ? "its interpreter is " : "";
	char buf[32];
	struct stat st;
	struct statvfs vfs;

	if (geteuid() != getuid() || getegid() != getgid()) {
		fi__util_error(
			"%s: fi-run runs with effective ids other than its real ones, so the loader ignores LD_PRELOAD; fi cannot intercept its syscalls",
			shown);
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	if (stat(elf, &st) != 0)
		return 0;
	/* nosuid mounts and no_new_privs make the kernel ignore the bits. */
	if (statvfs(elf, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
		return 0;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return 0;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid()) {
		fi__util_error(
			"%s: %ssetuid (owner %s), so the loader ignores LD_PRELOAD for it; fi cannot intercept its syscalls",
			shown, what, user_name(st.st_uid, buf, sizeof(buf)));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) &&
	    st.st_gid != getgid()) {
		fi__util_error(
			"%s: %ssetgid (group %s), so the loader ignores LD_PRELOAD for it; fi cannot intercept its syscalls",
			shown, what, group_name(st.st_gid, buf, sizeof(buf)));
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	if (getuid() != 0 &&
	    getxattr(elf, "security.capability", NULL, 0) > 0) {
		fi__util_error(
			"%s: %sgiven file capabilities, so the loader ignores LD_PRELOAD for it; fi cannot intercept its syscalls",
			shown, what);
		return FI_RUN_EXIT_CANNOT_RUN;
	}
	return 0;
}

/* The interpreter of a "#!" script (a new string), or NULL if the file
 * does not start with "#!". */
static char *shebang(int fd)
{
	char buf[256], *p, *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return NULL;
	buf[n] = '\0';
	for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p; *end && *end != ' ' && *end != '\t' && *end != '\n';
	     end++)
		;
	*end = '\0';
	return fi__util_xstrdup(p);
}

void fi__target_free(struct fi__target *t)
{
	free(t->path);
	free(t->elf);
	free(t->asan);
	free(t->rpath);
	free(t->runpath);
	for (size_t i = 0; t->needed && t->needed[i]; i++)
		free(t->needed[i]);
	free(t->needed);
	memset(t, 0, sizeof(*t));
}

int fi__target_check(const char *prog, struct fi__target *t)
{
	char *cur;
	int rc, depth;

	memset(t, 0, sizeof(*t));
	rc = resolve(prog, &t->path);
	if (rc)
		return rc;
	rc = runnable(prog, t->path);
	if (rc) {
		fi__target_free(t);
		return rc;
	}

	cur = fi__util_xstrdup(t->path);
	for (depth = 0;; depth++) {
		struct elf_facts f;
		unsigned char magic[4];
		char *interp;
		int fd = open(cur, O_RDONLY | O_CLOEXEC);

		if (fd < 0) /* execute-only: nothing to learn, let it run */
			break;
		interp = shebang(fd);
		if (interp) {
			close(fd);
			if (depth == MAX_SCRIPT_DEPTH || !*interp) {
				free(interp);
				break;
			}
			if (access(interp, X_OK) != 0) {
				fi__util_error("%s: bad interpreter %s: %s",
					       prog, interp, strerror(errno));
				free(interp);
				free(cur);
				fi__target_free(t);
				return FI_RUN_EXIT_CANNOT_RUN;
			}
			free(cur);
			cur = interp;
			continue;
		}
		if (!read_at(fd, magic, 4, 0) ||
		    memcmp(magic, ELFMAG, SELFMAG)) {
			close(fd); /* neither ELF nor script: execve decides */
			break;
		}
		rc = read_elf(prog, fd, &f);
		close(fd);
		if (rc == 0 && !f.has_interp &&
		    !(f.soname && !strncmp(f.soname, "ld-linux", 8))) {
			/* The loader run directly (it has no PT_INTERP) still
			 * honours LD_PRELOAD; anything else is static. */
			if (depth)
				fi__util_error("%s: its interpreter %s is %s",
					       prog, cur, static_reason);
			else
				fi__util_error("%s: %s", prog, static_reason);
			rc = FI_RUN_EXIT_CANNOT_RUN;
		}
		if (rc == 0 && f.interp && access(f.interp, F_OK) != 0) {
			fi__util_error("%s: the ELF interpreter %s of %s: %s",
				       prog, f.interp, cur, strerror(errno));
			rc = FI_RUN_EXIT_NOT_FOUND;
		}
		if (rc == 0)
			rc = secure_exec(prog, cur, depth > 0);
		free(f.interp);
		free(f.soname);
		if (rc) {
			free(f.asan);
			free(f.rpath);
			free(f.runpath);
			for (size_t i = 0; f.needed && f.needed[i]; i++)
				free(f.needed[i]);
			free(f.needed);
			free(cur);
			fi__target_free(t);
			return rc;
		}
		t->elf = cur;
		t->asan = f.asan;
		t->needed = f.needed;
		t->rpath = f.rpath;
		t->runpath = f.runpath;
		return 0;
	}
	t->elf = cur;
	return 0;
}
