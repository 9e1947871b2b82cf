/* The IMAP parser, fed in pieces as a network would: the first byte picks
 * the piece size, so resumption at every boundary gets exercised. Each
 * piece and the store are heap blocks of their exact size, so that a
 * sanitizer sees a byte read past a piece or written past the store. */
#include "fuzz.h"
#include "imap_parse.h"

#include <stdlib.h>
#include <string.h>

static void check_args(const struct imap_parser *p, const char *store,
                       size_t size)
{
	FUZZ_ASSERT(p->nargs <= IMAP_ARGS_MAX);
	for (size_t i = 0; i < p->nargs; i++) {
		const struct imap_arg *a = &p->args[i];

		if (a->type == IMAP_LIST_START || a->type == IMAP_LIST_END)
			continue;
		FUZZ_ASSERT(a->s >= store && a->s + a->len < store + size);
		FUZZ_ASSERT(a->s[a->len] == '\0');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t store_size = 256;
	char *store;
	struct imap_parser p;
	size_t piece, off = 1;

	if (size < 1)
		return 0;
	piece = (size_t)(data[0] % 16) + 1;
	store = malloc(store_size);
	FUZZ_ASSERT(store != NULL);
	imap_parser_init(&p, store, store_size);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece, used = 0;
		char *in = malloc(n);
		enum imap_parse_result r;

		FUZZ_ASSERT(in != NULL);
		memcpy(in, data + off, n);
		r = imap_parse(&p, in, n, &used);
		free(in);
		FUZZ_ASSERT(used <= n);
		FUZZ_ASSERT(p.used <= store_size);
		off += used;
		if (r == IMAP_PARSE_TOO_LONG)
			break; /* the session ends here */
		switch (r) {
		case IMAP_PARSE_DONE:
			FUZZ_ASSERT(p.tag && p.name);
			check_args(&p, store, store_size);
			imap_parser_reset(&p);
			break;
		case IMAP_PARSE_INVALID:
			FUZZ_ASSERT(p.error != NULL);
			imap_parser_reset(&p);
			break;
		default:
			FUZZ_ASSERT(r == IMAP_PARSE_CONTINUE || used == n);
			break;
		}
	}
	free(store);
	return 0;
}
