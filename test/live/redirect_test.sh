#!/usr/bin/env bash
# redirect_test.sh: a relative redirect= path is resolved once, before the
# program starts: against the scenario file's directory for -s, against
# fi-run's working directory for -r; a program that changes directory
# (and execs) still reads the same file.
#
#   redirect_test.sh FI_RUN
set -uo pipefail

fi_run=$(realpath "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-redirect.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
fail=0
mkdir -p "$work/scn/fx" "$work/cwd/fx" "$work/elsewhere"
echo "from the scenario's directory" >"$work/scn/fx/app.conf"
echo "from fi-run's directory" >"$work/cwd/fx/app.conf"
printf 'openat path=/etc/hostname redirect=fx/app.conf\n' >"$work/scn/s.fi"
prog='cd / && cat /etc/hostname && sh -c "cd /usr && cat /etc/hostname"'

check()
{
	local want=$1 got
	shift
	got=$(cd "$work/$1" && shift && "$fi_run" -q "$@" -- sh -c "$prog" 2>&1)
	if [ "$got" != "$want"$'\n'"$want" ]; then
		echo "FAIL: $*: got '$got', want '$want' twice"
		fail=1
	fi
}

check "from the scenario's directory" elsewhere -s "$work/scn/s.fi"
check "from the scenario's directory" scn -s s.fi
check "from fi-run's directory" cwd -r 'openat path=/etc/hostname redirect=fx/app.conf'

[ $fail = 0 ] && echo PASS
exit $fail
