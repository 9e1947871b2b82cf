/* The IMAP parser, fed in pieces as a network would: the first byte picks
 * the piece size, so resumption at every boundary gets exercised. */
#include "fuzz.h"
#include "imap_parse.h"

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
	static char store[256];
	struct imap_parser p;
	size_t piece, off = 1;

	if (size < 1)
		return 0;
	piece = (size_t)(data[0] % 16) + 1;
	imap_parser_init(&p, store, sizeof store);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece, used = 0;
		enum imap_parse_result r = imap_parse(&p, (const char *)data + off,
		                                      n, &used);

		FUZZ_ASSERT(used <= n);
		off += used;
		switch (r) {
		case IMAP_PARSE_DONE:
			FUZZ_ASSERT(p.tag && p.name);
			check_args(&p, store, sizeof store);
			imap_parser_reset(&p);
			break;
		case IMAP_PARSE_INVALID:
			FUZZ_ASSERT(p.error != NULL);
			imap_parser_reset(&p);
			break;
		case IMAP_PARSE_TOO_LONG:
			return 0; /* the session ends here */
		case IMAP_PARSE_CONTINUE:
		case IMAP_PARSE_AGAIN:
			FUZZ_ASSERT(r == IMAP_PARSE_CONTINUE || used == n);
			break;
		}
	}
	return 0;
}
