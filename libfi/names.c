/* names.c: lookups in the generated name tables (names_table.c): syscall,
 * errno and signal names, classes and families. Runs in the hook, so it
 * never calls libc: comparisons are written out here. */
#include "names.h"
#include "names_gen.h"

/* Bytewise strcmp, as the generator sorted the tables. */
static int cmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

static int find(const struct fi__name_nr *tab, unsigned len, const char *name)
{
	unsigned lo = 0, hi = len;

	if (!name)
		return -1;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = cmp(name, tab[mid].name);

		if (c == 0)
			return tab[mid].nr;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

const struct fi__sysinfo *fi__names_sys(long nr)
{
	if (nr < 0 || nr >= FI_NR_MAX || !fi__names_sys_tab[nr].name[0])
		return NULL;
	return &fi__names_sys_tab[nr];
}

long fi__names_sys_nr(const char *name)
{
	return find(fi__names_sys_byname, fi__names_sys_byname_len, name);
}

const char *fi__names_errno(int err)
{
	if (err <= 0 || (unsigned)err > fi__names_errno_max ||
	    !fi__names_errno_tab[err][0])
		return NULL;
	return fi__names_errno_tab[err];
}

int fi__names_errno_nr(const char *name)
{
	return find(fi__names_errno_byname, fi__names_errno_byname_len, name);
}

const char *fi__names_signal(int sig)
{
	if (sig <= 0 || sig > FI__SIG_MAX || !fi__names_signal_tab[sig][0])
		return NULL;
	return fi__names_signal_tab[sig];
}

int fi__names_signal_nr(const char *name)
{
	char buf[32];
	unsigned i = 0;

	if (!name)
		return -1;
	if (name[0] == 'S' && name[1] == 'I' && name[2] == 'G')
		return find(fi__names_signal_byname,
			    fi__names_signal_byname_len, name);
	/* "SEGV": look up "SIGSEGV". */
	buf[0] = 'S';
	buf[1] = 'I';
	buf[2] = 'G';
	for (i = 0; name[i]; i++) {
		if (i + 4 >= sizeof(buf))
			return -1;
		buf[i + 3] = name[i];
	}
	buf[i + 3] = '\0';
	return find(fi__names_signal_byname, fi__names_signal_byname_len, buf);
}

unsigned fi__names_class(const char *name)
{
	unsigned i;

	if (!name)
		return 0;
	for (i = 0; i < fi__names_class_byname_len; i++)
		if (cmp(name, fi__names_class_byname[i].name) == 0)
			return fi__names_class_byname[i].bits;
	return 0;
}

bool fi__names_family(const char *name, unsigned char *set)
{
	unsigned i, j;

	if (!name)
		return false;
	for (i = 0; i < fi__names_families_len; i++) {
		const struct fi__family *f = &fi__names_families[i];

		if (cmp(name, f->name) != 0)
			continue;
		for (j = 0; j < f->n; j++)
			set[fi__names_family_nrs[f->first + j]] = 1;
		return true;
	}
	return false;
}

int fi__names_argindex(long nr, enum fi__argkind kind)
{
	const struct fi__sysinfo *s = fi__names_sys(nr);
	int i;

	if (!s)
		return -1;
	for (i = 0; i < s->nargs; i++)
		if (s->arg[i] == (unsigned char)kind)
			return i;
	return -1;
}

const char *fi__names_family_name(unsigned i)
{
	return i < fi__names_families_len ? fi__names_families[i].name : NULL;
}

const char *fi__names_class_name(unsigned i)
{
	return i < fi__names_class_byname_len ? fi__names_class_byname[i].name
					      : NULL;
}
