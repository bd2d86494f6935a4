#!/bin/sh
# cache_test.sh LIBFI PROGRAM [DLOPEN_PROGRAM DSO]: the plan cache gives the same patches as
# planning afresh. Runs PROGRAM with FI_DEBUG=2 three ways: no cache, a
# cold cache, the warm cache; the lists of sites must be identical, and the
# warm run must say its plans came from the cache.
set -eu
lib=$1 prog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sites() { grep -E '^fi:   (patching|left alone)' | sort; }
FI_DEBUG=2 FI_CACHE_DIR=off LD_PRELOAD=$lib "$prog" 2>"$dir/none.log" >/dev/null
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/cold.log" >/dev/null
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/warm.log" >/dev/null
sites <"$dir/none.log" >"$dir/none"
sites <"$dir/warm.log" >"$dir/warm"
n=$(wc -l <"$dir/none")
if [ "$n" -lt 100 ]; then
	echo "FAIL: only $n sites listed without a cache"; cat "$dir/none.log"; exit 1
fi
if ! grep -q 'plan from the cache' "$dir/warm.log"; then
	echo "FAIL: the warm run did not use the cache"; cat "$dir/warm.log"; exit 1
fi
if grep -q 'plan from the cache' "$dir/cold.log"; then
	echo "FAIL: the cold run claims a cached plan"; exit 1
fi
if ! diff -u "$dir/none" "$dir/warm"; then
	echo "FAIL: cached plans differ from fresh ones"; exit 1
fi
# A corrupted entry is refused, never used.
for f in "$dir"/c/*.plan; do printf 'garbage' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null; done
FI_DEBUG=2 FI_CACHE_DIR=$dir/c LD_PRELOAD=$lib "$prog" 2>"$dir/bad.log" >/dev/null
if grep -q 'plan from the cache' "$dir/bad.log"; then
	echo "FAIL: a corrupted cache entry was used"; exit 1
fi
sites <"$dir/bad.log" >"$dir/bad"
diff -u "$dir/none" "$dir/bad" || { echo "FAIL: sites differ after a bad cache"; exit 1; }
echo "ok: $n sites, cold and warm agree"

# An object dlopen'ed after start-up whose plan is not cached, while every
# plan at start-up is: the decoder cannot be loaded from inside ld.so, so
# its sites are left alone and said so, and the next run loads the decoder
# at start-up and patches them.
if [ -n "${4:-}" ]; then
	dl=$3 dso=$4 c2=$dir/dl
	mkdir -p "$c2"
	FI_CACHE_DIR=$c2 LD_PRELOAD=$lib "$dl" >/dev/null 2>&1
	id=$(readelf -n "$dso" | sed -n 's/.*Build ID: *//p')
	[ -n "$id" ] || { echo "FAIL: $dso has no build-id"; exit 1; }
	ls "$c2/$id"-*.plan >/dev/null 2>&1 || { echo "FAIL: no plan cached for $dso"; exit 1; }
	rm "$c2/$id"-*.plan
	FI_DEBUG=1 FI_CACHE_DIR=$c2 LD_PRELOAD=$lib "$dl" >/dev/null 2>"$dir/dl1.log"
	grep -q 'left alone every site of .*: the decoder is not loaded' "$dir/dl1.log" ||
		{ echo "FAIL: the missing plan was not said"; cat "$dir/dl1.log"; exit 1; }
	FI_DEBUG=1 FI_CACHE_DIR=$c2 LD_PRELOAD=$lib "$dl" >/dev/null 2>"$dir/dl2.log"
	if grep -q 'left alone every site' "$dir/dl2.log"; then
		echo "FAIL: the next run did not load the decoder"; cat "$dir/dl2.log"; exit 1
	fi
	echo "ok: a late object without a plan is said, then planned next run"
fi
