#!/usr/bin/env bash
# cxx_test.sh: fi.h and fi_cmocka.h compile as C++ with each compiler given
# (one that is not installed is said and skipped, unless it is the only
# one), and the suite test_api_cxx.cpp runs: its unmet rule and unused
# expectation fail with fi's message naming test_api_cxx.cpp and the line.
#
#   cxx_test.sh SOURCE_DIR LIBFI CXX...
set -uo pipefail

src=$1 libfi=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-cxx.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0 ran=0
cm=$(pkg-config --cflags --libs cmocka) || { echo "FAIL: no cmocka.pc"; exit 1; }

for cxx in "$@"; do
	if ! command -v "$cxx" >/dev/null; then
		echo "skip: $cxx is not installed"
		continue
	fi
	ran=$((ran + 1))
	if ! "$cxx" -std=c++11 -Wall -Wextra -Werror -I"$src/include" \
		"$src/test/api/test_api_cxx.cpp" -o "$work/t" "$libfi" $cm \
		-Wl,-rpath,"$(dirname "$libfi")" 2>"$work/cc.err"; then
		echo "FAIL: $cxx: $(cat "$work/cc.err")"
		fail=1
		continue
	fi
	if ! "$work/t" >"$work/out" 2>&1; then
		echo "FAIL: $cxx: the suite: $(cat "$work/out")"
		fail=1
	elif ! grep -q 'rule "fdatasync when=1 error=EIO" at test_api_cxx.cpp:56) but it never fired' "$work/out" ||
	     ! grep -q '(fi_expect #1 of getppid at test_api_cxx.cpp:57) but it was not called' "$work/out" ||
	     ! grep -q '\[  FAILED  \] never_fires' "$work/out"; then
		echo "FAIL: $cxx: no failure for never_fires: $(cat "$work/out")"
		fail=1
	fi
done
[ $ran = 0 ] && { echo "FAIL: no C++ compiler among: $*"; exit 1; }
[ $fail = 0 ] && echo "PASS ($ran compilers)"
exit $fail
