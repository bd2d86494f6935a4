#!/usr/bin/env bash
# strace_inject_test.sh: `fi-run -e inject=...` means what `strace -f -e
# inject=...` means, on the same program: the same stdout, stderr and exit
# status, for strace 6.1's forms (when= counted per syscall and per
# thread, N..M+, a key given twice, lower-case errno and signal names,
# SIGRT_N, delays with units, syscall= run instead, poke_enter= and
# poke_exit= writing into the program's memory, and the forms both refuse).
# Process ids differ between the two runs
# (the parent is strace or fi-run), so numbers of 3 digits or more read
# as N.
#
# strace warns on its stderr when a poke's pointer is bad; fi never writes
# to the program's stderr (its trace marks the poke "failed"), so those
# warnings are left out of the comparison.
#
#   strace_inject_test.sh FI_RUN STRACE LIVE_CTOR LIVE_POKE
set -uo pipefail

fi_run=$(realpath "$1") strace=$2 ctor=$(realpath "$3") pokes=$(realpath "$4")
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-inject.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
cd "$work" || exit 1
printf abc >in
fail=0 n=0

norm()
{
	sed -E '/^[^ ]*strace: poke_tcb: Failed to tamper with process [0-9]+: couldn.t poke$/d
		s/[0-9.e-]+ s, [0-9.]+ [kMG]?B\/s/T/; s/[0-9]{3,}/N/g' "$1"
}

# same SPEC CMD...: strace and fi-run agree.
same()
{
	local spec=$1 rc_s rc_f
	shift
	rm -f out
	"$strace" -f -qq -o /dev/null -e "inject=$spec" "$@" >s.out 2>s.err
	rc_s=$?
	rm -f out
	"$fi_run" -q -e "inject=$spec" -- "$@" >f.out 2>f.err
	rc_f=$?
	n=$((n + 1))
	if [ $rc_s != $rc_f ] || [ "$(norm s.out)" != "$(norm f.out)" ] ||
	   [ "$(norm s.err)" != "$(norm f.err)" ]; then
		echo "FAIL: inject=$spec -- $*"
		echo "  strace: status $rc_s, out '$(norm s.out)', err '$(norm s.err)'"
		echo "  fi-run: status $rc_f, out '$(norm f.out)', err '$(norm f.err)'"
		fail=1
	fi
}

# when= counts per syscall: the second write fails, not the second read.
same read,write:error=EIO:when=2 dd if=in of=out bs=1 count=3
same read,write:error=eio:when=2+ dd if=in of=out bs=1 count=3
# live_ctor calls getppid three times (a raw syscall in a constructor,
# libc in the constructor, then main).
same getppid:retval=7:when=2..3+ "$ctor"
same getppid:retval=7:when=3:when=1 "$ctor"
same getppid:error=eperm:when=2 "$ctor"
same getppid:retval=9:when=1+2 "$ctor"
same getppid:signal=usr1:when=2 "$ctor"
# The signal comes once the call returned: the write reaches stdout
# before SIGTERM ends dd (fi used to raise it first: no output).
same write:signal=SIGTERM:when=1 dd if=in bs=3 status=none
same getppid:signal=SIGRT_2 "$ctor"
same getppid:signal=sigrtmin "$ctor"
same getppid:delay_enter=2ms:retval=3 "$ctor"
same getppid:delay_enter=0.001s:retval=4:when=3 "$ctor"
same getppid:delay_enter=1500:retval=5 "$ctor"
same getppid:delay_exit=2ms "$ctor"
same getppid:delay_exit=1ms:retval=6:when=2 "$ctor"
same getppid:delay_enter=1ms:delay_exit=1ms:error=EPERM "$ctor"

# syscall=: the result is the rule's; alone with a delay it changes nothing.
same getppid:syscall=getpid:retval=7:when=2 "$ctor"
same getppid:syscall=gettid:error=EPERM:when=1..2 "$ctor"
same getppid:syscall=getuid:delay_enter=1ms "$ctor"
same recvfrom:syscall=getegid:error=EIO:when=1 "$pokes"
# poke_exit= corrupts what a receive returns, poke_enter= what a write
# sends; with error=/retval= the poke still happens; a bad pointer (the
# second recvfrom's NULL) leaves the program alone.
same recvfrom:poke_exit=@arg2=41424344 "$pokes"
same write:poke_enter=@arg2=5a5a:when=1 "$pokes"
same recvfrom:poke_exit=@arg2=41:when=2 "$pokes"
same recvfrom:poke_enter=@arg2=4142:error=EAGAIN:when=1 "$pokes"
same recvfrom:poke_exit=@arg2=4142:retval=3:when=1 "$pokes"
same recvfrom:poke_exit=@arg2=7a,@arg6=00 "$pokes"
same getcwd:poke_exit=@arg1=2f6e6f6e65 pwd -P
same write:poke_enter=@arg2=5a5a echo hello

# refused SPEC: both refuse it (strace 1, fi-run 125), before running.
refused()
{
	local rc_s rc_f
	"$strace" -f -qq -o /dev/null -e "inject=$1" true >/dev/null 2>&1
	rc_s=$?
	"$fi_run" -q -e "inject=$1" -- true >/dev/null 2>f.err
	rc_f=$?
	n=$((n + 1))
	if [ $rc_s = 0 ] || [ $rc_f != 125 ]; then
		echo "FAIL: inject=$1: strace status $rc_s, fi-run status $rc_f: $(cat f.err)"
		fail=1
	fi
}
refused read:syscall=getpid
refused read:syscall=write:error=EIO
refused read:syscall=getpid:syscall=getppid:error=EIO
refused read:poke_exit=@arg2=414
refused read:poke_exit=@arg0=41
refused read:poke_exit=@arg2=41,@arg2=42
refused read:poke_exit=@arg2=
refused read:poke_exit=@arg2=41:poke_exit=@arg3=42
refused "read:poke_exit=@arg2=$(head -c 1025 /dev/zero | od -An -v -tx1 | tr -d ' \n')"

# syscall= really runs: the kernel sees one getegid per replaced call.
count_getegid()
{
	"$strace" -f -qq -e trace=getegid -o trace.log "$fi_run" -q "$@" -- "$ctor" >/dev/null 2>&1
	grep -c getegid trace.log
}
base=$(count_getegid -r 'getppid retval=7')
with=$(count_getegid -e inject=getppid:syscall=getegid:retval=7)
n=$((n + 1))
if [ $((with - base)) != 3 ]; then
	echo "FAIL: syscall=getegid: $base getegid calls without it, $with with it (3 more expected)"
	fail=1
fi

[ $fail = 0 ] && echo "PASS ($n cases)"
exit $fail
