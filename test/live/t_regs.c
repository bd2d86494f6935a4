/* t_regs: registers, flags, FP control words and the red zone survive a
 * syscall issued from this executable (probes in live_regs.S). */
#include <stdint.h>

#include "live.h"

unsigned live_probe_gprs(void);
void live_probe_xmm(const void *in, void *out);
void live_probe_ymm(const void *in, void *out);
void live_probe_zmm(const void *in, void *out, const void *kin, void *kout);
unsigned long live_probe_flags(unsigned long set);
void live_probe_fpctl(unsigned mxcsr, unsigned fcw, unsigned out[2]);
unsigned live_probe_redzone(void);

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 5));
}

int main(void)
{
	live_begin();
	for (int round = 0; round < 3; round++) {
		unsigned g = live_probe_gprs();
		if (g)
			fprintf(stderr,
				"gprs changed: mask %#x (rbx rbp rdx rsi rdi r8 r9 r10 r12-r15)\n",
				g);
		LIVE_CHECK(g == 0);
	}
	printf("general registers preserved\n");

	static unsigned char in[2048], out[2048];
	fill(in, 256, 1);
	memset(out, 0, sizeof out);
	live_probe_xmm(in, out);
	LIVE_CHECK(memcmp(in, out, 256) == 0);
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx")) {
		fill(in, 512, 2);
		memset(out, 0, sizeof out);
		live_probe_ymm(in, out);
		LIVE_CHECK(memcmp(in, out, 512) == 0);
	}
	if (__builtin_cpu_supports("avx512f")) {
		uint16_t kin[8], kout[8] = {0};
		for (int i = 0; i < 8; i++)
			kin[i] = (uint16_t)(0x1234 * (i + 1));
		fill(in, 2048, 3);
		memset(out, 0, sizeof out);
		live_probe_zmm(in, out, kin, kout);
		LIVE_CHECK(memcmp(in, out, 2048) == 0);
		LIVE_CHECK(memcmp(kin + 1, kout + 1, 7 * sizeof kin[0]) == 0);
	}
	/* Printed the same whichever of AVX / AVX-512 the machine has. */
	printf("vector registers preserved\n");

	static const unsigned long flag_sets[] = {0,	 0x8d5, 0x001,
						  0x040, 0x400, 0xcd5};
	for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; i++) {
		unsigned long got = live_probe_flags(flag_sets[i]);
		if (got != flag_sets[i])
			fprintf(stderr, "flags: set %#lx, after syscall %#lx\n",
				flag_sets[i], got);
		LIVE_CHECK(got == flag_sets[i]);
	}
	printf("status flags and DF preserved\n");

	unsigned fp[2];
	live_probe_fpctl(0xffc0, 0x0f7f, fp);
	LIVE_CHECK(fp[0] == 0xffc0 && fp[1] == 0x0f7f);
	printf("MXCSR and x87 control word preserved\n");

	for (int round = 0; round < 3; round++) {
		unsigned bad = live_probe_redzone();
		if (bad)
			fprintf(stderr, "red zone: %u of 16 slots changed\n",
				bad);
		LIVE_CHECK(bad == 0);
	}
	printf("red zone preserved\n");
	printf("regs ok\n");
	return 0;
}
