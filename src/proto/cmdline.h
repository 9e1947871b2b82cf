/* POP3 and SMTP commands are one line: a name, then arguments separated
 * by spaces. A pure parser, shared by both: no I/O, no allocation. */
#ifndef POSTERN_CMDLINE_H
#define POSTERN_CMDLINE_H

#include <stddef.h>

#define CMDLINE_NAME_MAX 16
#define CMDLINE_ARGS_MAX 8

enum cmdline_result {
	CMDLINE_OK,
	CMDLINE_BAD_NAME,   /* empty, too long, or not letters */
	CMDLINE_CONTROL,    /* a control character: CR, NUL, ESC, ... */
	CMDLINE_TOO_MANY,   /* more than CMDLINE_ARGS_MAX arguments */
};

struct cmdline {
	char name[CMDLINE_NAME_MAX];   /* NUL-terminated, as sent */
	char *args[CMDLINE_ARGS_MAX];  /* NUL-terminated, inside store */
	size_t nargs;
	const char *rest;    /* the line after the name and its spaces, as sent */
	size_t rest_len;     /* trailing spaces not counted */
	const char *line;    /* the whole line as sent */
	size_t line_len;     /* trailing spaces not counted */
};

/* Parse line (len bytes, no CRLF). Arguments are copied into store, which
 * must hold len + 1 bytes; line itself is not changed. */
enum cmdline_result cmdline_parse(const char *line, size_t len, char *store,
                                  size_t store_size, struct cmdline *c);

const char *cmdline_result_str(enum cmdline_result r);

#endif
