#!/usr/bin/env bash
# check.sh: checks an installed fi (cmake --install build --prefix P) against
# the install layout that DESIGN.md promises. CMake-independent: ci/test.sh
# runs it after installing, and test/CMakeLists registers one ctest case per
# check (label install).
#
#   test/install/check.sh [--version X.Y.Z] [--work DIR] PREFIX [CHECK...]
#
# CHECKs: layout symbols pkgconfig cmake relocated scenarios (default: all).
# --version defaults to the one in the source tree's include/fi.h.
# Prints one line per check; exits 0 when all passed, 1 otherwise.

# shellcheck disable=SC2317 # the check_* functions are called by name
# shellcheck disable=SC1010 # "fi" is the package name given to pkg-config
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
all_checks="layout symbols pkgconfig cmake relocated scenarios"

version=""
work=""
while [ $# -gt 0 ]; do
	case $1 in
	--version) version=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "check.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: check.sh [--version V] [--work DIR] PREFIX [CHECK...]" >&2; exit 2; }
prefix=$(cd "$1" 2>/dev/null && pwd) || { echo "check.sh: no such prefix: $1" >&2; exit 2; }
shift
checks=${*:-$all_checks}

if [ -z "$version" ]; then
	version=$(sed -n 's/^#define FI_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
		"$src/include/fi.h" | paste -sd.)
fi
major=${version%%.*}

if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/fi-install-check.XXXXXX")
	trap 'rm -rf "$work"' EXIT
else
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
fi

# The checks must see the installed files only.
unset FI_LIBRARY FI_RULES FI_SCENARIO FI_TRACE LD_PRELOAD LD_LIBRARY_PATH
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc=${CC:-cc}

failed=0
log="$work/log"

fail()
{
	echo "  $*"
	failed=1
}

# Runs "$@" with its output in $log; on failure prints the log's tail.
run()
{
	if ! "$@" >"$log" 2>&1; then
		fail "failed: $*"
		sed 's/^/    | /' "$log" | tail -20
		return 1
	fi
}

check_layout()
{
	local f
	for f in bin/fi-run lib/libfi.so "lib/libfi.so.$major" include/fi.h \
		include/fi_cmocka.h lib/pkgconfig/fi.pc lib/cmake/fi/fiConfig.cmake \
		lib/cmake/fi/fiConfigVersion.cmake lib/cmake/fi/fiTargets.cmake; do
		[ -e "$prefix/$f" ] || fail "missing $prefix/$f"
	done
	[ -x "$prefix/bin/fi-run" ] || fail "$prefix/bin/fi-run is not executable"
	cmp -s "$src/docs/fi-run.1" "$prefix/share/man/man1/fi-run.1" ||
		fail "$prefix/share/man/man1/fi-run.1 is missing or differs from docs/fi-run.1"
	[ -x "$prefix/lib/fi/fi-plan" ] || fail "$prefix/lib/fi/fi-plan is not executable"
	[ -e "$prefix/lib/libfi_audit.so" ] || fail "missing $prefix/lib/libfi_audit.so (fi-run's early start)"
	[ -x "$prefix/share/fi/fi-coverage.sh" ] || fail "$prefix/share/fi/fi-coverage.sh is missing or not executable"
	[ -e "$prefix/lib/cmake/fi/fiCoverage.cmake" ] || fail "missing $prefix/lib/cmake/fi/fiCoverage.cmake"
}

check_symbols()
{
	local lib="$prefix/lib/libfi.so" soname exported api bad
	soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
	[ "$soname" = "libfi.so.$major" ] ||
		fail "SONAME of $lib is '$soname', expected libfi.so.$major"

	# Version nodes (FI_0) are absolute symbols; everything else must be a
	# function that fi.h declares with FI_API, and each of those must be
	# exported. The one exception is libfi_audit.so's way in,
	# fi__audit_start, alone in the version node FI_PRIVATE.
	nm -D --defined-only "$lib" >"$work/nm" || { fail "nm -D $lib failed"; return; }
	private=$(grep '@@FI_PRIVATE$' "$work/nm" | awk '{ print $3 }')
	[ "$private" = "fi__audit_start@@FI_PRIVATE" ] ||
		fail "libfi.so's FI_PRIVATE node holds '${private//$'\n'/ }', expected fi__audit_start only"
	sed -i '/@@FI_PRIVATE$/d; / A FI_PRIVATE$/d' "$work/nm"
	[ -e "$(dirname "$lib")/libfi_audit.so" ] ||
		fail "libfi_audit.so is not installed beside $lib"
	bad=$(awk '$2 == "A" && $3 ~ /^FI_[0-9_]+$/ { next }
		   { sub(/@.*/, "", $3); if ($3 !~ /^fi_[a-z0-9_]+$/) print $3 }' "$work/nm")
	[ -z "$bad" ] || fail "libfi.so exports names outside fi_*: ${bad//$'\n'/ }"
	exported=$(awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$work/nm" | sort -u)
	api=$(sed -n 's/^FI_API[^(]*[ *]\(fi_[a-z0-9_]*\)(.*/\1/p' \
		"$prefix/include/fi.h" | sort -u)
	[ -n "$api" ] || { fail "no FI_API declarations found in fi.h"; return; }
	if [ "$exported" != "$api" ]; then
		fail "libfi.so's exports differ from fi.h's FI_API functions:"
		diff <(echo "$api") <(echo "$exported") | sed -n 's/^\([<>]\)/    \1/p' |
			sed 's/</fi.h only:/; s/>/libfi.so only:/'
	fi
}

check_pkgconfig()
{
	local got flags
	got=$(pkg-config --modversion fi 2>&1) || { fail "pkg-config --modversion fi: $got"; return; }
	[ "$got" = "$version" ] || fail "pkg-config --modversion fi is '$got', expected $version"
	got=$(pkg-config --variable=libdir fi)
	[ "$got" = "$prefix/lib" ] || fail "fi.pc libdir is '$got', expected $prefix/lib"

	flags=$(pkg-config --cflags --libs fi cmocka 2>&1) ||
		{ fail "pkg-config --cflags --libs fi cmocka: $flags"; return; }
	# shellcheck disable=SC2086 # the flags are words
	run "$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$work/pc_consumer" \
		"$here/pc_consumer.c" $flags || return
	run "$work/pc_consumer" || return
	grep -q 'PASSED.*3 test' "$log" || fail "pc_consumer did not pass its 3 tests"
}

check_cmake()
{
	local b="$work/consumer-build" gen=()
	command -v ninja >/dev/null && gen=(-G Ninja)
	rm -rf "$b"
	run cmake -S "$here/consumer" -B "$b" "${gen[@]}" \
		-DCMAKE_PREFIX_PATH="$prefix" -DFI_EXPECTED_VERSION="$version" || return
	run cmake --build "$b" || return
	run "$b/consumer" || return
	grep -q "injected ENOSPC" "$log" || fail "consumer printed: $(cat "$log")"
	# fi_add_sweep() registered a sweep that passes and writes its reports.
	run ctest --test-dir "$b" -R consumer_sweep --output-on-failure || return
	grep -q '"outcome": "handled"' "$b/consumer_sweep.json" ||
		fail "fi_add_sweep: no handled run in $b/consumer_sweep.json"
	[ -s "$b/consumer_sweep.xml" ] || fail "fi_add_sweep: no JUnit file"
	# The README's example builds on its own against the prefix too.
	rm -rf "$work/store-build"
	run cmake -S "$here/../../examples/store" -B "$work/store-build" "${gen[@]}" \
		-DCMAKE_PREFIX_PATH="$prefix" || return
	run cmake --build "$work/store-build" || return
	run ctest --test-dir "$work/store-build" --output-on-failure || return
	# fi_coverage() and the installed fi-coverage.sh: one window, the
	# write that fails, armed by main.
	[ "$(cat "$b/fi-coverage-script.txt")" = "$prefix/share/fi/fi-coverage.sh" ] ||
		fail "FI_COVERAGE_SCRIPT is '$(cat "$b/fi-coverage-script.txt")', not $prefix/share/fi/fi-coverage.sh"
	command -v gcovr >/dev/null || return 0
	rm -rf "$work/cov"
	run "$prefix/share/fi/fi-coverage.sh" --build "$b" --out "$work/cov" \
		--root "$here/consumer" -- "$b/consumer_cov" || return
	grep -q '; 1 windows$' "$log" || fail "fi-coverage.sh: not one window: $(cat "$log")"
	grep -q 'main.c:20 (main): write when=1 error=ENOSPC' "$work/cov/error-paths.txt" ||
		fail "fi-coverage.sh: the window's rule: $(cat "$work/cov/error-paths.txt")"
}

# fi-run under PREFIX loads libfi.so from PREFIX and injects.
fi_run_works()
{
	local p=$1 first rc
	"$p/bin/fi-run" -v -q -- true >"$log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || { fail "$p/bin/fi-run -- true exited $rc"; sed 's/^/    | /' "$log" | tail; return; }
	first=$(head -1 "$log")
	[ "$first" = "fi-run: libfi: $p/lib/libfi.so.$major" ] ||
		fail "$p/bin/fi-run took the wrong libfi: '$first'"

	# A bundled scenario by bare name, from this prefix's share/fi/scenarios.
	(cd "$work" && "$p/bin/fi-run" -v -q -s disk_full -- true) >"$log" 2>&1
	rc=$?
	first=$(head -1 "$log")
	[ "$rc" = 0 ] && [ "$first" = "fi-run: scenario disk_full: the bundled $p/share/fi/scenarios/disk_full.fi" ] ||
		fail "$p/bin/fi-run -s disk_full (exit $rc): '$first'"

	echo data >"$work/victim"
	"$p/bin/fi-run" -q -r "openat path=$work/victim error=EACCES" -- cat "$work/victim" >"$log" 2>&1
	rc=$?
	if [ "$rc" != 1 ] || ! grep -q 'Permission denied' "$log"; then
		fail "$p/bin/fi-run did not inject EACCES (exit $rc): $(head -3 "$log")"
	fi

	# On a cold cache libfi plans with the fi-plan beside it, this prefix's.
	rm -rf "$work/cold-cache"
	env FI_DEBUG=1 FI_CACHE_DIR="$work/cold-cache" LD_PRELOAD="$p/lib/libfi.so" true >"$log" 2>&1
	grep -q "^fi: fi-plan ($p/lib/fi/fi-plan) planned .*: ok" "$log" ||
		fail "libfi under $p did not plan with $p/lib/fi/fi-plan: $(grep fi-plan "$log" | head -2)"
}

check_relocated()
{
	fi_run_works "$prefix"
	rm -rf "$work/reloc-a" "$work/reloc-b"
	cp -a "$prefix" "$work/reloc-a" || { fail "cannot copy $prefix"; return; }
	mv "$work/reloc-a" "$work/reloc-b"
	fi_run_works "$work/reloc-b"
	rm -rf "$work/reloc-b"
}

check_scenarios()
{
	local d="$prefix/share/fi/scenarios" n f
	n=$(find "$d" -maxdepth 1 -name '*.fi' 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || { fail "no $d/*.fi"; return; }
	for f in "$src"/scenarios/*.fi; do
		[ -e "$f" ] || continue
		cmp -s "$f" "$d/$(basename "$f")" || fail "$d/$(basename "$f") differs from the source tree's"
	done
	# Each installed scenario is accepted by the installed fi-run.
	for f in "$d"/*.fi; do
		"$prefix/bin/fi-run" -q -s "$f" -- true >"$log" 2>&1 ||
			fail "fi-run -s $f -- true: $(head -2 "$log")"
	done
}

status=0
for c in $checks; do
	case " $all_checks " in
	*" $c "*) ;;
	*) echo "check.sh: unknown check $c (known: $all_checks)" >&2; exit 2 ;;
	esac
	failed=0
	"check_$c"
	if [ $failed = 0 ]; then
		echo "PASS install.$c"
	else
		echo "FAIL install.$c"
		status=1
	fi
done
exit $status
