/* names.h: syscall, errno and signal name tables, syscall prototypes and
 * classes. Generated at build time from the system headers plus
 * libfi/syscalls.spec (gen_names.py); pure data, safe in the hook. */
#ifndef FI_NAMES_H
#define FI_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Syscall numbers below this bound are tabled; x86_64 uses < 512. */
#define FI_NR_MAX 512

/* What an argument of a syscall is, for traces and rule matching. */
enum fi__argkind {
	FI_ARG_INT = 0, /* a plain integer or flags */
	FI_ARG_FD,	/* a file descriptor */
	FI_ARG_DIRFD,	/* a directory fd for *at() calls (AT_FDCWD too) */
	FI_ARG_PATH,	/* a NUL-terminated path */
	FI_ARG_BUF,	/* a buffer the call reads (write's data) */
	FI_ARG_OUTBUF,	/* a buffer the call fills (read's data) */
	FI_ARG_COUNT,	/* the byte count of the preceding buffer */
	FI_ARG_IOV,	/* a struct iovec array */
	FI_ARG_IOVCNT,	/* the count of the preceding iovec array */
	FI_ARG_PTR,	/* any other pointer */
	FI_ARG_OFLAGS,	/* open flags: O_WRONLY, O_CREAT... (flags=) */
};

/* strace's syscall classes (%file ...), as a bit mask. */
enum fi__class {
	FI_CLASS_FILE = 1u << 0,
	FI_CLASS_DESC = 1u << 1,
	FI_CLASS_NET = 1u << 2,
	FI_CLASS_PROCESS = 1u << 3,
	FI_CLASS_MEMORY = 1u << 4,
	FI_CLASS_SIGNAL = 1u << 5,
	FI_CLASS_IPC = 1u << 6,
	FI_CLASS_CREDS = 1u << 7,
	FI_CLASS_CLOCK = 1u << 8,
	FI_CLASS_STAT = 1u << 9,
};

/* Facts about a call that fi itself needs (!fact in syscalls.spec). */
enum fi__fact {
	/* It may close or replace a file descriptor of the program (close,
	 * close_range, dup2, dup3): fdpath.c forgets what it knows. */
	FI_FACT_FDCLOSE = 1u << 0,
	/* After it, fds may close or change in ways no hook sees (io_uring's
	 * close and open): fdpath.c stops caching. */
	FI_FACT_FDUNSEEN = 1u << 1,
};

/* Room for a syscall's name and its NUL (gen_names.py checks). */
#define FI_SYSNAME_MAX 32

struct fi__sysinfo {
	char name[FI_SYSNAME_MAX]; /* the kernel's name: "newfstatat" */
	unsigned char nargs;	   /* 0..6 */
	unsigned char arg[6];	   /* enum fi__argkind, one per argument */
	unsigned classes;	   /* enum fi__class bits */
	unsigned char facts;	   /* enum fi__fact bits */
};

/* All of these are async-signal-safe and allocation-free. */
const struct fi__sysinfo *fi__names_sys(long nr); /* NULL if unknown */
long fi__names_sys_nr(const char *name);	  /* -1 if unknown */
const char *fi__names_errno(int err);		  /* "ENOSPC"; NULL */
int fi__names_errno_nr(const char *name);	  /* -1 if unknown */
const char *fi__names_signal(int sig);		  /* "SIGSEGV"; NULL */
int fi__names_signal_nr(const char *name);	  /* "SIGSEGV" or "SEGV"; -1 */
unsigned fi__names_class(const char *name);	  /* "file" -> bits; 0 */

/* A family such as "read" (for @read): read, readv, pread64, preadv,
 * preadv2. Marks members in `set` (FI_NR_MAX entries); false if unknown. */
bool fi__names_family(const char *name, unsigned char *set);

/* Index of the first argument of `kind` for syscall nr, or -1. */
int fi__names_argindex(long nr, enum fi__argkind kind);

/* The i-th family / class name (0-based, sorted), NULL past the last:
 * for listing them and for "did you mean" suggestions. */
const char *fi__names_family_name(unsigned i);
const char *fi__names_class_name(unsigned i);

#endif
