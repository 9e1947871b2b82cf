/* The POP3/SMTP command parser, one line at a time. */
#include "cmdline.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char store[513];
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf ? lf : end) - p);
		struct cmdline c;

		if (len < sizeof store &&
		    cmdline_parse(p, len, store, sizeof store, &c) == CMDLINE_OK) {
			FUZZ_ASSERT(c.name[0] && strlen(c.name) < CMDLINE_NAME_MAX);
			FUZZ_ASSERT(c.nargs <= CMDLINE_ARGS_MAX);
			FUZZ_ASSERT(c.rest >= p && c.rest + c.rest_len <= p + len);
			FUZZ_ASSERT(c.line == p && c.line_len <= len);
			for (size_t i = 0; i < c.nargs; i++) {
				FUZZ_ASSERT(c.args[i] >= store &&
				            c.args[i] < store + sizeof store);
				FUZZ_ASSERT(c.args[i][0] != '\0' &&
				            !strchr(c.args[i], ' '));
			}
		}
		p += len + (lf != NULL);
	}
	return 0;
}
