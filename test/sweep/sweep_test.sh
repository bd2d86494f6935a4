#!/bin/bash
# sweep_test.sh CASE: one test of fi-run --sweep (docs/sweep.md). Runs in
# a fresh directory under $WORK; fails with "FAIL: why" and status 1.
set -u
case_name=$1
T=$WORK/$case_name
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
export FI_CACHE_DIR=${FI_CACHE_DIR:-$T/cache}
# The sweep's scratch dirs go here: the test sees them, and what is left.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
failed=0
fail() { echo "FAIL: $*"; failed=1; }
# jq-free JSON queries: python3 is a build dependency.
py() { python3 -c "$@"; }

# sweep ARGS...: status in $rc, the table in out, stderr in err.
sweep() {
	"$FI_RUN" --sweep "$@" >out 2>err
	rc=$?
}

case $case_name in
planted)
	# Each PLANT mark of sweep_target.c is found at its line with its
	# class, and nothing else is bad: the correct handlers give no alarm.
	sweep -j2 --timeout 2 --json r.json --junit r.xml -- "$SWEEP_TARGET"
	[ "$rc" = 1 ] || fail "status $rc, not 1: $(cat err)"
	grep -n 'PLANT: ' "$SWEEP_SOURCE" | sed 's/^\([0-9]*\):.*PLANT: \([a-z]*\).*/\1 \2/' >planted
	[ "$(wc -l <planted)" = 4 ] || fail "expected 4 planted marks"
	py '
import json, sys
r = json.load(open("r.json"))
want = {}
for l in open("planted"):
    line, cls = l.split(); want[int(line)] = cls
bad = ("crash", "hang", "sanitizer", "ignored")
found = {}
for run in r["runs"]:
    if run["outcome"] not in bad:
        continue
    where = "%s:%s" % ((run["file"] or "?").rsplit("/", 1)[-1], run["line"])
    if run["line"] not in want or not where.startswith("sweep_target.c:"):
        print("FAIL: false alarm: %s %s %s at %s (%s)" % (run["outcome"], run["syscall"], run["errno"], where, run["detail"])); sys.exit(1)
    if want[run["line"]] != run["outcome"]:
        print("FAIL: line %d is %s, not %s" % (run["line"], run["outcome"], want[run["line"]])); sys.exit(1)
    found[run["line"]] = 1
for line, cls in want.items():
    if line not in found:
        print("FAIL: the planted %s at line %d was not found" % (cls, line)); sys.exit(1)
s = r["summary"]
for k in ("handled", "recovered"):
    if s[k] == 0: print("FAIL: no %s run" % k); sys.exit(1)
if s["failing"] != sum(1 for x in r["runs"] if x["outcome"] in bad):
    print("FAIL: summary failing %d" % s["failing"]); sys.exit(1)
# A transient errno that recovered was tried again as a streak.
if not any(x["when"] == "1..16" and x["outcome"] == "recovered" for x in r["runs"]):
    print("FAIL: no streak run after a recovered EINTR"); sys.exit(1)
for k in ("exit", "stdout", "./data.txt"):
    if k != "exit" and k not in r["baseline"]["outputs"]:
        print("FAIL: baseline has no digest of %s" % k); sys.exit(1)
' || failed=1
	# The JUnit file is well-formed, one testcase per run, failures as
	# the summary says, a repro in each.
	py '
import json, sys, xml.etree.ElementTree as ET
r = json.load(open("r.json"))
t = ET.parse("r.xml").getroot()
cases = t.findall("./testsuite/testcase")
if len(cases) != len(r["runs"]): print("FAIL: %d testcases for %d runs" % (len(cases), len(r["runs"]))); sys.exit(1)
fails = t.findall("./testsuite/testcase/failure")
if len(fails) != r["summary"]["failing"] or int(t.get("failures")) != len(fails): print("FAIL: failures"); sys.exit(1)
if any("repro: fi-run -r " not in (c.find("system-out").text or "") for c in cases): print("FAIL: a testcase without repro"); sys.exit(1)
' || failed=1
	# The table: worst first, file:line and function, the repro.
	head -2 out | grep -q '^crash *sweep_target.c:[0-9]* *scratch_page *mmap *ENOMEM' || fail "the table does not start with the crash: $(head -3 out)"
	grep -q "^ *repro: fi-run -r 'pread64 site=sweep_target.c:[0-9]* when=1 error=EIO' -- " out || fail "no repro for the hang"
	# Each repro line, pasted (with this build's fi-run), gives its run's
	# outcome again: the crash crashes, the sanitizer report comes back,
	# the ignored error exits 0. Their sites are FILE:LINE.
	py '
import json
for x in json.load(open("r.json"))["runs"]:
    if x["outcome"] in ("crash", "sanitizer", "ignored") and x["when"] == "1":
        print(x["outcome"], x["line"], x["repro"])
' >repros
	[ "$(wc -l <repros)" -ge 3 ] || fail "repros: $(cat repros)"
	while read -r outcome line cmd; do
		case $cmd in
		"fi-run -r '"*" site=sweep_target.c:$line "*) ;;
		*) fail "the repro does not name sweep_target.c:$line: $cmd" ;;
		esac
		(cd "$T" && eval "\"\$FI_RUN\" -q ${cmd#fi-run }" >/dev/null 2>rerr)
		r2=$?
		case $outcome in
		crash) [ "$r2" = 139 ] || fail "pasted crash repro exits $r2: $cmd" ;;
		sanitizer) grep -q "runtime error" rerr || fail "pasted sanitizer repro: $(cat rerr)" ;;
		ignored) [ "$r2" = 0 ] || fail "pasted ignored repro exits $r2: $cmd" ;;
		esac
	done <repros
	# The crash's repro, pasted, crashes (the rule by site works).
	rule=$(py 'import json; print([x["rule"] for x in json.load(open("r.json"))["runs"] if x["outcome"] == "crash"][0])')
	(cd "$T" && "$FI_RUN" -q -r "$rule" -- "$SWEEP_TARGET" >/dev/null 2>&1)
	r2=$?
	[ "$r2" = 139 ] || fail "the crash repro exits $r2, not 139"
	# Hung groups were killed (no process works in the sweep's scratch
	# dirs), and the scratch dirs are gone.
	ls -l /proc/[0-9]*/cwd 2>/dev/null | grep -q "$TMPDIR/" && fail "a run outlived the sweep"
	[ -z "$(ls "$TMPDIR")" ] || fail "scratch left: $(ls "$TMPDIR")"
	;;
shards)
	# --shard K/N slices cover the plan exactly once; --merge joins them
	# into the whole sweep's report.
	args=(--timeout 2 --syscalls openat,write,close,symlink --max-runs 12)
	# (A relative program path works too: each run starts elsewhere.)
	cp "$SWEEP_TARGET" ./sweep_target
	sweep "${args[@]}" --json all.json -- ./sweep_target
	[ "$rc" = 0 ] || fail "the whole plan: status $rc: $(cat err)"
	for k in 1 2 3; do
		sweep "${args[@]}" --shard $k/3 --json s$k.json -- "$SWEEP_TARGET"
		[ "$rc" = 0 ] || fail "shard $k/3: status $rc: $(cat err)"
	done
	py '
import json, sys
a = json.load(open("all.json"))
ids = sorted(x["id"] for x in a["runs"] if x["id"] < a["plan_size"])
if a["plan_size"] != 12 or ids != list(range(12)): print("FAIL: plan %d, ids %s" % (a["plan_size"], ids)); sys.exit(1)
seen = []
for k in (1, 2, 3):
    s = json.load(open("s%d.json" % k))
    if s["plan_size"] != 12: print("FAIL: shard %d plan %d" % (k, s["plan_size"])); sys.exit(1)
    seen += [x["id"] for x in s["runs"] if x["id"] < 12]
if sorted(seen) != ids: print("FAIL: the shards hold %s" % sorted(seen)); sys.exit(1)
' || failed=1
	"$FI_RUN" --merge s1.json s2.json s3.json --json m.json --junit m.xml >mout 2>merr
	[ "$?" = 0 ] || fail "merge: $(cat merr)"
	py '
import json, sys
a, m = json.load(open("all.json")), json.load(open("m.json"))
key = lambda r: sorted((x["id"], x["rule"], x["outcome"]) for x in r["runs"])
if key(a) != key(m): print("FAIL: the merged report differs from the whole sweep"); sys.exit(1)
if a["summary"] != m["summary"]: print("FAIL: summaries differ"); sys.exit(1)
' || failed=1
	"$FI_RUN" --merge s1.json s1.json --json m2.json >/dev/null 2>merr
	[ "$?" = 125 ] || fail "a shard merged twice is accepted"
	grep -q 'is in two reports' merr || fail "merge twice: $(cat merr)"
	"$FI_RUN" --merge s1.json s2.json >/dev/null 2>merr
	grep -q 'a shard is missing' merr || fail "a missing shard is not said: $(cat merr)"
	;;
accept)
	# --write-accept records today's failures; --accept then passes.
	args=(-j2 --timeout 2 --syscalls pwrite64,mmap,openat)
	sweep "${args[@]}" --write-accept acc.txt -- "$SWEEP_TARGET"
	[ "$rc" = 0 ] || fail "--write-accept: status $rc"
	grep -q '^ignored pwrite64 ENOSPC sweep_target.c:[0-9]* ' acc.txt || fail "acc.txt: $(cat acc.txt)"
	grep -q '^crash mmap ENOMEM sweep_target.c:' acc.txt || fail "no crash in acc.txt"
	sweep "${args[@]}" -- "$SWEEP_TARGET"
	[ "$rc" = 1 ] || fail "without --accept: status $rc, not 1"
	sweep "${args[@]}" --accept acc.txt --json r.json -- "$SWEEP_TARGET"
	[ "$rc" = 0 ] || fail "with --accept: status $rc: $(tail -3 out)"
	grep -q '\[accepted\]' out || fail "the table does not say accepted"
	# One line taken out: that run fails the sweep again.
	grep -v '^crash' acc.txt >acc2.txt
	sweep "${args[@]}" --accept acc2.txt -- "$SWEEP_TARGET"
	[ "$rc" = 1 ] || fail "with the crash not accepted: status $rc"
	# By function and with globs.
	printf 'ignored pwrite64 * save_log\ncrash * * sweep_target+0x*\n' >acc3.txt
	sweep "${args[@]}" --accept acc3.txt -- "$SWEEP_TARGET"
	[ "$rc" = 0 ] || fail "globs and functions: status $rc"
	# Bad accept files.
	sweep --accept nonexistent.txt -- "$SWEEP_TARGET"
	[ "$rc" = 125 ] || fail "unreadable accept file: status $rc"
	grep -q '^fi-run: --accept nonexistent.txt: No such file or directory$' err || fail "$(cat err)"
	printf '# ok\ncrash mmap ENOMEM\n' >bad.txt
	sweep --accept bad.txt --max-runs 1 -- "$SWEEP_TARGET"
	[ "$rc" = 125 ] || fail "a bad accept line: status $rc"
	grep -q '^bad.txt:2:1: error: expected OUTCOME SYSCALL ERRNO WHERE' err || fail "$(cat err)"
	printf 'crashed mmap ENOMEM x\n' >bad2.txt
	sweep --accept bad2.txt --max-runs 1 -- "$SWEEP_TARGET"
	grep -q "^bad2.txt:1:1: error: unknown outcome 'crashed'" err || fail "$(cat err)"
	;;
workdir)
	# --workdir is copied for each run and {} names the copy; output that
	# differs among the baselines (a pid, a time) is masked.
	mkdir in && printf 'one\ntwo\n' >in/data.txt
	prog=(sh -c 'echo "pid $$"; date +%N; cat {}/data.txt >copy.txt; cat data.txt')
	sweep --workdir in --timeout 5 --syscalls openat,dup2 --json r.json -- "${prog[@]}"
	[ "$rc" = 1 ] || fail "status $rc, not 1: $(cat err)"
	py '
import json, sys
r = json.load(open("r.json"))
if "stdout" not in r["baseline"]["masked"]: print("FAIL: the varying stdout is not masked: %s" % r["baseline"]["masked"]); sys.exit(1)
if "./copy.txt" not in r["baseline"]["outputs"]: print("FAIL: {} did not name the work dir"); sys.exit(1)
ign = [x for x in r["runs"] if x["outcome"] == "ignored"]
if not ign or not all("copy.txt" in x["detail"] or "stdout" in x["detail"] for x in ign): print("FAIL: %s" % [(x["rule"], x["detail"]) for x in ign]); sys.exit(1)
if not any(x["outcome"] == "recovered" for x in r["runs"]): print("FAIL: no run recovered: the pid line was flagged"); sys.exit(1)
' || failed=1
	[ "$(cat in/data.txt)" = "$(printf 'one\ntwo')" ] || fail "--workdir itself was changed"
	# --persistent fails every occurrence: when=1+, and no streak runs.
	"$FI_RUN" --sweep --persistent --timeout 2 --syscalls openat --max-runs 2 \
		--json p.json -- "$SWEEP_TARGET" >/dev/null 2>&1
	py '
import json, sys
r = json.load(open("p.json"))
if len(r["runs"]) != 2 or any(" when=1+ " not in x["rule"] or x["when"] != "1+" for x in r["runs"]):
    print("FAIL: --persistent runs: %s" % [x["rule"] for x in r["runs"]]); sys.exit(1)
' || failed=1
	[ -e in/copy.txt ] && fail "a run wrote into --workdir itself"
	grep -q "repro: fi-run -r 'openat site=dash+0x[0-9a-f]* when=1 error=ENOENT' -- sh -c 'echo \"pid \$\$\"; date +%N; cat ./data.txt >copy.txt; cat data.txt'" out ||
		fail "repro: $(grep repro out | head -2)"
	# Runs reuse scratch slots, but a run never sees what the last one
	# in its slot left: new files, a directory, read-only modes.
	sweep --workdir in --timeout 5 --syscalls write --json s.json -- \
		sh -c '[ "$(ls -A)" = data.txt ] || { echo LEFTOVER: $(ls -A) >&2; exit 3; }
			echo x >new.txt; mkdir sub; echo y >sub/f; chmod 500 sub .'
	py '
import json, sys
r = json.load(open("s.json"))
if len(r["runs"]) < 4: print("FAIL: %d runs" % len(r["runs"])); sys.exit(1)
bad = [x["detail"] for x in r["runs"] if "LEFTOVER" in x["detail"]]
if bad: print("FAIL: a run saw what another left: %s" % bad); sys.exit(1)
' || failed=1
	# A copy a run left as it was is kept for the next run in its slot
	# (making files is dear), but only then: each run checks that its
	# data.txt is as copied, then changes it one way of five (by a count
	# kept outside the sweep): its bytes alone, its mode, an extended
	# attribute, a second link, or its times alone.
	touch -d @1000000000 in/data.txt
	chmod 644 in/data.txt
	echo 0 >count
	pyexe=$(python3 -c 'import sys; print(sys.executable)')
	cat >check.py <<PY
import os, sys
st = os.stat("data.txt")
bad = []
if open("data.txt", "rb").read() != b"one\\ntwo\\n": bad.append("bytes")
if st.st_mode & 0o7777 != 0o644: bad.append("mode %o" % (st.st_mode & 0o7777))
if st.st_nlink != 1: bad.append("links %d" % st.st_nlink)
if st.st_mtime_ns != 1000000000 * 10**9: bad.append("mtime")
try:
    if os.listxattr("data.txt"): bad.append("xattr")
except OSError:
    pass
if os.listdir(".") != ["data.txt"]: bad.append("files %s" % os.listdir("."))
if bad:
    print("LEFTOVER", *bad, file=sys.stderr); sys.exit(3)
n = int(open("$T/count").read())
open("$T/count", "w").write(str(n + 1))
k = n % 5
if k == 0:
    with open("data.txt", "r+b") as f: f.write(b"ONE")
    os.utime("data.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
elif k == 1:
    os.chmod("data.txt", 0o600)
elif k == 2:
    try: os.setxattr("data.txt", "user.fi", b"1")
    except OSError: os.chmod("data.txt", 0o640)
elif k == 3:
    os.link("data.txt", "other")
else:
    os.utime("data.txt", ns=(5, 7))
PY
	sweep --workdir in --timeout 10 --syscalls openat --max-runs 12 \
		--json k.json -- "$pyexe" "$T/check.py"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "status $rc: $(head -c 600 err)"
	py '
import json, sys
r = json.load(open("k.json"))
bad = [x["detail"] for x in r["runs"] if "LEFTOVER" in (x["detail"] or "")]
if bad: print("FAIL: a run saw what another did to its copy: %s" % bad); sys.exit(1)
if len(r["runs"]) < 10: print("FAIL: %d runs" % len(r["runs"])); sys.exit(1)
' || failed=1
	[ "$(cat count)" -ge 10 ] || fail "only $(cat count) runs changed their copy"
	# The copies keep the files' times: a program that writes a file's
	# time (gzip, tar) gives the same output in every run.
	touch -d @1000000000 in/data.txt
	sweep --workdir in --timeout 5 --syscalls newfstatat,statx -- \
		sh -c 'test "$(stat -c %Y data.txt)" = 1000000000'
	[ "$rc" = 0 ] || fail "status $rc, not 0: a copy lost its time: $(head -c 300 err)"
	;;
site_lines)
	# site=FILE:LINE in rules: fi-run resolves it from the program's
	# debug info before the program starts (docs/rules.md).
	line=$(grep -n 'PLANT: crash' "$SWEEP_SOURCE" | cut -d: -f1)
	for where in "sweep_target.c:$line" "sweep/sweep_target.c:$line" "$SWEEP_SOURCE:$line"; do
		"$FI_RUN" -q -r "mmap site=$where when=1 error=ENOMEM" -- "$SWEEP_TARGET" >/dev/null 2>err
		r2=$?
		[ "$r2" = 139 ] || fail "site=$where: status $r2, not 139: $(cat err)"
	done
	# In a scenario file too; the next line (a comment) has no code.
	printf 'mmap when=1 site=sweep_target.c:%s error=ENOMEM\n' "$line" >ok.fi
	"$FI_RUN" -q -s ok.fi -- "$SWEEP_TARGET" >/dev/null 2>err
	[ "$?" = 139 ] || fail "site=FILE:LINE in a scenario: $(cat err)"
	next=$((line + 1))
	printf '# x\nmmap  site=sweep_target.c:%s error=ENOMEM\n' "$next" >bad.fi
	"$FI_RUN" -s bad.fi -- "$SWEEP_TARGET" >/dev/null 2>err
	[ "$?" = 125 ] || fail "a line without code: status not 125"
	grep -qx "bad.fi:2:12: error: no code at sweep_target.c:$next in $SWEEP_TARGET; nearest lines with code: $line, [0-9]*" err ||
		fail "a line without code: $(cat err)"
	"$FI_RUN" -r 'mmap site=nope.c:3 error=ENOMEM' -- "$SWEEP_TARGET" >/dev/null 2>err
	[ "$?" = 125 ] || fail "an unknown file: status not 125"
	grep -qx "<rule>:1:11: error: no code at nope.c:3 in $SWEEP_TARGET: no source file nope.c in its debug info or that of the libraries it links (a library loaded with dlopen() is searched in the program's directory tree, or with --lib PATH)" err ||
		fail "an unknown file: $(cat err)"
	# Plain libfi, without fi-run, refuses it with the reason.
	libfi=$(dirname "$FI_RUN")/../libfi/libfi.so
	LD_PRELOAD=$libfi FI_RULES="mmap site=sweep_target.c:$line error=ENOMEM" "$SWEEP_TARGET" >/dev/null 2>err
	[ "$?" = 125 ] || fail "libfi alone: status not 125"
	grep -q "^FI_RULES:1:11: error: site=sweep_target.c:$line names a source line, which only fi-run turns into code addresses" err ||
		fail "libfi alone: $(cat err)"
	;;
debuglink)
	# Separate debug info named by .gnu_debuglink (here in .debug/ beside
	# the program) is found, checked by build id, or by the link's CRC for
	# a program without one; another file is refused. Only local files:
	# libdw's debuginfod client is never loaded.
	line=$(grep -n 'PLANT: crash' "$SWEEP_SOURCE" | cut -d: -f1)
	mkdir .debug
	for prog in "$SWEEP_TARGET" "$SWEEP_TARGET_NOID"; do
		b=$(basename "$prog")
		cp "$prog" "$b" && objcopy --only-keep-debug "$b" ".debug/$b.debug" &&
			objcopy --strip-debug --add-gnu-debuglink=".debug/$b.debug" "$b" ||
			{ fail "objcopy $b"; continue; }
		LD_DEBUG=files "$FI_RUN" -q -r "mmap site=sweep_target.c:$line when=1 error=ENOMEM" -- "./$b" >/dev/null 2>err
		r2=$?
		[ "$r2" = 139 ] || fail "$b, debug info by .gnu_debuglink: status $r2, not 139: $(grep -v "^ *[0-9]*:" err)"
	done
	sweep --syscalls mmap --timeout 2 --json r.json -- ./sweep_target
	py '
import json, sys
r = json.load(open("r.json"))
if not any(x["outcome"] == "crash" and x["line"] == '"$line"' and (x["file"] or "").endswith("sweep_target.c") and x["function"] == "scratch_page" for x in r["runs"]):
    print("FAIL: the sweep of a program with .gnu_debuglink: no crash at sweep_target.c:'"$line"' in scratch_page"); sys.exit(1)
' || failed=1
	# The CRC of the link no longer matches; a debug file of another
	# build (no build id where the program has one) is no match either.
	printf x >>.debug/sweep_target_noid.debug
	cp .debug/sweep_target_noid.debug .debug/sweep_target.debug
	for b in sweep_target sweep_target_noid; do
		LD_DEBUG=files "$FI_RUN" -q -r "mmap site=sweep_target.c:$line when=1 error=ENOMEM" -- "./$b" >/dev/null 2>err
		r2=$?
		[ "$r2" = 125 ] || fail "$b, a debug file that is not its own: status $r2, not 125"
		grep -q "error: no code at sweep_target.c:$line in" err ||
			fail "$b, a debug file that is not its own: $(grep -v "^ *[0-9]*:" err)"
		! grep -q "libdebuginfod" err || fail "$b: fi-run loaded libdebuginfod"
	done
	;;
pdeath)
	# fi-run killed by SIGKILL mid-sweep (it cannot clean up): the run
	# dies with it, by its parent-death signal, and so does what the run
	# started, in its process group (fi-run's keeper kills the group).
	# The run hangs (the planted pread64 loop) and would outlive its 60 s
	# timeout. Second time, the hanging process is a child of sh.
	for how in direct "via sh"; do
		if [ "$how" = direct ]; then
			set -- "$SWEEP_TARGET"
		else
			set -- sh -c "\"\$0\"; exit \$?" "$SWEEP_TARGET"
		fi
		"$FI_RUN" --sweep --timeout 60 --syscalls pread64 --errnos EIO \
			-- "$@" >out 2>err &
		fi_pid=$!
		run= hung=
		for _ in $(seq 300); do
			# once the plan is out (the baseline runs are over), a
			# child of fi-run whose working directory is a run's,
			# and the sweep_target in it (itself, or sh's child)
			grep -q "faults planned" err &&
				for c in $(cat /proc/$fi_pid/task/*/children 2>/dev/null); do
					case $(readlink /proc/$c/cwd 2>/dev/null) in
					*/slot-*/work) run=$c ;;
					esac
				done
			if [ -n "$run" ]; then
				for c in $run $(cat /proc/$run/task/*/children 2>/dev/null); do
					[ "$(cat /proc/$c/comm 2>/dev/null)" = sweep_target ] && hung=$c
				done
			fi
			[ -n "$hung" ] && break
			sleep 0.1
		done
		if [ -z "$hung" ]; then
			fail "$how: no hanging fault run started: $(cat err)"
			kill -KILL $fi_pid
			continue
		fi
		sleep 0.3 # it is in its loop
		kill -KILL $fi_pid
		wait $fi_pid 2>/dev/null
		for p in $run $hung; do
			for _ in $(seq 50); do
				[ -d /proc/$p ] && [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" != Z ] || break
				sleep 0.1
			done
			if [ -d /proc/$p ] && [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" != Z ]; then
				fail "$how: $p ($(cat /proc/$p/comm)) outlived fi-run by 5 s"
				kill -KILL "$p"
			fi
		done
	done
	;;
fork_server)
	# Runs forked from the fork server (docs/sweep.md, "How runs start")
	# end as exec'd runs do: the same outcome for every fault.
	sweep -v -j2 --timeout 2 --json forked.json -- "$SWEEP_TARGET"
	grep -q "runs are forked from a fork server" err || fail "no fork server: $(grep fork err)"
	FI_FORK_SERVER=0 "$FI_RUN" --sweep -v -j2 --timeout 2 --json execd.json -- "$SWEEP_TARGET" >out 2>err
	grep -q "runs are forked" err && fail "FI_FORK_SERVER=0 still forks runs"
	py '
import json, sys
def runs(f):
    return {(r["syscall"], r["errno"], r["site"], r["when"]): (r["outcome"], r["exit"]) for r in json.load(open(f))["runs"]}
a, b = runs("forked.json"), runs("execd.json")
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k): print("FAIL: %s: forked %s, exec'"'"'d %s" % (k, a.get(k), b.get(k)))
    sys.exit(1)
if len(a) < 10: print("FAIL: only %d runs" % len(a)); sys.exit(1)
' || failed=1
	# {} in the arguments: each run has its own, so every run is exec'd.
	sweep -v --max-runs 2 -- "$SWEEP_TARGET" {}
	grep -q "runs are forked" err && fail "a run with {} was forked"
	# fi-run killed mid-sweep: the server and the hanging run die too.
	# Only this test's processes count: their directory is in $TMPDIR
	# (other tests run sweep_target at the same time).
	mine() {
		for p in $(pgrep -f "^$SWEEP_TARGET( |\$)"); do
			case $(readlink "/proc/$p/cwd" 2>/dev/null) in
			"$TMPDIR"/*) echo "$p" ;;
			esac
		done
	}
	"$FI_RUN" --sweep -q -j2 --timeout 100 -- "$SWEEP_TARGET" >/dev/null 2>&1 &
	fi_run_pid=$!
	sleep 6
	before=$(mine | wc -l)
	kill -9 $fi_run_pid
	wait $fi_run_pid 2>/dev/null
	sleep 1
	[ "$before" -ge 2 ] || fail "only $before sweep_target processes mid-sweep: no hang run to test with"
	left=$(mine)
	[ -z "$left" ] || { fail "sweep_target processes outlived fi-run: $left"; kill -9 $left; }
	;;
dlopen)
	# site=FILE:LINE in a library the program loads with dlopen(): found
	# in the program's directory tree (plugins/ under it), or by --lib;
	# elsewhere, refused with the hint. The sweep names such a site by
	# its function and line, and its repro carries --lib.
	line=$(grep -n 'SITE: plugin write' "$DLOPEN_SOURCE" | cut -d: -f1)
	rule="write site=dlopen_plugin.c:$line error=EIO"
	"$FI_RUN" -q -r "$rule" -- "$DLOPEN_MAIN" "$DLOPEN_PLUGIN" >out 2>err
	rc=$?
	[ "$rc" = 1 ] && grep -q "plugin: write: Input/output error" err ||
		fail "in the program's tree: status $rc: $(cat err)"
	mkdir bin lib
	cp "$DLOPEN_MAIN" bin/ && cp "$DLOPEN_PLUGIN" lib/ || fail "cp"
	plugin=$PWD/lib/$(basename "$DLOPEN_PLUGIN")
	"$FI_RUN" -q -r "$rule" -- bin/dlopen_main "$plugin" >out 2>err
	rc=$?
	[ "$rc" = 125 ] || fail "out of the tree: status $rc, not 125"
	grep -qF "error: no code at dlopen_plugin.c:$line in bin/dlopen_main: no source file dlopen_plugin.c in its debug info or that of the libraries it links (a library loaded with dlopen() is searched in the program's directory tree, or with --lib PATH)" err ||
		fail "out of the tree: $(cat err)"
	for lib in lib "$plugin"; do
		"$FI_RUN" -q --lib "$lib" -r "$rule" -- bin/dlopen_main "$plugin" >out 2>err
		rc=$?
		[ "$rc" = 1 ] && grep -q "plugin: write: Input/output error" err ||
			fail "--lib $lib: status $rc: $(cat err)"
	done
	"$FI_RUN" -q --lib nope -r "$rule" -- bin/dlopen_main "$plugin" >out 2>err
	rc=$?
	[ "$rc" = 125 ] && grep -qF "fi-run: --lib nope: No such file or directory" err ||
		fail "--lib nope: status $rc: $(cat err)"
	for opt in "" "--lib lib"; do
		# shellcheck disable=SC2086
		sweep $opt --syscalls write --timeout 5 --json r.json -- bin/dlopen_main "$plugin"
		py '
import json, sys
r = json.load(open("r.json"))
runs = [x for x in r["runs"] if x["function"] == "plugin_save"]
if not runs or any(x["line"] != '"$line"' or not x["file"].endswith("dlopen_plugin.c") for x in runs):
    print("FAIL: '"$opt"': no run at dlopen_plugin.c:'"$line"' in plugin_save"); sys.exit(1)
want = "fi-run --lib lib -r \x27write site=dlopen_plugin.c:'"$line"' " if "'"$opt"'" else "fi-run -r \x27write site=libsweep_plugin.so+0x"
if not runs[0]["repro"].startswith(want):
    print("FAIL: '"$opt"': repro " + runs[0]["repro"]); sys.exit(1)
open("repro", "w").write(runs[0]["repro"])
' || failed=1
		r=$(cat repro 2>/dev/null)
		eval "\"\$FI_RUN\" -q${r#fi-run}" >out 2>err
		rc=$?
		[ "$rc" = 1 ] && grep -q "plugin: write:" err ||
			fail "$opt: the pasted repro: status $rc: $(cat err)"
		rm -f repro
	done
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
	expect 125 "fi-run: --shard: '3/2': K must be from 1 to N, and N at least 1" --sweep --shard 3/2 -- true
	expect 125 "fi-run: --shard: '0/4': K must be from 1 to N" --sweep --shard 0/4 -- true
	expect 125 "fi-run: --shard: 'x' is not K/N" --sweep --shard x -- true
	expect 125 "fi-run: -j: '0' is not a number of jobs" --sweep -j 0 -- true
	expect 125 "fi-run: --timeout: 'abc' is not a number of seconds" --sweep --timeout abc -- true
	expect 125 "fi-run: --max-runs: '-1' is not a number" --sweep --max-runs -1 -- true
	expect 125 "fi-run: --syscalls: unknown syscall 'wirte'; did you mean 'write'?" --sweep --syscalls wirte -- true
	expect 125 "fi-run: --errnos: unknown errno 'ENOSPACE'; did you mean 'ENOSPC'?" --sweep --errnos ENOSPACE -- true
	expect 125 "fi-run: --syscalls: unknown syscall 'qwertyuiop'" --sweep --syscalls qwertyuiop -- true
	expect 125 "need --sweep" --shard 1/2 -- true
	expect 125 "cannot be combined with them" --sweep -r 'write error=EIO' -- true
	expect 125 "fi-run: --sweep: the program exits 3 without any fault" --sweep -- sh -c 'echo oops >&2; exit 3'
	grep -q '^oops$' err || fail "the failing baseline's stderr is not shown"
	expect 125 "killed by signal 6 (SIGABRT) without any fault" --sweep -- sh -c 'kill -ABRT $$'
	expect 125 "did not end within 1 s without any fault" --sweep --timeout 1 -- sleep 5
	expect 125 "did not end within 0.5 s without any fault" --sweep --timeout 0.5 -- sleep 5
	expect 127 "no-such-program" --sweep -- no-such-program
	# merge: not a report, different commands.
	echo '{"x":1}' >x.json
	expect 125 "x.json is not the JSON report of fi-run --sweep" --merge x.json
	echo '{' >y.json
	expect 125 "y.json:" --merge y.json
	# one that cannot be read: said plainly, without a line and column
	expect 125 "no.json: error: cannot read: No such file or directory" --merge no.json
	mkdir -p adir.json
	expect 125 "adir.json: error: cannot read: Is a directory" --merge adir.json
	"$FI_RUN" --sweep --max-runs 1 --json a.json -- true >/dev/null 2>&1
	"$FI_RUN" --sweep --max-runs 1 --json b.json -- sh -c true >/dev/null 2>&1
	expect 125 "a.json and b.json are reports of different commands" --merge a.json b.json
	expect 125 "--merge needs the JSON reports" --merge
	;;
escape)
	# A run that leaves a process outside its process group and session
	# (a daemon's fork, setsid, fork): nothing of it is left once the
	# sweep ends, with forked or exec'd runs, at -j1 and -j2, nor a few
	# seconds after fi-run is SIGKILLed mid-run (docs/sweep.md, "What a
	# run leaves behind"). Only this case's processes are counted: their
	# argv carries a marker of its own.
	marker=fi-escape-$$-$RANDOM
	left() { # the live processes that carry the marker
		local d a
		for d in /proc/[0-9]*; do
			mapfile -d '' -t a 2>/dev/null <"$d/cmdline" || continue
			[ "${a[0]:-}" = "$marker" ] ||
				{ [ "${a[0]:-}" = "$ESCAPE_TARGET" ] && [ "${a[2]:-}" = "$marker" ]; } ||
				{ [ "${a[0]:-}" = gpg-agent ] && [[ "${a[2]:-}" = *"$marker" ]]; } ||
				continue
			echo "${d#/proc/}"
		done
	}
	none_left() { # WHAT: fails unless none is left within 5 s
		local l
		for _ in $(seq 50); do
			l=$(left)
			[ -z "$l" ] && return 0
			sleep 0.1
		done
		fail "$1: left running: $(for p in $l; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
		kill -KILL $l 2>/dev/null
	}
	for how in exec fork; do
		for server in 1 0; do
			for j in 1 2; do
				FI_FORK_SERVER=$server sweep -j$j --timeout 10 \
					--json r.json -- "$ESCAPE_TARGET" $how "$marker"
				[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "$how server=$server -j$j: status $rc: $(cat err)"
				py 'import json; assert len(json.load(open("r.json"))["runs"]) >= 3' ||
					fail "$how server=$server -j$j: too few runs"
				none_left "$how server=$server -j$j"
			done
		done
	done
	# An outcome is the run's own: a daemon it leaves is no hang, and
	# the run that only leaves one is recovered (its output is the same).
	FI_FORK_SERVER=0 sweep --timeout 10 --json r.json --syscalls write \
		-- "$ESCAPE_TARGET" exec "$marker"
	py '
import json
runs = json.load(open("r.json"))["runs"]
assert runs and all(r["outcome"] != "hang" for r in runs), runs' ||
		fail "a leftover made a hang: $(cat out)"
	none_left "outcomes"
	# A run killed by its timeout (here the first, which makes the
	# sweep give up): its leftover goes with its group.
	sweep --timeout 1 -- "$ESCAPE_TARGET" exec "$marker" 300
	[ "$rc" = 125 ] || fail "timeout: status $rc, not 125: $(cat err)"
	none_left "timeout"
	# fi-run killed mid-run, while the run's leftover lives.
	for how in exec fork; do
		"$FI_RUN" --sweep --timeout 60 -- "$ESCAPE_TARGET" $how "$marker" 2 \
			>out 2>err &
		fi_pid=$!
		for _ in $(seq 100); do
			[ -n "$(left | grep -vx "$fi_pid")" ] && break
			sleep 0.05
		done
		[ -n "$(left)" ] || fail "$how: no leftover seen: $(cat err)"
		kill -KILL $fi_pid
		wait $fi_pid 2>/dev/null
		none_left "$how, fi-run SIGKILLed"
	done
	# A real daemon: gpg-agent --daemon forks, and its child calls
	# setsid. Its home is not the run's directory: an agent ends by
	# itself when its socket is removed.
	if command -v gpg-agent >/dev/null; then
		mkdir -m 700 "$T/gnupg-$marker"
		sweep --timeout 10 --max-runs 20 -- gpg-agent --homedir "$T/gnupg-$marker" --daemon
		[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "gpg-agent: status $rc: $(cat err)"
		none_left "gpg-agent"
	fi
	;;
*)
	echo "unknown case $case_name"
	exit 2
	;;
esac
exit $failed
