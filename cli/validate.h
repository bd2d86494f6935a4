/* validate.h: every scenario and rule is parsed by libfi's own parser
 * before the program starts; the result says what to hand libfi. */
#ifndef FI_RUN_VALIDATE_H
#define FI_RUN_VALIDATE_H

#include "fi_run.h"
#include "summary.h"

/* How fi-run names the rules of -r and -e in messages and the summary:
 * the n-th option is line n ("<rule>:2:12: error: ..."); and the origin
 * libfi gives the same rules when it reads them from FI_RULES, one option
 * a line ("FI_RULES:2"); the summary shows the latter as the former. */
#define FI_RUN_RULES_ORIGIN "<rule>"
#define FI_RUN_RULES_ORIGIN_LIBFI "FI_RULES"

struct fi__validated {
	char *scenario_env; /* FI_SCENARIO: absolute paths joined by ':', or NULL */
	char *rules_env; /* FI_RULES: the -r and -e options one a line, or NULL */
	/* FI_SITES: for each site=FILE:LINE, "FILE:LINE<tab>SPANS" lines,
	 * the spans read from the program's debug info; or NULL */
	char *sites_env;
	struct fi__summary_rule *rules; /* every armed rule, in arm order */
	size_t nrules;
	struct fi__summary_alias *aliases; /* absolute path -> as typed */
	size_t naliases;
};

/* Parse everything, resolving each site=FILE:LINE in the program
 * o->argv[0] (symbols.h). Returns 0, or FI_RUN_EXIT_USAGE after printing
 * the parser's "file:line:col: error: message" to stderr. */
int fi__validate(const struct fi__run_opts *o, struct fi__validated *out);
void fi__validate_free(struct fi__validated *v);

#endif
