/* dlopen_main.c: loads the plugin named by argv[1] with dlopen() (no
 * DT_NEEDED names it) and has it save a file; says so and exits 1 when
 * that fails. site=FILE:LINE of the plugin's code must reach it
 * (test/sweep, case dlopen). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	void *h;
	int (*save)(const char *);

	if (argc < 2) {
		fputs("usage: dlopen_main PLUGIN\n", stderr);
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen_main: %s\n", dlerror());
		return 2;
	}
	*(void **)&save = dlsym(h, "plugin_save");
	if (!save || save("saved.txt"))
		return 1;
	puts("saved");
	return 0;
}
