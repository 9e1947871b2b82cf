/* One fuzz target per parser. Each file defines LLVMFuzzerTestOneInput, so
 * the same source builds with clang's libFuzzer (see README) and with
 * run.c, the small driver make check uses under ASan and UBSan. A target
 * aborts when an invariant the callers rely on is broken. */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

#endif
