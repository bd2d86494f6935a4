/* t_static: a statically linked program (built with -static when the
 * toolchain has a static libc), which nothing can be preloaded into; the
 * unfollowed test execs it under fi-run. */
#include <stdio.h>

int main(void)
{
	puts("static ran");
	return 0;
}
