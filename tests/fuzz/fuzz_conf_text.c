/* The configuration text before libconfuse reads it (conf_text.c): the
 * comments blanked, every "$" in a double-quoted string escaped, an
 * unclosed "{" found. What the reader relies on: nothing is written past
 * the output's bound, the escaping only ever adds a backslash before a
 * "$" (taking those out gives the input back), no "$" is left unescaped
 * in a double-quoted string, and an unclosed brace's line is a line of
 * the text. */
#include "conf_text.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define IN_MAX 4096

/* Scanned as libconfuse's lexer reads quotes: every "$" inside double
 * quotes has a backslash before it. */
static int every_dollar_escaped(const char *s, size_t n)
{
	int dq = 0, sq = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!dq && !sq) {
			if (c == '"')
				dq = 1;
			else if (c == '\'')
				sq = 1;
		} else if (c == '\\' && i + 1 < n) {
			i++;
		} else if ((dq && c == '"') || (sq && c == '\'')) {
			dq = sq = 0;
		} else if (dq && c == '$') {
			return 0;
		}
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char text[IN_MAX + 1], out[2 * IN_MAX + 1], back[2 * IN_MAX + 1];
	size_t len = size > IN_MAX ? IN_MAX : size, olen, blen = 0, lines = 1;
	int line;

	memcpy(text, data, len);
	text[len] = '\0';
	len = strlen(text);     /* the reader's text ends at its first NUL */
	conf_text_blank_comments(text, len);
	FUZZ_ASSERT(strlen(text) == len);
	olen = conf_text_keep_dollars(text, len, out);
	FUZZ_ASSERT(olen <= 2 * len && out[olen] == '\0');
	FUZZ_ASSERT(every_dollar_escaped(out, olen));
	/* Less each backslash put before a "$", the input again. */
	for (size_t i = 0; i < olen; i++) {
		if (out[i] == '\\' && i + 1 < olen && out[i + 1] == '$' &&
		    !(blen < len && text[blen] == '\\'))
			continue;
		back[blen++] = out[i];
	}
	FUZZ_ASSERT(blen == len && memcmp(back, text, len) == 0);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	line = conf_text_unclosed(out, olen);
	FUZZ_ASSERT(line >= 0 && (size_t)line <= lines);
	return 0;
}
