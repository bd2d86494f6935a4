#!/usr/bin/env bash
# site_cache_test.sh: call sites are cached by address, and an address
# can change hands. live_sitecache writes through library A, unloads it,
# loads B (the same code under another name) at the same address and
# writes through it, then A again. A rule `site=` one library fails its
# writes and never the other's, and the recorder names each write after
# the library that made it.
#
#   site_cache_test.sh FI_RUN LIVE_SITECACHE LIB_A LIB_B
set -uo pipefail

fi_run=$1 prog=$2 liba=$3 libb=$4
a=$(basename "$liba") b=$(basename "$libb")
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-sitecache.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
fail=0 n=0

check()
{
	local what=$1 want=$2 got=$3

	n=$((n + 1))
	if [ "$got" != "$want" ]; then
		printf 'FAIL: %s:\n%s\nexpected:\n%s\n' "$what" "$got" "$want"
		fail=1
	fi
}

got=$("$fi_run" -q -r "write site=$a error=ENOSPC" -- "$prog" "$liba" "$libb" 2>&1)
check "site=$a" "$a: ENOSPC ENOSPC
$b: ok ok
$a: ENOSPC ENOSPC
same address" "$got"

got=$("$fi_run" -q -r "write site=$b error=ENOSPC" -- "$prog" "$liba" "$libb" 2>&1)
check "site=$b" "$a: ok ok
$b: ENOSPC ENOSPC
$a: ok ok
same address" "$got"

# The recorder: the libraries' writes in order, each with its own object
# and the same offset (the same return address).
"$fi_run" -q --record "$work/t.jsonl" -- "$prog" "$liba" "$libb" >/dev/null 2>&1
sites=$(grep -o "\"site\":\"live_sitecache_[ab]\.so+0x[0-9a-f]*\"" "$work/t.jsonl" |
	sed 's/.*"\(live_sitecache_.*\)"/\1/')
names=$(printf '%s\n' "$sites" | sed 's/+.*//' | tr '\n' ' ')
check "recorded sites" "$a $a $b $b $a $a " "$names"
check "one offset" 1 "$(printf '%s\n' "$sites" | sed 's/.*+//' | sort -u | wc -l)"

[ $fail = 0 ] && echo "PASS ($n checks)"
exit $fail
