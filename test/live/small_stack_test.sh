#!/usr/bin/env bash
# small_stack_test.sh: under fi-run (early start, hence the static TLS
# reserve of GLIBC_TUNABLES) threads on PTHREAD_STACK_MIN stacks still
# start, with a rule that takes each thread through the full path, with the
# recorder, and with both; the rule fires in every thread.
#
#   small_stack_test.sh FI_RUN LIVE_SMALL_STACK
set -uo pipefail

fi_run=$1 prog=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-small-stack.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
want="200 threads on $(getconf PTHREAD_STACK_MIN 2>/dev/null || echo 16384)-byte stacks, every call as expected"

bad()
{
	echo "FAIL: $*"
	fail=1
}

check()
{
	local what=$1 out rc
	shift
	out=$("$fi_run" "$@" -- "$prog" 2>"$work/err")
	rc=$?
	[ $rc = 0 ] && [ "$out" = "$want" ] ||
		bad "$what: status $rc, '$out' ($(cat "$work/err"))"
}

check "no rule" -q
check "a path rule" -q -r 'openat path=/nonexistent/* error=EACCES when=1000'
check "the recorder" -q --record "$work/t.jsonl"
n=$(grep -c '"path":"/nonexistent/fi-small-stack"' "$work/t.jsonl")
[ "$n" = 200 ] || bad "the recorder saw $n of the 200 threads' opens"
"$fi_run" -r 'openat path=/nonexistent/fi-small-stack retval=-2' -- "$prog" \
	>/dev/null 2>"$work/err" || bad "retval rule: $(cat "$work/err")"
grep -q 'fired 200 times' "$work/err" ||
	bad "the rule did not fire in every thread: $(cat "$work/err")"
exit $fail
