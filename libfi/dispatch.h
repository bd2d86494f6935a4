/* dispatch.h: what the rest of libfi asks of the hook (dispatch.c). The
 * entries entry.S calls are in frame.h. */
#ifndef FI_DISPATCH_H
#define FI_DISPATCH_H

/* Let this thread's syscalls pass the hook untouched (nesting), for the
 * API's own work. */
void fi__dispatch_suspend(void);
void fi__dispatch_resume(void);

#endif
