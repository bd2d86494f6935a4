/* fake_libfi.c: stands in for libfi.so in the fi-run tests that do not
 * need real interception: at exit it appends the records of the fixture
 * named by FI_CLI_FAKE_RECORDS to FI_REPORT, as libfi would, and to
 * FI_TRACE the file FI_CLI_FAKE_TRACE, or else one whole record. */
#include <stdio.h>
#include <stdlib.h>

static void append(const char *in, const char *out)
{
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

/* fi-run checks that what it preloads defines this. */
const char *fi_version(void);
const char *fi_version(void)
{
	return "fake";
}

static void report(void)
{
	const char *trace = getenv("FI_TRACE");
	FILE *f;

	append(getenv("FI_CLI_FAKE_RECORDS"), getenv("FI_REPORT"));
	if (getenv("FI_CLI_FAKE_TRACE")) {
		append(getenv("FI_CLI_FAKE_TRACE"), trace);
	} else if (trace && (f = fopen(trace, "a"))) {
		fputs("{\"seq\":1,\"name\":\"exit_group\"}\n", f);
		fclose(f);
	}
}

__attribute__((constructor)) static void fake_libfi_init(void)
{
	atexit(report);
}
