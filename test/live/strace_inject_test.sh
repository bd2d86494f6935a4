#!/usr/bin/env bash
# strace_inject_test.sh: `fi-run -e inject=...` means what `strace -f -e
# inject=...` means, on the same program: the same stdout, stderr and exit
# status, for strace 6.1's forms (when= counted per syscall and per
# thread, N..M+, a key given twice, lower-case errno and signal names,
# SIGRT_N, delays with units). Process ids differ between the two runs
# (the parent is strace or fi-run), so numbers of 3 digits or more read
# as N.
#
#   strace_inject_test.sh FI_RUN STRACE LIVE_CTOR
set -uo pipefail

fi_run=$(realpath "$1") strace=$2 ctor=$(realpath "$3")
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-inject.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
cd "$work" || exit 1
printf abc >in
fail=0 n=0

norm()
{
	sed -E 's/[0-9.e-]+ s, [0-9.]+ [kMG]?B\/s/T/; s/[0-9]{3,}/N/g' "$1"
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
same getppid:signal=SIGRT_2 "$ctor"
same getppid:signal=sigrtmin "$ctor"
same getppid:delay_enter=2ms:retval=3 "$ctor"
same getppid:delay_enter=0.001s:retval=4:when=3 "$ctor"
same getppid:delay_enter=1500:retval=5 "$ctor"
same getppid:delay_exit=2ms "$ctor"
same getppid:delay_exit=1ms:retval=6:when=2 "$ctor"
same getppid:delay_enter=1ms:delay_exit=1ms:error=EPERM "$ctor"

[ $fail = 0 ] && echo "PASS ($n cases)"
exit $fail
