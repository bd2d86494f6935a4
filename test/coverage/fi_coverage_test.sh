#!/bin/bash
# fi_coverage_test.sh CASE: one test of coverage/fi-coverage.sh, the
# cmocka path of docs/coverage.md, on the example store's suite built with
# --coverage. Runs in a fresh directory under $WORK; fails with
# "FAIL: why" and status 1; 77 (skip) when gcovr is not installed.
set -u
case_name=$1
T=$WORK/$case_name
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
failed=0
fail() { echo "FAIL: $*"; failed=1; }
need_gcovr() { command -v gcovr >/dev/null || { echo "gcovr is not installed (ci/setup.sh)"; exit 77; }; }

# The line of store.c that holds TEXT (fixed string), once.
line_of() {
	local n
	n=$(grep -nF -- "$1" "$STORE_SOURCE/store.c" | cut -d: -f1)
	[ "$(echo "$n" | wc -w)" = 1 ] || { echo "FAIL: '$1' is on lines '$n' of store.c" >&2; exit 1; }
	echo "$n"
}

# run OUT [options] -- COMMAND: the script, its output in out and err.
run() {
	bash "$FI_COVERAGE_SH" "$@" >out 2>err
}

case $case_name in
report)
	need_gcovr
	run --build "$COV_STORE_OBJ" --out cov --root "$STORE_SOURCE" \
		--exclude '.*test_store\.c' -- "$COV_STORE"
	rc=$?
	[ "$rc" = 0 ] || fail "status $rc, not 0: $(cat err)"
	grep -qE '^lines: [0-9.]+% \([0-9]+ out of [0-9]+\)$' out || fail "no gcovr summary in: $(cat out)"
	grep -qE '^branches: [0-9.]+% ' out || fail "no branch summary in: $(cat out)"
	grep -qE '^error paths: [0-9]+ lines reached only with fi rules armed \(without rules [0-9]+/[0-9]+ lines, with them [0-9]+/[0-9]+\); [0-9]+ never reached; 6 windows$' out ||
		fail "no error-path summary in: $(cat out)"
	[ -s cov/index.html ] || fail "no cov/index.html"
	ls cov/index.store.c.*.html >/dev/null 2>&1 || fail "no page for store.c: $(ls cov)"
	[ -s cov/coverage.txt ] || fail "no cov/coverage.txt"
	grep -q 'window' cov/error-paths.txt || fail "error-paths.txt names no window"
	[ -z "$(find "$COV_STORE_OBJ" -path '*/fi-coverage/*')" ] || fail "wrote into the build directory"
	python3 - "$(line_of 'unlink(tmp);')" "$(line_of 'if (w < 0 && errno == EINTR)')" \
		"$(line_of 'if (r == 0 && fsync(fd) < 0)')" <<'PY' || failed=1
import json, sys
unlink, eintr_w, fsync = map(int, sys.argv[1:])
cont = eintr_w + 1
def bad(msg):
    print("FAIL: " + msg); sys.exit(1)
json.load(open("cov/coverage.json"))
d = json.load(open("cov/error-paths.json"))
t = d["totals"]
if t["windows"] != 6:
    bad("%d windows, not 6 (one per test that arms rules): %s" % (t["windows"], t))
if not t["lines_with_rules"] > t["lines_without_rules"]:
    bad("coverage with rules is not above the coverage without: %s" % t)
if t["lines_only_with_rules"] != t["lines_with_rules"] - t["lines_without_rules"]:
    bad("totals do not add up: %s" % t)
if t["lines_never_reached"] != t["lines"] - t["lines_with_rules"]:
    bad("never reached does not add up: %s" % t)
def window(rule):
    ws = [w for w in d["windows"] if any(r["rule"] == rule for r in w["rules"])]
    if len(ws) != 1:
        bad("%d windows armed %r: %s" % (len(ws), rule, [w["rules"] for w in d["windows"]]))
    return ws[0]
def lines(w):
    return set(w["lines"].get("store.c", []))
full = window("write when=3 error=ENOSPC")
r = full["rules"][0]
if r["function"] != "disk_full_keeps_old_file" or not (r["file"] or "").endswith("test_store.c"):
    bad("the ENOSPC rule's caller is %s, not disk_full_keeps_old_file in test_store.c" % r)
# ENOSPC on the 3rd write: the unlink of the temporary file.
if unlink not in lines(full):
    bad("the ENOSPC window did not reach unlink(tmp), line %d: %s" % (unlink, full["lines"]))
if any(f.endswith("test_store.c") for f in full["lines"]):
    bad("--exclude test_store.c was not applied: %s" % full["lines"])
fs = window("fsync when=1 error=EIO")
if not {unlink} <= lines(fs) or not any(l in lines(fs) for l in (fsync + 1,)):
    bad("the fsync window did not reach lines %d and %d: %s" % (fsync + 1, unlink, fs["lines"]))
eintr = window("fi_expect read -EINTR")
never = set(d["never_reached"].get("store.c", []))
if unlink in never or fsync + 1 in never:
    bad("lines reached under rules are called never reached: %s" % sorted(never))
if cont not in never:
    bad("write_all's continue (line %d), which no test reaches, is not never reached: %s" % (cont, sorted(never)))
PY
	;;
not_split)
	need_gcovr
	run --build "$COV_STORE_NODUMP_OBJ" --out cov --root "$STORE_SOURCE" -- "$COV_STORE_NODUMP"
	rc=$?
	[ "$rc" = 0 ] || fail "status $rc, not 0: $(cat err)"
	grep -qF "cov_store_nodump does not export __gcov_dump and __gcov_reset: its counts with rules armed are not apart from the others; link it with -Wl,--undefined=__gcov_dump" err ||
		fail "no message about the missing exports in: $(cat err)"
	grep -qE '; 0 windows$' out || fail "windows in: $(cat out)"
	[ -s cov/index.html ] || fail "no cov/index.html"
	python3 -c '
import json, sys
t = json.load(open("cov/error-paths.json"))["totals"]
if t["lines_with_rules"] != t["lines_without_rules"] or t["programs_not_split"] != 1 or t["lines"] == 0:
    print("FAIL: not split, yet: %s" % t); sys.exit(1)' || failed=1
	;;
abort)
	need_gcovr
	# The suite aborts inside a window: its status comes back, and the
	# window's counts are there (libfi writes them on SIGABRT).
	run --build "$ABORT_SUITE_OBJ" --out cov --root "$(dirname "$ABORT_SUITE_SOURCE")" -- "$ABORT_SUITE"
	rc=$?
	[ "$rc" = 134 ] || fail "status $rc, not 134 (SIGABRT): $(cat err)"
	h=$(grep -n 'HANDLER' "$ABORT_SUITE_SOURCE" | cut -d: -f1)
	python3 - "$h" <<'PY' || failed=1
import json, sys
h = int(sys.argv[1])
d = json.load(open("cov/error-paths.json"))
if len(d["windows"]) != 1:
    sys.exit("FAIL: %d windows, not 1: %s" % (len(d["windows"]), d["totals"]))
w = d["windows"][0]
if h not in w["lines"].get("abort_suite.c", []):
    sys.exit("FAIL: the window did not reach the handler, line %d: %s" % (h, w["lines"]))
PY
	;;
bad_input)
	# gcovr missing: the script is found, gcovr is not (checked first).
	mkdir empty
	PATH=$T/empty /bin/bash "$FI_COVERAGE_SH" --build "$COV_STORE_OBJ" -- true >out 2>err
	rc=$?
	[ "$rc" = 125 ] || fail "no gcovr: status $rc, not 125"
	grep -qxF "fi-coverage: gcovr is not on PATH; install the Debian package gcovr (apt-get install gcovr) or pip install gcovr" err ||
		fail "no gcovr: message: $(cat err)"
	need_gcovr
	run --build empty -- true
	rc=$?
	[ "$rc" = 125 ] || fail "no .gcno: status $rc, not 125"
	grep -qF "fi-coverage: no .gcno file under empty: the suite was not built with --coverage; add --coverage when compiling and linking" err ||
		fail "no .gcno: message: $(cat err)"
	mkdir full && touch full/old
	run --build "$COV_STORE_OBJ" --out full -- true
	rc=$?
	[ "$rc" = 125 ] || fail "full --out: status $rc, not 125"
	grep -qxF "fi-coverage: full exists and is not empty; give a new or empty directory with --out, or add --force to write the report over what is there" err ||
		fail "full --out: message: $(cat err)"
	[ -e full/old ] || fail "full --out was touched without --force"
	# --force writes over it; the suite's status is the script's.
	run --build "$COV_STORE_OBJ" --out full --force -- sh -c 'exit 3'
	rc=$?
	[ "$rc" = 3 ] || fail "--force, suite exits 3: status $rc: $(cat err)"
	[ ! -e full/old ] || fail "--force left the old file"
	[ -s full/error-paths.json ] || fail "--force: no report after a failing suite"
	run --build "$COV_STORE_OBJ" --bogus -- true
	{ [ $? = 125 ] && grep -qF "fi-coverage: unknown option '--bogus'" err; } || fail "bad option: $(cat err)"
	run --build "$COV_STORE_OBJ"
	{ [ $? = 125 ] && grep -qF "fi-coverage: no command after --" err; } || fail "no command: $(cat err)"
	;;
*)
	echo "unknown case $case_name"
	exit 2
	;;
esac
[ $failed = 0 ] && echo "PASS: $case_name"
exit $failed
