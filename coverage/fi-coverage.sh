#!/usr/bin/env bash
# fi-coverage.sh: the coverage of a test suite that uses fi (fi_fail_nth,
# fi_expect, fi_rule...), with its error paths apart: the lines the suite
# reached only while fi rules were armed, and those it never reached.
# Copy it into your project or call it from fi's tree; docs/coverage.md
# walks through it.
#
#   fi-coverage.sh [options] --build DIR -- COMMAND [ARGS...]
#
# COMMAND runs the suite (ctest --test-dir DIR, ./test_store, make check).
# DIR holds the suite's objects, built with --coverage; their .gcda files
# are deleted first, so that only this run counts. Writes, in --out:
#   index.html          gcovr's HTML report of the whole run (per file)
#   coverage.txt        gcovr's text report; coverage.json, its JSON
#   error-paths.json    the error-path view (docs/coverage.md)
#   error-paths.txt     the same, to read: each window of armed rules with
#                       the test line that armed them and the lines only
#                       it reached; the lines never reached, by function
#   tracefiles/         gcovr JSON: plain.json (no rule armed), PID-N.json
#                       (window N of process PID)
# and prints gcovr's summary and a one-line error-path summary.
#
# Options:
#   --out DIR        the report's directory (default DIR/fi-coverage)
#   --force          write over a --out that is not empty
#   --root SRC       the sources' root, as gcovr's --root (default: ., or
#                    what --config says)
#   --config FILE    a gcovr configuration file (root, filters, title...)
#   --filter REGEX   --exclude REGEX: which sources count, as in gcovr
#                    (repeatable; the default is every file under --root)
#   -j N             gcovr processes at a time (default: the cores)
#
# The split needs the suite's executables to export libgcov's
# __gcov_dump and __gcov_reset (libfi calls them when rules are armed and
# at fi_reset); link them with
#   -Wl,--undefined=__gcov_dump,--undefined=__gcov_reset
#   -Wl,--export-dynamic-symbol=__gcov_dump,--export-dynamic-symbol=__gcov_reset
# Without it the report is whole but not split, and the script says so.
#
# Exit status: the suite's, once the report is written; 125 when the
# script cannot run (bad option, no gcovr, no .gcno under DIR, --out not
# empty) or gcovr fails.
set -uo pipefail

me=fi-coverage
die() { echo "$me: $*" >&2; exit 125; }
usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }

build='' out='' force=0 root='' config='' jobs=$(nproc 2>/dev/null || echo 2)
filters=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) [ $# -ge 2 ] || die "--build needs a directory"; build=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
	--force) force=1; shift ;;
	--root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
	--config) [ $# -ge 2 ] || die "--config needs a file"; config=$2; shift 2 ;;
	--filter | --exclude)
		[ $# -ge 2 ] || die "$1 needs a regular expression"
		filters+=("$1" "$2"); shift 2 ;;
	-j) [ $# -ge 2 ] || die "-j needs a number"; jobs=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (try --help); the suite's command comes after --" ;;
	esac
done
[ -n "$build" ] || die "--build DIR is missing: the directory of the suite's objects (try --help)"
[ $# -gt 0 ] || die "no command after --: give the command that runs the suite, e.g. -- ctest --test-dir $build"
case $jobs in '' | *[!0-9]* | 0) die "-j takes a positive number, not '$jobs'" ;; esac
[ -d "$build" ] || die "--build $build: no such directory"
[ -z "$root" ] || [ -d "$root" ] || die "--root $root: no such directory"
[ -z "$config" ] || [ -f "$config" ] || die "--config $config: no such file"
[ -n "$root" ] || [ -n "$config" ] || root=.

command -v gcovr >/dev/null ||
	die "gcovr is not on PATH; install the Debian package gcovr (apt-get install gcovr) or pip install gcovr"
command -v python3 >/dev/null || die "python3 is not on PATH (gcovr needs it too)"
if [ -z "$(find "$build" -name '*.gcno' -print -quit)" ]; then
	die "no .gcno file under $build: the suite was not built with --coverage; add --coverage when compiling and linking (CMake: -DCMAKE_C_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage), rebuild, and run this again"
fi

build=$(cd "$build" && pwd)
[ -z "$root" ] || root=$(cd "$root" && pwd)
[ -z "$config" ] || config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
out=${out:-$build/fi-coverage}
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
	[ $force = 1 ] ||
		die "$out exists and is not empty; give a new or empty directory with --out, or add --force to write the report over what is there"
	rm -rf "${out:?}"/*
fi
mkdir -p "$out/windows" "$out/tracefiles" || die "cannot make $out"
out=$(cd "$out" && pwd)

# Counts from an earlier run would add up with this one's.
find "$build" -name '*.gcda' -delete

echo "$me: running: $*"
# FI_COVERAGE_SIGNALS: a test program that a crash or abort ends (and
# that no handler of its own, cmocka's included, catches) still writes
# its counts (docs/coverage.md, "Runs that a signal ends").
FI_COVERAGE_WINDOWS=$out/windows FI_COVERAGE_SIGNALS=1 "$@"
rc=$?
echo "$me: the suite exited with status $rc"

gcovr_args=()
[ -z "$config" ] || gcovr_args+=(--config "$config")
[ -z "$root" ] || gcovr_args+=(--root "$root")
gcovr_args+=("${filters[@]}")
title=()
cmd="$*"
[ ${#cmd} -le 60 ] || cmd="${cmd:0:57}..."
[ -n "$config" ] || title=(--html-title "fi-coverage: $cmd")
# gcovr looks for .gcda files below the build directory: never in the
# windows' trees, when --out is inside it.
ex_out=$(printf '%s' "$out" | sed 's/[][\.*^$+?(){}|]/\\&/g')

# One tracefile per tree: gcovr OUT.json TREE [gcovr options...]
trace() {
	local json=$1 tree=$2
	shift 2
	gcovr "${gcovr_args[@]}" "$@" --json "$json" "$tree" >"$json.log" 2>&1 ||
		{ echo "$me: gcovr failed on $tree; its output:" >&2; tail -20 "$json.log" >&2; return 1; }
	rm -f "$json.log"
}

failed=0
trace "$out/tracefiles/plain.json" "$build" --object-directory "$build" \
	--exclude-directories "$ex_out" || failed=1
for w in "$out"/windows/*/; do
	[ -d "$w" ] || continue
	w=${w%/}
	# gcov reads the notes beside the counts: link them in.
	while IFS= read -r gcda; do
		note=${gcda%.gcda}.gcno
		ln -sf "${note#"$w"}" "$note"
	done < <(find "$w" -name '*.gcda')
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
	trace "$out/tracefiles/${w##*/}.json" "$w" --object-directory "$w" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
[ $failed = 0 ] || die "gcovr failed; no report"

tracefiles=()
for t in "$out"/tracefiles/*.json; do tracefiles+=(--add-tracefile "$t"); done
gcovr "${gcovr_args[@]}" "${tracefiles[@]}" \
	--html-details "$out/index.html" "${title[@]}" \
	--json "$out/coverage.json" --txt "$out/coverage.txt" --print-summary >"$out/gcovr.log" 2>&1 ||
	{ cat "$out/gcovr.log" >&2; die "gcovr failed to write $out/index.html"; }
grep -E '^(lines|functions|branches):' "$out/gcovr.log"

python3 - "$out" "${root:-$PWD}" <<'PY' || die "the error-path view failed"
# The error-path view: lines reached in each window of armed rules and
# not without rules (plain.json), and lines no run reached.
import glob, json, os, re, subprocess, sys

out, root = sys.argv[1], sys.argv[2]
tf = os.path.join(out, "tracefiles")

def read(path):
    """{file: (lines reached, every code line, branches reached, functions)}"""
    r = {}
    for f in json.load(open(path))["files"]:
        hit, code, br = set(), set(), set()
        for l in f["lines"]:
            if l.get("gcovr/noncode") or l.get("gcovr/excluded"):
                continue
            n = l["line_number"]
            code.add(n)
            if l["count"] > 0:
                hit.add(n)
            for i, b in enumerate(l.get("branches", [])):
                if b["count"] > 0:
                    br.add("%d/%d" % (n, i))
        funcs = sorted((fn["lineno"], fn["name"]) for fn in f.get("functions", []))
        r[f["file"]] = (hit, code, br, funcs)
    return r

def key(w):
    pid, n = w.split("-")
    return (int(pid), int(n))

plain = read(os.path.join(tf, "plain.json"))
names = sorted((os.path.basename(p)[:-5] for p in glob.glob(os.path.join(tf, "*-*.json"))),
               key=key)
windows = []
code, funcs, hit_any = {}, {}, {}
for f, (hit, c, br, fn) in plain.items():
    code.setdefault(f, set()).update(c)
    hit_any.setdefault(f, set()).update(hit)
    funcs[f] = fn

def caller(text):
    """obj+0xoff -> function, file, line (addr2line; None when unknown)"""
    m = re.match(r"(.*)\+0x([0-9a-f]+)$", text)
    if not m:
        return None, None, None
    try:
        p = subprocess.run(["addr2line", "-f", "-e", m.group(1), "0x" + m.group(2)],
                           capture_output=True, text=True, timeout=30)
        fn, loc = p.stdout.splitlines()[:2]
        file, _, line = loc.rpartition(":")
        line = int(re.match(r"\d+", line).group()) if re.match(r"\d+", line) else None
        return (None if fn == "??" else fn), (file or None), line
    except (OSError, ValueError, subprocess.SubprocessError):
        return None, None, None

for w in names:
    d = read(os.path.join(tf, w + ".json"))
    rules = []
    try:
        for row in open(os.path.join(out, "windows", w + ".rules")):
            at, _, rule = row.rstrip("\n").partition("\t")
            fn, file, line = caller(at)
            rules.append({"rule": rule, "caller": at, "function": fn,
                          "file": file, "line": line})
    except OSError:
        pass
    lines, branches, n_hit = {}, {}, 0
    for f, (hit, c, br, fn) in d.items():
        code.setdefault(f, set()).update(c)
        hit_any.setdefault(f, set()).update(hit)
        funcs.setdefault(f, fn)
        p = plain.get(f, (set(), set(), set(), []))
        only = sorted(hit - p[0])
        if only:
            lines[f] = only
        bonly = sorted(br - p[2], key=lambda b: tuple(map(int, b.split("/"))))
        if bonly:
            branches[f] = bonly
        n_hit += len(hit)
    windows.append({"id": w, "pid": key(w)[0], "rules": rules,
                    "lines": lines, "branches": branches})

def function_of(f, n):
    best = None
    for start, name in funcs.get(f, []):
        if start <= n:
            best = (start, name)
    return best

never = {}
for f in sorted(code):
    miss = sorted(code[f] - hit_any.get(f, set()))
    if miss:
        never[f] = miss

only_rules = {(f, n) for w in windows for f, ls in w["lines"].items() for n in ls}
n_lines = sum(len(c) for c in code.values())
n_plain = sum(len(p[0]) for p in plain.values())
n_any = sum(len(h) for h in hit_any.values())
nodump = []
for p in glob.glob(os.path.join(out, "windows", "*.nodump")):
    nodump += [l.strip() for l in open(p) if l.strip()]
totals = {"lines": n_lines, "lines_without_rules": n_plain, "lines_with_rules": n_any,
          "lines_only_with_rules": len(only_rules),
          "lines_never_reached": sum(len(v) for v in never.values()),
          "windows": len(windows), "programs_not_split": len(nodump)}
json.dump({"fi_coverage_windows": 1, "html": "index.html", "totals": totals,
           "windows": windows, "never_reached": never,
           "not_split": sorted(set(nodump))},
          open(os.path.join(out, "error-paths.json"), "w"), indent=1)

def ranges(ls):
    r, s = [], None
    for i, n in enumerate(ls):
        if s is None:
            s = n
        if i + 1 == len(ls) or ls[i + 1] != n + 1:
            r.append(str(s) if s == n else "%d-%d" % (s, n))
            s = None
    return ", ".join(r)

def short(f):
    """a path as gcovr names it: relative to --root when under it"""
    if f and f.startswith(root.rstrip("/") + "/"):
        return f[len(root.rstrip("/")) + 1:]
    return f

with open(os.path.join(out, "error-paths.txt"), "w") as t:
    t.write("Lines reached only while fi rules were armed, by window (the rules\n"
            "armed between one fi_reset and the next), with the line that armed them:\n")
    for w in windows:
        t.write("\nwindow %s\n" % w["id"])
        for r in w["rules"]:
            where = "%s:%s" % (short(r["file"]), r["line"]) if r["file"] else r["caller"]
            t.write("  %s%s: %s\n" % (where, " (%s)" % r["function"] if r["function"] else "",
                                      r["rule"]))
        if not w["lines"]:
            t.write("    no line that a run without rules did not reach\n")
        for f, ls in sorted(w["lines"].items()):
            t.write("    %s: %s\n" % (short(f), ranges(ls)))
    t.write("\nNever reached, with or without rules:\n")
    if not never:
        t.write("  none\n")
    for f, ls in never.items():
        byfn = {}
        for n in ls:
            fn = function_of(f, n)
            byfn.setdefault(fn, []).append(n)
        for fn, fl in byfn.items():
            t.write("  %s: %s%s\n" % (short(f), ranges(fl),
                                      " (in %s, line %d)" % (fn[1], fn[0]) if fn else ""))

print("error paths: %d lines reached only with fi rules armed (without rules %d/%d lines, "
      "with them %d/%d); %d never reached; %d windows"
      % (len(only_rules), n_plain, n_lines, n_any, n_lines, totals["lines_never_reached"],
         len(windows)))
for p in sorted(set(nodump)):
    print("fi-coverage: %s does not export __gcov_dump and __gcov_reset: its counts with "
          "rules armed are not apart from the others; link it with "
          "-Wl,--undefined=__gcov_dump,--undefined=__gcov_reset,"
          "--export-dynamic-symbol=__gcov_dump,--export-dynamic-symbol=__gcov_reset"
          % p, file=sys.stderr)
PY
echo "$me: report in $out/index.html, $out/error-paths.txt and $out/error-paths.json"
exit $rc
