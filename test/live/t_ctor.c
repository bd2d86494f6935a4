/* t_ctor: prints what the constructor of live_ctor_lib saw from getppid,
 * once through its own `syscall` instruction and once through libc, and
 * what main sees. Under a `getppid retval=N` rule all three are N when
 * libfi starts before that constructor. Also prints the name libc took
 * from argv[0] in its own constructor, which must run in its usual turn. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

extern long live_ctor_raw, live_ctor_libc;

int main(void)
{
	printf("%s: constructor raw %ld libc %ld; main %ld\n",
	       program_invocation_short_name, live_ctor_raw, live_ctor_libc,
	       (long)getppid());
	return 0;
}
