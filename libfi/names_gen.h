/* names_gen.h: the tables gen_names.py writes into names_table.c, as
 * names.c reads them. Internal to the names stage. */
#ifndef FI_NAMES_GEN_H
#define FI_NAMES_GEN_H

#include "names.h"

#define FI__SIG_MAX 64

struct fi__name_nr {
	const char *name;
	int nr;
};

struct fi__name_bits {
	const char *name;
	unsigned bits;
};

struct fi__family {
	const char *name;
	unsigned short n;
	const unsigned short *nrs;
};

/* Indexed by syscall number; name is NULL where the number is unused. */
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
extern const unsigned fi__names_families_len;

/* Canonical names by number; NULL holes. */
extern const unsigned fi__names_errno_max;
extern const char *const fi__names_errno_tab[];
extern const char *const fi__names_signal_tab[FI__SIG_MAX + 1];

#endif
