/* scan.h: walks the objects loaded at start-up and hands their executable
 * segments to the patcher. Objects mapped later arrive through
 * fi__patch_mapping (dispatch sees ld.so's mmap). */
#ifndef FI_SCAN_H
#define FI_SCAN_H

/* Patch every loaded object except libfi itself. Returns the number of
 * sites patched or a negative errno. Not for the hook. */
long fi__scan_loaded(void);

#endif
