/* scn_value.h: the value parsers of the .fi language (scn_value.c), as
 * the rule parser (scenario.c) calls them. Each reports a refusal through
 * fi__scn_fail() with the column of the offending text. Internal. */
#ifndef FI_SCN_VALUE_H
#define FI_SCN_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rule_model.h"
#include "scenario.h"

/* Where the parser is, for messages; `arena` holds decoded words. */
struct fi__scn_ctx {
	const char *origin;
	int line;
	struct fi__scn_error *err;
	char *arena;
	size_t used, cap;
	bool failed;
	/* Where a relative redirect= path is resolved, once, at load; NULL:
	 * it stays relative (to the working directory of each call). */
	const char *base_dir;
};

/* Fill ctx->err with "origin:line:col: error: ...", once: the first
 * refusal is the one reported. */
void fi__scn_fail(struct fi__scn_ctx *p, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "did you mean": feed candidates, then ask for one close enough. */
struct fi__scn_suggest {
	const char *word;
	const char *best;
	size_t dist;
};
#define FI_SCN_SUGGEST(w)                                                      \
	{                                                                      \
		(w), NULL, SIZE_MAX                                            \
	}
void fi__scn_consider(struct fi__scn_suggest *sg, const char *cand);
const char *fi__scn_suggestion(const struct fi__scn_suggest *sg);

/* A whole-string integer: decimal, or hex with 0x; an optional '-'. */
bool fi__scn_long(const char *s, long *out);

/* The values of keys; v is the value text, col its column. Each returns
 * false after fi__scn_fail(). */
bool fi__scn_when(struct fi__scn_ctx *p, const char *v, int col,
		  struct fi__when *w);
bool fi__scn_errno(struct fi__scn_ctx *p, const char *v, int col,
		   const char *key, long *out);
bool fi__scn_signal(struct fi__scn_ctx *p, const char *v, int col, int *out);
bool fi__scn_delay(struct fi__scn_ctx *p, const char *v, int col, long *ns);
bool fi__scn_prob(struct fi__scn_ctx *p, const char *v, int col, uint64_t *out);
bool fi__scn_script(struct fi__scn_ctx *p, const char *v, int col,
		    struct fi__rule *r);
bool fi__scn_glob(struct fi__scn_ctx *p, const char *key, const char *v,
		  int col, char **out);
/* site=: MODULE, MODULE+0xOFF, MODULE+0xLO..0xHI, or FILE:LINE (the
 * spans fi-run resolved: fi__scn_set_lines, else FI_SITES). */
bool fi__scn_site(struct fi__scn_ctx *p, const char *v, int col,
		  struct fi__rule *r);
/* flags=: open flag names joined by '|' (O_WRONLY|O_CREAT), or numbers;
 * the call matches when its flags have any of them. */
bool fi__scn_flags(struct fi__scn_ctx *p, const char *v, int col,
		   struct fi__rule *r);
/* syscall=NAME: one of strace's %pure syscalls (no arguments, no side
 * effects), run in place of an error= or retval= call. */
bool fi__scn_instead(struct fi__scn_ctx *p, const char *v, int col, long *nr);
/* poke_enter= / poke_exit=: @argN=HEX[,@argM=HEX...] into one malloc'd
 * struct fi__pokes (key names the key in messages). */
bool fi__scn_pokes(struct fi__scn_ctx *p, const char *key, const char *v,
		   int col, struct fi__pokes **out);

/* The syscall set ("read,write", "%net", "@read", "?name") into r->nrs. */
bool fi__scn_set(struct fi__scn_ctx *p, const char *v, int col,
		 struct fi__rule *r);

/* Does a syscall of r's set have an argument of kind a or b? With
 * `keep`, drop the members that have neither. */
bool fi__scn_set_has(struct fi__rule *r, enum fi__argkind a, enum fi__argkind b,
		     bool keep);

#endif
