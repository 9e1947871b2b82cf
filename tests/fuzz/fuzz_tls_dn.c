/* The subject and issuer names postern-tls prints for the auth server:
 * a client chooses them (its certificate's DER, before anyone checks it
 * is trusted). The text stays in its buffer, is printable ASCII (no CR
 * or LF can reach a header), and fits exactly when its length allows. */
#include "fuzz.h"
#include "tls_dn.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[8192], exact[8192];
	size_t n;

	if (tls_dn_openssl(data, size, out, sizeof out) < 0)
		return 0;
	n = strlen(out);
	FUZZ_ASSERT(n < sizeof out);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(out[i] >= 0x20 && out[i] < 0x7f);
	FUZZ_ASSERT(tls_dn_openssl(data, size, exact, n + 1) == 0);
	FUZZ_ASSERT(strcmp(out, exact) == 0);
	FUZZ_ASSERT(tls_dn_openssl(data, size, exact, n) < 0);
	return 0;
}
