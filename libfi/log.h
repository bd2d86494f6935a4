/* log.h: fi's own messages on stderr, written with a raw write (no stdio,
 * no allocation), for FI_DEBUG and for set-up errors. Hook-safe. */
#ifndef FI_LOG_H
#define FI_LOG_H

/* Print "fi: <message>\n" to fd 2 in one write. Messages longer than a
 * line of 500 bytes are cut. */
void fi__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* FI_DEBUG: 0 quiet; 1 lists what was patched per object and every patch
 * point left alone; 2 also every patch point patched. Set once at
 * start-up. */
extern int fi__log_debug;

#endif
