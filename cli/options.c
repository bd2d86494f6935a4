/* options.c: fi-run's command line: parsing, --help and --version. The
 * first word that is not an option (or the word after "--") starts the
 * program, as with env(1) and timeout(1). */
#include "fi_run.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fi.h"

#ifndef FI_VERSION_STRING
#define FI_STR2(x) #x
#define FI_STR(x) FI_STR2(x)
#define FI_VERSION_STRING                                                      \
	FI_STR(FI_VERSION_MAJOR)                                               \
	"." FI_STR(FI_VERSION_MINOR) "." FI_STR(FI_VERSION_PATCH)
#endif

enum {
	OPT_RECORD = 256,
	OPT_SEED,
	OPT_STRICT,
	OPT_VERSION,
	OPT_REPLAY,
	OPT_REPLAY_STRICT,
	OPT_LIB
};

static const struct option long_options[] = {
	{"scenario", required_argument, NULL, 's'},
	{"rule", required_argument, NULL, 'r'},
	{"record", required_argument, NULL, OPT_RECORD},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"replay-strict", no_argument, NULL, OPT_REPLAY_STRICT},
	{"seed", required_argument, NULL, OPT_SEED},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"lib", required_argument, NULL, OPT_LIB},
	FI_SWEEP_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static const char usage_line[] =
	"Usage: fi-run [options] -- PROGRAM [ARGS...]\n";

static void help(void)
{
	fputs(usage_line, stdout);
	fputs("Run PROGRAM with libfi preloaded, so that the syscalls named by the\n"
	      "rules fail or change as scripted. Every scenario and rule is checked\n"
	      "before PROGRAM starts.\n"
	      "\n"
	      "Options:\n"
	      "  -s, --scenario FILE   arm the rules of a .fi file (repeatable)\n"
	      "  -r, --rule RULE       arm one rule, or several separated by ';'\n"
	      "                        (repeatable)\n"
	      "  -e inject=SPEC        strace's syntax, e.g. inject=write:error=ENOSPC:when=3\n"
	      "  -e fault=SPEC         (repeatable)\n"
	      "      --record FILE     write a trace of every syscall (JSON Lines)\n"
	      "      --replay FILE     fail the calls that failed in FILE (a trace of\n"
	      "                        --record, or a strace -f log or -ff prefix),\n"
	      "                        and say where the run departs from it\n"
	      "      --replay-strict   a departure from the replayed trace is an error (125)\n"
	      "      --seed N          seed for prob= rules (default: FI_SEED, else fixed)\n"
	      "      --strict          a rule that never fired is an error (exit 1)\n"
	      "      --lib PATH        site=FILE:LINE also searches this library (or the\n"
	      "                        libraries of this directory): one PROGRAM loads\n"
	      "                        with dlopen() (repeatable)\n"
	      "      --sweep           fail every syscall site in turn, classify each run\n"
	      "                        (handled, recovered, ignored, crash, hang,\n"
	      "                        sanitizer) and report; exit 1 on a bad one\n"
	      "  -j, --jobs N          sweep: N runs at a time (default 1)\n"
	      "      --timeout S       sweep: a run slower than S seconds is a hang\n"
	      "      --json FILE, --junit FILE   sweep: write the report\n"
	      "      --accept FILE     sweep: outcomes listed in FILE do not fail it\n"
	      "      --write-accept FILE  sweep: list today's bad outcomes in FILE\n"
	      "      --shard K/N       sweep: only the K-th of N slices of the plan\n"
	      "      --syscalls LIST, --errnos LIST, --max-runs N, --persistent,\n"
	      "      --workdir DIR     sweep: narrow the plan; fail every occurrence;\n"
	      "                        each run works in a copy of DIR ({} names it)\n"
	      "      --coverage DIR    sweep: a program built with --coverage; DIR gets\n"
	      "                        the HTML report and error-paths.json (gcovr)\n"
	      "      --force           sweep: --coverage may write into a full DIR\n"
	      "      --merge A.json B.json...  join the reports of sweep shards\n"
	      "                        (with --coverage DIR: their coverage too)\n"
	      "  -v, --verbose         say which libfi is used and what it patched\n"
	      "  -q, --quiet           no end-of-run summary\n"
	      "  -h, --help            show this help and exit\n"
	      "      --version         show the version and exit\n"
	      "\n"
	      "Examples:\n"
	      "  fi-run -s disk_full.fi -- ./program args\n"
	      "  fi-run -r 'write when=3 error=ENOSPC' -- dd if=a of=b\n"
	      "  fi-run -r 'openat path=/etc/app/* error=EACCES' -r 'read when=1..2 error=EINTR' -- ./server\n"
	      "  fi-run -e inject=write:error=ENOSPC:when=3+ -- ./program\n"
	      "  fi-run --strict -s disk_full -- ./program\n"
	      "  fi-run --record run.trace -- ./program\n"
	      "  fi-run --replay run.trace -- ./program\n"
	      "  fi-run --sweep -j2 --json sweep.json --junit sweep.xml -- ./program\n"
	      "  fi-run --sweep -j2 --coverage cov -- ./program_built_with_coverage\n"
	      "\n"
	      "A scenario FILE with no '/' that is not in the current directory\n"
	      "names a bundled scenario: -s disk_full.fi, or -s disk_full. FILE may\n"
	      "be a pipe: -s /dev/stdin, -s <(...), a FIFO; fi-run reads it once.\n"
	      "\n"
	      "At the end, fi-run prints one line per rule to stderr: how often it\n"
	      "fired and where. Exit status: PROGRAM's own, or 128+N when it was\n"
	      "killed by signal N; else 1 with --strict when a rule never fired;\n"
	      "125 for a bad option, scenario or rule, a libfi that did not load or\n"
	      "act, or a trace that lost records; 126 when PROGRAM cannot be run\n"
	      "(static, setuid, not executable); 127 when it is not found. A sweep\n"
	      "exits 0, or 1 when a run crashed, hung, tripped a sanitizer or\n"
	      "ignored an error (unless --accept lists it); 125 when the program\n"
	      "fails without any fault.\n",
	      stdout);
}

static int usage_error(void)
{
	fputs(usage_line, stderr);
	fputs("Try 'fi-run --help' for more information.\n", stderr);
	return FI_RUN_EXIT_USAGE;
}

/* The seed must be a whole number that fits in 64 bits, nothing else. */
static bool seed_ok(const char *s)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	(void)v;
	return errno == 0 && *end == '\0';
}

static const char *option_name(char **argv, int index)
{
	return argv[index] ? argv[index] : "?";
}

/* getopt_long, but with --merge the words between options are its
 * reports: fi-run --merge a.json b.json --json all.json. */
static int next_opt(int argc, char **argv, struct fi__run_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "+:s:r:e:vqhj:", long_options,
				NULL)) == -1 &&
	       o->sweep.merge && optind < argc && argv[optind][0] != '-')
		o->sweep.inputs[o->sweep.ninputs++] = argv[optind++];
	return c;
}

void fi__opts_free(struct fi__run_opts *o)
{
	free(o->scenarios);
	free(o->rules);
	free(o->sweep.inputs);
	free(o->libs);
	memset(o, 0, sizeof(*o));
}

int fi__opts_parse(int argc, char **argv, struct fi__run_opts *o)
{
	int c;
	bool dashdash;
	const char *last_arg = NULL;

	memset(o, 0, sizeof(*o));
	o->scenarios = fi__util_xmalloc(sizeof(char *) * (size_t)argc);
	o->rules = fi__util_xmalloc(sizeof(char *) * (size_t)argc);
	o->sweep.inputs = fi__util_xmalloc(sizeof(char *) * (size_t)argc);
	o->libs = fi__util_xmalloc(sizeof(char *) * (size_t)argc);

	opterr = 0;
	optind = 1;
	/* '+': stop at the program; ':': report a missing argument apart. */
	while ((c = next_opt(argc, argv, o)) != -1) {
		last_arg = optarg;
		switch (c) {
		case 's':
			o->scenarios[o->nscenarios++] = optarg;
			break;
		case 'r':
			o->rules[o->nrules++] = optarg;
			break;
		case 'e':
			if (strncmp(optarg, "inject=", 7) != 0 &&
			    strncmp(optarg, "fault=", 6) != 0) {
				fi__util_error(
					"-e takes inject=SPEC or fault=SPEC, not '%s'",
					optarg);
				return usage_error();
			}
			o->rules[o->nrules++] = optarg;
			break;
		case OPT_RECORD:
			if (!*optarg) {
				fi__util_error("--record needs a file name");
				return usage_error();
			}
			o->record = optarg;
			break;
		case OPT_REPLAY:
			if (!*optarg) {
				fi__util_error("--replay needs a file name");
				return usage_error();
			}
			o->replay = optarg;
			break;
		case OPT_REPLAY_STRICT:
			o->replay_strict = true;
			break;
		case OPT_SEED:
			if (!seed_ok(optarg)) {
				fi__util_error(
					"--seed: '%s' is not a number from 0 to 18446744073709551615",
					optarg);
				return usage_error();
			}
			o->seed = optarg;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_LIB:
			if (access(optarg, R_OK)) {
				fi__util_error("--lib %s: %s", optarg,
					       strerror(errno));
				return usage_error();
			}
			o->libs[o->nlibs++] = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("fi-run %s\n", FI_VERSION_STRING);
			return 0;
		case ':': {
			/* Name the option as it was written: -s or --scenario. */
			const char *w = option_name(argv, optind - 1);

			if (!strncmp(w, "--", 2))
				fi__util_error(
					"option '%.*s' requires an argument",
					(int)strcspn(w, "="), w);
			else
				fi__util_error(
					"option '-%c' requires an argument",
					optopt);
			return usage_error();
		}
		default:
			if (c == 'j' || c >= FI_SWEEP_OPT_SWEEP) {
				if (fi__sweep_opt(c, optarg, &o->sweep))
					return usage_error();
				break;
			}
			if (optopt)
				fi__util_error("invalid option '-%c'", optopt);
			else
				fi__util_error("unrecognized option '%s'",
					       option_name(argv, optind - 1));
			return usage_error();
		}
	}

	if (o->replay_strict && !o->replay) {
		fi__util_error("--replay-strict needs --replay FILE");
		return usage_error();
	}
	if (fi__sweep_opts_check(&o->sweep, o->nscenarios || o->nrules,
				 o->record || o->replay || o->strict))
		return usage_error();
	if (o->sweep.merge) {
		if (!o->sweep.ninputs || optind < argc) {
			fi__util_error(
				o->sweep.ninputs
					? "--merge takes reports, not a program"
					: "--merge needs the JSON reports of sweeps: fi-run --merge a.json b.json --json all.json");
			return usage_error();
		}
		return -1;
	}
	/* "--" ended the options unless it was an option's argument. */
	dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0 &&
		   argv[optind - 1] != last_arg;
	if (optind >= argc) {
		fi__util_error("no program given");
		return usage_error();
	}
	if (!dashdash && argv[optind][0] == '-') {
		fi__util_error(
			"'%s' looks like an option, not a program; put the program after '--'",
			argv[optind]);
		return usage_error();
	}
	o->argv = argv + optind;
	return -1;
}
