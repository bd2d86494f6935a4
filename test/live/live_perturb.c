/* live_perturb: a stand-in for libfi.so in the driver's self-test. Preloaded,
 * it changes what the program does, as a broken libfi would, so that the
 * self-test can check that run_live.py reports the difference. The kind is
 * chosen by LIVE_PERTURB: "stdout" adds a line, "status" changes the exit
 * status, "signal" kills the program with SIGSEGV at exit. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void change_status(void)
{
	_exit(3);
}
static void die_by_signal(void)
{
	raise(SIGSEGV);
}

__attribute__((constructor)) static void live_perturb_init(void)
{
	const char *kind = getenv("LIVE_PERTURB");
	if (!kind)
		return;
	if (strcmp(kind, "stdout") == 0) {
		static const char msg[] = "perturbed\n";
		if (write(1, msg, sizeof msg - 1) < 0)
			_exit(4);
	} else if (strcmp(kind, "status") == 0) {
		atexit(change_status);
	} else if (strcmp(kind, "signal") == 0) {
		atexit(die_by_signal);
	}
}
