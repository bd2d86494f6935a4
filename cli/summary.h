/* summary.h: the end-of-run summary. libfi appends one JSON line per armed
 * rule per process image to FI_REPORT; this turns those lines into one line
 * per rule on stderr. Pure: reads a stream, writes a stream. */
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
 * absolute path, the user typed a relative one. */
struct fi__summary_alias {
	const char *from; /* "/home/u/disk_full.fi" */
	const char *to;   /* "disk_full.fi" */
};

/* Read the report (JSON Lines, records as in docs/fi-run.md), aggregate
 * the records per (origin, text) over all processes, and write one line
 * per rule to out: the expected rules first, in order, then any other rule
 * the report names (armed by the program through fi.h, say). An expected
 * rule no record names is "no report from the program". Lines that are not
 * records are counted and mentioned once. Returns the number of lines
 * written. */
size_t fi__summary_print(FILE *report, const struct fi__summary_rule *rules,
			 size_t nrules, const struct fi__summary_alias *aliases,
			 size_t naliases, FILE *out);

#endif
