/* A pure, resumable IMAP command parser: bytes in, a command out. No I/O and
 * no allocation: tokens are copied into a store the caller sized, and the
 * store's size is the command limit (imap_client_buffer). */
#ifndef POSTERN_IMAP_PARSE_H
#define POSTERN_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_ARGS_MAX 64
#define IMAP_LITERAL_DIGITS_MAX 9

enum imap_token {
	IMAP_ATOM,        /* includes NIL: the caller decides what it means */
	IMAP_STRING,      /* quoted string or literal, unescaped */
	IMAP_LIST_START,
	IMAP_LIST_END,
};

struct imap_arg {
	enum imap_token type;
	const char *s;    /* NUL-terminated; may hold NULs if a literal did */
	size_t len;
};

enum imap_parse_result {
	IMAP_PARSE_AGAIN,     /* all input used; feed more */
	IMAP_PARSE_DONE,      /* one command is complete */
	IMAP_PARSE_CONTINUE,  /* a synchronising literal: send "+ " then feed */
	IMAP_PARSE_INVALID,   /* the line was skipped; error says why */
	IMAP_PARSE_TOO_LONG,  /* the store is full: end the session */
};

struct imap_parser {
	int state;
	char *store;
	size_t size, used, token;
	uint32_t literal;          /* octets of literal still to copy */
	int literal_plus;
	int depth;
	const char *tag;           /* NULL until a valid tag was read */
	const char *name;
	struct imap_arg args[IMAP_ARGS_MAX];
	size_t nargs;
	const char *error;
};

void imap_parser_init(struct imap_parser *p, char *store, size_t size);
/* Forget the previous command; call before parsing the next one. */
void imap_parser_reset(struct imap_parser *p);
enum imap_parse_result imap_parse(struct imap_parser *p, const char *in,
                                  size_t len, size_t *used);

#endif
