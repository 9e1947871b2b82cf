/* The PROXY header parser, on the bytes any peer of a proxy_protocol
 * listener sends first. What callers rely on: DONE's length lies within
 * the input, and MORE never follows a prefix that was already complete
 * or already bad (so consuming what MORE saw never passes the header). */
#include "fuzz.h"
#include "proxy_header.h"

#include <netinet/in.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h, p;
	enum proxy_result r = proxy_parse(data, size, &h);

	if (r == PROXY_DONE) {
		FUZZ_ASSERT(h.length > 0 && h.length <= size);
		FUZZ_ASSERT(h.length <= PROXY_HEADER_MAX);
		FUZZ_ASSERT(h.local || h.src.ss_family == AF_INET ||
		            h.src.ss_family == AF_INET6);
		/* The same header with nothing after it reads the same. */
		FUZZ_ASSERT(proxy_parse(data, h.length, &p) == PROXY_DONE);
		FUZZ_ASSERT(p.length == h.length);
		/* Any shorter prefix is only a beginning. */
		FUZZ_ASSERT(proxy_parse(data, h.length - 1, &p) == PROXY_MORE);
	} else if (r == PROXY_MORE) {
		FUZZ_ASSERT(size < PROXY_HEADER_MAX);
	} else {
		FUZZ_ASSERT(h.why != NULL);
	}
	if (r == PROXY_DONE && !h.local) {
		unsigned char out[PROXY_HEADER_MAX];
		ssize_t n = proxy_build(h.version, (struct sockaddr *)&h.src,
		                        (struct sockaddr *)&h.dst, out, sizeof out);

		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(proxy_parse(out, (size_t)n, &p) == PROXY_DONE);
		FUZZ_ASSERT(memcmp(&p.src, &h.src, sizeof p.src) == 0);
	}
	return 0;
}
