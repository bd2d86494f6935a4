#!/usr/bin/env bash
# bundled_test.sh: disk_full.fi and readonly_fs.fi do what their headers
# say on real programs. disk_full: cp (copy_file_range on coreutils 9) and
# dd (write) fail with "No space left on device", and say so on stderr,
# which the scenario leaves alone. readonly_fs: cp and a shell redirection
# fail with "Read-only file system", while cat reads as usual.
#
#   bundled_test.sh FI_RUN SCENARIOS_DIR
set -uo pipefail

fi_run=$(realpath "$1") scn=$(realpath "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-bundled.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
cd "$work" || exit 1
head -c 100000 /dev/zero >big
echo hello >small
fail=0 n=0

# check SCENARIO STATUS STDERR_PART CMD...: the status, and stderr names
# the error.
check()
{
	local s=$1 want=$2 part=$3 rc
	shift 3
	rm -f out c
	"$fi_run" -q -s "$scn/$s" -- "$@" >o 2>e
	rc=$?
	n=$((n + 1))
	if [ $rc != "$want" ] || ! grep -q -- "$part" e; then
		echo "FAIL: -s $s -- $*: status $rc (expected $want), stderr '$(cat e)', expected it to say '$part'"
		fail=1
	fi
}

check disk_full.fi 1 "No space left on device" cp big out
check disk_full.fi 1 "No space left on device" dd if=big of=out bs=1k
check readonly_fs.fi 1 "Read-only file system" cp small out
check readonly_fs.fi 2 "Read-only file system" sh -c 'echo x >c'
"$fi_run" -q -s "$scn/readonly_fs.fi" -- cat small >o 2>e
n=$((n + 1))
if [ $? != 0 ] || [ "$(cat o)" != hello ]; then
	echo "FAIL: -s readonly_fs.fi -- cat small: '$(cat o)', '$(cat e)'"
	fail=1
fi

[ $fail = 0 ] && echo "PASS ($n cases)"
exit $fail
