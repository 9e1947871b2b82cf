/* SASL and base64 decoding: the first byte picks the decoder. */
#include "base64.h"
#include "fuzz.h"
#include "sasl.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct credentials c;
	const char *why = NULL, *in = (const char *)data + 1;
	char out[CRED_MAX];
	ssize_t n;
	int rc = 0;

	if (size < 1)
		return 0;
	memset(&c, 0, sizeof c);
	switch (data[0] % 7) {
	case 0:
		rc = sasl_plain(in, size - 1, &c, &why);
		break;
	case 1:
		rc = sasl_cram_md5(in, size - 1, &c, &why);
		break;
	case 2:
		rc = sasl_login_field(in, size - 1, out, sizeof out, &why);
		if (rc == 0)
			FUZZ_ASSERT(strlen(out) < sizeof out);
		break;
	case 3:
		rc = sasl_external(in, size - 1, &c, &why);
		break;
	case 5:
		rc = sasl_xoauth2(in, size - 1, &c, &why);
		break;
	case 6:
		rc = sasl_oauthbearer(in, size - 1, &c, &why);
		break;
	default:
		n = base64_decode(in, size - 1, out, sizeof out);
		FUZZ_ASSERT(n >= -1 && n <= (ssize_t)sizeof out);
		return 0;
	}
	FUZZ_ASSERT(rc == 0 || why != NULL);
	if (rc == 0) {
		FUZZ_ASSERT(memchr(c.user, '\0', sizeof c.user));
		FUZZ_ASSERT(memchr(c.pass, '\0', sizeof c.pass));
		FUZZ_ASSERT(memchr(c.token, '\0', sizeof c.token));
		/* A token goes into a header and a replay as it is. */
		for (const char *t = c.token; *t; t++)
			FUZZ_ASSERT(*t > 0x20 && *t < 0x7f && *t != ' ');
	}
	return 0;
}
