#!/bin/bash
# cli_test.sh: tests of fi-run's command line, checks and exit statuses.
# ctest runs one case per test: `cli_test.sh CASE`. Each case asserts the
# exact status and output. Set by test/cli/CMakeLists.txt:
#   FI_RUN, CLI_TARGET, CLI_STATIC, CLI_STATIC_PIE (empty if -static does
#   not link here), CLI_ASAN (empty without libasan), CLI_TSAN (empty
#   without libtsan), FAKE_LIBFI, FIXTURES,
#   FI_VERSION, WORK (a scratch directory for this build).
set -u

case_name=$1
T=$WORK/$case_name
rm -rf "$T" && mkdir -p "$T" || exit 1
cd "$T" || exit 1
unset FI_LIBRARY FI_RULES FI_SCENARIO FI_TRACE FI_TRACE_APPEND FI_SEED \
	FI_DEBUG FI_REPORT LD_PRELOAD
# The stand-in library, unless a case wants the real libfi.so.
export FI_LIBRARY=$FAKE_LIBFI

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run_fi ARGS...: fi-run with stdout in $T/out, stderr in $T/err, status
# in $rc.
run_fi() {
	"$FI_RUN" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}
expect_rc() {
	[ "$rc" = "$1" ] || fail "status $rc, expected $1 (stderr: $(cat "$T/err"))"
}
expect_err() {
	local want
	want=$(printf '%s\n' "$@")
	[ "$(cat "$T/err")" = "$want" ] ||
		fail "stderr differs:$(printf '\n--- want\n%s\n--- got\n%s' "$want" "$(cat "$T/err")")"
}
expect_out() {
	local want
	want=$(printf '%s\n' "$@")
	[ "$(cat "$T/out")" = "$want" ] ||
		fail "stdout differs:$(printf '\n--- want\n%s\n--- got\n%s' "$want" "$(cat "$T/out")")"
}
usage_lines=("Usage: fi-run [options] -- PROGRAM [ARGS...]"
	"Try 'fi-run --help' for more information.")
static_tail="statically linked, so nothing can be preloaded into it; fi cannot intercept its syscalls"

case $case_name in
version)
	run_fi --version
	expect_rc 0
	expect_out "fi-run $FI_VERSION"
	expect_err
	;;
help)
	run_fi --help
	expect_rc 0
	expect_err
	[ "$(head -1 "$T/out")" = "${usage_lines[0]}" ] || fail "help: first line"
	for opt in "-s, --scenario FILE" "-r, --rule RULE" "-e inject=SPEC" \
		"-e fault=SPEC" "--record FILE" "--seed N" "--strict" "-v, --verbose" \
		"-q, --quiet" "-h, --help" "--version" "Examples:" \
		"--replay FILE" "--replay-strict" "--sweep" "--shard K/N" \
		"--merge A.json" "--coverage DIR" "--force" \
		"fi-run -s disk_full.fi -- ./program args"; do
		grep -qF -- "$opt" "$T/out" || fail "help lacks '$opt'"
	done
	for later in --supervise; do
		grep -qF -- "$later" "$T/out" && fail "help lists $later, not there yet"
	done
	run_fi -h
	expect_rc 0
	;;
bad_option)
	run_fi --bogus -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: unrecognized option '--bogus'" "${usage_lines[@]}"
	[ -e marker ] && fail "the program ran"
	run_fi -x "$CLI_TARGET"
	expect_rc 125
	expect_err "fi-run: invalid option '-x'" "${usage_lines[@]}"
	run_fi -s
	expect_rc 125
	expect_err "fi-run: option '-s' requires an argument" "${usage_lines[@]}"
	run_fi --rule
	expect_rc 125
	expect_err "fi-run: option '--rule' requires an argument" "${usage_lines[@]}"
	run_fi -e trace=open -- "$CLI_TARGET"
	expect_rc 125
	expect_err "fi-run: -e takes inject=SPEC or fault=SPEC, not 'trace=open'" "${usage_lines[@]}"
	run_fi --seed 12x -- "$CLI_TARGET"
	expect_rc 125
	expect_err "fi-run: --seed: '12x' is not a number from 0 to 18446744073709551615" "${usage_lines[@]}"
	run_fi --seed -1 -- "$CLI_TARGET"
	expect_rc 125
	;;
no_program)
	run_fi
	expect_rc 125
	expect_err "fi-run: no program given" "${usage_lines[@]}"
	run_fi -q --
	expect_rc 125
	expect_err "fi-run: no program given" "${usage_lines[@]}"
	run_fi -q -
	expect_rc 125
	expect_err "fi-run: '-' looks like an option, not a program; put the program after '--'" "${usage_lines[@]}"
	;;
bad_scenario)
	printf 'write when=3 error=ENOSPC\n\n  zzzqqq error=EIO\n' >bad.fi
	run_fi -s bad.fi -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "bad.fi:3:3: error: unknown syscall 'zzzqqq'"
	[ -e marker ] && fail "the program ran"
	run_fi -s ./missing.fi -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "./missing.fi: error: cannot read: No such file or directory"
	[ -e marker ] && fail "the program ran"
	# Read from a pipe: the message names the file as typed.
	printf 'read error=EIO\nwrite error=EZZZ\n' |
		"$FI_RUN" -s /dev/stdin -- "$CLI_TARGET" touch marker >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 125
	expect_err "/dev/stdin:2:13: error: unknown errno 'EZZZ'"
	[ -e marker ] && fail "the program ran"
	;;
bundled)
	# A bare name not in the current directory: a bundled scenario.
	export FI_CLI_FAKE_RECORDS=$FIXTURES/report_fired.jsonl
	run_fi -v -q -s disk_full.fi -s short_io -- "$CLI_TARGET" env FI_SCENARIO
	expect_rc 0
	expect_out "FI_SCENARIO=$SCENARIOS/disk_full.fi:$SCENARIOS/short_io.fi"
	[ "$(head -2 "$T/err")" = "fi-run: scenario disk_full.fi: the bundled $SCENARIOS/disk_full.fi
fi-run: scenario short_io: the bundled $SCENARIOS/short_io.fi" ] || fail "-v: $(cat "$T/err")"
	# The summary names it as typed.
	printf '{"pid":9,"comm":"t","rule":0,"origin":"%s/short_io.fi:%s","text":"%s","matched":1,"fired":1,"site":"t+0x1"}\n' \
		"$SCENARIOS" "$(grep -n '^[a-z@]' "$SCENARIOS/short_io.fi" | head -1 | cut -d: -f1)" \
		"$(grep '^[a-z@]' "$SCENARIOS/short_io.fi" | head -1 | sed 's/ *#.*//')" >records
	FI_CLI_FAKE_RECORDS=$T/records run_fi -s short_io -- "$CLI_TARGET" exit 0
	expect_rc 0
	grep -qE "^fi: short_io:[0-9]+: .*: fired 1 time \(first at t\+0x1, pid 9\)$" "$T/err" ||
		fail "summary: $(cat "$T/err")"
	# A file in the current directory wins.
	printf 'read error=EIO\n' >disk_full.fi
	printf '{"pid":9,"comm":"t","rule":0,"origin":"%s/disk_full.fi:1","text":"read error=EIO","matched":1,"fired":1,"site":"t+0x1"}\n' "$T" >records
	FI_CLI_FAKE_RECORDS=$T/records run_fi -s disk_full.fi -- "$CLI_TARGET" env FI_SCENARIO
	expect_rc 0
	expect_out "FI_SCENARIO=$T/disk_full.fi"
	expect_err "fi: disk_full.fi:1: read error=EIO: fired 1 time (first at t+0x1, pid 9)"
	# An unknown name lists the bundled ones.
	names=$(cd "$SCENARIOS" && ls -- *.fi | sed 's/\.fi$//' | LC_ALL=C sort | paste -sd, | sed 's/,/, /g')
	run_fi -s no_such_scenario -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "no_such_scenario: error: no such file, and no bundled scenario of that name (bundled: $names)"
	[ -e marker ] && fail "the program ran"
	# A name with a '/' is a path, never a bundled scenario.
	run_fi -s ./disk_full -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "./disk_full: error: cannot read: No such file or directory"
	;;
scenario_once)
	# A scenario that is not a regular file is read once, into a private
	# copy that libfi reads, named as typed, removed after the run.
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	printf '{"pid":9,"comm":"t","rule":0,"origin":"ORIGIN:1","text":"read error=EIO","matched":1,"fired":1,"site":"t+0x1"}\n' >records.in
	# The stand-in reports the rule with the origin libfi would give it:
	# the file FI_SCENARIO names. Builtins only: one process reports.
	cat >show.sh <<'EOS'
read -r line <records.in
printf '%s\n' "${line/ORIGIN/$FI_SCENARIO}" >records
while read -r line; do printf '%s\n' "$line"; done <"$FI_SCENARIO"
EOS
	printf 'read error=EIO\n' | FI_CLI_FAKE_RECORDS=$T/records \
		"$FI_RUN" -s /dev/stdin -- bash show.sh >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 0
	expect_out "read error=EIO"
	expect_err "fi: /dev/stdin:1: read error=EIO: fired 1 time (first at t+0x1, pid 9)"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "private copy left behind: $(ls -A "$TMPDIR")"
	# The private copy is private.
	printf 'read error=EIO\n' | "$FI_RUN" -q -s /dev/stdin -- \
		"$CLI_TARGET" env FI_SCENARIO >"$T/out" 2>"$T/err"
	copy=$(sed -n 's/^FI_SCENARIO=//p' "$T/out")
	case $copy in
	"$TMPDIR"/fi-run-scenario.??????) ;;
	*) fail "FI_SCENARIO=$copy, not a private copy in TMPDIR" ;;
	esac
	printf 'read error=EIO\n' | "$FI_RUN" -q -s /dev/stdin -- \
		sh -c 'stat -c %a "$FI_SCENARIO"' >"$T/out" 2>"$T/err"
	expect_out 600
	# A FIFO with no writer yet: fi-run says that it waits, then reads it.
	mkfifo fifo
	(sleep 1.5; printf 'read error=EIO\n' >fifo) &
	run_fi -q -s fifo -- "$CLI_TARGET" env FI_SCENARIO
	wait
	expect_rc 125 # the stand-in wrote no report
	expect_err "fi-run: fifo: waiting for data to read to its end, as it is not a regular file" \
		"fi-run: libfi did not act: the program exited 0, but no process reported on the rules (was $FAKE_LIBFI loaded?)"
	grep -q "^FI_SCENARIO=$TMPDIR/fi-run-scenario\.......\$" "$T/out" || fail "fifo: $(cat "$T/out")"
	# A signal that ends fi-run before the program runs removes the
	# copies made so far: here while it waits for the FIFO's writer.
	printf 'read error=EIO\n' | "$FI_RUN" -s /dev/stdin -s fifo -- "$CLI_TARGET" touch marker 2>"$T/err" &
	pid=$!
	# (up to 20 s: a loaded machine may take seconds to start fi-run)
	for _ in $(seq 400); do grep -q waiting "$T/err" && break; sleep 0.05; done
	[ "$(ls "$TMPDIR" | wc -l)" = 1 ] || fail "no private copy of /dev/stdin while waiting: $(ls -A "$TMPDIR") (stderr: $(cat "$T/err"))"
	kill -TERM $pid
	wait $pid
	rc=$?
	expect_rc 143
	[ -z "$(ls -A "$TMPDIR")" ] || fail "private copy left behind after SIGTERM: $(ls -A "$TMPDIR")"
	[ -e marker ] && fail "the program ran"
	# A signal relayed to the program: the copy goes when fi-run ends.
	printf 'read error=EIO\n' | "$FI_RUN" -q -s /dev/stdin -- "$CLI_TARGET" wait ready >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 400); do [ -e ready ] && break; sleep 0.05; done
	[ "$(ls "$TMPDIR" | grep -c fi-run-scenario)" = 1 ] || fail "no private copy while running: $(ls -A "$TMPDIR")"
	kill -TERM $pid
	wait $pid
	rc=$?
	expect_rc 143
	[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind after a relayed SIGTERM: $(ls -A "$TMPDIR")"
	# An unreadable FIFO.
	if [ "$(id -u)" != 0 ]; then
		chmod 0 fifo
		run_fi -s fifo -- "$CLI_TARGET" touch marker
		expect_rc 125
		expect_err "fifo: error: cannot read: Permission denied"
	fi
	;;
bad_rule)
	# the n-th -r or -e is line n of <rule>
	run_fi -r 'write error=EIO' -r 'read error=EZZZQQQ' -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "<rule>:2:12: error: unknown errno 'EZZZQQQ'"
	[ -e marker ] && fail "the program ran"
	run_fi -e inject=zzzqqq:error=EIO -- "$CLI_TARGET" touch marker
	expect_rc 125
	[ "$(cut -d: -f1,2 "$T/err")" = "<rule>:1" ] || fail "-e message: $(cat "$T/err")"
	[ -e marker ] && fail "the program ran"
	# -r '' is the error fi_rule("") gives
	run_fi -r '' -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "<rule>:1:1: error: empty rule"
	[ -e marker ] && fail "the program ran"
	run_fi -r 'write error=EIO' -r '  # only a comment' -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "<rule>:2:1: error: empty rule"
	[ -e marker ] && fail "the program ran"
	# one option, one line: a newline would move the later origins
	run_fi -r 'write error=EIO' -e 'inject=read:error=EIO
fsync error=EIO' -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "<rule>:2:22: error: a newline in -r or -e: separate rules with ';', or write them in a scenario file (-s)"
	[ -e marker ] && fail "the program ran"
	;;
not_found)
	run_fi -- fi-no-such-program-zzz
	expect_rc 127
	expect_err "fi-run: fi-no-such-program-zzz: command not found"
	run_fi -- ./no-such-file
	expect_rc 127
	expect_err "fi-run: ./no-such-file: No such file or directory"
	;;
not_executable)
	cp "$CLI_TARGET" plain && chmod 0644 plain
	run_fi -- ./plain
	expect_rc 126
	expect_err "fi-run: ./plain: Permission denied"
	run_fi -- "$T"
	expect_rc 126
	expect_err "fi-run: $T: Is a directory"
	printf 'not a program\n' >garbage && chmod 0755 garbage
	run_fi -q -- ./garbage
	expect_rc 126
	expect_err "fi-run: ./garbage: Exec format error"
	;;
no_libfi)
	FI_LIBRARY=$T/nowhere/libfi.so run_fi -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: FI_LIBRARY=$T/nowhere/libfi.so: No such file or directory"
	[ -e marker ] && fail "the program ran"
	;;
static)
	[ -n "$CLI_STATIC" ] || { echo "no static libc here"; exit 77; }
	run_fi -- "$CLI_STATIC" touch marker
	expect_rc 126
	expect_err "fi-run: $CLI_STATIC: $static_tail"
	[ -e marker ] && fail "the program ran"
	run_fi -- "$CLI_STATIC_PIE" touch marker
	expect_rc 126
	expect_err "fi-run: $CLI_STATIC_PIE: $static_tail"
	# A script whose interpreter is static cannot take libfi either.
	printf '#!%s\n' "$CLI_STATIC" >script && chmod 0755 script
	run_fi -- ./script
	expect_rc 126
	expect_err "fi-run: ./script: its interpreter $CLI_STATIC is $static_tail"
	printf '#!%s/none\n' "$T" >script2 && chmod 0755 script2
	run_fi -- ./script2
	expect_rc 126
	expect_err "fi-run: ./script2: bad interpreter $T/none: No such file or directory"
	;;
setuid)
	# The loader ignores LD_PRELOAD when the exec changes the effective
	# ids: a setuid file owned by someone else than the runner.
	[ "$(id -u)" = 0 ] || { echo "needs root to chown"; exit 77; }
	cp "$CLI_TARGET" suid && chown nobody suid && chmod 4755 suid
	run_fi -- ./suid touch marker
	expect_rc 126
	expect_err "fi-run: ./suid: setuid (owner nobody), so the loader ignores LD_PRELOAD for it; fi cannot intercept its syscalls"
	[ -e marker ] && fail "the program ran"
	cp "$CLI_TARGET" sgid && chgrp nogroup sgid && chmod 2755 sgid
	run_fi -- ./sgid touch marker
	expect_rc 126
	expect_err "fi-run: ./sgid: setgid (group nogroup), so the loader ignores LD_PRELOAD for it; fi cannot intercept its syscalls"
	# Root running a root-owned setuid file: no id change, preload works.
	cp "$CLI_TARGET" rootsuid && chmod 4755 rootsuid
	run_fi -q -- ./rootsuid touch marker env LD_PRELOAD
	expect_rc 0
	expect_out "LD_PRELOAD=$FAKE_LIBFI"
	[ -e marker ] || fail "root-owned setuid program did not run"
	;;
not_libfi)
	# What fi-run would preload must be libfi: checked before the run.
	tail_msg="so it is not libfi and fi-run cannot preload it"
	printf 'not a library\n' >text.so
	FI_LIBRARY=$T/text.so run_fi -r 'read error=EIO' -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: $T/text.so is not an ELF file, $tail_msg"
	FI_LIBRARY=$CLI_TARGET run_fi -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: $CLI_TARGET is a shared object that does not define fi_version, $tail_msg"
	libc=$(ldd "$CLI_TARGET" | sed -n 's/.*libc\.so\.6 => \([^ ]*\) .*/\1/p')
	FI_LIBRARY=$libc run_fi -r 'read error=EIO' -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: $libc is a shared object that does not define fi_version, $tail_msg"
	if [ -n "$CLI_STATIC" ]; then
		FI_LIBRARY=$CLI_STATIC run_fi -- "$CLI_TARGET" touch marker
		expect_rc 125
		expect_err "fi-run: $CLI_STATIC is not a shared object, $tail_msg"
	fi
	# An ELF of another machine: this one's header says i386.
	cp "$FAKE_LIBFI" i386.so
	printf '\003\000' | dd of=i386.so bs=1 seek=18 conv=notrunc status=none
	FI_LIBRARY=$T/i386.so run_fi -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: $T/i386.so is not an x86_64 object, $tail_msg"
	[ -e marker ] && fail "the program ran"
	# The stand-in defines fi_version and passes.
	run_fi -- "$CLI_TARGET" touch marker
	expect_rc 0
	[ -e marker ] || fail "the program did not run"
	;;
libfi_silent)
	# Rules armed, the program exited 0, and no process wrote a line of
	# the report: libfi did not act.
	silent="fi-run: libfi did not act: the program exited 0, but no process reported on the rules (was $FAKE_LIBFI loaded?)"
	run_fi -r 'read error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 125
	expect_err "fi: <rule>:1: read error=EIO: no report from the program" "$silent"
	run_fi -q -r 'read error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 125
	expect_err "$silent"
	# The program's own failure wins, and then nothing is said.
	run_fi -q -r 'read error=EIO' -- "$CLI_TARGET" exit 3
	expect_rc 3
	expect_err
	# One line, of any kind, shows that libfi was there.
	FI_CLI_FAKE_RECORDS=$FIXTURES/report_fired.jsonl run_fi -q -r 'read error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	# No rules: nothing to report.
	run_fi -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	;;
strict)
	export FI_CLI_FAKE_RECORDS=$FIXTURES/report_fired.jsonl
	run_fi --strict -r 'write error=EIO' -r 'read error=EIO' -r 'fsync error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 1
	expect_err "fi: <rule>:1: write error=EIO: fired 1 time (first at t+0x10, pid 1234)" \
		"fi: <rule>:2: read error=EIO: never fired (2 matching calls)" \
		"fi: <rule>:3: fsync error=EIO: no report from the program" \
		"fi-run: --strict: 2 rules never fired"
	run_fi -q --strict -r 'write error=EIO' -r 'read error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 1
	expect_err "fi-run: --strict: 1 rule never fired"
	# The program's own failure wins.
	run_fi -q --strict -r 'read error=EIO' -- "$CLI_TARGET" exit 4
	expect_rc 4
	expect_err
	run_fi -q --strict -r 'read error=EIO' -- "$CLI_TARGET" kill 15
	expect_rc 143
	# Every rule fired: 0; without --strict, a rule that never fired is no error.
	head -1 "$FIXTURES/report_fired.jsonl" >fired
	FI_CLI_FAKE_RECORDS=$T/fired run_fi -q --strict -r 'write error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	run_fi -q -r 'read error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	;;
lost)
	# libfi's lost lines: summed per pid, said even with -q, and 125
	# when the program itself exited 0.
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	export FI_CLI_FAKE_RECORDS=$FIXTURES/report_lost.jsonl
	lost1="fi-run: the trace t.jsonl lost 20 records (pid 4242: No space left on device)"
	lost2="fi-run: the trace t.jsonl lost 1 record (pid 4250: EBADF)"
	run_fi --record t.jsonl -r 'read error=EIO' -- "$CLI_TARGET" exit 0
	expect_rc 125
	expect_err "fi: <rule>:1: read error=EIO: never fired (0 matching calls)" "$lost1" "$lost2"
	# --record alone: fi-run still makes a report for these lines.
	run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 0
	expect_rc 125
	expect_err "$lost1" "$lost2"
	run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 3
	expect_rc 3
	expect_err "$lost1" "$lost2"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "report file left behind: $(ls -A "$TMPDIR")"
	unset FI_CLI_FAKE_RECORDS
	run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	;;
trace_check)
	# fi-run checks the trace itself: a last record without its newline
	# is partial; an empty trace recorded nothing.
	printf '{"seq":1,"name":"write"}\n{"seq":2,"na' >partial
	FI_CLI_FAKE_TRACE=$T/partial run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 0
	expect_rc 125
	expect_err "fi-run: the trace t.jsonl ends in a partial record: its last line has no newline"
	FI_CLI_FAKE_TRACE=$T/partial run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 2
	expect_rc 2
	expect_err "fi-run: the trace t.jsonl ends in a partial record: its last line has no newline"
	FI_CLI_FAKE_TRACE=/dev/null run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 0
	expect_rc 125
	expect_err "fi-run: the trace t.jsonl is empty: libfi recorded nothing"
	run_fi -q --record t.jsonl -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	# A file that takes no data is refused before the run.
	run_fi --record /dev/full -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: --record /dev/full: No space left on device"
	[ -e marker ] && fail "the program ran"
	run_fi -q --record /dev/null -- "$CLI_TARGET" exit 0
	expect_rc 0
	expect_err
	;;
exit_status)
	run_fi -- "$CLI_TARGET" exit 3
	expect_rc 3
	expect_err
	run_fi -- "$CLI_TARGET" exit 0
	expect_rc 0
	run_fi -- "$CLI_TARGET" kill 15
	expect_rc 143
	run_fi -- "$CLI_TARGET" kill 9
	expect_rc 137
	;;
signals)
	# A SIGTERM sent to fi-run reaches the program.
	"$FI_RUN" -- "$CLI_TARGET" wait ready >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 400); do [ -e ready ] && break; sleep 0.05; done
	[ -e ready ] || fail "program never started"
	kill -TERM $pid
	wait $pid
	rc=$?
	expect_rc 143
	expect_err
	rm -f ready
	"$FI_RUN" -- "$CLI_TARGET" wait ready >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 400); do [ -e ready ] && break; sleep 0.05; done
	kill -USR1 $pid
	wait $pid
	rc=$?
	expect_rc 138
	# fi-run killed with SIGKILL, which it cannot relay: the program
	# goes too (a parent-death signal).
	rm -f ready
	"$FI_RUN" -- "$CLI_TARGET" wait ready-$$ >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 100); do [ -e ready-$$ ] && break; sleep 0.05; done
	prog=$(pgrep -xf "$CLI_TARGET wait ready-$$") || fail "program never started"
	kill -KILL $pid
	wait $pid 2>/dev/null
	for _ in $(seq 100); do kill -0 "$prog" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$prog" 2>/dev/null; then
		kill -KILL "$prog"
		fail "the program outlived fi-run's SIGKILL"
	fi
	;;
environment)
	# Rules from the environment are replaced, with a warning that -q
	# does not hide (-q hides the summary only).
	for q in "" -q; do
		FI_RULES='getppid error=EPERM' run_fi $q -- "$CLI_TARGET" exit 0
		expect_rc 0
		expect_err "fi-run: warning: ignoring FI_RULES from the environment; use -s, -r or --record"
	done
	# What fi-run hands libfi, checked with a stand-in library.
	printf 'write when=3 error=ENOSPC\n' >disk.fi
	printf 'fsync error=EIO\n' >other.fi
	# (verify_asan_link_order: for an fi-run built with FI_SANITIZE.)
	# fi-run owns FI_REPORT when it arms rules or records.
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	ASAN_OPTIONS=verify_asan_link_order=0 FI_CLI_FAKE_RECORDS=$FIXTURES/report_fired.jsonl \
	LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 FI_TRACE_APPEND=1 FI_REPORT=/x \
		run_fi -q -v -s disk.fi -s ./other.fi -r 'read error=EINTR' \
		-e inject=write:error=ENOSPC:when=3 --seed 42 --record t.trace -- \
		"$CLI_TARGET" env LD_PRELOAD env FI_SCENARIO env FI_RULES env FI_TRACE \
		env FI_SEED env FI_DEBUG env FI_TRACE_APPEND env FI_REPORT
	expect_rc 0
	sed -i "s|^FI_REPORT=$TMPDIR/fi-run-report\.[A-Za-z0-9]\{6\}\$|FI_REPORT=<report>|" "$T/out"
	expect_out "LD_PRELOAD=$FAKE_LIBFI /lib/x86_64-linux-gnu/libm.so.6" \
		"FI_SCENARIO=$T/disk.fi:$T/other.fi" \
		"FI_RULES=read error=EINTR" "inject=write:error=ENOSPC:when=3" \
		"FI_TRACE=$T/t.trace" "FI_SEED=42" "FI_DEBUG=1" \
		"FI_TRACE_APPEND unset" "FI_REPORT=<report>"
	expect_err "fi-run: libfi: $FAKE_LIBFI (FI_LIBRARY)" "fi-run: running $CLI_TARGET"
	[ -e t.trace ] || fail "--record did not create its file"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "report file left behind: $(ls -A "$TMPDIR")"
	# Without options, none of fi's variables is set; LD_PRELOAD is libfi;
	# FI_REPORT passes on.
	FI_SEED=7 FI_REPORT=/x run_fi -- "$CLI_TARGET" env LD_PRELOAD env FI_RULES env FI_SEED env FI_REPORT
	expect_rc 0
	expect_out "LD_PRELOAD=$FAKE_LIBFI" "FI_RULES unset" "FI_SEED=7" "FI_REPORT=/x"
	expect_err
	# A trace file that cannot be created stops fi-run first.
	run_fi --record "$T/no/such/dir/t" -- "$CLI_TARGET" touch marker
	expect_rc 125
	expect_err "fi-run: --record $T/no/such/dir/t: No such file or directory"
	[ -e marker ] && fail "the program ran"
	;;
asan)
	[ -n "$CLI_ASAN" ] || { echo "no libasan here"; exit 77; }
	ASAN_OPTIONS=detect_leaks=0 run_fi -q -- "$CLI_ASAN" env LD_PRELOAD
	expect_rc 0
	# The absolute libasan first, then libfi.
	first=$(sed -n 's/^LD_PRELOAD=\([^ ]*\) .*/\1/p' "$T/out")
	case $first in
	/*/libasan.so.*) ;;
	*) fail "libasan does not come first: $(cat "$T/out")" ;;
	esac
	[ "$(sed 's/^LD_PRELOAD=[^ ]* //' "$T/out")" = "$FAKE_LIBFI" ] ||
		fail "libfi does not follow libasan: $(cat "$T/out")"
	;;
summary)
	# The whole path of the summary: FI_REPORT handed over, records
	# appended by the (stand-in) library, read, printed, file removed.
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	printf '# the disk fills up\n\nwrite when=3 error=ENOSPC\n' >disk_full.fi
	sed "s|/abs/dir/disk_full.fi|$T/disk_full.fi|" "$FIXTURES/report_basic.jsonl" >records
	FI_CLI_FAKE_RECORDS=$T/records run_fi -s disk_full.fi -r 'read error=EIO' \
		-r 'fsync error=EIO' -- "$CLI_TARGET" exit 4
	expect_rc 4
	expect_err \
		"fi: disk_full.fi:3: write when=3 error=ENOSPC: fired 2 times in 2 processes (first at cp+0x1234, pid 1234)" \
		"fi: <rule>:1: read error=EIO: never fired (1 matching call)" \
		"fi: <rule>:2: fsync error=EIO: no report from the program"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "report file left behind: $(ls -A "$TMPDIR")"
	;;
manpage)
	# docs/fi-run.1 covers every option of --help, every exit status,
	# names bundled scenarios that exist, and renders without a warning.
	run_fi --help
	for opt in $(grep -oE -- '(^| )--?[a-z][a-z-]*' "$T/out" | sort -u); do
		grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" "$MANPAGE" ||
			fail "fi-run.1 lacks $opt"
	done
	for st in 1 125 126 127 128+; do
		sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$MANPAGE" | grep -qE "^(\.RI )?$st" ||
			fail "fi-run.1 lacks exit status $st"
	done
	for name in $(sed -n '/^\.SH FILES/,/^\.SH /s/^\.BR* \([a-z_]*\).*/\1/p' "$MANPAGE"); do
		[ -e "$SCENARIOS/$name.fi" ] || fail "fi-run.1 names a bundled $name that is not in scenarios/"
	done
	command -v groff >/dev/null || { echo "no groff here"; exit 77; }
	warnings=$(groff -man -ww -z "$MANPAGE" 2>&1)
	[ -z "$warnings" ] || fail "groff: $warnings"
	;;
live_inject)
	# With the real libfi.so, found next to fi-run in the build tree.
	unset FI_LIBRARY
	site='[^ ]+\+0x[0-9a-f]+'
	run_fi -e inject=write:error=ENOSPC:when=1 -- "$CLI_TARGET" write
	expect_rc 1
	expect_out "write: No space left on device"
	grep -qxE "fi: <rule>:1: inject=write:error=ENOSPC:when=1: fired 1 time \(first at $site, pid [0-9]+\)" "$T/err" ||
		fail "summary: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "more than the summary on stderr: $(cat "$T/err")"
	printf '# never\nfsync error=EIO\n' >never.fi
	run_fi -s never.fi -r 'write when=5 error=EIO' -- "$CLI_TARGET" write exit 3
	expect_rc 3
	expect_out "x"
	expect_err "fi: never.fi:2: fsync error=EIO: never fired (0 matching calls)" \
		"fi: <rule>:1: write when=5 error=EIO: never fired (1 matching call)"
	run_fi -q -r 'write error=EIO' -- "$CLI_TARGET" kill 15
	expect_rc 143
	expect_err
	# A failed run with prob= rules says which seed repeats it; a
	# successful one does not.
	run_fi --seed 42 -r 'write prob=1 error=EIO' -- "$CLI_TARGET" write
	expect_rc 1
	grep -qxF "fi: prob= rules drew from seed 42; --seed 42 repeats this run" "$T/err" ||
		fail "seed line: $(cat "$T/err")"
	run_fi --seed 42 -r 'fsync prob=1 error=EIO' -- "$CLI_TARGET" write
	expect_rc 0
	! grep -q "seed" "$T/err" || fail "seed said on success: $(cat "$T/err")"
	# -v says what was patched, and what the kernel offers.
	run_fi -v -q -- "$CLI_TARGET" exit 0
	expect_rc 0
	grep -qE '^fi: patched libc\.so\.6: [0-9]+ patch points' "$T/err" || fail "-v: no patch line: $(cat "$T/err")"
	grep -q '^fi: kernel features: clone3 ' "$T/err" || fail "-v: no kernel features: $(cat "$T/err")"
	# when= counts per process, as strace does: the subshell (a fork)
	# counts from zero, so b and f fail.
	run_fi -q -r 'write fd=1 when=2 error=EIO' -- sh -c 'echo a; echo b; (echo e; echo f)'
	expect_rc 1
	expect_out a e
	# A program run under --record that cannot reopen the trace (a low
	# fd limit) goes on and is still recorded.
	run_fi -q --record low.jsonl -- bash -c 'ulimit -n 29; exec sh -c "exit 7"'
	expect_rc 7
	[ "$(grep -c '"name":"exit_group"' low.jsonl)" -ge 1 ] || fail "no exit_group recorded under a low fd limit"
	if [ -n "$CLI_ASAN" ]; then
		ASAN_OPTIONS=detect_leaks=0 run_fi -q -e inject=write:error=ENOSPC:when=1 -- "$CLI_ASAN" write
		expect_rc 1
		expect_out "write: No space left on device"
	fi
	;;
live_twice)
	# The same rule given twice is two rules, each with its own count:
	# two -r (<rule>:1, <rule>:2), two on one -r (both <rule>:1, told
	# apart by their place), the same line twice in a scenario; -v too.
	unset FI_LIBRARY
	site='[^ ]+\+0x[0-9a-f]+'
	check_twice() { # ORIGIN1 ORIGIN2
		grep -qxE "fi: $1: getppid when=2 retval=4242424: fired 1 time \(first at $site, pid [0-9]+\)" "$T/err" &&
			grep -qxF "fi: $2: getppid when=2 retval=4242424: never fired (3 matching calls)" "$T/err" &&
			[ "$(grep -c '^fi: .*getppid' "$T/err")" = 2 ] ||
			fail "summary of $1 and $2: $(cat "$T/err")"
	}
	run_fi -r 'getppid when=2 retval=4242424' -r 'getppid when=2 retval=4242424' -- \
		"$CLI_TARGET" ppid ppid ppid
	expect_rc 0
	check_twice '<rule>:1' '<rule>:2'
	run_fi -v -r 'getppid when=2 retval=4242424' -r 'getppid when=2 retval=4242424' -- \
		"$CLI_TARGET" ppid ppid ppid
	expect_rc 0
	check_twice '<rule>:1' '<rule>:2'
	run_fi -r 'getppid when=2 retval=4242424; getppid when=2 retval=4242424' -- \
		"$CLI_TARGET" ppid ppid ppid
	expect_rc 0
	check_twice '<rule>:1' '<rule>:1'
	printf 'getppid when=2 retval=4242424\ngetppid when=2 retval=4242424\n' >twice.fi
	run_fi -s twice.fi -- "$CLI_TARGET" ppid ppid ppid
	expect_rc 0
	check_twice 'twice.fi:1' 'twice.fi:2'
	;;
live_outlive)
	# A process of the program that still runs when the program ends is
	# said to be left out of the summary (it holds the report's lock);
	# none is said when every process has ended.
	unset FI_LIBRARY
	run_fi -r 'getppid retval=7' -- sh -c 'sleep 2 & sleep 0.2; exit 0'
	expect_rc 0
	grep -qx "fi-run: warning: processes of the program still run after it ended; what their rules do is not in this summary" "$T/err" ||
		fail "no warning for a process left running: $(cat "$T/err")"
	run_fi -r 'getppid retval=7' -- sh -c 'sleep 0.01 & wait'
	expect_rc 0
	grep -q 'still run' "$T/err" && fail "a warning with no process left: $(cat "$T/err")"
	;;
live_asan)
	# The sanitizer runtimes' own calls are not patched: LeakSanitizer's
	# tracer takes a failed getppid() for its parent's death and would
	# wait forever, and ASan's report reaches stderr whatever the rules
	# say about fd 2. The program's own calls still fail.
	[ -n "$CLI_ASAN" ] || { echo "no libasan here"; exit 77; }
	unset FI_LIBRARY
	timeout 60 "$FI_RUN" -q -r 'getppid error=EPERM' -- "$CLI_ASAN" ppid \
		>"$T/out" 2>"$T/err" </dev/null
	rc=$?
	expect_rc 0
	expect_out "ppid failed"
	run_fi -q -r 'write fd=2 error=EIO' -- "$CLI_ASAN" overflow
	[ "$rc" != 0 ] || fail "the overflow was not reported"
	grep -q 'AddressSanitizer: heap-buffer-overflow' "$T/err" ||
		fail "no ASan report on stderr: $(cat "$T/err")"
	;;
live_tsan)
	# A program that links GCC's libtsan (768 KiB of initial-exec TLS)
	# starts under the early start, whose static TLS reserve must hold
	# it: before, ld.so said "cannot allocate memory in static TLS block".
	[ -n "$CLI_TSAN" ] || { echo "no libtsan here"; exit 77; }
	unset FI_LIBRARY
	timeout 60 "$FI_RUN" -v -r 'getppid error=EPERM' -- "$CLI_TSAN" ppid \
		>"$T/out" 2>"$T/err" </dev/null
	rc=$?
	expect_rc 0
	expect_out "ppid failed"
	grep -q 'early start with' "$T/err" ||
		fail "no early start: $(cat "$T/err")"
	;;
live_site)
	# site= with a '/' matches the calling object's full path; without
	# one, its file name. The program's path is /proc/self/exe's target.
	unset FI_LIBRARY
	cat_path=$(readlink -f "$(command -v cat)")
	echo hello >in.txt
	for pat in "$cat_path" '*/cat' cat; do
		run_fi -q -r "openat site=$pat path=in.txt error=ENOENT" -- cat in.txt
		expect_rc 1
		expect_out
		grep -qF "in.txt: No such file or directory" "$T/err" ||
			fail "site=$pat: $(cat "$T/err")"
	done
	for pat in /nonexistent/cat '*/cat/*' "${cat_path%/*}"; do
		run_fi -q -r "openat site=$pat path=in.txt error=ENOENT" -- cat in.txt
		expect_rc 0
		expect_out hello
	done
	;;
live_scenario_once)
	# With the real libfi: a scenario from a pipe, a process substitution
	# and a FIFO arms its rules in the program and in what it execs.
	unset FI_LIBRARY
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	site='[^ ]+\+0x[0-9a-f]+'
	prog='echo $PPID; exec sh -c "echo \$PPID"'
	echo 'getppid retval=4242' | "$FI_RUN" -s /dev/stdin -- sh -c "$prog" >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 0
	expect_out 4242 4242
	grep -qxE "fi: /dev/stdin:1: getppid retval=4242: fired 2 times \(first at $site, pid [0-9]+\)" "$T/err" ||
		fail "pipe: $(cat "$T/err")"
	# bash gives <(...) as /dev/fd/N.
	FI_RUN=$FI_RUN prog=$prog bash -c '"$FI_RUN" -s <(echo "getppid retval=4242") -- sh -c "$prog"' >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 0
	expect_out 4242 4242
	grep -qxE "fi: /dev/fd/[0-9]+:1: getppid retval=4242: fired 2 times \(first at $site, pid [0-9]+\)" "$T/err" ||
		fail "process substitution: $(cat "$T/err")"
	mkfifo fifo
	(sleep 0.2; echo 'getppid retval=4242' >fifo) &
	run_fi -s fifo -- sh -c "$prog"
	wait
	expect_rc 0
	expect_out 4242 4242
	grep -qxE "fi: fifo:1: getppid retval=4242: fired 2 times \(first at $site, pid [0-9]+\)" "$T/err" ||
		fail "fifo: $(cat "$T/err")"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind: $(ls -A "$TMPDIR")"
	;;
live_lost)
	# With the real libfi: a trace that stops taking records (a file size
	# limit, SIGXFSZ ignored) is said, per process, and fails a run that
	# succeeded.
	unset FI_LIBRARY
	run_fi -q --record t.jsonl -- bash -c 'trap "" XFSZ; ulimit -f 1; exec sh -c "echo hi"'
	expect_rc 125
	expect_out hi
	grep -qxE "fi-run: the trace t.jsonl lost [0-9]+ records \(pid [0-9]+: EFBIG\)" "$T/err" ||
		fail "no lost line: $(cat "$T/err")"
	run_fi -q --record t.jsonl -- bash -c 'trap "" XFSZ; ulimit -f 1; exec sh -c "exit 3"'
	expect_rc 3
	grep -qxE "fi-run: the trace t.jsonl lost [0-9]+ records \(pid [0-9]+: EFBIG\)" "$T/err" ||
		fail "no lost line when the program failed: $(cat "$T/err")"
	;;
live_relocated)
	# An installed fi-run finds its libfi.so relative to itself, so the
	# prefix can move.
	unset FI_LIBRARY
	cmake --install "$BUILD_DIR" --prefix "$T/p1" >install.log 2>&1 ||
		{ fail "install: $(tail -5 install.log)"; exit 1; }
	mv "$T/p1" "$T/p2"
	"$T/p2/bin/fi-run" -v -q -- "$CLI_TARGET" exit 5 >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 5
	[ "$(head -1 "$T/err")" = "fi-run: libfi: $T/p2/$FI_LIBDIR/libfi.so.${FI_VERSION%%.*}" ] ||
		fail "libfi from the moved prefix: $(head -1 "$T/err")"
	# Without libfi_audit.so beside libfi.so, the run differs (libfi
	# starts late, a sweep has no fork server): said without -v, and
	# not with FI_EARLY=0, which asks for the late start.
	audit=$T/p2/$FI_LIBDIR/libfi_audit.so
	rm "$audit" || fail "no $audit installed"
	"$T/p2/bin/fi-run" -q -- "$CLI_TARGET" exit 5 >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 5
	expect_err "fi-run: warning: no early start: $audit: No such file or directory (FI_EARLY=0 starts libfi late without this warning)"
	FI_EARLY=0 "$T/p2/bin/fi-run" -q -- "$CLI_TARGET" exit 5 >"$T/out" 2>"$T/err"
	rc=$?
	expect_rc 5
	expect_err
	;;
*)
	echo "unknown case $case_name"
	exit 2
	;;
esac

[ "$failures" = 0 ] || exit 1
echo "ok"
