/* validate.c: checks every scenario and rule with the runtime's parser
 * (libfi/scenario.c) into a scratch rule set, before anything runs, and
 * prepares FI_SCENARIO and FI_RULES for libfi. */
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "scenario.h"

static void print_parse_error(const struct fi__scn_error *err)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));

	fwrite(err->msg, 1, n, stderr);
	if (n == 0 || err->msg[n - 1] != '\n')
		fputc('\n', stderr);
}

/* Appends the rules of rs from index `from` on to out->rules. */
static void collect(struct fi__validated *out, const struct fi__ruleset *rs,
		    size_t from)
{
	struct fi__rule_stats st;
	size_t i;

	for (i = from; fi__rules_stats(rs, i, &st); i++) {
		struct fi__summary_rule *r = &out->rules[out->nrules];

		if (out->nrules % 64 == 0) {
			struct fi__summary_rule *v = realloc(
				out->rules, (out->nrules + 64) * sizeof(*v));

			if (!v) {
				fputs("fi-run: out of memory\n", stderr);
				exit(FI_RUN_EXIT_USAGE);
			}
			out->rules = v;
			r = &out->rules[out->nrules];
		}
		r->origin = fi__util_xstrdup(st.origin ? st.origin : "?");
		r->text = fi__util_xstrdup(st.text ? st.text : "?");
		out->nrules++;
	}
}

static size_t count_rules(const struct fi__ruleset *rs)
{
	struct fi__rule_stats st;
	size_t i = 0;

	while (fi__rules_stats(rs, i, &st))
		i++;
	return i;
}

void fi__validate_free(struct fi__validated *v)
{
	size_t i;

	for (i = 0; i < v->nrules; i++) {
		free((char *)v->rules[i].origin);
		free((char *)v->rules[i].text);
	}
	for (i = 0; i < v->naliases; i++)
		free((char *)v->aliases[i].from);
	free(v->rules);
	free(v->aliases);
	free(v->scenario_env);
	free(v->rules_env);
	memset(v, 0, sizeof(*v));
}

int fi__validate(const struct fi__run_opts *o, struct fi__validated *out)
{
	struct fi__scn_error err;
	struct fi__ruleset *rs;
	char **abs = NULL;
	size_t i, armed;
	int rc = FI_RUN_EXIT_USAGE;

	memset(out, 0, sizeof(*out));
	rs = fi__rules_new();
	if (!rs) {
		fputs("fi-run: out of memory\n", stderr);
		return FI_RUN_EXIT_USAGE;
	}

	/* Scenarios, in the order libfi arms them: messages name each file as
	 * the user typed it. */
	if (o->nscenarios)
		abs = fi__util_xmalloc(o->nscenarios * sizeof(*abs));
	out->aliases = fi__util_xmalloc((o->nscenarios + 1) * sizeof(*out->aliases));
	for (i = 0; i < o->nscenarios; i++) {
		memset(&err, 0, sizeof(err));
		armed = count_rules(rs);
		if (fi__scn_load_file(rs, o->scenarios[i], &err) < 0) {
			print_parse_error(&err);
			goto out;
		}
		collect(out, rs, armed);
		abs[i] = fi__util_abspath(o->scenarios[i]);
		out->aliases[out->naliases].from = abs[i];
		out->aliases[out->naliases].to = o->scenarios[i];
		out->naliases++;
		if (strchr(abs[i], ':')) {
			fprintf(stderr, "fi-run: %s: a scenario path cannot contain ':' (FI_SCENARIO separates paths with it)\n",
				o->scenarios[i]);
			goto out;
		}
	}

	/* Each -r / -e on its own, so that a message points into what the
	 * user typed. */
	for (i = 0; i < o->nrules; i++) {
		struct fi__ruleset *one = fi__rules_new();

		if (!one) {
			fputs("fi-run: out of memory\n", stderr);
			goto out;
		}
		memset(&err, 0, sizeof(err));
		if (fi__scn_load_list(one, o->rules[i], FI_RUN_RULES_ORIGIN, &err) < 0) {
			print_parse_error(&err);
			fi__rules_free(one);
			goto out;
		}
		fi__rules_free(one);
	}

	/* Then all of them together, exactly as libfi will read FI_RULES. */
	if (o->nrules) {
		out->rules_env = fi__util_join(o->rules, o->nrules, "; ");
		out->aliases[out->naliases].from =
			fi__util_xstrdup(FI_RUN_RULES_ORIGIN_LIBFI);
		out->aliases[out->naliases].to = FI_RUN_RULES_ORIGIN;
		out->naliases++;
		armed = count_rules(rs);
		memset(&err, 0, sizeof(err));
		if (fi__scn_load_list(rs, out->rules_env, FI_RUN_RULES_ORIGIN, &err) < 0) {
			print_parse_error(&err);
			goto out;
		}
		collect(out, rs, armed);
	}
	if (o->nscenarios)
		out->scenario_env =
			fi__util_join((const char *const *)abs, o->nscenarios, ":");
	rc = 0;
out:
	free(abs); /* the strings live on in out->aliases */
	fi__rules_free(rs);
	if (rc)
		fi__validate_free(out);
	return rc;
}
