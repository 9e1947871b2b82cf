#include "conf_text.h"

enum { CODE, DQ, SQ, LINE_COMMENT, BLOCK_COMMENT };

void conf_text_blank_comments(char *text, size_t len)
{
	int state = CODE;

	for (size_t i = 0; i < len; i++) {
		char c = text[i], next = i + 1 < len ? text[i + 1] : '\0';

		switch (state) {
		case CODE:
			if (c == '"' || c == '\'') {
				state = c == '"' ? DQ : SQ;
			} else if (c == '#' || (c == '/' && next == '/')) {
				state = LINE_COMMENT;
				text[i] = ' ';
			} else if (c == '/' && next == '*') {
				state = BLOCK_COMMENT;
				text[i] = text[i + 1] = ' ';
				i++;
			}
			break;
		case DQ:
		case SQ:
			if (c == '\\' && i + 1 < len)
				i++; /* an escaped quote does not end the string */
			else if (c == (state == DQ ? '"' : '\''))
				state = CODE;
			break;
		case LINE_COMMENT:
			if (c == '\n')
				state = CODE;
			else
				text[i] = ' ';
			break;
		case BLOCK_COMMENT:
			if (c == '*' && next == '/') {
				text[i] = text[i + 1] = ' ';
				i++;
				state = CODE;
			} else if (c != '\n') {
				text[i] = ' ';
			}
			break;
		}
	}
}
