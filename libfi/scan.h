/* scan.h: walks the objects loaded at start-up and hands their executable
 * segments to the patcher. Objects mapped later arrive through
 * fi__patch_mapping (dispatch sees ld.so's mmap). */
#ifndef FI_SCAN_H
#define FI_SCAN_H

/* Patch every loaded object except libfi itself. Returns the number of
 * patch points written, and in *nobjects the number of objects that got
 * at least one (those FI_DEBUG lists as patched with patch points). Not
 * for the hook. */
long fi__scan_loaded(unsigned *nobjects);

#endif
