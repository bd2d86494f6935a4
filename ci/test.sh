#!/usr/bin/env bash
# ci/test.sh: fi's whole check, as CI runs it and as anyone can run it from
# a checkout:
#   1. ci/setup.sh (Debian packages, only the missing ones), then
#      ci/format.sh --check: every C file as .clang-format lays it out
#   2. a normal build with -DFI_WERROR=ON, every ctest label on a cold
#      cache, then the live label again on the cache the first run filled
#   3. an ASan+UBSan build (-DFI_SANITIZE=ON), labels unit, cli and fuzz
#   4. fi's own coverage: a -DFI_COVERAGE=ON build, labels unit and cli,
#      under coverage/fi-coverage.sh (coverage/report.sh): gcovr's summary
#      in the log, the HTML in ${FI_CI_BUILD}-cov/coverage/index.html
#      (75 s on 2 busy cores, 53 s of CPU, most of it the build)
#   5. cmake --install into a temporary prefix, then test/install/check.sh
#   6. ci/demo.sh on the build of step 2
#   7. real programs nobody on the team wrote (sqlite3, jq, bash, dash,
#      coreutils), bare and under libfi: test/real/run_real.sh
# Every step runs even when an earlier one failed (a failed build skips its
# own tests); a summary at the end lists each step, and the exit status is
# non-zero when any step failed.
#
# Everything runs with a HOME made for this run, that has never seen fi,
# and without FI_CACHE_DIR or XDG_CACHE_HOME: fi's cache (~/.cache/fi)
# starts empty, as on a fresh machine or a CI container, whatever the
# machine running this has cached.
#
# Environment: FI_CI_JOBS (default 2), FI_CI_BUILD (default build-ci; the
# sanitizer build goes to ${FI_CI_BUILD}-asan, the coverage build to
# ${FI_CI_BUILD}-cov), FI_CI_SKIP_SETUP=1.
# shellcheck disable=SC2317 # functions called through step()
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

jobs=${FI_CI_JOBS:-2}
build=${FI_CI_BUILD:-build-ci}
build_asan=${build}-asan
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export CTEST_OUTPUT_ON_FAILURE=1

ci_home=$(mktemp -d "${TMPDIR:-/tmp}/fi-ci-home.XXXXXX") || exit 1
trap 'rm -rf "$ci_home"' EXIT
export HOME=$ci_home
unset FI_CACHE_DIR XDG_CACHE_HOME
cache=$HOME/.cache/fi

steps=()
results=()
failed=0
t_start=$SECONDS

# step NAME COMMAND...: runs one step, records PASS/FAIL and its duration.
step()
{
	local name=$1 t0=$SECONDS rc
	shift
	printf '\n==== %s\n' "$name"
	"$@"
	rc=$?
	steps+=("$name")
	if [ $rc = 0 ]; then
		results+=("PASS  $(printf '%4ds' $((SECONDS - t0)))")
	else
		results+=("FAIL  $(printf '%4ds' $((SECONDS - t0)))  (exit $rc)")
		failed=1
	fi
	return "$rc"
}

skip()
{
	steps+=("$1")
	results+=("SKIP        ($2)")
	failed=1
}

configure()
{
	local dir=$1
	shift
	cmake -S "$root" -B "$dir" -G Ninja "$@"
}

version=$(sed -n 's/^#define FI_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
	include/fi.h | paste -sd.)

install_check()
{
	local tmp rc
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/fi-ci-install.XXXXXX") || return 1
	cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; rm -rf "$tmp"; return 1; }
	find "$tmp/prefix" -type f -o -type l | sed "s|^$tmp/prefix/|  |" | sort
	test/install/check.sh --version "$version" --work "$tmp/work" "$tmp/prefix"
	rc=$?
	rm -rf "$tmp"
	return "$rc"
}

# The live label once more, now that the first run filled the cache: every
# test that depends on the cache's state runs both ways.
live_warm()
{
	local n
	n=$(find "$cache" -name '*.plan' 2>/dev/null | wc -l)
	echo "cache $cache: $n plans after the cold run"
	[ "$n" -gt 0 ] || { echo "the cold run left no plans: nothing to test warm"; return 1; }
	ctest --test-dir "$build" -j"$jobs" --output-on-failure -L '^live$'
}

echo "fi $version: ci/test.sh in $root ($(nproc) cores, -j$jobs)"
echo "HOME=$HOME (new, never saw fi: the cache starts empty)"
git -C "$root" log -1 --format='commit %h %s' 2>/dev/null || true

if [ "${FI_CI_SKIP_SETUP:-0}" != 1 ]; then
	step "setup" ci/setup.sh build fuzz format </dev/null || { summary_only=1; }
fi
if [ -z "${summary_only:-}" ]; then
	step "format (ci/format.sh --check)" ci/format.sh --check
fi

if [ -z "${summary_only:-}" ]; then
	if step "build (FI_WERROR)" configure "$build" -DFI_WERROR=ON &&
	   step "build (FI_WERROR): ninja" ninja -C "$build" -j"$jobs"; then
		step "tests: all labels, cold cache" ctest --test-dir "$build" -j"$jobs" --output-on-failure
		step "tests: live, warm cache" live_warm
	else
		skip "tests: all labels, cold cache" "build failed"
		skip "tests: live, warm cache" "build failed"
	fi

	if step "sanitizer build (FI_SANITIZE, FI_WERROR)" configure "$build_asan" \
		-DFI_SANITIZE=ON -DFI_WERROR=ON &&
	   step "sanitizer build: ninja" ninja -C "$build_asan" -j"$jobs"; then
		step "sanitizer tests: unit, cli, fuzz" ctest --test-dir "$build_asan" \
			-j"$jobs" --output-on-failure -L '^(unit|cli|fuzz)$'
	else
		skip "sanitizer tests: unit, cli, fuzz" "build failed"
	fi

	step "coverage: unit, cli (coverage/report.sh)" env FI_CI_SKIP_SETUP=1 \
		FI_CI_JOBS="$jobs" FI_COV_BUILD="$build-cov" coverage/report.sh unit cli

	if [ -f "$build/build.ninja" ] && [ -e "$build/cli/fi-run" ]; then
		step "install check" install_check
		step "demo (ci/demo.sh)" env FI_CI_SKIP_SETUP=1 \
			FI_DEMO_PREBUILT="$build" ci/demo.sh
		step "real programs (test/real, CI subset)" \
			test/real/run_real.sh --build "$build" \
			--only startup,sqlite,jq,shell,coreutils,inject
	else
		skip "install check" "no build"
		skip "demo (ci/demo.sh)" "no build"
		skip "real programs (test/real, CI subset)" "no build"
	fi
fi

printf '\n==== summary (fi %s, %ds)\n' "$version" $((SECONDS - t_start))
for i in "${!steps[@]}"; do
	printf '  %-44s %s\n' "${steps[$i]}" "${results[$i]}"
done
if [ $failed = 0 ]; then
	echo "ci/test.sh: all passed"
else
	echo "ci/test.sh: FAILED"
fi
exit $failed
