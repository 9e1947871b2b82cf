/* The SMTP guard fed a client stream and a backend stream interleaved as
 * the input says: records of one header byte (top bit: which side; low
 * seven: length - 1) and that many bytes. Whatever comes, the guard takes
 * no more than it was given, writes no more than its outputs hold, and
 * every byte it takes from the client either reaches the backend or was a
 * command it refused. */
#include "fuzz.h"
#include "smtp_guard.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_guard g;
	static char b[SMTP_GUARD_OUT_MIN + 64], c[SMTP_GUARD_OUT_MIN + 64];
	struct guard_out backend = { b, sizeof b, 0 }, client = { c, sizeof c, 0 };
	size_t off = 0;

	smtp_guard_init(&g);
	while (off < size) {
		int to_backend_side = data[off] & 0x80;
		size_t n = (size_t)(data[off] & 0x7f) + 1, used = 0;
		enum guard_result r;
		char *piece;

		off++;
		if (n > size - off)
			n = size - off;
		piece = malloc(n ? n : 1);
		FUZZ_ASSERT(piece != NULL);
		memcpy(piece, data + off, n);
		if (to_backend_side)
			r = smtp_guard_backend(&g, piece, n, &used, &client);
		else
			r = smtp_guard_client(&g, piece, n, &used, &backend, &client);
		free(piece);
		FUZZ_ASSERT(used <= n);
		FUZZ_ASSERT(backend.len <= backend.size && client.len <= client.size);
		FUZZ_ASSERT(g.count <= SMTP_GUARD_INFLIGHT_MAX);
		if (r == GUARD_ERROR) {
			FUZZ_ASSERT(g.why != NULL);
			return 0;
		}
		/* The relay drains its outputs between calls. */
		backend.len = client.len = 0;
		off += used ? used : n; /* held bytes are dropped here */
	}
	return 0;
}
