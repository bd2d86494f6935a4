#!/usr/bin/env bash
# ci/demo.sh: fi at work on real programs, with their real output. Builds
# fi (Release) and then, with fi-run:
#   1. makes dd's third write fail with ENOSPC (strace's inject= syntax),
#   2. makes cat's open of one file fail with EACCES (a .fi rule),
#   3. records a trace of ls and takes a short look at it.
# Each step checks its outcome (exit status, message, output) and the demo
# fails loudly when fi did not inject. CI runs it too.
#
# Environment: FI_CI_JOBS (default 2), FI_DEMO_BUILD (default build-ci-demo),
# FI_CI_SKIP_SETUP=1, FI_DEMO_PREBUILT=DIR (use that build tree as it is).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${FI_CI_JOBS:-2}
build=${FI_DEMO_BUILD:-build-ci-demo}

if [ "${FI_CI_SKIP_SETUP:-0}" != 1 ]; then
	ci/setup.sh build </dev/null
fi

if [ -n "${FI_DEMO_PREBUILT:-}" ]; then
	build=$FI_DEMO_PREBUILT	# ci/test.sh: its own build, left as it is
else
	echo "==== building fi (Release) in $build"
	cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
		-DFI_BUILD_TESTS=OFF >/dev/null
	ninja -C "$build" -j"$jobs" fi-run "fi" >/dev/null
fi
case $build in /*) ;; *) build=$root/$build ;; esac
[ -x "$build/cli/fi-run" ] || { echo "demo: no $build/cli/fi-run" >&2; exit 1; }
export PATH="$build/cli:$PATH"
echo "fi-run: $(command -v fi-run) ($(fi-run --version | head -1))"

work=$(mktemp -d "${TMPDIR:-/tmp}/fi-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

die()
{
	echo >&2
	echo "DEMO FAILED: $*" >&2
	exit 1
}

# show CMD...: prints the command as typed, runs it, keeps its exit status
# in $rc, its stdout in ./out and its stderr in ./err (both shown).
show()
{
	local a
	printf '\n$'
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_./=:,+-]*) printf " '%s'" "$a" ;;
		*) printf ' %s' "$a" ;;
		esac
	done
	printf '\n'
	set +e
	"$@" >out 2>err
	rc=$?
	set -e
	cat out
	sed 's/^/  (stderr) /' err
	echo "  (exit status $rc)"
}

size()
{
	stat -c %s "$1"
}

echo
echo "==== 1. a full disk in the middle of a copy"
head -c $((1024 * 1024)) /dev/zero >bigfile
show dd if=bigfile of=copy bs=64k status=none
if [ "$rc" != 0 ] || [ "$(size copy)" != $((1024 * 1024)) ]; then
	die "dd without fi should copy 1 MiB (exit $rc, $(size copy) bytes)"
fi
echo "  copy: $(size copy) bytes"
rm -f copy

show fi-run -e inject=write:error=ENOSPC:when=3 -- \
	dd if=bigfile of=copy bs=64k status=none
echo "  copy: $(size copy) bytes"
[ "$rc" = 1 ] || die "dd under fi-run should exit 1, exited $rc"
grep -q "No space left on device" err ||
	die "dd did not report ENOSPC; fi did not inject"
[ "$(size copy)" = $((2 * 65536)) ] ||
	die "copy should hold the two writes before the failing one, has $(size copy) bytes"
grep -q "fired 1 time" err || die "fi-run's summary does not say the rule fired once"
echo "  -> the third write failed with ENOSPC; dd stopped after 128 KiB and said why"

echo
echo "==== 2. permission denied on one file"
echo "the launch codes" >secret.txt
echo "public" >public.txt
show cat secret.txt public.txt
[ "$rc" = 0 ] || die "cat without fi should succeed (exit $rc)"

show fi-run -r "openat path=secret.txt error=EACCES" -- cat secret.txt public.txt
[ "$rc" = 1 ] || die "cat under fi-run should exit 1, exited $rc"
grep -q "secret.txt: Permission denied" err ||
	die "cat did not report EACCES for secret.txt; fi did not inject"
grep -qx public out || die "cat should still print public.txt"
echo "  -> only secret.txt was refused; cat still printed public.txt and exited 1"

echo
echo "==== 3. recording a trace"
mkdir dir && touch dir/a dir/b dir/c
show fi-run --record trace.jsonl -- ls -l dir
[ "$rc" = 0 ] || die "ls under fi-run --record should exit 0, exited $rc"
[ -s trace.jsonl ] || die "no trace written"
printf '\n$ head -2 trace.jsonl\n'
head -2 trace.jsonl
printf '\n$ (a summary of trace.jsonl)\n'
python3 - trace.jsonl <<'EOF' || die "the trace does not look right"
import collections, json, sys

recs = [json.loads(line) for line in open(sys.argv[1])]
need = {"seq", "pid", "tid", "nr", "name", "args", "ret", "site"}
for r in recs:
    missing = need - r.keys()
    if missing:
        sys.exit(f"record {r.get('seq')} lacks {sorted(missing)}")
    if len(r["args"]) != 6:
        sys.exit(f"record {r['seq']} has {len(r['args'])} args, not 6")
names = collections.Counter(r["name"] for r in recs)
# ret is null for a call that does not return (exit_group).
failed = [r for r in recs if r["ret"] is not None and r["ret"] < 0]
print(f"  {len(recs)} syscalls, {len(names)} distinct, {len(failed)} failed")
print("  most frequent: " +
      ", ".join(f"{n} x{c}" for n, c in names.most_common(6)))
for r in failed[:3]:
    print(f"  failed: {r['name']}({r.get('path', '')}) = {r['ret']} "
          f"{r.get('errno', '')} at {r['site']}")
if "getdents64" not in names:
    sys.exit("ls read no directory entries according to the trace")
if not any(r["name"] == "write" and r["args"][0] == 1 for r in recs):
    sys.exit("the trace has no write to stdout")
EOF

echo
echo "demo: all steps behaved as expected"
