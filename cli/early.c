/* early.c: libfi's early start. fi-run loads libfi_audit.so with LD_AUDIT
 * beside the preloaded libfi.so, so that libfi starts before the first
 * constructor of any library (docs/architecture.md, "libfi starts before
 * every constructor"). Under LD_AUDIT, ld.so lays out the static TLS
 * before it loads the program's libraries, so their initial-exec TLS
 * (libfi's among them) must fit a reserve that GLIBC_TUNABLES sizes. */
#include "early.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fi_run.h"

/* Room for the TLS of the libraries the program's own libraries load,
 * which under LD_AUDIT must all fit the reserve; the TLS of the libraries
 * it links itself is counted one by one (GCC's libtsan alone has 768
 * KiB). Of 659 programs in a Debian 12 /usr/bin and /usr/sbin, the
 * median needs 152 bytes (libc's) and the largest 3,852 (top: libproc2,
 * libc, libsystemd). Every thread's stack pays for the whole reserve:
 * with 16 KiB here, pthread_create with a PTHREAD_STACK_MIN stack failed
 * with EINVAL; with 4 KiB it still works (live.small_stack). */
#define TLS_ALLOWANCE (4 * 1024)
/* glibc's default reserve, which the tunable replaces. */
#define TLS_DEFAULT 512
#define TUNABLE "glibc.rtld.optional_static_tls"

/* The size of path's PT_TLS segment plus its alignment; 0 when it has
 * none or cannot be read. */
static size_t tls_size(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	size_t size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh.e_phentsize == sizeof(ph)) {
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_TLS) {
				size = ph.p_memsz + ph.p_align;
				break;
			}
		}
	}
	close(fd);
	return size;
}

/* GLIBC_TUNABLES old (may be NULL) with TUNABLE at least `want`. */
static char *merge_tunables(const char *old, size_t want)
{
	size_t n = (old ? strlen(old) : 0) + sizeof(TUNABLE) + 32, o = 0;
	char *out = fi__util_xmalloc(n);
	const char *p = old;

	while (p && *p) {
		size_t len = strcspn(p, ":");

		if (len > sizeof(TUNABLE) &&
		    !strncmp(p, TUNABLE "=", sizeof(TUNABLE))) {
			unsigned long long v =
				strtoull(p + sizeof(TUNABLE), NULL, 0);
			if (v > want)
				want = (size_t)v;
		} else if (len) {
			o += (size_t)snprintf(out + o, n - o, "%.*s:", (int)len,
					      p);
		}
		p += len;
		p += *p == ':';
	}
	snprintf(out + o, n - o, TUNABLE "=%zu", want);
	return out;
}

bool fi__early_env(const char *libfi, char *const *libs, bool verbose,
		   struct fi__early *out)
{
	const char *slash = strrchr(libfi, '/');
	const char *off = getenv("FI_EARLY");
	const char *old_audit = getenv("LD_AUDIT");
	size_t dir = slash ? (size_t)(slash - libfi) + 1 : 0, want;
	size_t n = dir + sizeof("libfi_audit.so") +
		   (old_audit ? strlen(old_audit) + 1 : 0);
	char *audit;

	memset(out, 0, sizeof(*out));
	if (off && !strcmp(off, "0"))
		return false;
	audit = fi__util_xmalloc(n);
	snprintf(audit, n, "%.*slibfi_audit.so", (int)dir, libfi);
	if (access(audit, R_OK) != 0) {
		/* Always there beside an installed or built libfi; not
		 * beside a library FI_LIBRARY names. Missing, the run
		 * differs (libfi starts after the libraries' constructors,
		 * a sweep has no fork server), so say it. */
		if (!getenv("FI_LIBRARY"))
			fi__util_error("warning: no early start: %s: %s "
				       "(FI_EARLY=0 starts libfi late "
				       "without this warning)",
				       audit, strerror(errno));
		free(audit);
		return false;
	}
	want = TLS_DEFAULT + TLS_ALLOWANCE + tls_size(libfi);
	for (size_t i = 0; libs && libs[i]; i++)
		want += tls_size(libs[i]);
	if (old_audit && *old_audit)
		snprintf(audit + strlen(audit), n - strlen(audit), ":%s",
			 old_audit);
	out->audit = audit;
	out->tunables = merge_tunables(getenv("GLIBC_TUNABLES"), want);
	if (verbose)
		fprintf(stderr, "fi-run: early start with %s (%s)\n", audit,
			out->tunables);
	return true;
}

void fi__early_free(struct fi__early *e)
{
	free(e->audit);
	free(e->tunables);
}
