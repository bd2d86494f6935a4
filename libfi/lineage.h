/* lineage.h: where the calling process and thread stand in creation
 * order, for the rule keys proc= and thread= (docs/rules.md). A process
 * image (from its exec, or the first process) is proc "0"; the k-th
 * process it made is "k", that one's j-th "k.j". Its first thread is
 * thread 1, the next one it made thread 2. dispatch.c tells this stage
 * about every fork-like call; rules.c asks it. Allocation-free and
 * lock-free: it runs in the hook. */
#ifndef FI_LINEAGE_H
#define FI_LINEAGE_H

#include <stdbool.h>
#include <stdint.h>

/* "3.1": at most this many levels of forks below the image. */
#define FI_LINEAGE_DEPTH 16
#define FI_LINEAGE_PATH (FI_LINEAGE_DEPTH * 11 + 2)

/* Before a fork-like call: the number the new process or thread will
 * have, for fi__lineage_made to take back. For a thread, `sp` is the
 * %rsp it will start with (the call's new stack, or the caller's %rsp),
 * by which it files itself (fi__lineage_started); 0: unknown. */
long fi__lineage_making(bool thread, uint64_t sp);

/* After it, in the caller (ret: the call's result) ... */
void fi__lineage_made(bool thread, long number, uint64_t sp, long ret);
/* ... in a new thread, on its way back from the call, before anything
 * else it runs: it files its own number, so that it never waits for the
 * caller's fi__lineage_made (sp: its %rsp at the call's return) ... */
void fi__lineage_started(uint64_t sp);
/* ... and in a new process with memory of its own (not a vfork child,
 * nor a thread): it becomes its parent's number-th child. */
void fi__lineage_child(long number);

/* The calling thread's number in its process (1: the first), 0 when it
 * was made by a call fi did not see. Never waits. */
int fi__lineage_thread(int pid, int tid);

/* The process's place below its image: "0", "2", "2.1". */
const char *fi__lineage_proc(void);

#endif
