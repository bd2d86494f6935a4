#!/usr/bin/env bash
# ctor_test.sh: syscalls made in a library's constructor, which ld.so runs
# before the preloaded libfi's own, are seen: fi-run starts libfi first
# (libfi_audit.so). On a cold cache (the decoder is loaded then, before
# libc's own constructor) and on a warm one:
#   - a rule fails the constructor's raw `syscall` and its libc call;
#   - --record holds every getppid that strace -f counts;
#   - libc's constructor still runs in its turn (argv[0] is known);
# and with FI_EARLY=0 libfi starts late and misses them (the test can tell).
#
#   ctor_test.sh FI_RUN LIVE_CTOR [STRACE]
set -uo pipefail

fi_run=$1 prog=$2 strace=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/fi-ctor.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FI_CACHE_DIR=$work/cache
fail=0
name=$(basename "$prog")

bad()
{
	echo "FAIL: $*"
	fail=1
}

for cache in cold warm; do
	out=$("$fi_run" -q -r 'getppid retval=4242' -- "$prog")
	[ "$out" = "$name: constructor raw 4242 libc 4242; main 4242" ] ||
		bad "$cache cache: '$out'"
	"$fi_run" -q --record "$work/t.$cache" -- "$prog" >/dev/null ||
		bad "$cache cache: --record failed"
	n=$(grep -c '"name":"getppid"' "$work/t.$cache")
	[ "$n" = 3 ] || bad "$cache cache: the trace holds $n getppid records, not 3"
done

if [ -n "$strace" ]; then
	n=$("$strace" -f -qq -e trace=getppid -o /dev/stdout "$prog" | grep -c '^[0-9]* *getppid\|^getppid')
	[ "$n" = 3 ] || bad "strace -f counts $n getppid calls, not 3"
fi

out=$(FI_EARLY=0 "$fi_run" -q -r 'getppid retval=4242' -- "$prog")
case $out in
*"constructor raw 4242"*) bad "FI_EARLY=0 still started libfi early: '$out'" ;;
*"main 4242") ;;
*) bad "FI_EARLY=0: '$out'" ;;
esac

[ $fail = 0 ] && echo "PASS"
exit $fail
