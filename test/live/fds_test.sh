#!/usr/bin/env bash
# fds_test.sh: fi's own fds (the trace, the report) against programs that
# close or replace every fd they did not open, then reuse the numbers.
# Under `fi-run --record T -r 'getppid retval=7'`, each case must:
#   - behave as bare (exit 0, the program's files hold only its data);
#   - let the rule fire (the report reached fi-run: "fired N times");
#   - leave a trace of whole JSON records that holds the program's own
#     calls made after it closed everything, and none of its data.
#
# And a trace that cannot be written is an error, never a silent loss:
#   devfull  --record /dev/full: status 125, the reason said;
#   fullfs   a trace on a full file system (a 64 KiB tmpfs; needs root):
#            status 125, the lost records counted, no record cut short,
#            and the program's own output as bare.
#
#   fds_test.sh FI_RUN T_FDS CASE     CASE: a t_fds mode, bash, python,
#                                     devfull or fullfs
set -uo pipefail

fi_run=$(realpath "$1") t_fds=$(realpath "$2") case=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-fds.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0

bad()
{
	echo "FAIL ($case): $*"
	fail=1
}

# trace_ok FILE MIN_OPENS REGEX: every line a JSON record, at least
# MIN_OPENS openat records of paths that REGEX matches.
trace_ok()
{
	python3 - "$@" <<'EOF' || fail=1
import json, re, sys
path, want, pat = sys.argv[1], int(sys.argv[2]), re.compile(sys.argv[3])
opens = 0
data = open(path, "rb").read()
if data and not data.endswith(b"\n"):
    print("FAIL: the trace ends in a partial record"); sys.exit(1)
for n, line in enumerate(data.decode().splitlines(), 1):
    try:
        r = json.loads(line)
    except ValueError:
        print("FAIL: trace line %d is not a record: %r" % (n, line[:80])); sys.exit(1)
    if "seq" not in r or "name" not in r:
        print("FAIL: trace line %d is not a syscall record: %r" % (n, line[:80])); sys.exit(1)
    if r["name"] == "openat" and pat.match(r.get("path", "")):
        opens += 1
if opens < want:
    print("FAIL: the trace holds %d openat records of %s, expected at least %d" % (opens, pat.pattern, want))
    sys.exit(1)
EOF
}

run_fi()
{
	"$fi_run" --record "$work/trace" -r 'getppid retval=7' -- "$@" \
		>"$work/out" 2>"$work/err"
}

check_summary()
{
	grep -Eq 'getppid retval=7: fired [0-9]+ times?' "$work/err" ||
		bad "the rule did not fire or the report was lost: $(cat "$work/err")"
	if grep -q 'no report\|not a rule record' "$work/err"; then
		bad "the report was damaged: $(cat "$work/err")"
	fi
}

case $case in
bash)
	# bash's own fd idioms: a fixed high number for a lock file, fi's
	# numbers, and the input saved away.
	mkdir "$work/d"
	cd "$work/d" || exit 1
	script='exec 100>out100; echo hi >&100; exec 200<&0
for fd in 1000 1008 1009 1010 1012 1020; do eval "exec $fd>o$fd; echo hi >&$fd; exec $fd>&-"; done
echo "$PPID"; cat /dev/null > made; exec 100>&-'
	run_fi bash -c "$script" || bad "bash exited $? under fi-run: $(cat "$work/err")"
	[ "$(cat "$work/out")" = 7 ] || bad "bash printed '$(cat "$work/out")', not the rule's 7"
	for f in out100 o1000 o1008 o1009 o1010 o1012 o1020; do
		[ "$(cat "$f" 2>/dev/null)" = hi ] || bad "$f holds '$(head -c 200 "$f" 2>/dev/null)', not 'hi'"
	done
	check_summary
	trace_ok "$work/trace" 7 '(out100|o10[0-9][0-9]|made)$' 
	grep -q '^hi$' "$work/trace" && bad "the program's output went into the trace"
	;;
python)
	# subprocess closes every fd but 0-2 in the child (close_range) and
	# execs; the child re-opens the trace.
	command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 0; }
	mkdir "$work/d"
	run_fi python3 -c '
import os, subprocess, sys
d = sys.argv[1]
for i in range(3):
    subprocess.run(["sh", "-c", "echo data > %s/c%d" % (d, i)], close_fds=True, check=True)
fds = [os.open("%s/p%d" % (d, i), os.O_WRONLY | os.O_CREAT) for i in range(200)]
for fd in fds: os.write(fd, b"data\n"); os.close(fd)
print(os.getppid())
' "$work/d" || bad "python exited $? under fi-run: $(cat "$work/err")"
	[ "$(cat "$work/out")" = 7 ] || bad "python printed '$(cat "$work/out")', not 7"
	for f in "$work"/d/*; do
		[ "$(cat "$f")" = data ] || { bad "$f holds '$(head -c 200 "$f")'"; break; }
	done
	check_summary
	trace_ok "$work/trace" 203 "$work/d/"
	;;
devfull)
	mkdir "$work/d"
	"$fi_run" --record /dev/full -- "$t_fds" closefrom "$work/d" >"$work/out" 2>"$work/err"
	rc=$?
	[ $rc = 125 ] || bad "exit $rc, not 125: $(cat "$work/err")"
	grep -q 'No space left on device\|ENOSPC' "$work/err" || bad "the reason is not said: $(cat "$work/err")"
	;;
fullfs)
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a tmpfs"; exit 77; }
	mkdir "$work/mnt"
	mount -t tmpfs -o size=64k fi-fullfs "$work/mnt" 2>/dev/null ||
		{ echo "SKIP: cannot mount a tmpfs here"; exit 77; }
	trap 'umount "$work/mnt"; rm -rf "$work"' EXIT
	ls -R /usr/share/doc >"$work/bare.out" 2>&1
	"$fi_run" --record "$work/mnt/t" -- ls -R /usr/share/doc >"$work/out" 2>"$work/err"
	rc=$?
	[ $rc = 125 ] || bad "exit $rc, not 125: $(cat "$work/err")"
	grep -Eq 'lost [0-9]+ records \(pid [0-9]+: ENOSPC\)' "$work/err" ||
		bad "the lost records are not counted: $(cat "$work/err")"
	# Records go whole into blocks reserved first: none is cut short.
	grep -q 'partial record' "$work/err" && bad "a partial record: $(cat "$work/err")"
	[ ! -s "$work/mnt/t" ] || [ "$(tail -c 1 "$work/mnt/t" | od -An -c | tr -d ' ')" = '\n' ] ||
		bad "the trace does not end with a whole record"
	cmp -s "$work/bare.out" "$work/out" || bad "ls's output differs from bare"
	;;
*)
	mkdir "$work/bare" "$work/fi"
	"$t_fds" "$case" "$work/bare" >"$work/bare.out" 2>&1 ||
		bad "bare run failed: $(cat "$work/bare.out")"
	n=$(sed -n 's/^\([0-9]*\) files ok$/\1/p' "$work/bare.out")
	run_fi "$t_fds" "$case" "$work/fi" ||
		bad "exit $? under fi-run: $(cat "$work/out" "$work/err")"
	grep -q '^getppid: 7$' "$work/out" || bad "the rule's result did not reach the program: $(cat "$work/out")"
	m=$(sed -n 's/^\([0-9]*\) files ok$/\1/p' "$work/out")
	# fi holds two fds: a program that fills the table gets two fewer.
	[ -n "$n" ] && [ -n "$m" ] && [ "$m" -ge $((n - 2)) ] ||
		bad "the program opened $m files under fi-run, $n bare"
	check_summary
	trace_ok "$work/trace" "${m:-1}" "$work/fi/"
	;;
esac

[ $fail = 0 ] && echo "PASS ($case)"
exit $fail
