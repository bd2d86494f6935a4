#!/usr/bin/env bash
# lineage_test.sh: thread= takes each thread for its number from its first
# call on, whoever runs first after the clone (libfi/lineage.c): a thread
# whose maker waits in clone (CLONE_VFORK) until it ended, one that starts
# with hook state of its own, threads one after another, and two makers
# at once.
#
#   lineage_test.sh FI_RUN LIVE_LINEAGE
set -uo pipefail

fi_run=$1 prog=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-lineage.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0

bad()
{
	echo "FAIL: $*"
	fail=1
}

# check THREAD WANT ARGS...: under getppid thread=THREAD error=EPERM the
# program prints WANT (a line per getppid that failed, after its header)
check()
{
	local thread=$1 want=$2 out rc
	shift 2
	out=$(timeout 60 "$fi_run" -q -r "getppid thread=$thread error=EPERM" -- "$prog" "$@" 2>"$work/err")
	rc=$?
	[ $rc = 0 ] && [ "$out" = "$want" ] ||
		bad "$* with thread=$thread: status $rc, '$out', not '$want' ($(cat "$work/err"))"
}

check 2 "thread made by clone(CLONE_VFORK): getppid EPERM" vfork-thread
check 1 "thread made by clone(CLONE_VFORK): getppid ok" vfork-thread
check 3 "thread made by clone3(CLONE_VFORK|CLONE_SETTLS): getppid EPERM" vfork-tls
check 2 "thread made by clone3(CLONE_VFORK|CLONE_SETTLS): getppid ok" vfork-tls
check 2 "50 threads, 1 getppid failed
worker 0: getppid EPERM" threads 50
check 51 "50 threads, 1 getppid failed
worker 49: getppid EPERM" threads 50
check 52 "50 threads, 0 getppid failed" threads 50

# Two makers (threads 2 and 3) at once: the workers are 4 .. 103, in the
# order of their clones, which the race decides; each number is one
# worker's.
for thread in 4 60 103; do
	out=$(timeout 60 "$fi_run" -q -r "getppid thread=$thread error=EPERM" -- "$prog" makers 50 2>"$work/err")
	[ "$(head -1 <<<"$out")" = "100 threads, 1 getppid failed" ] ||
		bad "makers with thread=$thread: '$out' ($(cat "$work/err"))"
done
check 104 "100 threads, 0 getppid failed" makers 50
check 2 "100 threads, 0 getppid failed" makers 50

[ $fail = 0 ] && echo "lineage: every thread took for its number"
exit $fail
