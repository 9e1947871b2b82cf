/* What an x86-64 CPU lets the record layer's AEADs (aes_gcm.c,
 * chacha_poly.c) use, asked with cpuid. Header-only: each of the two
 * keeps its own answer. */
#ifndef POSTERN_CPU_X86_H
#define POSTERN_CPU_X86_H

#if defined(__x86_64__)
#include <cpuid.h>

/* 1 when the 256-bit registers may be used (the CPU has AVX, and the
 * system saves their state across a switch: OSXSAVE, and XCR0's SSE and
 * AVX bits), with cpuid leaf 7's feature words in *ebx7 and *ecx7 (AVX2,
 * VAES, VPCLMULQDQ); else 0. */
static inline int cpu_ymm_features(unsigned *ebx7, unsigned *ecx7)
{
	unsigned a, b, c, d, xcr0, xcr0_high;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    !(c & bit_AVX))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_high) : "c"(0));
	(void)xcr0_high;
	if ((xcr0 & 6) != 6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	*ebx7 = b;
	*ecx7 = c;
	return 1;
}
#endif

#endif
