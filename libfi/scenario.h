/* scenario.h: the .fi rule language parser (docs/rules.md). Compiles text
 * into fi__rule objects at arm time; never runs in the hook. */
#ifndef FI_SCENARIO_H
#define FI_SCENARIO_H

#include "rules.h"

/* An error message of the form "file:line:col: error: message". */
struct fi__scn_error {
	char msg[512];
};

/* Parse one rule (the .fi language, or strace's inject=/fault= forms).
 * `origin` names the source in messages ("<rule>", "disk_full.fi") and
 * `line` its line. Returns a new rule, or NULL with err filled. */
struct fi__rule *fi__scn_parse_rule(const char *text, const char *origin,
				    int line, struct fi__scn_error *err);

/* Parse a whole .fi text / file and arm every rule into rs, all or
 * nothing. Returns the number of rules armed or a negative errno (-EINVAL
 * for syntax, -ENOENT, -EACCES, -EIO for files) with err filled. */
int fi__scn_load_text(struct fi__ruleset *rs, const char *text,
		      const char *origin, struct fi__scn_error *err);
int fi__scn_load_file(struct fi__ruleset *rs, const char *path,
		      struct fi__scn_error *err);

/* Parse "rule; rule; ..." (FI_RULES, fi-run -r). All or nothing. Each
 * line of the list is a line of the origin: fi-run gives libfi its -r
 * options one a line, so the second -r is "FI_RULES:2". _at numbers the
 * list's first line `line` (fi-run checking its n-th -r alone). */
int fi__scn_load_list(struct fi__ruleset *rs, const char *list,
		      const char *origin, struct fi__scn_error *err);
int fi__scn_load_list_at(struct fi__ruleset *rs, const char *list,
			 const char *origin, int line,
			 struct fi__scn_error *err);

/* site=FILE:LINE needs the program's debug info, which only fi-run
 * reads: fi-run gives the parser this resolver. It returns the spans of
 * `file_line` as FI_SITES holds them ("MODULE+0xLO..0xHI ...", a new
 * string), or NULL with a message in why. Without one (in libfi), the
 * parser looks the value up in FI_SITES. Not thread-safe; NULL unsets. */
typedef char *(*fi__scn_lines_fn)(const char *file_line, char *why,
				  size_t whylen, void *arg);
void fi__scn_set_lines(fi__scn_lines_fn fn, void *arg);

#endif
