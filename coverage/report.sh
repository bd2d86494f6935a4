#!/usr/bin/env bash
# coverage/report.sh: builds fi with -DFI_COVERAGE=ON, runs the tests of
# the given ctest labels (default: unit), and writes a gcovr report:
#   build-cov/coverage/index.html   (HTML, one page per file)
#   build-cov/coverage/coverage.txt (text, per file)
# Settings live in coverage/gcovr.cfg.
#
#   coverage/report.sh [LABEL...]        e.g. coverage/report.sh unit cli
#
# Environment: FI_COV_BUILD (default build-cov), FI_CI_JOBS (default 2),
# FI_CI_SKIP_SETUP=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${FI_COV_BUILD:-build-cov}
jobs=${FI_CI_JOBS:-2}
labels=${*:-unit}
out=$build/coverage

if [ "${FI_CI_SKIP_SETUP:-0}" != 1 ]; then
	ci/setup.sh build coverage </dev/null
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	-DFI_COVERAGE=ON
ninja -C "$build" -j"$jobs"

# Counts from an earlier run would add up with this one's.
find "$build" -name '*.gcda' -delete
rm -rf "$out"
mkdir -p "$out"

regex="^($(echo "$labels" | tr ' ' '|'))\$"
# A failing test still leaves counts behind: report, then fail.
set +e
ctest --test-dir "$build" -j"$jobs" --output-on-failure -L "$regex"
rc=$?
set -e

gcovr --config coverage/gcovr.cfg \
	--object-directory "$build" \
	--html-details "$out/index.html" \
	--txt "$out/coverage.txt" \
	"$build"

echo "coverage: $out/index.html and $out/coverage.txt (labels: $labels)"
if [ $rc != 0 ]; then
	echo "coverage: some tests failed (ctest exit $rc)" >&2
	exit $rc
fi
