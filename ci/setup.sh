#!/usr/bin/env bash
# ci/setup.sh: installs the Debian 12 packages that fi's build, tests and
# tools need, only those that are missing. Runs as root without a terminal
# (CI), or through sudo for a user.
#
#   ci/setup.sh [GROUP...]      GROUPs: build fuzz format coverage bench all
#                               (default: build fuzz, what ci/test.sh runs)
#
#   build     compiler, CMake, Ninja, the libraries, strace (live tests,
#             test/scenarios), sqlite3, jq and dash (test/real), python3
#             and dash (test/scenarios), groff (cli.manpage),
#             gcovr (fi-run --sweep --coverage, the coverage label)
#   fuzz      clang with libFuzzer (the fuzz label's libFuzzer target)
#   format    clang-format (the format-check target)
#   coverage  gcovr (coverage/report.sh)
#   bench     valgrind (bench/run.py's callgrind part)
set -euo pipefail

pkgs_build="build-essential cmake ninja-build pkg-config python3 gcovr
	libcapstone-dev libcmocka-dev libjansson-dev libdw-dev strace sqlite3 jq dash
	groff-base"
pkgs_fuzz="clang libclang-rt-dev"
pkgs_format="clang-format"
pkgs_coverage="gcovr"
pkgs_bench="valgrind"

groups=${*:-build fuzz}
want=""
for g in $groups; do
	case $g in
	build) want="$want $pkgs_build" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	format) want="$want $pkgs_format" ;;
	coverage) want="$want $pkgs_coverage" ;;
	bench) want="$want $pkgs_bench" ;;
	all) want="$want $pkgs_build $pkgs_fuzz $pkgs_format $pkgs_coverage $pkgs_bench" ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "ci/setup.sh: unknown group '$g' (build fuzz format coverage bench all)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	# dpkg -s succeeds for removed-but-configured packages too; ask for the
	# state itself.
	state=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$state" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "ci/setup.sh: all packages present (${groups})"
	exit 0
fi

echo "ci/setup.sh: installing:$missing"
if [ "$(id -u)" = 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo -n)
	# -n: never prompt; without cached credentials, say what to do.
	if ! sudo -n true 2>/dev/null; then
		echo "ci/setup.sh: need root to install:$missing" >&2
		echo "  run: sudo apt-get install -y$missing" >&2
		exit 1
	fi
else
	echo "ci/setup.sh: not root and no sudo; as root, install:$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the package list is words
"${as_root[@]}" apt-get update -q </dev/null
# shellcheck disable=SC2086
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $missing </dev/null
echo "ci/setup.sh: done"
