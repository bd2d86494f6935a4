/* glob.c: shell-style pattern matching for path=, site= and comm=.
 * Runs in the syscall hook: no libc, no allocation, no recursion. */
#include <stddef.h>

#include "glob.h"

static bool class_match(const char **pp, char c)
{
	const char *p = *pp;
	bool neg = false, hit = false;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	/* A ']' first is a member, not the end. */
	do {
		char lo = *p, hi;

		if (lo == '\\' && p[1])
			lo = *++p;
		hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			p += 2;
			hi = *p;
			if (hi == '\\' && p[1])
				hi = *++p;
		}
		if ((unsigned char)c >= (unsigned char)lo &&
		    (unsigned char)c <= (unsigned char)hi)
			hit = true;
		p++;
	} while (*p && *p != ']');
	*pp = *p ? p + 1 : p;
	return hit != neg;
}

bool fi__glob_match(const char *pat, const char *s)
{
	const char *p = pat, *star_p = NULL, *star_s = NULL;

	if (!pat || !s)
		return false;
	while (*s) {
		const char *next = p;
		bool ok = false;

		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			ok = true;
			next = p + 1;
		} else if (*p == '[' && p[1]) {
			next = p + 1;
			ok = class_match(&next, *s);
		} else if (*p == '\\' && p[1]) {
			ok = p[1] == *s;
			next = p + 2;
		} else if (*p) {
			ok = *p == *s;
			next = p + 1;
		}
		if (ok) {
			p = next;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

long fi__glob_check(const char *pat)
{
	const char *p;

	for (p = pat; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return p - pat;
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']') {
				if (*q == '\\' && q[1])
					q++;
				q++;
			}
			if (!*q)
				return p - pat;
			p = q;
		}
	}
	return -1;
}
