#include "conf_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

long conf_text_read(const char *path, char *text, char *err, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 0;

	if (fd >= 0) {
		while ((n = read(fd, text + len, CONF_TEXT_MAX + 1 - len)) > 0)
			len += (size_t)n;
		close(fd);
	}
	if (fd < 0 || n < 0) {
		snprintf(err, size, "%s: cannot read the file: %s", path,
		         strerror(errno));
		return -1;
	}
	if (len > CONF_TEXT_MAX) {
		snprintf(err, size, "%s: larger than %d bytes", path,
		         CONF_TEXT_MAX);
		return -1;
	}
	text[len] = '\0';
	return (long)len;
}

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

size_t conf_text_keep_dollars(const char *in, size_t len, char *out)
{
	size_t o = 0;
	int state = CODE;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (state == CODE && (c == '"' || c == '\'')) {
			state = c == '"' ? DQ : SQ;
		} else if (state != CODE && c == '\\' && i + 1 < len) {
			out[o++] = c;
			c = in[++i];    /* escaped: copied as it is */
		} else if (state != CODE && c == (state == DQ ? '"' : '\'')) {
			state = CODE;
		} else if (state == DQ && c == '$') {
			out[o++] = '\\';
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

int conf_text_unclosed(const char *text, size_t len)
{
	int opened[CONF_TEXT_DEPTH_MAX];
	int depth = 0, line = 1, state = CODE;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '\n')
			line++;
		if (state != CODE) {
			if (c == '\\' && i + 1 < len && text[i + 1] != '\n')
				i++;
			else if (c == (state == DQ ? '"' : '\''))
				state = CODE;
		} else if (c == '"' || c == '\'') {
			state = c == '"' ? DQ : SQ;
		} else if (c == '{') {
			if (depth == CONF_TEXT_DEPTH_MAX)
				return line;
			opened[depth++] = line;
		} else if (c == '}' && depth > 0) {
			depth--;
		}
	}
	return depth > 0 ? opened[depth - 1] : 0;
}
