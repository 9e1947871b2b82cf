/* The ClientHello reader postern-tls runs on every returning client. */
#include "fuzz.h"
#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *t;
	size_t len;

	if (tls_hello_ticket(data, size, &t, &len) == 0)
		FUZZ_ASSERT(t >= data && len > 0 && t + len <= data + size);
	return 0;
}
