#include "cmdline.h"

#include <string.h>

static int is_control(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

static int is_letter(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

enum cmdline_result cmdline_parse(const char *line, size_t len, char *store,
                                  size_t store_size, struct cmdline *c)
{
	size_t i = 0, n;

	memset(c, 0, sizeof *c);
	if (store_size < len + 1)
		return CMDLINE_BAD_NAME;
	for (size_t k = 0; k < len; k++)
		if (is_control((unsigned char)line[k]))
			return CMDLINE_CONTROL;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	c->line = line;
	c->line_len = len;
	while (i < len && is_letter((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= CMDLINE_NAME_MAX || (i < len && line[i] != ' '))
		return CMDLINE_BAD_NAME;
	memcpy(c->name, line, i);
	c->name[i] = '\0';
	while (i < len && line[i] == ' ')
		i++;
	c->rest = line + i;
	c->rest_len = len - i;
	memcpy(store, c->rest, c->rest_len);
	store[c->rest_len] = '\0';
	for (char *p = store; *p;) {
		if (c->nargs == CMDLINE_ARGS_MAX)
			return CMDLINE_TOO_MANY;
		c->args[c->nargs++] = p;
		n = strcspn(p, " ");
		p += n;
		if (*p == '\0')
			break;
		*p++ = '\0';
		while (*p == ' ')
			p++;
	}
	return CMDLINE_OK;
}

const char *cmdline_result_str(enum cmdline_result r)
{
	switch (r) {
	case CMDLINE_OK:
		return "ok";
	case CMDLINE_BAD_NAME:
		return "invalid command name";
	case CMDLINE_CONTROL:
		return "control character in command";
	case CMDLINE_TOO_MANY:
		return "too many arguments";
	}
	return "?";
}
