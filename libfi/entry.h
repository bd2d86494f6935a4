/* entry.h: the two ways into the hook that entry.S defines, as C sees
 * them. Only init.c takes their addresses, and hands them to the
 * trampoline areas (fi__area_set_entries): the patcher, which the hook
 * runs for new objects, never depends on the hook it leads to. */
#ifndef FI_ENTRY_H
#define FI_ENTRY_H

/* Called by a stub before the syscall: saves the registers and runs
 * fi__dispatch_quick, then fi__dispatch if it asks for the full path. */
void fi__entry(void);

/* Called by a stub after the syscall, when dispatch asked for it: runs
 * fi__dispatch_post. */
void fi__entry_post(void);

#endif
