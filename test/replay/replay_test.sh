#!/bin/bash
# replay_test.sh CASE: one test of fi-run --replay (docs/replay.md). Runs
# in a fresh directory under $WORK; fails with "FAIL: why" and status 1.
set -u
case_name=$1
T=$WORK/$case_name
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
export FI_CACHE_DIR=${FI_CACHE_DIR:-$T/cache}
failed=0
fail() { echo "FAIL: $*"; failed=1; }
need_strace() { command -v strace >/dev/null || { echo "SKIP: no strace"; exit 77; }; }
# The program's own stderr: fi's lines left out.
own_err() { grep -v '^fi: ' "$1" || true; }

# fi-run -q --replay LOG -- ARGS: status in $rc, streams in out, err.
replay() {
	"$FI_RUN" -q --replay "$@" >out 2>err
	rc=$?
}

case $case_name in
strace_example)
	# The issue's example: writes that failed on a full disk fail again.
	need_strace
	prog=(sh -c 'echo hello; seq 3')
	strace -f -o s.log "${prog[@]}" >/dev/full 2>want_err
	want_rc=$?
	grep -q 'write(1, "hello\\n", 6) *= -1 ENOSPC' s.log || fail "strace saw no ENOSPC"
	replay s.log -- "${prog[@]}"
	[ "$rc" = "$want_rc" ] || fail "status $rc, strace's run gave $want_rc"
	diff want_err <(own_err err) || fail "stderr differs"
	[ -s out ] && fail "stdout holds $(head -c 40 out): the writes were not failed"
	grep -q 'seq: write error: No space left on device' err || fail "no message from seq"
	# And cat, to a device as in the log (to a regular file, cat 9
	# copies with copy_file_range, and the replay says it diverged).
	printf 'abc\n' >in.txt
	strace -f -o c.log cat in.txt >/dev/full 2>want_err
	want_rc=$?
	"$FI_RUN" -q --replay c.log -- cat in.txt >/dev/null 2>err
	rc=$?
	[ "$rc" = "$want_rc" ] || fail "cat: status $rc, not $want_rc"
	diff want_err <(own_err err) || fail "cat: stderr differs"
	;;
strace_decorated)
	# -tt, -T, -y and the unfinished/resumed pairs of -f.
	need_strace
	prog=(sh -c 'echo one; seq 2; echo two')
	strace -f -tt -T -y -o s.log "${prog[@]}" >/dev/full 2>want_err
	want_rc=$?
	grep -q 'unfinished' s.log || fail "the log has no unfinished call"
	replay s.log -- "${prog[@]}"
	[ "$rc" = "$want_rc" ] || fail "status $rc, strace's run gave $want_rc"
	diff want_err <(own_err err) || fail "stderr differs"
	;;
strace_ff)
	# strace -ff: one file per process. The prefix, or any one of the
	# files, names the whole set.
	need_strace
	prog=(sh -c 'echo hello; seq 3')
	strace -ff -o ff "${prog[@]}" >/dev/full 2>want_err
	want_rc=$?
	[ "$(ls ff.* | wc -l)" -ge 2 ] || fail "strace -ff made $(ls ff.* | wc -l) files"
	for log in ff $(ls ff.* | tail -1); do
		replay "$log" -- "${prog[@]}"
		[ "$rc" = "$want_rc" ] || fail "$log: status $rc, strace's run gave $want_rc"
		diff want_err <(own_err err) || fail "$log: stderr differs"
		[ -s out ] && fail "$log: stdout holds $(head -c 40 out)"
	done
	# Messages name the file of the record: seq's write is in seq's file.
	seqlog=$(grep -l 'execve("[^"]*seq"' ff.*)
	n=$(grep -n '^write(1, .* = -1 ENOSPC' "$seqlog" | cut -d: -f1)
	"$FI_RUN" --replay ff -- "${prog[@]}" >/dev/null 2>err
	grep -q "^fi: $seqlog:$n: write fd=1 comm=\"seq\" when=1 error=ENOSPC: fired 1 time" err ||
		fail "no summary line for $seqlog:$n: $(grep write err)"
	# A forked child's failure, in the child's file: the child fails,
	# the parent (which writes as often to the same fd) does not.
	rm -f ff.*
	strace -ff -o ff "$REPLAY_TARGET" fork1 >/dev/null 2>&1
	child=$(grep -l 'child line 3' ff.*)
	[ -n "$child" ] && [ "$(ls ff.* | wc -l)" = 2 ] || fail "no file of the child"
	sed -i 's/^\(write(1, "child line 3.*\) = 13$/\1 = -1 EIO (Input\/output error)/' "$child"
	replay "$(ls ff.* | grep -v "$child")" -- "$REPLAY_TARGET" fork1
	[ "$rc" = 3 ] || fail "fork1: status $rc, not 3"
	[ "$(own_err err)" = "child write 3: Input/output error" ] || fail "fork1: $(cat err)"
	# Threads have files of their own: thread 3's fifth write, alone.
	rm -f tf.*
	strace -ff -o tf "$REPLAY_TARGET" threads1 >/dev/null 2>&1
	t2=$(grep -l 't2 line 5' tf.*)
	[ "$(ls tf.* | wc -l)" = 3 ] || fail "threads1: $(ls tf.* | wc -l) files, not 3"
	sed -i 's/^\(write(1, "t2 line 5.*\) = 10$/\1 = -1 ENOSPC (No space left on device)/' "$t2"
	replay tf -- "$REPLAY_TARGET" threads1
	[ "$rc" = 1 ] || fail "threads1: status $rc, not 1"
	[ "$(own_err err)" = "t2 write 5: No space left on device" ] || fail "threads1: $(cat err)"
	"$FI_RUN" --replay tf -- "$REPLAY_TARGET" threads1 >/dev/null 2>err
	grep -q "^fi: $t2:[0-9]*: write fd=1 comm=\"replay_target\" thread=3 when=5 error=ENOSPC: fired 1 time" err ||
		fail "threads1: $(grep write err)"
	# A bad line in one file: that file and line, nothing run.
	echo 'this is not strace' >>"$child"
	"$FI_RUN" --replay ff -- touch started >out 2>err
	[ $? = 125 ] || fail "bad -ff file: not 125"
	[ "$(cat err)" = "$child:$(wc -l <"$child"): error: not a strace line: 'this is not strace'" ] ||
		fail "bad -ff file said: $(cat err)"
	[ -e started ] && fail "bad -ff file: the program ran"
	;;
roundtrip)
	# Record a run with a rule, replay the trace with no rule: the same.
	prog=(sh -c 'echo a; echo b; echo c; exit 3')
	"$FI_RUN" -q --record t.jsonl -r 'write fd=1 when=2 error=EIO' -- "${prog[@]}" >want_out 2>want_err
	want_rc=$?
	grep -q '"injected":true' t.jsonl || fail "the rule did not fire when recording"
	replay t.jsonl -- "${prog[@]}"
	[ "$rc" = "$want_rc" ] || fail "status $rc, not $want_rc"
	diff want_out out || fail "stdout differs"
	diff <(own_err want_err) <(own_err err) || fail "stderr differs"
	grep -q 'diverged' err && fail "a faithful replay diverged: $(cat err)"
	;;
edited)
	# A trace edited by hand: a write that succeeded gets ret -28.
	prog=(sh -c 'echo a; echo b; echo c')
	"$FI_RUN" -q --record t.jsonl -- "${prog[@]}" >/dev/null 2>&1 || fail "recording failed"
	n=$(grep -n '"name":"write"' t.jsonl | sed -n 2p | cut -d: -f1)
	[ -n "$n" ] || fail "no second write in the trace"
	sed -i "${n}s/\"ret\":[0-9]*/\"ret\":-28/" t.jsonl
	"$FI_RUN" -q --record live.jsonl --replay t.jsonl -- "${prog[@]}" >out 2>err
	[ "$(cat out)" = "$(printf 'a\nc')" ] || fail "stdout is '$(cat out)'"
	grep -q '"name":"write".*"ret":-28,"errno":"ENOSPC","injected":true' live.jsonl ||
		fail "no injected ENOSPC in the live trace"
	# errno by name instead: EIO on the first write.
	"$FI_RUN" -q --record u.jsonl -- "${prog[@]}" >/dev/null 2>&1
	n=$(grep -n '"name":"write"' u.jsonl | head -1 | cut -d: -f1)
	sed -i "${n}s/\"ret\":[0-9]*/\"ret\":-1,\"errno\":\"EIO\"/" u.jsonl
	replay u.jsonl -- "${prog[@]}"
	[ "$(cat out)" = "$(printf 'b\nc')" ] || fail "errno=EIO: stdout is '$(cat out)'"
	;;
threads)
	# A failure in the second thread's fifth write, and in no other.
	"$FI_RUN" -q --record t.jsonl -r 'write path=*/b.out when=5 error=EIO' -- "$REPLAY_TARGET" threads 2>want_err
	want_rc=$?
	[ "$(cat want_err)" = "t2 write 5: Input/output error" ] || fail "recording: $(cat want_err)"
	replay t.jsonl -- "$REPLAY_TARGET" threads
	[ "$rc" = "$want_rc" ] || fail "status $rc, not $want_rc"
	[ "$(own_err err)" = "t2 write 5: Input/output error" ] || fail "replay: $(cat err)"
	[ "$(wc -l <a.out)" = 5 ] || fail "thread 1 lost a line"
	;;
fork)
	# The child's third write fails, the parent's writes do not.
	"$FI_RUN" -q --record t.jsonl -r 'write fd=1 when=3 error=EIO' -- "$REPLAY_TARGET" fork >want_out 2>want_err
	want_rc=$?
	[ "$(cat want_err)" = "child write 3: Input/output error" ] || fail "recording: $(cat want_err)"
	replay t.jsonl -- "$REPLAY_TARGET" fork
	[ "$rc" = "$want_rc" ] || fail "status $rc, not $want_rc"
	diff want_out out || fail "stdout differs"
	[ "$(own_err err)" = "child write 3: Input/output error" ] || fail "replay: $(cat err)"
	;;
threads_samefd)
	# Two threads write the same fd: the failure recorded in the second
	# one's fifth write comes back there, and not in the first one's.
	"$FI_RUN" -q --record t.jsonl -r 'write fd=1 thread=3 when=5 error=EIO' -- "$REPLAY_TARGET" threads1 >want_out 2>want_err
	want_rc=$?
	[ "$(cat want_err)" = "t2 write 5: Input/output error" ] || fail "recording: $(cat want_err)"
	replay t.jsonl -- "$REPLAY_TARGET" threads1
	[ "$rc" = "$want_rc" ] || fail "status $rc, not $want_rc"
	diff want_out out || fail "stdout differs"
	[ "$(own_err err)" = "t2 write 5: Input/output error" ] || fail "replay: $(cat err)"
	# The same from a strace log, edited: thread 2's fifth write fails.
	need_strace
	strace -f -o s.log "$REPLAY_TARGET" threads1 >/dev/null 2>&1
	n=$(grep -n 'write(1, "t2 line 5' s.log | cut -d: -f1)
	[ -n "$n" ] || fail "no t2 line 5 in the strace log"
	# When the other thread's call came between, strace split the call:
	# its result is on the thread's "<... write resumed>" line.
	case $(sed -n "${n}p" s.log) in
	*"<unfinished ...>")
		tid=$(sed -n "${n}s/ .*//p" s.log)
		n=$(awk -v s="$n" -v t="$tid" 'NR > s && $1 == t && /resumed>/ { print NR; exit }' s.log)
		;;
	esac
	sed -i "${n}s/= 10\$/= -1 ENOSPC (No space left on device)/" s.log
	replay s.log -- "$REPLAY_TARGET" threads1
	[ "$rc" = 1 ] || fail "strace: status $rc, not 1"
	[ "$(own_err err)" = "t2 write 5: No space left on device" ] || fail "strace: $(cat err)"
	[ "$(grep -c line out)" = 9 ] || fail "strace: $(grep -c line out) lines, not 9"
	;;
fork_samefd)
	# A parent and its child write the same fd as often: a failure in
	# the child's third write comes back in the child only.
	"$FI_RUN" -q --record t.jsonl -r 'write fd=1 proc=1 when=3 error=EIO' -- "$REPLAY_TARGET" fork1 >want_out 2>want_err
	want_rc=$?
	[ "$(cat want_err)" = "child write 3: Input/output error" ] || fail "recording: $(cat want_err)"
	replay t.jsonl -- "$REPLAY_TARGET" fork1
	[ "$rc" = "$want_rc" ] || fail "status $rc, not $want_rc"
	diff want_out out || fail "stdout differs"
	[ "$(own_err err)" = "child write 3: Input/output error" ] || fail "replay: $(cat err)"
	# And the parent's third write, not the child's.
	n=$(grep -n '"name":"write"' t.jsonl | sed -n 3p | cut -d: -f1)
	sed -i "${n}s/\"ret\":[0-9]*/\"ret\":-28/" t.jsonl
	sed -i 's/"ret":-5,"errno":"EIO","injected":true/"ret":13/' t.jsonl
	replay t.jsonl -- "$REPLAY_TARGET" fork1
	[ "$(own_err err)" = "parent write 3: No space left on device" ] || fail "parent: $(cat err)"
	need_strace
	strace -f -o s.log "$REPLAY_TARGET" fork1 >/dev/null 2>&1
	n=$(grep -n 'write(1, "child line 3' s.log | cut -d: -f1)
	sed -i "${n}s/= 13\$/= -1 EIO (Input\/output error)/" s.log
	replay s.log -- "$REPLAY_TARGET" fork1
	[ "$rc" = 3 ] || fail "strace: status $rc, not 3"
	[ "$(own_err err)" = "child write 3: Input/output error" ] || fail "strace: $(cat err)"
	;;
divergence)
	# The program changed: it opens a file before its second echo.
	"$FI_RUN" -q --record t.jsonl -r 'write fd=1 when=2 error=EIO' -- sh -c 'echo a; echo b' >/dev/null 2>&1
	: >x.tmp
	replay t.jsonl -- sh -c 'echo a; : <x.tmp; echo b'
	line=$(grep -n '"name":"write"' t.jsonl | sed -n 2p | cut -d: -f1)
	pid=$(sed -n "${line}p" t.jsonl | sed 's/.*"pid":\([0-9]*\).*/\1/')
	grep -q "^fi: replay diverged at record $line (pid $pid): trace has write(1, ...), run has openat(\"x.tmp\") (pid [0-9]*)\$" err ||
		fail "no divergence message: $(cat err)"
	[ "$(grep -c diverged err)" = 1 ] || fail "more than the first divergence without -v"
	[ "$rc" = 1 ] || fail "status $rc, not the program's own 1, without --replay-strict"
	;;
strict)
	"$FI_RUN" -q --record t.jsonl -- sh -c 'echo a' >/dev/null 2>&1
	"$FI_RUN" -q --replay-strict --replay t.jsonl -- sh -c 'echo a' >out 2>err
	[ $? = 0 ] || fail "a faithful replay failed --replay-strict: $(cat err)"
	"$FI_RUN" -q --replay-strict --replay t.jsonl -- sh -c 'echo a; echo b' >out 2>err
	[ $? = 125 ] || fail "a divergence under --replay-strict did not give 125"
	grep -q "^fi-run: --replay-strict: the run departed from t.jsonl (1 divergence)\$" err || fail "message: $(cat err)"
	"$FI_RUN" --replay-strict -- true >out 2>err
	[ $? = 125 ] || fail "--replay-strict alone"
	grep -q "^fi-run: --replay-strict needs --replay FILE\$" err || fail "message: $(cat err)"
	;;
bad_input)
	# Each: FILE:LINE: error: message, 125, the program not started.
	check() { # file expected-message
		"$FI_RUN" --replay "$1" -- touch started >out 2>err
		local r=$?
		[ "$r" = 125 ] || fail "$1: status $r, not 125"
		[ "$(cat err)" = "$2" ] || fail "$1: said '$(cat err)', not '$2'"
		[ -e started ] && fail "$1: the program ran"
		rm -f started
	}
	check nonexistent.log "nonexistent.log: error: cannot read: No such file or directory"
	: >empty.log
	check empty.log "empty.log:1: error: empty: neither an fi trace nor a strace log"
	mkdir -p adir
	check adir "adir: error: cannot read: Is a directory"
	printf '{"seq":1,"pid":5,"tid":5,"nr":1,"name":"write","args":[1,0,1,0,0,0],"ret":1}\n{"seq":2,"pid"' >trunc.jsonl
	check trunc.jsonl "trunc.jsonl:2: error: a partial record: the line has no newline (a truncated trace?)"
	printf '{"seq":1,"pid":5,"tid":5,"nr":1,"name":"write","args":[1,0,1,0,0,0],"ret":1}\n{oops}\n' >garbage.jsonl
	check garbage.jsonl "garbage.jsonl:2: error: not JSON: string or '}' expected near 'oops'"
	printf '{"seq":1,"pid":5,"tid":5,"nr":64,"name":"write","args":[1,0,1,0,0,0],"ret":1}\n' >arch.jsonl
	check arch.jsonl "arch.jsonl:1: error: nr 64 is not write on x86_64: a trace from another architecture?"
	printf '{"seq":1,"pid":5,"tid":5,"nr":1,"name":"wrote","args":[1,0,1,0,0,0],"ret":1}\n' >name.jsonl
	check name.jsonl "name.jsonl:1: error: unknown syscall 'wrote': not an x86_64 trace"
	printf '123 write(1, "a", 1) = 1\n123 this is not strace\n' >bad.log
	check bad.log "bad.log:2: error: not a strace line: 'this is not strace'"
	printf '123 write(1, "a", 1) = 1\n123 riscv_flush_icache(0, 0, 0) = 0\n' >arch.log
	check arch.log "arch.log:2: error: unknown syscall 'riscv_flush_icache': not an x86_64 strace log"
	printf '123 write(1, "a", 1) = -1 EWHAT (Who knows)\n' >errno.log
	check errno.log "errno.log:1: error: unknown errno 'EWHAT'"
	printf '123 write(1, "a", 1) = 1\n[ Process PID=123 runs in 32 bit mode. ]\n' >m32.log
	check m32.log "m32.log:2: error: a process in 32-bit or x32 mode: not an x86_64 strace log"
	printf '\177ELF\0\1\2garbage\n' >bin.log
	check bin.log "bin.log:1: error: not a strace line: it holds a NUL byte (a binary file?)"
	printf '{"seq":1}\n' >few.jsonl
	check few.jsonl "few.jsonl:1: error: a record needs seq, pid, tid, nr and name (docs/trace.md)"
	printf '123 +++ exited with 0 +++\n' >nocall.log
	check nocall.log "nocall.log:1: error: holds no syscall"
	check missing-ff "missing-ff: error: cannot read: No such file or directory"
	printf '123 write(1, "a", 1\n' >noresult.log
	check noresult.log "noresult.log:1: error: no result (' = ') in this strace line"
	;;
*)
	echo "unknown case $case_name"
	exit 2
	;;
esac
exit $failed
