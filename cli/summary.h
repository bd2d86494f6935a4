/* summary.h: the end-of-run summary. libfi appends one JSON line per armed
 * rule per process image to FI_REPORT, and one line per process that lost
 * trace records; this turns those lines into one line per rule and one
 * per loss on stderr. Pure: reads a stream, writes a stream. */
#ifndef FI_RUN_SUMMARY_H
#define FI_RUN_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

/* A rule fi-run armed: where it came from ("disk_full.fi:3", "<rule>:1")
 * and its text, as the parser reports them. */
struct fi__summary_rule {
	const char *origin;
	const char *text;
};

/* An origin prefix to show under another name: libfi reads scenarios by
 * absolute path (or from fi-run's private copy), the user typed another. */
struct fi__summary_alias {
	const char *from; /* "/home/u/disk_full.fi" */
	const char *to;	  /* "disk_full.fi" */
};

/* What the report said, added up. */
struct fi__summary;

/* Read the report (JSON Lines as in docs/fi-run.md and docs/trace.md "The
 * run report"; NULL reads as empty) and add the records up per (origin,
 * text, place among the image's rules) over all processes, origins shown
 * through the aliases, and the losses per (pid, what). `rules` are the rules fi-run armed; they must
 * outlive the result. Never NULL; free with fi__summary_free. */
struct fi__summary *fi__summary_read(FILE *report,
				     const struct fi__summary_rule *rules,
				     size_t nrules,
				     const struct fi__summary_alias *aliases,
				     size_t naliases);
void fi__summary_free(struct fi__summary *s);

/* The report's non-empty lines, of any kind: 0 when no process wrote. */
size_t fi__summary_lines(const struct fi__summary *s);

/* One line per rule to out: the expected rules first, in order, then any
 * other rule the report names (armed by the program through fi.h, say).
 * An expected rule no record names is "no report from the program".
 * Lines that are neither record nor loss are counted and mentioned once.
 * out may be NULL, to count only. *unfired (if not NULL) becomes the
 * number of rules that never fired. Returns the lines written. */
size_t fi__summary_rules(const struct fi__summary *s, FILE *out,
			 size_t *unfired);

/* One line per process and kind that lost records, to out:
 * "fi-run: the trace FILE lost N records (pid P: ERROR)", FILE being
 * `trace` (may be NULL). Returns the records lost in all. */
unsigned long long fi__summary_lost(const struct fi__summary *s,
				    const char *trace, FILE *out);

/* One warning per file and reason that an exec ran without libfi, or
 * with libfi but without the rules or the report ("fi-run: warning: not
 * followed: PATH (pid P): REASON"); execs that failed are left out. out
 * may be NULL, to count only. Returns the lines. */
size_t fi__summary_unfollowed(const struct fi__summary *s, FILE *out);

#endif
