#!/usr/bin/env bash
# unfollowed_test.sh: an exec into an image fi cannot follow is named in
# fi-run's summary, also with -q: a static program (directly, and as a
# script's interpreter), an `env -i` child, a child whose environment
# keeps LD_PRELOAD but drops the rules, and (as root) a setuid program.
# An exec that fails, or that starts a program libfi is in, names nothing.
#
#   unfollowed_test.sh FI_RUN STATIC_PROGRAM|none
set -uo pipefail

fi_run=$(realpath "$1") static=$2
[ "$static" = none ] || static=$(realpath "$static")
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-unfollowed.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
cd "$work" || exit 1
fail=0 n=0

if [ "$static" = none ]; then
	# No static libc: a static busybox will do.
	bb=$(command -v busybox || true)
	if [ -n "$bb" ] && LC_ALL=C ldd "$bb" 2>&1 | grep -q 'not a dynamic'; then
		static=$bb
	else
		echo "SKIP: no static libc to build a static program, and no static busybox"
		exit 77
	fi
fi

# run WANT_STATUS SH_SCRIPT: runs sh -c SCRIPT under fi-run -q with a rule
# armed; stderr in e.
run()
{
	local want=$1 rc
	n=$((n + 1))
	timeout 30 "$fi_run" -q -r 'getppid retval=1' -- sh -c "$2" >o 2>e
	rc=$?
	if [ $rc != "$want" ]; then
		echo "FAIL: sh -c '$2': status $rc (expected $want); stderr: $(cat e)"
		fail=1
	fi
}

# has LINE: stderr holds exactly LINE.
has()
{
	if ! grep -qxF -- "$1" e; then
		echo "FAIL: case $n: stderr lacks: $1"
		echo "  stderr was: $(cat e)"
		fail=1
	fi
}

# none: stderr names no exec.
none()
{
	if grep -q 'not followed' e; then
		echo "FAIL: case $n: a line names an exec: $(grep 'not followed' e)"
		fail=1
	fi
}

# pid_of: the pid the line names (the sh that exec'd).
run 0 "exec $static"
has "fi-run: warning: not followed: $static (pid $(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' e)): statically linked, so libfi cannot be preloaded into it"
grep -qx 'static ran' o || { echo "FAIL: the static program did not run: $(cat o)"; fail=1; }

# Three runs of it from one shell: one line, counted.
run 0 "$static; $static; $static >/dev/null"
grep -q "^fi-run: warning: not followed: $static (3 execs, the first in pid [0-9]*): statically linked" e ||
	{ echo "FAIL: three execs: $(cat e)"; fail=1; }

# The static program as a script's interpreter.
printf '#!%s\n' "$static" >script
chmod +x script
run 0 ./script
grep -qx "fi-run: warning: not followed: ./script (pid [0-9]*): its interpreter $static is statically linked, so libfi cannot be preloaded into it" e ||
	{ echo "FAIL: script: $(cat e)"; fail=1; }

# env -i: the child's environment has no LD_PRELOAD.
run 0 "env -i /bin/true"
grep -qx "fi-run: warning: not followed: /bin/true (pid [0-9]*): its environment drops LD_PRELOAD, so libfi is not loaded into it" e ||
	{ echo "FAIL: env -i: $(cat e)"; fail=1; }

# LD_PRELOAD kept, the rules dropped.
run 0 'env -i LD_PRELOAD="$LD_PRELOAD" FI_REPORT="$FI_REPORT" FI_REPORT_APPEND=1 /bin/true'
grep -qx "fi-run: warning: not followed: /bin/true (pid [0-9]*): its environment drops FI_SCENARIO and FI_RULES, so libfi arms no rules in it" e ||
	{ echo "FAIL: rules dropped: $(cat e)"; fail=1; }

# Execs that fail name nothing: a static program without the x bit
# (the exec fails after libfi looked at the file), a missing file.
cp "$static" noexec
chmod a-x noexec
run 126 "exec ./noexec"
none
run 127 "exec ./missing"
none
# Execs libfi follows name nothing either.
run 0 "/bin/true; env /bin/true; ./noexec 2>/dev/null; true"
none

# setuid: as root, a copy of true owned by nobody, unless the file system
# ignores the bit (nosuid).
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 &&
	python3 -c 'import os,sys; sys.exit(os.statvfs(".").f_flag & os.ST_NOSUID)'; then
	cp /bin/true suid
	chown nobody suid && chmod 4755 suid
	run 0 ./suid
	grep -qx "fi-run: warning: not followed: ./suid (pid [0-9]*): setuid, so the loader ignores LD_PRELOAD for it" e ||
		{ echo "FAIL: setuid: $(cat e)"; fail=1; }
else
	echo "note: setuid case skipped (not root, or $work is nosuid)"
fi

[ $fail = 0 ] && echo "PASS ($n cases)"
exit $fail
