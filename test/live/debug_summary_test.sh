#!/bin/sh
# debug_summary_test.sh LIBFI PROGRAM [ARG...]: FI_DEBUG's summary at
# start-up, "fi: N patch points in M objects", counts what the lines above
# it list: M objects patched with patch points, N patch points in all. (An
# object without syscall instructions, such as the program itself, is
# neither listed nor counted.)
set -eu
lib=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

env FI_DEBUG=1 LD_PRELOAD="$lib" "$@" >/dev/null 2>"$log"
awk '
/^fi: patched [^ ]*: [0-9]+ patch points/ {
	if ($4 > 0) { objects++; points += $4 }
	next
}
/^fi: [0-9]+ patch points in [0-9]+ objects/ {
	said = 1
	if ($2 != points || $6 != objects) {
		printf "FAIL: the summary says %s patch points in %s objects; the lines above list %d in %d\n", $2, $6, points, objects
		exit 1
	}
	printf "ok: %d patch points in %d objects, as listed\n", points, objects
	exit 0
}
END { if (!said) { print "FAIL: no summary line"; exit 1 } }
' "$log" || { cat "$log"; exit 1; }
