#!/bin/bash
# exit_records_test.sh LIBFI PROGRAM: a recorded process whose other
# threads are busy making syscalls when it calls exit_group leaves a
# plain trace: the header and whole records, no NUL bytes. Before, a
# thread killed between taking room for its record and writing it left
# that room as NUL bytes (seen in test/real's coreutils check, after an
# `xz -T2`). Sixty runs, as the loss needs the kill to land in that
# window.
set -u
lib=$1 prog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in $(seq 1 60); do
	LD_PRELOAD=$lib FI_TRACE=$dir/t.jsonl "$prog" || {
		echo "FAIL: run $i exited $?"; exit 1; }
	if tr -d '\000' <"$dir/t.jsonl" | cmp -s - "$dir/t.jsonl"; then
		:
	else
		echo "FAIL: run $i left NUL bytes in its trace"
		exit 1
	fi
	n=$(grep -c '"name":"getppid"' "$dir/t.jsonl")
	[ "$n" -gt 0 ] || { echo "FAIL: run $i recorded no getppid"; exit 1; }
done
echo "60 runs, whole records only"
