#!/bin/sh
# cache_test.sh LIBFI PROGRAM: the plan cache and the images give the same
# patches as planning afresh, and fi-plan the same as the decoder in the
# process. Runs PROGRAM with FI_DEBUG=2 five ways: no cache, no cache with
# the decoder loaded in the process (FI_DECODER=eager), a cold cache, the
# warm cache (images), plans alone (images removed); the lists of sites
# must be identical, and each run must say where its patches came from.
# Damaged entries of either kind are never used.
set -eu
lib=$1 prog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sites() { grep -E '^fi:   (patching|left alone)' | sort; }
FI_DEBUG=2 FI_CACHE_DIR=off LD_PRELOAD=$lib "$prog" 2>"$dir/none.log" >/dev/null
FI_DEBUG=2 FI_CACHE_DIR=off FI_DECODER=eager LD_PRELOAD=$lib "$prog" 2>"$dir/here.log" >/dev/null
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/cold.log" >/dev/null
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/warm.log" >/dev/null
sites <"$dir/none.log" >"$dir/none"
sites <"$dir/warm.log" >"$dir/warm"
sites <"$dir/here.log" >"$dir/here"
n=$(wc -l <"$dir/none")
if [ "$n" -lt 100 ]; then
	echo "FAIL: only $n sites listed without a cache"; cat "$dir/none.log"; exit 1
fi
if ! grep -q 'patched libc.so.6: .*(image from the cache)' "$dir/warm.log"; then
	echo "FAIL: the warm run did not map libc's image"; cat "$dir/warm.log"; exit 1
fi
# A recorded run maps it too: the trace's window must not take the place
# of the trampolines.
FI_DEBUG=2 FI_CACHE_DIR=$dir/c FI_TRACE=$dir/t.jsonl LD_PRELOAD=$lib "$prog" \
	2>"$dir/rec.log" >/dev/null
if ! grep -q 'patched libc.so.6: .*(image from the cache)' "$dir/rec.log"; then
	echo "FAIL: the recorded run did not map libc's image"
	grep -v '^fi:   ' "$dir/rec.log"; exit 1
fi
if ! grep -q 'patched libc.so.6: .*(planned by fi-plan)' "$dir/none.log" ||
   grep -q 'fi-plan' "$dir/here.log"; then
	echo "FAIL: fi-plan did not plan without a cache, or did with the decoder here"
	cat "$dir/none.log" "$dir/here.log"; exit 1
fi
if ! diff -u "$dir/none" "$dir/here"; then
	echo "FAIL: fi-plan's plans differ from the decoder's in the process"; exit 1
fi
if grep -q 'from the cache' "$dir/cold.log"; then
	echo "FAIL: the cold run claims a cached plan or image"; exit 1
fi
if ! diff -u "$dir/none" "$dir/warm"; then
	echo "FAIL: images differ from fresh plans"; exit 1
fi
# The image is what the program runs: /proc/self/maps names it, and it
# holds a copy of libc's ELF file (same build-id).
FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib cat /proc/self/maps >"$dir/maps"
img=$(sed -n 's@.* \(/.*\.img/libc\.so\.6\)$@\1@p' "$dir/maps" | head -n 1)
[ -n "$img" ] || { echo "FAIL: libc's code is not mapped from an image"; cat "$dir/maps"; exit 1; }
libc=$(sed -n 's@.* \(/.*/libc\.so\.6\)$@\1@p' "$dir/maps" | grep -v '\.img/' | head -n 1)
if [ "$(readelf -n "$img" | grep 'Build ID')" != "$(readelf -n "$libc" | grep 'Build ID')" ]; then
	echo "FAIL: the image is not a copy of $libc"; exit 1
fi
# Under a tracer (a debugger's breakpoints live in the code's pages),
# images are left alone and the plans patch in place.
command -v strace >/dev/null 2>&1 || { echo "FAIL: strace is needed (ci/setup.sh installs it)"; exit 1; }
FI_DEBUG=1 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib strace -o /dev/null "$prog" 2>"$dir/traced.log" >/dev/null
grep -q 'patched libc.so.6: .*(plan from the cache)' "$dir/traced.log" ||
	{ echo "FAIL: a traced run mapped an image"; cat "$dir/traced.log"; exit 1; }
# An image writable by others is never used, and said.
chmod 0666 "$img"
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/open.log" >/dev/null
grep -q "not using .*libc.so.6: not a file of this user's" "$dir/open.log" ||
	{ echo "FAIL: a world-writable image was not refused"; cat "$dir/open.log"; exit 1; }
sites <"$dir/open.log" >"$dir/open"
diff -u "$dir/none" "$dir/open" || { echo "FAIL: sites differ without the image"; exit 1; }
chmod 0600 "$img"
# A damaged image is not used, and is written again.
for f in "$dir"/c/*.img/*; do printf 'garbage' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 20)) conv=notrunc 2>/dev/null; done
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/badimg.log" >/dev/null
if grep -q 'image from the cache' "$dir/badimg.log"; then
	echo "FAIL: a damaged image was used"; exit 1
fi
sites <"$dir/badimg.log" >"$dir/badimg"
diff -u "$dir/none" "$dir/badimg" || { echo "FAIL: sites differ after a damaged image"; exit 1; }
FI_DEBUG=1 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/healed.log" >/dev/null
grep -q 'patched libc.so.6: .*(image from the cache)' "$dir/healed.log" ||
	{ echo "FAIL: the damaged image was not written again"; cat "$dir/healed.log"; exit 1; }
# Plans alone, as when the images' place is taken.
rm -rf "$dir"/c/*.img
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/plans.log" >/dev/null
grep -q 'patched libc.so.6: .*(plan from the cache)' "$dir/plans.log" ||
	{ echo "FAIL: without images the plans were not used"; cat "$dir/plans.log"; exit 1; }
sites <"$dir/plans.log" >"$dir/plans"
diff -u "$dir/none" "$dir/plans" || { echo "FAIL: cached plans differ from fresh ones"; exit 1; }
# A corrupted plan is refused, never used.
rm -rf "$dir"/c/*.img
for f in "$dir"/c/*.plan; do printf 'garbage' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null; done
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/bad.log" >/dev/null
if grep -q 'plan from the cache' "$dir/bad.log"; then
	echo "FAIL: a corrupted cache entry was used"; exit 1
fi
sites <"$dir/bad.log" >"$dir/bad"
diff -u "$dir/none" "$dir/bad" || { echo "FAIL: sites differ after a bad cache"; exit 1; }
echo "ok: $n sites, fi-plan, the decoder here, images and plans agree"
