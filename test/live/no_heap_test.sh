#!/bin/sh
# no_heap_test.sh STRACE LIBFI: loading libfi without rules leaves the
# program's heap alone, on a cold cache as on a warm one: the program's own
# brk and getrandom calls are those of the bare run. Setting up the heap
# early would move them before the patching (out of the trace) and change
# what a fault on them hits. /bin/true never mallocs.
#
# What the first run changes, and only it: one more process, fi-plan
# (planning the start-up's objects out of the program), which has a heap
# of its own. A warm cache runs no fi-plan.
set -eu
strace=$1 lib=$2
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
