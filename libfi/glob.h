/* glob.h: shell-style pattern matching (glob.c), hook-safe. */
#ifndef FI_GLOB_H
#define FI_GLOB_H

#include <stdbool.h>

/* Does s match pat? '*' matches any run of characters, '/' included;
 * '?' one character; '[a-z]', '[!x]' (or '[^x]') one of a set, a ']'
 * first being a member; '\\' quotes the next character. NULL never
 * matches. Async-signal-safe, no libc. */
bool fi__glob_match(const char *pat, const char *s);

/* Offset of the first malformed part of pat ('[' without ']', a trailing
 * '\\'), or -1 when it is well formed. */
long fi__glob_check(const char *pat);

#endif
