#!/bin/sh
# ci/format.sh: fi's C files against the root .clang-format.
#   ci/format.sh --check   list the files clang-format would change, with
#                          how many lines; exit 1 when there is one
#   ci/format.sh --fix     reformat them in place
#   ci/format.sh --check FILE...   only those files (the same for --fix)
# The files are the tracked *.c and *.h (git ls-files), or, outside a git
# checkout, those under include, libfi, cli, test, bench and examples.
# CLANG_FORMAT names the binary (default: clang-format, then
# clang-format-19 ... -14). `ninja format-check` runs --check.
set -eu

usage()
{
	echo "usage: ci/format.sh --check|--fix [FILE...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
mode=$1
shift
case $mode in
--check | --fix) ;;
*) usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
	for c in clang-format clang-format-19 clang-format-18 clang-format-17 \
		clang-format-16 clang-format-15 clang-format-14; do
		if command -v "$c" >/dev/null 2>&1; then
			cf=$c
			break
		fi
	done
fi
if [ -z "$cf" ]; then
	echo "ci/format.sh: clang-format not found (ci/setup.sh format)" >&2
	exit 2
fi

list=$(mktemp)
out=$(mktemp)
trap 'rm -f "$list" "$out"' EXIT
if [ $# -gt 0 ]; then
	printf '%s\n' "$@" >"$list"
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files '*.c' '*.h' >"$list"
else
	find include libfi cli test bench examples -name '*.[ch]' 2>/dev/null |
		sort >"$list"
fi

files=0 changed=0 lines=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	files=$((files + 1))
	"$cf" --style=file "$f" >"$out"
	if ! cmp -s "$f" "$out"; then
		n=$(diff "$f" "$out" | grep -c '^[<>]' || true)
		changed=$((changed + 1))
		lines=$((lines + n))
		if [ "$mode" = --fix ]; then
			cat "$out" >"$f"
			echo "formatted $f ($n lines)"
		else
			echo "$f ($n lines)"
		fi
	fi
done <"$list"

if [ "$mode" = --fix ]; then
	echo "ci/format.sh: formatted $changed of $files files ($lines lines)"
	exit 0
fi
if [ "$changed" -gt 0 ]; then
	echo "ci/format.sh: $changed of $files files differ from .clang-format ($lines lines); see one with: $cf FILE | diff FILE -, fix them with ci/format.sh --fix" >&2
	exit 1
fi
echo "ci/format.sh: all $files files match .clang-format"
