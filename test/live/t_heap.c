/* t_heap: a program whose first malloc is its own, in main. Under fi
 * with rules armed, glibc's start of the heap (its brk calls, the tcache
 * key's getrandom) must still happen here, where rules can reach it
 * (no_heap_test.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *p = malloc(100);

	if (!p)
		return 1;
	strcpy(p, "heap ok");
	puts(p);
	free(p);
	return 0;
}
