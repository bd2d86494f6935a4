/* registry.c: the modules fi knows and the patch points it wrote
 * (registry.h). Filled by the patcher (patch.c, image.c), read by the
 * hook (dispatch.c, entry.S) and the report. */
#include "registry.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "entry_abi.h"
#include "site.h"

_Static_assert(sizeof(struct fi__patch_point) == 1u << FI_POINT_SHIFT &&
		       offsetof(struct fi__patch_point, addr) == 0,
	       "entry.S indexes fi__registry_points by shifting the id");

struct fi__module fi__registry_modules[FI_MAX_MODULES];
uint32_t fi__registry_nmodules;
struct fi__patch_point *fi__registry_points;
uint32_t fi__registry_npoints;

int fi__registry_init(void)
{
	fi__registry_points =
		fi__pages(FI_MAX_POINTS * sizeof(struct fi__patch_point));
	return fi__registry_points ? 0 : -ENOMEM;
}

uint32_t fi__registry_module(const char *name, uint64_t base,
			     const uint8_t *build_id, size_t id_len)
{
	struct fi__module *m = fi__registry_modules;
	uint32_t i;

	name = fi__site_file_name(name);
	/* New code, maybe where an unloaded object was: call sites cached
	 * for those addresses name the old one. */
	fi__site_forget();
	for (i = 0; i < fi__registry_nmodules; i++)
		if (m[i].base == base && !strcmp(m[i].name, name))
			return i;
	if (fi__registry_nmodules == FI_MAX_MODULES)
		return FI_MAX_MODULES - 1;
	i = fi__registry_nmodules;
	snprintf(m[i].name, sizeof(m[i].name), "%s", name);
	m[i].base = base;
	if (build_id && id_len <= sizeof(m[i].build_id)) {
		fi__copy(m[i].build_id, build_id, id_len);
		m[i].build_id_len = (uint8_t)id_len;
	}
	__atomic_store_n(&fi__registry_nmodules, i + 1, __ATOMIC_RELEASE);
	return i;
}
