#!/bin/bash
# coverage_test.sh CASE: one test of fi-run --sweep --coverage
# (docs/coverage.md). Runs in a fresh directory under $WORK; fails with
# "FAIL: why" and status 1; 77 (skip) when gcovr is not installed.
set -u
case_name=$1
T=$WORK/$case_name
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
export FI_CACHE_DIR=${FI_CACHE_DIR:-$T/cache}
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
failed=0
fail() { echo "FAIL: $*"; failed=1; }
have_gcovr() { command -v gcovr >/dev/null; }

# The line of sweep_target.c that holds TEXT (fixed string), once.
line_of() {
	local n
	n=$(grep -nF -- "$1" "$SWEEP_SOURCE" | cut -d: -f1)
	[ "$(echo "$n" | wc -w)" = 1 ] || { echo "FAIL: '$1' is on lines '$n' of sweep_target.c" >&2; exit 1; }
	echo "$n"
}

case $case_name in
report)
	have_gcovr || { echo "gcovr is not installed (ci/setup.sh)"; exit 77; }
	# A narrow plan keeps it fast: openat, write and close, one or two
	# errnos each.
	"$FI_RUN" --sweep -j2 --timeout 5 --syscalls openat,write,close \
		--errnos ENOENT,ENOSPC,EIO,EINTR --coverage cov \
		-- "$SWEEP_TARGET_COV" >out 2>err
	rc=$?
	[ "$rc" = 0 ] || fail "status $rc, not 0: $(cat err)"
	grep -E '^error paths: [0-9]+ lines reached only under faults \(baseline [0-9]+/[0-9]+ lines, with faults [0-9]+/[0-9]+\); [0-9]+ never reached$' out >/dev/null ||
		fail "no summary line in: $(cat out)"
	[ -s cov/index.html ] || fail "no cov/index.html"
	ls cov/index.sweep_target.c.*.html >/dev/null 2>&1 || fail "no per-file page: $(ls cov)"
	grep -q 'sweep_target.c' cov/index.html || fail "index.html does not name sweep_target.c"
	[ -s cov/tracefiles/baseline.json ] || fail "no baseline tracefile"
	python3 - "$(line_of 'return fail("data.txt");')" \
		"$(line_of 'return fail("data.txt: write");')" \
		"$(line_of 'return fail("data.txt: close");')" \
		"$(line_of 'continue;')" \
		"$(line_of 'return fail("log.txt");')" \
		"$(line_of 'while ((n = pread(fd, buf, 16, off)) != 16)')" \
		"$(line_of 'return memcmp(buf, "0123456789abcdef", 16)')" <<'PY' || failed=1
import json, sys
open_h, write_h, close_h, retry, log_h, pread_l, content_l = map(int, sys.argv[1:])
d = json.load(open("cov/error-paths.json"))
t = d["totals"]
def bad(msg):
    print("FAIL: " + msg); sys.exit(1)
if not t["lines_with_faults"] > t["lines_baseline"]:
    bad("coverage with faults %d is not above the baseline's %d" % (t["lines_with_faults"], t["lines_baseline"]))
if t["lines_only_under_faults"] != t["lines_with_faults"] - t["lines_baseline"]:
    bad("totals do not add up: %s" % t)
if t["lines_never_reached"] != t["lines"] - t["lines_with_faults"]:
    bad("never reached does not add up: %s" % t)
if any(r["function"] and r["function"].startswith(("__gcov", "gcov_")) for r in d["runs"]):
    bad("libgcov's own sites were swept")
def reached(r):
    return {l for f, ls in r["lines"].items() if f.endswith("/sweep_target.c") for l in ls}
def runs(fn, sc, err):
    rs = [r for r in d["runs"] if r["function"] == fn and r["syscall"] == sc and r["errno"] == err and r["when"] == "1"]
    if len(rs) != 1: bad("%d runs of %s %s in %s" % (len(rs), sc, err, fn))
    return rs[0]
want = [("save_data", "openat", "ENOENT", open_h, "handled"),
        ("write_all", "write", "ENOSPC", write_h, "handled"),
        ("save_data", "close", "EIO", close_h, "handled"),
        ("write_all", "write", "EINTR", retry, "recovered"),
        ("save_log", "openat", "ENOENT", log_h, "handled")]
for fn, sc, err, line, outcome in want:
    r = runs(fn, sc, err)
    if r["outcome"] != outcome or not r["counts"]:
        bad("%s %s in %s: %s, counts %s" % (sc, err, fn, r["outcome"], r["counts"]))
    if line not in reached(r):
        bad("%s %s in %s did not reach line %d only under the fault: %s" % (sc, err, fn, line, sorted(reached(r))))
    # Each handler belongs to its fault: no other fault's line.
    for fn2, sc2, err2, line2, _ in want:
        if line2 != line and line2 in reached(r) and not (line2 == write_h and line == retry):
            bad("%s %s in %s reached line %d, the handler of %s %s" % (sc, err, fn, line2, sc2, err2))
if not r["branches"]:
    bad("no branch reached only under a fault")
# Never reached, next to the site that leads there: the line after the
# pread (not swept here) goes with the pread's site, which has no run;
# the content check after the last close, with that close and its runs.
groups = d["never_reached_by_site"]
never = sorted(l for f, ls in d["never_reached"].items() for l in ls)
if sorted(l for g in groups for l in g["lines"]) != never:
    bad("the groups do not hold each never-reached line once: %s vs %s" % (groups, never))
def group_of(line):
    return [g for g in groups if line in g["lines"]][0]
g = group_of(pread_l + 1)
if g["line"] != pread_l or g["syscalls"] != ["pread64"] or g["runs"] or g["function"] != "read_back":
    bad("line %d is not next to the pread of line %d, unswept: %s" % (pread_l + 1, pread_l, g))
# (gcov counts the content check's return on its first line, 0 times.)
g = group_of(content_l)
if g["line"] != pread_l + 2 or g["syscalls"] != ["close"] or not g["runs"] or \
        any(r["outcome"] != "recovered" for r in g["runs"]):
    bad("line %d is not next to the close of line %d and its recovered runs: %s" % (content_l, pread_l + 2, g))
text = open("cov/error-paths.txt").read()
want_text = "after sweep_target.c:%d (read_back), pread64: not swept" % pread_l
if want_text not in text:
    bad("error-paths.txt lacks %r:\n%s" % (want_text, text))
# The baseline tracefile parses and has the file.
b = json.load(open("cov/tracefiles/baseline.json"))
if not any(f["file"].endswith("/sweep_target.c") for f in b["files"]):
    bad("baseline.json lacks sweep_target.c")
PY
	# A second report into the same DIR is refused, then forced.
	"$FI_RUN" --sweep --max-runs 1 --coverage cov -- "$SWEEP_TARGET_COV" >out2 2>err2
	[ $? = 125 ] || fail "a second report into cov/ was not refused"
	"$FI_RUN" -q --sweep --max-runs 1 --coverage cov --force -- "$SWEEP_TARGET_COV" >out2 2>err2
	[ $? = 0 ] || fail "--force: $(cat err2)"
	;;
merge)
	have_gcovr || { echo "gcovr is not installed (ci/setup.sh)"; exit 77; }
	# Two shards, each in a directory of its own as a CI job would leave
	# them, merged with --coverage: one report of every run.
	plan=(--syscalls openat,write,close --errnos ENOENT,ENOSPC,EIO)
	for k in 1 2; do
		mkdir s$k
		(cd s$k && "$FI_RUN" -q --sweep -j2 --timeout 5 "${plan[@]}" --shard $k/2 \
			--json sweep.json --coverage cov -- "$SWEEP_TARGET_COV") >out-$k 2>&1
		rc=$?
		[ "$rc" = 0 ] || fail "shard $k: status $rc: $(cat out-$k)"
	done
	"$FI_RUN" --merge s1/sweep.json s2/sweep.json --json all.json --coverage m >out 2>err
	rc=$?
	[ "$rc" = 0 ] || fail "merge: status $rc: $(cat err)"
	grep -qE '^error paths: [0-9]+ lines reached only under faults \(baseline [0-9]+/[0-9]+ lines, with faults [0-9]+/[0-9]+\); [0-9]+ never reached$' out ||
		fail "merge: no summary line in: $(cat out)"
	[ -s m/index.html ] || fail "merge: no m/index.html"
	[ -s m/error-paths.txt ] || fail "merge: no m/error-paths.txt"
	python3 - <<'PY' || failed=1
import json, sys
def bad(msg):
    print("FAIL: " + msg); sys.exit(1)
m = json.load(open("m/error-paths.json"))
shards = [json.load(open("s%d/cov/error-paths.json" % k)) for k in (1, 2)]
runs = {r["id"]: r for s in shards for r in s["runs"]}
if not all(s["runs"] for s in shards):
    bad("a shard ran nothing: %s" % [len(s["runs"]) for s in shards])
if sorted(r["id"] for r in m["runs"]) != sorted(runs):
    bad("the merged runs %s are not the shards' %s" % (sorted(r["id"] for r in m["runs"]), sorted(runs)))
for r in m["runs"]:
    if r["lines"] != runs[r["id"]]["lines"] or r["counts"] != runs[r["id"]]["counts"]:
        bad("run %d: merged lines %s, in its shard %s" % (r["id"], r["lines"], runs[r["id"]]["lines"]))
t, ts = m["totals"], [s["totals"] for s in shards]
if t["lines_with_faults"] < max(x["lines_with_faults"] for x in ts):
    bad("the merged coverage %s is below a shard's %s" % (t, ts))
if t["lines_baseline"] != ts[0]["lines_baseline"] or t["runs"] != sum(x["runs"] for x in ts):
    bad("totals: merged %s, shards %s" % (t, ts))
if json.load(open("all.json")).get("coverage") != "m":
    bad("the merged JSON report does not name m as its coverage")
PY
	# A shard swept without --coverage, a shard whose DIR is gone, and
	# the merged report into a shard's own DIR.
	# (A real sweep without --coverage also fails libgcov's own calls:
	# another plan. The report says so with "coverage": null.)
	mkdir s3 && python3 -c 'import json; r = json.load(open("s2/sweep.json")); r["coverage"] = None; json.dump(r, open("s3/sweep.json", "w"))'
	"$FI_RUN" -q --merge s1/sweep.json s3/sweep.json --json x.json --coverage m3 >out 2>err
	[ $? = 125 ] || fail "a shard without --coverage: status not 125"
	grep -qxF "fi-run: --merge --coverage: s3/sweep.json comes from a sweep without --coverage; sweep every shard with --coverage DIR" err ||
		fail "a shard without --coverage: $(cat err)"
	mv s2/cov s2/gone
	"$FI_RUN" -q --merge s1/sweep.json s2/sweep.json --json x.json --coverage m4 >out 2>err
	[ $? = 125 ] || fail "a shard's DIR gone: status not 125"
	grep -qxF "fi-run: --merge --coverage: the coverage of s2/sweep.json is not found: cov/tracefiles holds no baseline.json, beside the report or here; keep each shard's --coverage DIR beside its report" err ||
		fail "a shard's DIR gone: $(cat err)"
	mv s2/gone s2/cov
	"$FI_RUN" -q --merge s1/sweep.json s2/sweep.json --json x.json --coverage s2/cov --force >out 2>err
	[ $? = 125 ] || fail "into a shard's DIR: status not 125"
	grep -qxF "fi-run: --merge --coverage: the coverage of s2/sweep.json is cov, where the merged report goes; give --coverage another directory" err ||
		fail "into a shard's DIR: $(cat err)"
	;;
signals)
	have_gcovr || { echo "gcovr is not installed (ci/setup.sh)"; exit 77; }
	# The planted crash (mmap ENOMEM) and hang (pread EIO) end their runs
	# on a signal: a program that exports __gcov_dump still gives their
	# counts, and the hang's run reaches the loop's body; one that does
	# not gives none, as before.
	plan=(--syscalls mmap,pread64 --errnos ENOMEM,EIO --timeout 2)
	"$FI_RUN" -q --sweep -j2 "${plan[@]}" --coverage dump -- "$SWEEP_TARGET_COVDUMP" >out 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "exporting: status $rc, not 1 (a crash and a hang): $(cat out)"
	"$FI_RUN" -q --sweep -j2 "${plan[@]}" --coverage plain -- "$SWEEP_TARGET_COV" >out2 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "not exporting: status $rc, not 1: $(cat out2)"
	python3 - "$(line_of 'while ((n = pread(fd, buf, 16, off)) != 16)')" <<'PY' || failed=1
import json, sys
pread_l = int(sys.argv[1])
def bad(msg):
    print("FAIL: " + msg); sys.exit(1)
def runs(d):
    out = {}
    for r in d["runs"]:
        if r["outcome"] in ("crash", "hang") and r["when"] == "1":
            out[r["outcome"]] = r
    if set(out) != {"crash", "hang"}:
        bad("no crash and hang runs: %s" % [(r["syscall"], r["errno"], r["outcome"]) for r in d["runs"]])
    return out
dump = json.load(open("dump/error-paths.json"))
plain = json.load(open("plain/error-paths.json"))
for k, r in runs(dump).items():
    if not r["counts"]:
        bad("exporting: the %s run left no counts" % k)
h = runs(dump)["hang"]
if pread_l + 1 not in {l for f, ls in h["lines"].items() if f.endswith("/sweep_target.c") for l in ls}:
    bad("exporting: the hang run did not reach line %d, the loop's body: %s" % (pread_l + 1, h["lines"]))
if dump["totals"]["runs_without_counts"] != 0:
    bad("exporting: runs without counts: %s" % dump["totals"])
for k, r in runs(plain).items():
    if r["counts"]:
        bad("not exporting: the %s run has counts (libfi changed a program that does not export __gcov_dump?)" % k)
PY
	;;
bad_input)
	expect() { # STATUS MESSAGE ARGS...
		local want=$1 msg=$2
		shift 2
		"$FI_RUN" "$@" >out 2>err
		rc=$?
		[ "$rc" = "$want" ] || fail "$*: status $rc, not $want"
		grep -qF -- "$msg" err || fail "$*: no '$msg' in: $(cat err)"
	}
	expect 125 "fi-run: --coverage: $SWEEP_TARGET was not built with --coverage (no .gcno file found for it); rebuild it with --coverage when compiling and linking, for example gcc -O0 -g --coverage -o prog prog.c, or cmake -DCMAKE_C_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage" \
		--sweep --coverage c1 -- "$SWEEP_TARGET"
	[ -e c1 ] && fail "c1 was made for a program without --coverage"
	# gcovr missing: a PATH without it (fi-run needs nothing else there).
	PATH=/nonexistent "$FI_RUN" --sweep --coverage c2 -- "$SWEEP_TARGET_COV" >out 2>err
	rc=$?
	[ "$rc" = 125 ] || fail "without gcovr: status $rc, not 125"
	grep -qxF "fi-run: --coverage needs gcovr, which is not on PATH; install the Debian package gcovr (apt-get install gcovr) or pip install gcovr" err ||
		fail "without gcovr: $(cat err)"
	mkdir full && touch full/old
	if have_gcovr; then
		expect 125 "fi-run: --coverage: full exists and is not empty; give a new or empty directory, or add --force to write the report over what is there" \
			--sweep --coverage full -- "$SWEEP_TARGET_COV"
		touch afile
		expect 125 "fi-run: --coverage: afile exists and is not a directory" \
			--sweep --coverage afile -- "$SWEEP_TARGET_COV"
	fi
	expect 125 "fi-run: --force needs --coverage DIR" --sweep --force -- true
	expect 125 "need --sweep" --coverage c3 -- true
	expect 125 "fi-run: --coverage needs a directory name" --sweep --coverage '' -- true
	;;
*)
	echo "unknown case $case_name"
	exit 2
	;;
esac
exit $failed
