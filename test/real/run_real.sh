#!/usr/bin/env bash
# test/real/run_real.sh: run real software that nobody on the team wrote,
# bare and under libfi, and check that libfi changes nothing.
#
# Every check runs one command in up to four modes and compares the output
# (and exit status) of each mode with the bare run:
#   bare    no libfi
#   fi      LD_PRELOAD=libfi.so, no rules: must be fully transparent
#   trace   as fi, plus FI_TRACE=FILE (the trace must also be valid JSON Lines)
#   rule    as fi, plus a rule that never fires (getppid when=1000000
#           error=EPERM), which puts getppid on the slow path and arms the
#           rule engine. (Not plain "getppid error=EPERM": shells then see
#           $PPID = -1, and "kill $PPID" becomes kill(-1), every process.)
# The "inject" check instead runs fi-run with real faults and checks the
# program's reaction (cross-checked with strace -e inject= when present).
#
# usage: test/real/run_real.sh [--long] [--only CHECK[,CHECK...]]
#                              [--build DIR] [--modes M[,M...]] [--keep]
#   --long    also the long checks (CPython's own test suites, 200 MB files,
#             start-up timing). Without it the CI subset runs (about 1-2 min).
#   --only    run only these checks: startup sqlite jq shell coreutils inject
#             python (CI subset) and, with --long, python-long python-wide time
#   --build   the build tree holding libfi/libfi.so and cli/fi-run
#             (default: $FI_BUILD, else build-real, else build)
#   --modes   which modes to run (default bare,fi,trace,rule)
#   --keep    keep the work directory (it is printed)
#
# Exit status: 0 when every check passed (skips are fine), 1 otherwise.
# Needs: bash, coreutils, tar, gzip. Optional (checks skip without them):
# sqlite3, jq, dash, xz, strace, python3 + libpython3.11-testsuite, hyperfine.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
long=0
only=
keep=0
modes=bare,fi,trace,rule
build=${FI_BUILD:-}
while [ $# -gt 0 ]; do
	case $1 in
	--long) long=1 ;;
	--only) only=$2; shift ;;
	--only=*) only=${1#*=} ;;
	--build) build=$2; shift ;;
	--build=*) build=${1#*=} ;;
	--modes) modes=$2; shift ;;
	--modes=*) modes=${1#*=} ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run_real: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$build" ]; then
	for b in "$root/build-real" "$root/build"; do
		[ -e "$b/libfi/libfi.so" ] && { build=$b; break; }
	done
fi
case $build in /*) ;; *) build=$PWD/$build ;; esac
lib=$build/libfi/libfi.so
firun=$build/cli/fi-run
[ -e "$lib" ] || { echo "run_real: no $lib (build with: ninja -C BUILD fi fi-run)" >&2; exit 2; }

# A clean environment: no inherited fi variables, no pyenv shims.
for v in $(env | sed -n 's/^\(FI_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8 TZ=UTC
PY=/usr/bin/python3

work=$(mktemp -d "${TMPDIR:-/tmp}/fi-real.XXXXXX")
if [ "$keep" = 1 ]; then echo "work directory: $work"; else trap 'rm -rf "$work"' EXIT; fi

npass=0 nfail=0 nskip=0
failed=()
pass() { npass=$((npass + 1)); printf 'PASS  %s\n' "$*"; }
fail() { nfail=$((nfail + 1)); failed+=("$1"); printf 'FAIL  %s\n' "$*"; }
skip() { nskip=$((nskip + 1)); printf 'SKIP  %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
want() { # want CHECK: is this check selected?
	if [ -n "$only" ]; then
		case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac
	fi
	case $1 in python-long|python-wide|time) [ "$long" = 1 ] ;; *) return 0 ;; esac
}

# mode_env MODE TRACEFILE: the env(1) arguments of a mode.
mode_env() {
	case $1 in
	bare) ;;
	fi) printf '%s\n' "LD_PRELOAD=$lib" ;;
	trace) printf '%s\n' "LD_PRELOAD=$lib" "FI_TRACE=$2" ;;
	rule) printf '%s\n' "LD_PRELOAD=$lib" "FI_RULES=getppid when=1000000 error=EPERM" ;;
	esac
}

# check_trace FILE: every line is a JSON object with the fields of a record.
check_trace() {
	[ -s "$1" ] || { echo "empty trace $1"; return 1; }
	$PY - "$1" <<'EOF'
import json, sys
n = 0
for i, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="strict"), 1):
    try:
        r = json.loads(line)
    except ValueError as e:
        print("%s:%d: not JSON (%s): %.200r" % (sys.argv[1], i, e, line)); sys.exit(1)
    if i == 1 and "fi_trace" in r:
        continue  # the header of a mapped trace (docs/trace.md)
    if "\0" in line:
        print("%s:%d: NUL bytes: %.200r" % (sys.argv[1], i, line)); sys.exit(1)
    for k in ("seq", "pid", "tid", "nr", "name", "args"):
        if k not in r:
            print("%s:%d: no %r: %.200r" % (sys.argv[1], i, k, line)); sys.exit(1)
    n += 1
print(n)
EOF
}

# compare NAME NORMALIZER -- CMD...: run CMD (a shell command line, run with
# bash -c in a fresh directory $work/NAME/MODE holding a copy of nothing)
# in every mode; compare normalized stdout+stderr+status with bare.
compare() {
	local name=$1 norm=$2; shift 3
	local d=$work/$name m rc ok=1 msg=
	mkdir -p "$d"
	for m in ${modes//,/ }; do
		mkdir -p "$d/$m.dir"
		local -a e
		mapfile -t e < <(mode_env "$m" "$d/$m.trace.jsonl")
		local t0=$(date +%s.%N)
		(cd "$d/$m.dir" && env "${e[@]}" MODE_DIR="$d/$m.dir" bash -c "$*") >"$d/$m.raw" 2>&1
		rc=$?
		local t1=$(date +%s.%N)
		echo "status=$rc" >>"$d/$m.raw"
		$norm <"$d/$m.raw" >"$d/$m.out"
		printf '      %-10s %-6s %6.1fs  status=%s\n' "$name" "$m" "$(echo "$t1 - $t0" | bc)" "$rc"
		if [ "$m" = trace ]; then
			local n
			if n=$(check_trace "$d/$m.trace.jsonl"); then
				printf '      %-10s trace  %s records, valid JSON Lines\n' "$name" "$n"
			else
				ok=0; msg="$msg; bad trace: $n"
			fi
		fi
	done
	for m in ${modes//,/ }; do
		[ "$m" = bare ] && continue
		if ! cmp -s "$d/bare.out" "$d/$m.out"; then
			ok=0
			msg="$msg; $m differs from bare, first difference:
$(diff "$d/bare.out" "$d/$m.out" | head -n 12 | sed 's/^/        /')"
		fi
	done
	if [ $ok = 1 ]; then pass "$name: identical in modes $modes"; else fail "$name" "$msg"; fi
}
cat_norm() { cat; }

# ---------------------------------------------------------------- startup
if want startup; then
	out=$(FI_DEBUG=1 LD_PRELOAD=$lib /bin/true 2>&1); rc=$?
	echo "$out" | sed 's/^/      /'
	total=$(echo "$out" | sed -n 's/^fi: \([0-9]*\) patch points in \([0-9]*\) objects.*/\1/p' | tail -n1)
	if [ "$rc" != 0 ] || [ -z "$total" ]; then
		fail startup "FI_DEBUG=1 /bin/true: status $rc, no 'N patch points' line"
	elif have objdump; then
		# every syscall instruction of libc and ld.so is patched or left alone, with a reason
		bad=
		for o in libc.so.6 ld-linux-x86-64.so.2; do
			f=$(ldd /bin/true | awk -v o="$o" '$1 ~ o { print ($3 ~ /^\//) ? $3 : $1 }' | head -n1)
			n=$(objdump -d "$f" | grep -cE '^\s+[0-9a-f]+:\s+0f 05\s+syscall')
			p=$(echo "$out" | sed -n "s/^fi: patched $o: \([0-9]*\) patch points.*, \([0-9]*\) left alone/\1 \2/p")
			set -- $p
			[ -n "$p" ] && [ $(($1 + $2)) = "$n" ] || bad="$bad $o: objdump $n syscall instructions, fi '$p';"
		done
		if [ -z "$bad" ]; then pass "startup: $total patch points; libc and ld.so fully accounted for"
		else fail startup "$bad"; fi
	else
		pass "startup: $total patch points (objdump missing: counts not cross-checked)"
	fi
fi

# ---------------------------------------------------------------- sqlite
if want sqlite; then
	if ! have sqlite3; then skip "sqlite: no sqlite3"; else
	d=$work/in; mkdir -p "$d"
	awk 'BEGIN {
		srand(1)
		print "PRAGMA journal_mode=WAL;"
		print "PRAGMA synchronous=FULL;"
		print "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL, b BLOB);"
		print "CREATE INDEX t_name ON t(name);"
		for (tx = 0; tx < 100; tx++) {
			print "BEGIN;"
			for (i = 0; i < 100; i++)
				printf "INSERT INTO t(name,v,b) VALUES(%cn%d%c,%d.5,zeroblob(%d));\n", 39, int(rand()*1000), 39, int(rand()*1000000), int(rand()*200)
			print "COMMIT;"
		}
	}' >"$d/tx.sql"
	cat >"$d/q.sql" <<'EOF'
SELECT count(*), sum(v), count(DISTINCT name), sum(length(b)) FROM t;
SELECT name, count(*) FROM t GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5;
UPDATE t SET v=v*2 WHERE id%3=0;
DELETE FROM t WHERE id%7=0;
SELECT count(*), sum(v) FROM t;
SELECT count(*) FROM t WHERE name BETWEEN 'n100' AND 'n200';
PRAGMA wal_checkpoint(TRUNCATE);
PRAGMA integrity_check;
PRAGMA journal_mode;
VACUUM;
PRAGMA integrity_check;
EOF
	compare sqlite cat_norm -- "
		sqlite3 db < $d/tx.sql || exit 10
		# two writers at once: WAL locking (fcntl) and busy retries
		for w in 1 2; do
			( for i in \$(seq 1 50); do echo \"INSERT INTO t(name,v) VALUES('w\$w',\$i);\"; done |
			  sqlite3 -cmd '.timeout 10000' db ) &
		done
		wait
		sqlite3 db \"SELECT name, count(*), sum(v) FROM t WHERE name LIKE 'w%' GROUP BY name\"
		sqlite3 db \"DELETE FROM t WHERE name LIKE 'w%'\"   # their ids depend on the interleaving
		sqlite3 db < $d/q.sql"
	fi
fi

# ---------------------------------------------------------------- jq
if want jq; then
	if ! have jq; then skip "jq: no jq"; else
	d=$work/in; mkdir -p "$d"
	jq -n -c '[range(0; 20000) | {id: ., name: "user\(.)", age: (. * 7919 % 72 + 18),
		tags: (["a","b","c","d","e"][: (. % 4)]),
		score: ((. * 104729 % 10007) / 100), nested: {x: (. % 7), s: "é☃\"q\u0001"}}]' >"$d/in.json"
	compare jq cat_norm -- "
		jq -c '[.[] | select(.age > 60)] | length' $d/in.json
		jq -c 'group_by(.nested.x) | map({k: .[0].nested.x, n: length, avg: (map(.age) | add / length)})' $d/in.json
		jq -r '.[:5][] | [.id, .name, (.tags|join(\"+\")), .nested.s] | @tsv' $d/in.json
		jq -S -c 'map(.tags[]) | group_by(.) | map({(.[0]): length}) | add' $d/in.json
		jq -c --stream 'select(length==2) | .[0][-1]' $d/in.json | sort | uniq -c
		jq -n '[range(0;100000)] | map(. * 2) | add'
		jq '.[0] | to_entries' $d/in.json
		jq -r '.[] | @base64' $d/in.json | md5sum
		jq --slurp -c 'length' $d/in.json $d/in.json
		jq -e '.[] | select(.id == -1)' $d/in.json; echo \"select status=\$?\"
		echo '{\"a\":' | jq . ; echo \"parse-error status=\$?\""
	fi
fi

# ---------------------------------------------------------------- shell
if want shell; then
	d=$work/in; mkdir -p "$d"
	cat >"$d/script.sh" <<'EOF'
# POSIX shell: pipes, subshells, command substitution, jobs, traps, redirections, exec
set -u
tmp=$MODE_DIR/sh.tmp
mkdir -p "$tmp"
sleep 5 & p=$!; kill $p; wait $p; echo "killed status=$?"
trap 'echo "trap EXIT"' EXIT
trap 'echo "got USR1"' USR1
echo "pipes: $(printf '%s\n' c a b a | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
x=$(echo outer $(echo inner $(echo deepest)))
echo "cmdsubst: $x"
( cd "$tmp" && echo "subshell in $(basename "$PWD")"; exit 3 ); echo "subshell status=$?"
{ echo grp1; echo grp2 >&2; } 2>&1 | cat -n
for i in 1 2 3 4 5; do ( sleep 0.0$i; echo "bg $i" > "$tmp/bg$i" ) & done
wait
cat "$tmp"/bg* | sort
kill -USR1 $$; echo "after USR1"
echo hello > "$tmp/f"; echo world >> "$tmp/f"; cat < "$tmp/f" | wc -l
exec 3> "$tmp/fd3"; echo via-fd3 >&3; exec 3>&-; cat "$tmp/fd3"
exec 4< "$tmp/f"; read l1 <&4; read l2 <&4; exec 4<&-; echo "read: $l1 $l2"
cat <<HERE | tr a-z A-Z
heredoc $((6*7)) $(echo sub)
HERE
n=0; while [ $n -lt 200 ]; do n=$((n+1)); done; echo "loop $n"
i=0; seq 1 1000 | while read v; do i=$((i+v)); [ $v -eq 1000 ] && echo "sum $i"; done
false || echo "or-list"; true && echo "and-list"
case "abc" in a*) echo "case ok";; esac
f() { echo "func $# $*"; return 7; }; f a b c; echo "func status=$?"
sh -c 'exit 42'; echo "child status=$?"
(trap 'echo sub-trap-TERM; exit 9' TERM; pp=$(sh -c 'echo $PPID'); case $pp in ''|-*|0|1) echo "bad PPID '$pp'";; *) kill -TERM "$pp"; sleep 1;; esac); echo "sub TERM status=$?"
yes | head -n 100000 | wc -l
dd if=/dev/zero bs=64k count=64 2>/dev/null | od -An -c | tail -n 2 | tr -s ' '
printf 'exec-test\n' > "$tmp/e"; ( exec cat "$tmp/e" ); echo "after exec subshell"
ls /nonexistent-dir 2>/dev/null; echo "ls status=$?"
exec sh -c 'echo "exec replaced shell"; exit 5'
echo "not reached"
EOF
	for sh in bash dash; do
		if have $sh; then compare "shell-$sh" cat_norm -- "$sh $d/script.sh"
		else skip "shell-$sh: no $sh"; fi
	done
fi

# ---------------------------------------------------------------- coreutils
if want coreutils; then
	d=$work/in; mkdir -p "$d"
	if [ "$long" = 1 ]; then mb=200; nl=1000000; else mb=16; nl=200000; fi
	head -c ${mb}M /dev/urandom >"$d/big.bin"
	awk -v n=$nl 'BEGIN { srand(3); for (i = 0; i < n; i++) printf "%08d %s\n", int(rand()*1e8), substr("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, int(rand()*40)) }' >"$d/lines.txt"
	touch -d '2000-01-01' "$d/big.bin" "$d/lines.txt"
	cat >"$d/cu.sh" <<'EOF'
set -e
cp "$SRC/big.bin" copy.bin; cmp "$SRC/big.bin" copy.bin && echo "cp identical"
cp --reflink=never --sparse=always "$SRC/big.bin" copy2.bin; sha256sum copy2.bin | cut -c1-16
cat "$SRC/big.bin" | cp /dev/stdin copy3.bin; cmp copy3.bin "$SRC/big.bin" && echo "cp from pipe identical"
sort "$SRC/lines.txt" | sha256sum | cut -c1-16
sort -S 1M --parallel=2 -T . -k2,2 -k1,1n "$SRC/lines.txt" | sha256sum | cut -c1-16
mkdir -p tree; for dd in a b c; do mkdir -p tree/$dd/sub; for f in 1 2 3; do head -c $((f*1000)) "$SRC/big.bin" > tree/$dd/sub/f$f; done; ln -sf ../a tree/$dd/link; done
find tree | sort; find tree -type f -size +1k -newer "$SRC/big.bin" | sort | wc -l
find tree -type f -exec md5sum {} + | sort
tar czf t.tgz tree copy.bin; mkdir x; tar xzf t.tgz -C x; diff -r tree x/tree && cmp copy.bin x/copy.bin && echo "tar roundtrip ok"
tar tzvf t.tgz | awk '{print $1, $3, $6}' | sort
gzip -k -1 copy.bin; gzip -t copy.bin.gz; gunzip -c copy.bin.gz | cmp - "$SRC/big.bin" && echo "gzip ok"
if command -v xz >/dev/null; then cp "$SRC/lines.txt" l.txt; xz -T2 -1 l.txt; xz -dc l.txt.xz | cmp - "$SRC/lines.txt" && echo "xz ok"; fi
ls -la --time-style=+ tree/a/sub | awk 'NR>1 {print $1,$5,$NF}'
du -sb tree; df -P . >/dev/null && echo "df ok"
split -b 3M copy.bin part.; cat part.* | cmp - copy.bin && echo "split ok"; ls part.* | wc -l
wc -c copy.bin; md5sum < copy.bin | cut -c1-8
EOF
	compare coreutils cat_norm -- "SRC=$d bash $d/cu.sh"
fi

# ---------------------------------------------------------------- inject
# expect NAME WANT_STATUS WANT_STDERR_REGEX WANT_SUMMARY_REGEX -- CMD...
expect() {
	local name=$1 want_rc=$2 want_err=$3 want_sum=$4; shift 5
	local d=$work/inject; mkdir -p "$d"
	(cd "$d" && "$@") >"$d/$name.out" 2>"$d/$name.err"
	local rc=$? why=
	[ "$rc" = "$want_rc" ] || why="status $rc, want $want_rc;"
	grep -qE -- "$want_err" "$d/$name.err" || why="$why stderr lacks /$want_err/;"
	grep -qE -- "$want_sum" "$d/$name.err" || why="$why summary lacks /$want_sum/;"
	if [ -z "$why" ]; then pass "inject $name"
	else fail "inject $name" "$why
$(sed 's/^/        /' "$d/$name.err" | head -n 8)"; fi
}
if want inject; then
	d=$work/inject; mkdir -p "$d"
	head -c 4M /dev/urandom >"$d/big"
	printf 'line1\nline2\n' >"$d/small"
	# coreutils 9.1 cp copies with copy_file_range; refuse it (ENOSYS) so that cp falls back to read/write
	expect cp-enospc 1 "cp: error writing 'copy': No space left on device" \
		'write:error=ENOSPC:when=3: fired 1 time' -- \
		"$firun" -r 'copy_file_range error=ENOSYS' -e inject=write:error=ENOSPC:when=3 -- cp big copy
	expect cp-cfr-enospc 1 "No space left on device" 'copy_file_range error=ENOSPC: fired 1 time' -- \
		"$firun" -r 'copy_file_range error=ENOSPC' -- cp big copy
	expect cat-eacces 1 'cat: /etc/hostname: Permission denied' \
		'openat path=/etc/hostname error=EACCES: fired 1 time' -- \
		"$firun" -r 'openat path=/etc/hostname error=EACCES' -- cat /etc/hostname
	# cat retries EINTR (safe_read): same output, status 0
	expect cat-eintr 0 '' 'error=EINTR when=1..3: fired 3 times' -- \
		bash -c "'$firun' -r 'read path=*/small error=EINTR when=1..3' -- cat small | cmp - small"
	expect cp-short 0 '' 'write short=1: fired [0-9]+ times' -- \
		bash -c "head -c 300000 big > mid && '$firun' -r 'copy_file_range error=ENOSYS' -r 'write short=1' -- cp mid mid.copy && cmp mid mid.copy"
	if [ -x $PY ]; then
		expect py-import 1 "FileNotFoundError: .* '/usr/lib/python3[.0-9]*/json/__init__.py'" \
			'path=\*/json/\* error=ENOENT: fired 2 times' -- \
			"$firun" -r 'openat path=*/json/* error=ENOENT' -- $PY -c 'import json'
		# a missing .pyc: python falls back to the source
		expect py-pyc 0 '' 'path=\*.pyc error=ENOENT when=1: fired 1 time' -- \
			"$firun" -r 'openat path=*.pyc error=ENOENT when=1' -- $PY -c 'import json'
	fi
	expect never-fired 0 '' 'getppid error=EPERM: never fired \(0 matching calls\)' -- \
		"$firun" -r 'getppid error=EPERM' -- /bin/true
	if have strace; then
		# the same faults through strace: same status and message as fi-run
		expect strace-cp-enospc 1 "No space left on device" '' -- \
			strace -f -o /dev/null -e inject=copy_file_range:error=ENOSYS -e inject=write:error=ENOSPC:when=3 cp big copy
		expect strace-cat-eacces 1 'Permission denied' '' -- \
			strace -o /dev/null -e inject=openat:error=EACCES -P /etc/hostname cat /etc/hostname
	fi
fi

# ---------------------------------------------------------------- python
# pytest NAME MODULES...: CPython's own tests, per-test outcomes compared.
pytest() {
	local name=$1; shift
	if ! $PY -c 'import test.support' 2>/dev/null; then
		skip "$name: no CPython test suite (apt-get install libpython3.11-testsuite)"; return
	fi
	local d=$work/$name m ok=1 msg=
	mkdir -p "$d"
	for m in ${modes//,/ }; do
		local -a e
		mapfile -t e < <(mode_env "$m" "$d/$m.trace.jsonl")
		local t0=$(date +%s)
		(cd "$d" && env "${e[@]}" timeout 3600 $PY -m test -v --junit-xml "$d/$m.xml" ${PYTEST_IGNORE:-} "$@") >"$d/$m.log" 2>&1
		local rc=$?
		$PY - "$d/$m.xml" >"$d/$m.res" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print("no junit xml:", e); sys.exit(0)
for tc in root.iter("testcase"):
    st = "ok"
    for c in tc:
        if c.tag in ("failure", "error", "skipped"):
            st = c.tag
    print(tc.get("name"), st)
EOF
		sort -o "$d/$m.res" "$d/$m.res"
		echo "status=$rc" >>"$d/$m.res"
		printf '      %-10s %-6s %5ss  status=%s  %s\n' "$name" "$m" $(( $(date +%s) - t0 )) "$rc" \
			"$(grep -v '^status=' "$d/$m.res" | awk '{print $2}' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
	done
	for m in ${modes//,/ }; do
		[ "$m" = bare ] && continue
		if ! cmp -s "$d/bare.res" "$d/$m.res"; then
			ok=0; msg="$msg; $m differs from bare:
$(diff "$d/bare.res" "$d/$m.res" | head -n 12 | sed 's/^/        /')"
		fi
	done
	if [ $ok = 1 ]; then pass "$name ($*): same per-test outcomes"; else fail "$name" "$msg"; fi
}
if want python; then pytest python test_fcntl test_select test_poll test_pipes; fi
if want python-long; then pytest python-long test_os test_subprocess test_threading test_signal; fi
if want python-wide; then
	# VSOCK stream tests hang bare in VMs without a vsock peer (firecracker)
	PYTEST_IGNORE="-i *VSOCK*" pytest python-wide test_socket test_selectors test_mmap test_fcntl test_posix \
		test_asyncio.test_events test_asyncio.test_subprocess test_asyncio.test_unix_events
fi

# ---------------------------------------------------------------- time
if want time; then
	for cmd in /bin/true "$PY -c pass"; do
		if have hyperfine; then
			hyperfine -N -w 3 -r 20 --export-markdown "$work/hf.md" "$cmd" \
				"env LD_PRELOAD=$lib $cmd" 2>&1 | grep -E 'Time|±|faster' | sed 's/^/      /'
		else
			for m in bare fi; do
				t0=$(date +%s%N)
				for i in $(seq 20); do
					if [ $m = fi ]; then LD_PRELOAD=$lib $cmd; else $cmd; fi
				done
				echo "      $m $cmd: $(( ($(date +%s%N) - t0) / 20000000 )) ms per run"
			done
		fi
	done
	pass "time (reported only)"
fi

echo "run_real: $npass passed, $nfail failed, $nskip skipped${failed:+ (failed: ${failed[*]})}"
[ "$nfail" = 0 ]
