#!/usr/bin/env bash
# fork_site_test.sh: the calls glibc makes inside fork, vfork, posix_spawn
# (clone3, or clone with CLONE_VFORK) and pthread_create (clone3) have the
# caller's site, not libc's: `@fork site=live_forksite error=EAGAIN` fails
# each, and `site=libc.so*` none. Then python3's subprocess.run under
# `site=` the object that holds _posixsubprocess (the interpreter itself
# when it is built in, as in Debian's python3.11; an extension module in
# a pyenv build).
#
#   fork_site_test.sh FI_RUN LIVE_FORKSITE PYTHON3
set -uo pipefail

fi_run=$1 prog=$2 python=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-forksite.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
fail=0 n=0

expect()
{
	local want=$1 rule=$2 got
	shift 2
	got=$("$fi_run" -q -r "$rule" -- "$@" 2>&1)
	n=$((n + 1))
	if [ "$got" != "$want" ]; then
		echo "FAIL: -r '$rule' -- $*: '$got', expected '$want'"
		fail=1
	fi
}

for mode in fork vfork posix_spawn thread; do
	expect "$mode: EAGAIN" '@fork site=live_forksite error=EAGAIN' "$prog" $mode
	expect "$mode: EAGAIN" "@fork site=$(realpath "$prog") error=EAGAIN" "$prog" $mode
	expect "$mode: ok" '@fork site=libc.so* error=EAGAIN' "$prog" $mode
done

# The real interpreter (python3 on PATH may be a shim), and where
# _posixsubprocess lives.
py=$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')
where=$("$py" -c 'import _posixsubprocess as m; print(getattr(m, "__file__", ""))')
site=$(basename "${where:-$py}")
script='import subprocess
try:
    subprocess.run(["true"], check=True)
    print("ran")
except OSError as e:
    print("OSError", e.errno)'
expect "OSError 11" "@fork site=$site error=EAGAIN" "$py" -c "$script"
expect "ran" "@fork site=libc.so* error=EAGAIN" "$py" -c "$script"

[ $fail = 0 ] && echo "PASS ($n cases)"
exit $fail
