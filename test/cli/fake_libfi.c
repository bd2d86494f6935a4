/* fake_libfi.c: stands in for libfi.so in the fi-run tests that do not
 * need real interception: at exit it appends the records of the fixture
 * named by FI_CLI_FAKE_RECORDS to FI_REPORT, as libfi would. */
#include <stdio.h>
#include <stdlib.h>

static void report(void)
{
	const char *in = getenv("FI_CLI_FAKE_RECORDS");
	const char *out = getenv("FI_REPORT");
	FILE *fin, *fout;
	char buf[4096];
	size_t n;

	if (!in || !out)
		return;
	fin = fopen(in, "r");
	fout = fopen(out, "a");
	while (fin && fout && (n = fread(buf, 1, sizeof(buf), fin)) > 0)
		fwrite(buf, 1, n, fout);
	if (fin)
		fclose(fin);
	if (fout)
		fclose(fout);
}

__attribute__((constructor)) static void fake_libfi_init(void)
{
	atexit(report);
}
