#!/usr/bin/env bash
# coverage/report.sh: builds fi with -DFI_COVERAGE=ON, runs the tests of
# the given ctest labels (default: unit) under coverage/fi-coverage.sh,
# and writes its report (gcovr's summary goes to the log):
#   build-cov/coverage/index.html   (HTML, one page per file)
#   build-cov/coverage/coverage.txt (text, per file)
#   build-cov/coverage/error-paths.txt, error-paths.json (docs/coverage.md)
# Settings live in coverage/gcovr.cfg. ci/test.sh runs it with unit cli.
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

rc=0
regex="^($(echo "$labels" | tr ' ' '|'))\$"
# fi-coverage.sh clears the counts of earlier runs, runs the tests, and
# reports even when some fail (then exits with ctest's status).
coverage/fi-coverage.sh --config coverage/gcovr.cfg --build "$build" \
	--out "$out" --force -j "$jobs" \
	-- ctest --test-dir "$build" -j"$jobs" --output-on-failure -L "$regex" ||
	rc=$?
echo "coverage: $out/index.html and $out/coverage.txt (labels: $labels)"
exit $rc
