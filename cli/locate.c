/* locate.c: finds libfi.so relative to the fi-run executable, so that a
 * relocated install prefix and the build tree both work, checks that what
 * it found is libfi, and finds the libasan an ASan program needs so that
 * it can be preloaded first. */
#include "locate.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fi_run.h"

/* Relative to the directory of fi-run; set by cli/CMakeLists.txt. */
#ifndef FI_RUN_LIBFI_INSTALLED
#define FI_RUN_LIBFI_INSTALLED "../lib/libfi.so.0"
#endif
#ifndef FI_RUN_LIBFI_BUILD
#define FI_RUN_LIBFI_BUILD "../libfi/libfi.so"
#endif
#ifndef FI_RUN_SCENARIOS_INSTALLED
#define FI_RUN_SCENARIOS_INSTALLED "../share/fi/scenarios"
#endif
#ifndef FI_RUN_SCENARIOS_SOURCE
#define FI_RUN_SCENARIOS_SOURCE "/nonexistent"
#endif

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir + "/" + name, a new string. */
static char *path_join(const char *dir, size_t dirlen, const char *name)
{
	size_t n = dirlen + 1 + strlen(name) + 1;
	char *p = fi__util_xmalloc(n);

	snprintf(p, n, "%.*s/%s", (int)dirlen, dir, name);
	return p;
}

/* path with its directory made canonical (no ".." in LD_PRELOAD) but its
 * file name kept: libfi.so.0 stays the SONAME, not the versioned file. */
static char *canonical_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = fi__util_xstrdup(path), *real, *out;

	dir[slash - path] = '\0';
	real = realpath(dir[0] ? dir : "/", NULL);
	free(dir);
	if (!real)
		return fi__util_xstrdup(path);
	out = path_join(real, strlen(real), slash + 1);
	free(real);
	return out;
}

/* The directory of this fi-run executable, without the trailing '/'; a
 * new string, or NULL. */
static char *exe_dir(void)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return fi__util_xstrdup(exe);
}

char *fi__locate_scenarios(void)
{
	char *dir = exe_dir(), *cand, *found = NULL;

	if (!dir)
		return NULL;
	cand = path_join(dir, strlen(dir), FI_RUN_SCENARIOS_INSTALLED);
	if (is_dir(cand)) {
		found = realpath(cand, NULL);
	} else {
		/* In the build tree, libfi sits at its build-tree place. */
		char *lib = path_join(dir, strlen(dir), FI_RUN_LIBFI_BUILD);

		if (is_file(lib) && is_dir(FI_RUN_SCENARIOS_SOURCE))
			found = fi__util_xstrdup(FI_RUN_SCENARIOS_SOURCE);
		free(lib);
	}
	free(cand);
	free(dir);
	return found;
}

char *fi__locate_libfi(bool verbose)
{
	const char *env = getenv("FI_LIBRARY");
	const char *tries[] = {FI_RUN_LIBFI_INSTALLED, FI_RUN_LIBFI_BUILD};
	char exe[PATH_MAX], *slash, *cand[2], *found = NULL;
	ssize_t n;
	size_t i;

	if (env && *env) {
		char *p = fi__util_abspath(env);

		if (!is_file(p)) {
			fi__util_error("FI_LIBRARY=%s: %s", env,
				       access(p, F_OK) ? strerror(errno)
						       : "not a regular file");
			free(p);
			return NULL;
		}
		if (verbose)
			fprintf(stderr, "fi-run: libfi: %s (FI_LIBRARY)\n", p);
		return p;
	}

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fi__util_error(
			"cannot read /proc/self/exe (%s), so libfi.so cannot be found; set FI_LIBRARY",
			strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	for (i = 0; i < 2; i++) {
		cand[i] = path_join(exe, (size_t)(slash - exe), tries[i]);
		if (!found && is_file(cand[i]))
			found = canonical_dir(cand[i]);
	}
	if (!found)
		fi__util_error(
			"cannot find libfi.so (looked for %s and %s); set FI_LIBRARY",
			cand[0], cand[1]);
	else if (verbose)
		fprintf(stderr, "fi-run: libfi: %s\n", found);
	free(cand[0]);
	free(cand[1]);
	return found;
}

static bool read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n >= 0 && (size_t)n == len;
}

/* The dynamic symbol table of an ELF file defines `name`: read through
 * the section headers (SHT_DYNSYM and its string table). */
static bool defines(int fd, const Elf64_Ehdr *eh, const char *name)
{
	Elf64_Shdr *sh = NULL, *sym = NULL, *str;
	size_t nsh = eh->e_shnum, i, len = strlen(name);
	bool found = false;
	char *want = NULL;

	if (eh->e_shentsize != sizeof(Elf64_Shdr) || nsh == 0 || nsh > 65535)
		return false;
	sh = fi__util_xmalloc(nsh * sizeof(*sh));
	if (!read_at(fd, sh, nsh * sizeof(*sh), (off_t)eh->e_shoff))
		goto out;
	for (i = 0; i < nsh && !sym; i++)
		if (sh[i].sh_type == SHT_DYNSYM)
			sym = &sh[i];
	if (!sym || sym->sh_link >= nsh || sym->sh_entsize != sizeof(Elf64_Sym))
		goto out;
	str = &sh[sym->sh_link];
	want = fi__util_xmalloc(len + 1);
	for (i = 0; i < sym->sh_size / sizeof(Elf64_Sym) && !found; i++) {
		Elf64_Sym s;

		if (!read_at(fd, &s, sizeof(s),
			     (off_t)(sym->sh_offset + i * sizeof(s))))
			break;
		if (s.st_shndx == SHN_UNDEF || s.st_name >= str->sh_size ||
		    str->sh_size - s.st_name < len + 1)
			continue;
		found = read_at(fd, want, len + 1,
				(off_t)(str->sh_offset + s.st_name)) &&
			!memcmp(want, name, len + 1);
	}
out:
	free(want);
	free(sh);
	return found;
}

int fi__locate_check_libfi(const char *path)
{
	const char *why = NULL;
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fi__util_error("%s: %s", path, strerror(errno));
		return FI_RUN_EXIT_USAGE;
	}
	if (!read_at(fd, &eh, sizeof(eh), 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG))
		why = "not an ELF file";
	else if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
		 eh.e_machine != EM_X86_64)
		why = "not an x86_64 object";
	else if (eh.e_type != ET_DYN)
		why = "not a shared object";
	else if (!defines(fd, &eh, "fi_version"))
		why = "a shared object that does not define fi_version";
	close(fd);
	if (why) {
		fi__util_error(
			"%s is %s, so it is not libfi and fi-run cannot preload it",
			path, why);
		return FI_RUN_EXIT_USAGE;
	}
	return 0;
}

/* Looks for soname in each directory of a colon list; $ORIGIN (and
 * ${ORIGIN}) stand for the program's directory. */
static char *search_list(const char *soname, const char *list,
			 const char *origin)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char dir[PATH_MAX], *cand;
		size_t o = 0;

		if (len == 0) {
			p = end ? end + 1 : NULL;
			continue;
		}
		for (size_t i = 0; i < len && o + 1 < sizeof(dir);) {
			if (!strncmp(p + i, "$ORIGIN", 7) ||
			    !strncmp(p + i, "${ORIGIN}", 9)) {
				size_t ol = strlen(origin);

				if (o + ol >= sizeof(dir))
					break;
				memcpy(dir + o, origin, ol);
				o += ol;
				i += p[i + 1] == '{' ? 9 : 7;
			} else {
				dir[o++] = p[i++];
			}
		}
		dir[o] = '\0';
		cand = path_join(dir, o, soname);
		if (is_file(cand))
			return cand;
		free(cand);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

char *fi__locate_needed(const char *soname, const char *prog_path,
			const char *rpath, const char *runpath)
{
	static const char system_dirs[] =
		"/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:"
		"/lib64:/usr/lib64:/lib:/usr/lib:/usr/local/lib:"
		"/usr/local/lib/x86_64-linux-gnu";
	char origin[PATH_MAX], *slash, *found;
	char *real = realpath(prog_path, NULL);

	snprintf(origin, sizeof(origin), "%s", real ? real : prog_path);
	free(real);
	slash = strrchr(origin, '/');
	if (slash)
		*(slash == origin ? slash + 1 : slash) = '\0';
	else
		snprintf(origin, sizeof(origin), ".");

	if (strchr(soname, '/'))
		return is_file(soname) ? fi__util_xstrdup(soname) : NULL;
	/* The loader's order: DT_RPATH only without DT_RUNPATH, then
	 * LD_LIBRARY_PATH, then DT_RUNPATH, then the system. */
	if (!runpath && (found = search_list(soname, rpath, origin)))
		return found;
	if ((found = search_list(soname, getenv("LD_LIBRARY_PATH"), origin)))
		return found;
	if ((found = search_list(soname, runpath, origin)))
		return found;
	return search_list(soname, system_dirs, origin);
}
