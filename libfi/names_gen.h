/* names_gen.h: the tables gen_names.py writes into names_table.c, as
 * names.c reads them. Internal to the names stage. */
#ifndef FI_NAMES_GEN_H
#define FI_NAMES_GEN_H

#include "names.h"

#define FI__SIG_MAX 64

/* Names are arrays, not pointers: a pointer in a table is a relocation,
 * which ld.so writes into libfi's pages at every start. gen_names.py
 * checks that every name fits. */
#define FI__ERRNO_NAME 16
#define FI__SIGNAL_NAME 16

struct fi__name_nr {
	char name[FI_SYSNAME_MAX];
	int nr;
};

struct fi__name_bits {
	char name[16];
	unsigned bits;
};

struct fi__family {
	char name[16];
	unsigned short n;
	unsigned short first; /* in fi__names_family_nrs */
};

/* Indexed by syscall number; name is "" where the number is unused. */
extern const struct fi__sysinfo fi__names_sys_tab[FI_NR_MAX];

/* Sorted by name (bytewise), for binary search. Aliases included. */
extern const struct fi__name_nr fi__names_sys_byname[];
extern const unsigned fi__names_sys_byname_len;
extern const struct fi__name_nr fi__names_errno_byname[];
extern const unsigned fi__names_errno_byname_len;
extern const struct fi__name_nr fi__names_signal_byname[];
extern const unsigned fi__names_signal_byname_len;
extern const struct fi__name_bits fi__names_class_byname[];
extern const unsigned fi__names_class_byname_len;
extern const struct fi__family fi__names_families[];
extern const unsigned short fi__names_family_nrs[];
extern const unsigned fi__names_families_len;

/* Canonical names by number; "" in the holes. */
extern const unsigned fi__names_errno_max;
extern const char fi__names_errno_tab[][FI__ERRNO_NAME];
extern const char fi__names_signal_tab[FI__SIG_MAX + 1][FI__SIGNAL_NAME];

#endif
