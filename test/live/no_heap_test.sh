#!/bin/sh
# no_heap_test.sh STRACE LIBFI FI_RUN HEAP: loading libfi leaves the
# program's heap alone, without rules and with rules armed at start-up
# (FI_RULES, FI_SCENARIO: libfi parses them in memory of its own,
# libfi/mem.c), on a cold cache as on a warm one: the program's own brk and
# getrandom calls are those of the bare run. Setting up the heap early
# would move them before the patching (out of the trace and out of every
# rule's reach) and change what a fault on them hits. /bin/true never
# mallocs; HEAP (t_heap.c) mallocs first in main, where rules armed at
# start-up must find glibc's first brk and getrandom.
#
# What the first run changes, and only it: one more process, fi-plan
# (planning the start-up's objects out of the program), which has a heap
# of its own. A warm cache runs no fi-plan.
set -eu
strace=$1 lib=$2 firun=$3 heap=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# trace [ARGS...]: sets own (the program's brk/getrandom calls: the pid on
# the log's first line) and plans (execve of fi-plan, any pid).
trace()
{
	"$strace" -f -qq -o "$dir/log" -e trace=brk,getrandom,execve "$@" /bin/true
	own=$(awk 'NR == 1 { pid = $1 }
		$1 == pid && $2 ~ /^(brk|getrandom)\(/ { n++ } END { print n + 0 }' "$dir/log")
	plans=$(grep -c 'execve(".*/fi/fi-plan"' "$dir/log" || true)
}

trace
bare=$own
trace -E LD_PRELOAD="$lib" -E FI_CACHE_DIR="$dir/c"
cold=$own cold_plans=$plans
trace -E LD_PRELOAD="$lib" -E FI_CACHE_DIR="$dir/c"
warm=$own warm_plans=$plans
echo "brk/getrandom calls: bare $bare, under libfi $cold on a cold cache" \
	"(fi-plan ran $cold_plans times), $warm on a warm one ($warm_plans)"
test "$bare" = "$cold"
test "$bare" = "$warm"
test "$cold_plans" = 1
test "$warm_plans" = 0

# Rules armed at start-up, on calls that never happen here.
printf 'write fd=99 error=EIO\n' >"$dir/unrelated.fi"
trace -E LD_PRELOAD="$lib" -E FI_CACHE_DIR="$dir/c" -E FI_RULES='write fd=99 error=EIO'
echo "with FI_RULES: $own"
test "$bare" = "$own"
trace -E LD_PRELOAD="$lib" -E FI_CACHE_DIR="$dir/c" -E FI_SCENARIO="$dir/unrelated.fi"
echo "with FI_SCENARIO: $own"
test "$bare" = "$own"

# fires RULE: fi-run -r RULE on HEAP fires once, at HEAP's own site.
fires()
{
	FI_CACHE_DIR="$dir/c" "$firun" -r "$1" -- "$heap" >"$dir/out" 2>"$dir/err" || true
	cat "$dir/err"
	grep -q "$1: fired 1 time (first at ${heap##*/}+0x" "$dir/err"
}
"$strace" -qq -o "$dir/log" -e trace=getrandom "$heap" >/dev/null
if grep -q '^getrandom(' "$dir/log"; then
	fires 'getrandom when=1 error=EAGAIN'
	grep -qx 'heap ok' "$dir/out"
else
	echo "this glibc's malloc makes no getrandom call: not checked"
fi
# glibc's first brk of the heap (ld.so's own came before libfi).
fires 'brk when=1 error=ENOMEM'
grep -qx 'heap ok' "$dir/out"
