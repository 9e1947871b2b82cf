/* The auth server's answer: whatever it sends, the reply's strings stay
 * terminated, and OK always has a usable backend. */
#include "auth_http.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_reply rep;
	int rc;

	if (size < 1 || size > AUTH_HTTP_RESPONSE_MAX)
		return 0;
	auth_reply_init(&rep);
	rc = auth_http_parse((const char *)data + 1, size - 1, data[0] & 1, &rep);
	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	FUZZ_ASSERT(memchr(rep.error, '\0', sizeof rep.error));
	FUZZ_ASSERT(memchr(rep.user, '\0', sizeof rep.user));
	FUZZ_ASSERT(memchr(rep.pass, '\0', sizeof rep.pass));
	FUZZ_ASSERT(memchr(rep.why, '\0', sizeof rep.why));
	if (rc == 1 && rep.status == AUTH_STATUS_OK) {
		FUZZ_ASSERT(rep.server[0] && rep.port[0]);
		FUZZ_ASSERT(rep.backend.len > 0);
		FUZZ_ASSERT(!(data[0] & 1) || rep.has_pass);
	}
	return 0;
}
