#!/bin/sh
# late_test.sh LIBFI DLOPEN_PROGRAM DSO: an object dlopen'ed after start-up
# is patched before its constructor runs, whatever the cache holds. The
# program runs under `getpid retval=4242`: it exits 0 only if every
# getpid, the DSO's inline syscall (in its constructor and later) included,
# said 4242, and if planning the DSO sent it no SIGCHLD and left no child
# for wait(-1). Cache states: cold (an empty directory), warm, half-warm
# (every plan of the program's start-up cached, none for the DSO), off,
# and half-warm with FI_SCAN=full. Then without fi-plan beside libfi: a
# cold start loads the decoder in the process instead, and a half-warm one
# cannot plan the DSO and says so. Last, a fi-plan that fails or writes
# garbage: said, and nothing of it used.
set -eu
lib=$1 prog=$2 dso=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export FI_RULES='getpid retval=4242'

id=$(readelf -n "$dso" | sed -n 's/.*Build ID: *//p')
[ -n "$id" ] || { echo "FAIL: $dso has no build-id"; exit 1; }

# run NAME CACHE [VAR=VALUE...]: the program under libfi, FI_DEBUG=1, its
# stderr in $dir/NAME.log; fails the test when the program fails.
run()
{
	name=$1 cache=$2
	shift 2
	if ! env "$@" FI_DEBUG=1 FI_CACHE_DIR="$cache" LD_PRELOAD="$lib" \
		"$prog" >"$dir/$name.out" 2>"$dir/$name.log"; then
		echo "FAIL: $name: the program failed"
		cat "$dir/$name.out" "$dir/$name.log"
		exit 1
	fi
}

# expect NAME PATTERN: the run's log says it.
expect()
{
	grep -q -- "$2" "$dir/$1.log" ||
		{ echo "FAIL: $1: the log does not say: $2"; cat "$dir/$1.log"; exit 1; }
}

dso_name=$(basename "$dso")

run cold "$dir/c"
expect cold "^fi: patched $dso_name: 2 patch points .*(planned by fi-plan)"
expect cold "^fi: fi-plan (.*) planned [0-9]* regions: ok"

run warm "$dir/c"
expect warm "^fi: patched $dso_name: 2 patch points .*(image from the cache)"
if grep -q 'fi-plan' "$dir/warm.log"; then
	echo "FAIL: warm: fi-plan ran on a warm cache"; cat "$dir/warm.log"; exit 1
fi

rm -rf "$dir/c/$id"-*
run half "$dir/c"
expect half "^fi: fi-plan (.*) planned 1 region: ok"
expect half "^fi: patched $dso_name: 2 patch points .*(planned by fi-plan)"
expect half "^fi: patched libc.so.6: .*(image from the cache)"

run off off
expect off "^fi: patched $dso_name: 2 patch points .*(planned by fi-plan)"

rm -rf "$dir/c/$id"-*
run full "$dir/c" FI_SCAN=full
expect full "^fi: patched $dso_name: 2 patch points .*(planned by fi-plan)"
# FI_SWEEP=full, the scan's old name, still works.
rm -rf "$dir/c/$id"-*
run full_old "$dir/c" FI_SWEEP=full
expect full_old "^fi: patched $dso_name: 2 patch points .*(planned by fi-plan)"
echo "ok: $dso_name patched before its constructor: cold, warm, half-warm, off, full scan"

# Without fi-plan: a libfi.so alone in a directory of its own.
mkdir "$dir/lone"
cp "$lib" "$dir/lone/libfi.so"
lib=$dir/lone/libfi.so
run lone_cold "$dir/c2"
expect lone_cold "fi-plan could not plan at start-up (fi-plan is missing beside libfi.so (LIBDIR/fi/fi-plan)): loading the decoder here"
expect lone_cold "^fi: patched $dso_name: 2 patch points"
rm -rf "$dir/c2/$id"-*
if env FI_CACHE_DIR="$dir/c2" LD_PRELOAD="$lib" "$prog" >/dev/null 2>"$dir/lone_half.log"; then
	echo "FAIL: lone_half: the DSO's getpid was not expected to be patched"
	cat "$dir/lone_half.log"; exit 1
fi
expect lone_half "^fi: cannot plan $dso_name, so its own syscall instructions stay unpatched: fi-plan is missing beside libfi.so (LIBDIR/fi/fi-plan); the decoder is not loaded and cannot be now (inside ld.so, or before libc is set up)"
echo "ok: without fi-plan, a cold start plans in the process; a late object says why it stays unpatched"

# A fi-plan that fails, or writes something else, is said, and nothing of
# what it wrote is used: the decoder is loaded at start-up instead.
mkdir -p "$dir/lone/fi"
printf '#!/bin/sh\nexit 3\n' >"$dir/lone/fi/fi-plan"
chmod +x "$dir/lone/fi/fi-plan"
run bad_exit "$dir/c3"
expect bad_exit "fi-plan could not plan at start-up (fi-plan failed): loading the decoder here"
expect bad_exit "^fi: patched $dso_name: 2 patch points"
printf '#!/bin/sh\nhead -c 4096 /dev/zero | tr "\\\\0" x >/proc/self/fd/$1\n' >"$dir/lone/fi/fi-plan"
run bad_data off
expect bad_data "fi-plan could not plan .*: fi-plan wrote something else"
expect bad_data "^fi: patched $dso_name: 2 patch points"
echo "ok: a failing fi-plan, or one that writes garbage, is said and not used"
