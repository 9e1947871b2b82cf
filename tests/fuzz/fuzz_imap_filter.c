/* The IMAP filter on what a client and a backend send after login. The
 * first byte picks a piece size; the input's first NUL separates the
 * client's bytes from the backend's. What callers rely on: outputs stay
 * within their room, and the pieces the bytes come in change nothing. */
#include "fuzz.h"
#include "imap_filter.h"

#include <string.h>

static struct imap_filter f;
static char out_b[2][1 << 18], out_c[2][1 << 18];

/* Feed both streams in pieces of n; 0 when the filter ends the session. */
static int run(int k, const uint8_t *c, size_t clen, const uint8_t *b,
               size_t blen, size_t n, size_t *lb, size_t *lc)
{
	struct guard_out ob = { out_b[k], sizeof out_b[k], 0 };
	struct guard_out oc = { out_c[k], sizeof out_c[k], 0 };
	const char *why = NULL;
	size_t ci = 0, bi = 0, used;

	FUZZ_ASSERT(imap_filter_init(&f, "DELETE EXPUNGE APPEND", "IDLE", &why) == 0);
	/* The client's stream, then the backend's: the order between the
	 * two decides where a refusal falls, the pieces must not. */
	while (ci < clen) {
		size_t piece = clen - ci < n ? clen - ci : n;
		enum guard_result r;

		if (ob.size - ob.len < IMAP_FILTER_OUT_MIN ||
		    oc.size - oc.len < IMAP_FILTER_OUT_MIN)
			return 0;
		r = imap_filter_client(&f, (const char *)c + ci, piece, &used,
		                       &ob, &oc);
		if (r == GUARD_ERROR)
			return 0;
		FUZZ_ASSERT(used <= piece);
		FUZZ_ASSERT(ob.len <= ob.size && oc.len <= oc.size);
		if (used == 0 && r != GUARD_REFUSED)
			return 0;   /* held: waiting for the backend */
		ci += used;
	}
	while (bi < blen) {
		size_t piece = blen - bi < n ? blen - bi : n;

		if (oc.size - oc.len < IMAP_FILTER_OUT_MIN)
			return 0;
		if (imap_filter_backend(&f, (const char *)b + bi, piece, &used,
		                        &oc) == GUARD_ERROR)
			return 0;
		FUZZ_ASSERT(used <= piece && oc.len <= oc.size);
		if (used == 0)
			return 0;
		bi += used;
	}
	*lb = ob.len;
	*lc = oc.len;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep;
	size_t n, lb[2], lc[2];

	if (size < 2 || size > 60000)
		return 0;
	n = 1 + data[0] % 64;
	data++;
	size--;
	sep = memchr(data, 0, size);
	if (!sep)
		return 0;
	if (!run(0, data, (size_t)(sep - data), sep + 1,
	         size - (size_t)(sep - data) - 1, size, &lb[0], &lc[0]))
		return 0;
	/* Ended the same way whole: in pieces it must give the same bytes. */
	if (!run(1, data, (size_t)(sep - data), sep + 1,
	         size - (size_t)(sep - data) - 1, n, &lb[1], &lc[1]))
		return 0;
	FUZZ_ASSERT(lb[0] == lb[1] && memcmp(out_b[0], out_b[1], lb[0]) == 0);
	FUZZ_ASSERT(lc[0] == lc[1] && memcmp(out_c[0], out_c[1], lc[0]) == 0);
	return 0;
}
