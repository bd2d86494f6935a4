#!/usr/bin/env bash
# ci/sweep-demo.sh: fi-run --sweep on three real programs nobody on the
# team wrote (cp, gzip, sqlite3 with a small script), each in a scratch
# copy of a small work directory. docs/sweep.md, "What the sweep found in
# real programs", says what these sweeps find and why.
#
#   ci/sweep-demo.sh [FI_RUN]     FI_RUN: the fi-run to use
#                                 (default: fi-run on PATH)
#
# Checks (exit 1 when one fails): cp and gzip have no failing run; the
# sqlite3 sweep finds its shell ignoring a read error of the script that
# .read runs (outcome ignored, syscall read, errno EIO), and its repro
# line, pasted, exits 0 with the table missing. No timing is checked.
# Needs cp, gzip, sqlite3 and jq. Takes about 10 s on 2 cores.
set -euo pipefail

fi_run=${1:-fi-run}
command -v "$fi_run" >/dev/null || { echo "sweep-demo: no $fi_run" >&2; exit 2; }
for p in cp gzip sqlite3 jq; do
	command -v $p >/dev/null || { echo "sweep-demo: $p is not installed; skipped" >&2; exit 77; }
done
fi_run=$(realpath "$(command -v "$fi_run")")

work=$(mktemp -d "${TMPDIR:-/tmp}/fi-sweep-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
seq 1 20000 >"$work/in/in.txt"
cat >"$work/in/s.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<2000)
  INSERT INTO t SELECT x, 'name'||x, x*1.5 FROM c;
SELECT count(*), sum(v) FROM t;
SQL
cd "$work"

fail=0
sweep() {	# NAME ARGS...: sweeps ARGS in a copy of in/, report NAME.json
	local name=$1; shift
	echo "==== fi-run --sweep -j2 --workdir in -- $*"
	local rc=0
	"$fi_run" --sweep -j2 --timeout 10 --json "$name.json" --workdir in -- "$@" \
		>"$name.out" 2>"$name.err" || rc=$?
	grep -v '^ *$' "$name.out" | head -20
	tail -n 1 "$name.err"
	return $rc
}

for cmd in "cp in.txt out.txt" "gzip -k in.txt"; do
	# shellcheck disable=SC2086 # the command is words
	if sweep "${cmd%% *}" $cmd; then
		echo "ok: ${cmd%% *}: no failing run"
	else
		echo "FAIL: ${cmd%% *}: the sweep failed (see above)"; fail=1
	fi
done

rc=0
sweep sqlite3 sqlite3 db.sqlite '.read s.sql' || rc=$?
found=$(jq -r '[.runs[] | select(.outcome == "ignored" and .syscall == "read"
	and .errno == "EIO")][0].repro // empty' sqlite3.json)
if [ "$rc" = 1 ] && [ -n "$found" ]; then
	echo "ok: sqlite3: ignored read EIO found: $found"
	# Paste the repro in a fresh copy of the work directory: exit 0, but
	# the script never ran, so table t does not exist.
	rm -rf paste && cp -r in paste && cd paste
	pasted=$(eval "${found/#fi-run /\"\$fi_run\" }" 2>/dev/null) && prc=0 || prc=$?
	if [ "$prc" = 0 ] && [ -z "$pasted" ] &&
		! sqlite3 db.sqlite 'SELECT count(*) FROM t' >/dev/null 2>&1; then
		echo "ok: the repro exits 0 and table t was never made"
	else
		echo "FAIL: the repro did not reproduce (exit $prc, stdout '$pasted')"; fail=1
	fi
	cd ..
else
	echo "FAIL: sqlite3: no ignored read EIO (sweep exit $rc)"; fail=1
fi
exit $fail
