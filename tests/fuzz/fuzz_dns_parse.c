/* The DNS reply reader, on whatever arrives at the resolver's socket.
 * The first two bytes choose the question; the rest is the message.
 * What callers rely on: names are NUL-terminated host-name candidates
 * without control bytes, and a name marked valid has only letters,
 * digits, hyphens and dots. */
#include "dns_parse.h"
#include "fuzz.h"

#include <string.h>

static const char *const questions[] = { "7.2.0.192.in-addr.arpa",
	                                 "mx.example", "a" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[] = { DNS_PTR, DNS_A, DNS_AAAA };
	struct dns_reply r;

	if (size < 2)
		return 0;
	const char *q = questions[data[0] % 3];
	enum dns_type t = types[data[1] % 3];

	if (dns_parse_reply(data + 2, size - 2, size > 4 ? (uint16_t)(data[2] << 8 | data[3]) : 0,
	                    q, t, &r) < 0)
		return 0;
	FUZZ_ASSERT(r.count <= DNS_ANSWERS_MAX);
	for (size_t i = 0; t == DNS_PTR && i < r.count; i++) {
		size_t n = strnlen(r.names[i], DNS_NAME_MAX);

		FUZZ_ASSERT(n < DNS_NAME_MAX);
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)r.names[i][k];

			FUZZ_ASSERT(c > 0x20 && c < 0x7f);
			if (r.valid[i])
				FUZZ_ASSERT(c == '.' || c == '-' ||
				            (c >= '0' && c <= '9') ||
				            (c >= 'a' && c <= 'z') ||
				            (c >= 'A' && c <= 'Z'));
		}
	}
	return 0;
}
