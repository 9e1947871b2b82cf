#include "imap_parse.h"

#include <string.h>

enum {
	sw_tag_start = 0,
	sw_tag,
	sw_name_start,
	sw_name,
	sw_arg_start,
	sw_atom,
	sw_quoted,
	sw_quoted_escape,
	sw_after_arg,
	sw_literal_length,
	sw_literal_plus,
	sw_literal_cr,
	sw_literal_lf,
	sw_literal,
	sw_almost_done,
	sw_skip,
};

/* RFC 9051 ATOM-CHAR plus "]" (ASTRING-CHAR): no CTL, SP, 8-bit, or one of
 * ( ) { % * " \ */
static int astring_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return !strchr("(){%*\"\\", c);
}

static int tag_char(unsigned char c)
{
	return astring_char(c) && c != '+';
}

void imap_parser_reset(struct imap_parser *p)
{
	p->state = sw_tag_start;
	p->used = p->token = 0;
	p->literal = 0;
	p->literal_plus = 0;
	p->depth = 0;
	p->tag = p->name = NULL;
	p->nargs = 0;
	p->error = NULL;
}

void imap_parser_init(struct imap_parser *p, char *store, size_t size)
{
	p->store = store;
	p->size = size;
	imap_parser_reset(p);
}

static int push(struct imap_parser *p, char c)
{
	/* Keep one byte for the token's terminating NUL. */
	if (p->used + 2 > p->size)
		return -1;
	p->store[p->used++] = c;
	return 0;
}

/* A token starts only where its terminating NUL still fits: an empty one
 * ("" or {0}) is never pushed, so push()'s own check cannot cover it. */
static int begin(struct imap_parser *p)
{
	if (p->used + 1 > p->size)
		return -1;
	p->token = p->used;
	return 0;
}

/* Terminate the current token; returns its start. */
static const char *finish(struct imap_parser *p)
{
	p->store[p->used++] = '\0';
	return p->store + p->token;
}

static int add_arg(struct imap_parser *p, enum imap_token type)
{
	struct imap_arg *a;

	if (p->nargs == IMAP_ARGS_MAX) {
		p->error = "too many arguments";
		return -1;
	}
	a = &p->args[p->nargs++];
	a->type = type;
	if (type == IMAP_LIST_START || type == IMAP_LIST_END) {
		a->s = type == IMAP_LIST_START ? "(" : ")";
		a->len = 1;
		return 0;
	}
	a->len = p->used - p->token;
	a->s = finish(p);
	return 0;
}

static int open_list(struct imap_parser *p)
{
	if (p->depth == 8) {
		p->error = "lists nested too deeply";
		return -1;
	}
	p->depth++;
	return add_arg(p, IMAP_LIST_START);
}

static int close_list(struct imap_parser *p)
{
	if (p->depth == 0) {
		p->error = "unexpected \")\"";
		return -1;
	}
	p->depth--;
	return add_arg(p, IMAP_LIST_END);
}

static int end_of_line(struct imap_parser *p)
{
	if (p->depth) {
		p->error = "unterminated list";
		return -1;
	}
	return 0;
}

enum imap_parse_result imap_parse(struct imap_parser *p, const char *in,
                                  size_t len, size_t *used)
{
	size_t i = 0;

again:
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		switch (p->state) {
		case sw_tag_start:
			if (!tag_char(c)) {
				p->error = "invalid tag";
				goto invalid;
			}
			if (begin(p) < 0)
				goto too_long;
			p->state = sw_tag;
			/* fall through */
		case sw_tag:
			if (c == ' ') {
				p->tag = finish(p);
				p->state = sw_name_start;
			} else if (!tag_char(c)) {
				p->error = c == '\r' || c == '\n' ?
				           "missing command" : "invalid tag";
				goto invalid;
			} else if (push(p, (char)c) < 0) {
				goto too_long;
			}
			break;

		case sw_name_start:
			if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
				p->error = "invalid command";
				goto invalid;
			}
			if (begin(p) < 0)
				goto too_long;
			p->state = sw_name;
			/* fall through */
		case sw_name:
			if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
			    (c >= '0' && c <= '9')) {
				if (push(p, (char)c) < 0)
					goto too_long;
				break;
			}
			p->name = finish(p);
			if (c == ' ')
				p->state = sw_arg_start;
			else if (c == '\r')
				p->state = sw_almost_done;
			else if (c == '\n')
				goto done;
			else {
				p->error = "invalid command";
				goto invalid;
			}
			break;

		case sw_arg_start:
			if (c == '"') {
				if (begin(p) < 0)
					goto too_long;
				p->state = sw_quoted;
			} else if (c == '{') {
				p->literal = 0;
				p->literal_plus = 0;
				p->token = 0; /* counts digits until the literal begins */
				p->state = sw_literal_length;
			} else if (c == '(') {
				if (open_list(p) < 0)
					goto invalid;
			} else if (c == ')') {
				if (close_list(p) < 0)
					goto invalid;
				p->state = sw_after_arg;
			} else if (astring_char(c)) {
				if (begin(p) < 0 || push(p, (char)c) < 0)
					goto too_long;
				p->state = sw_atom;
			} else {
				p->error = "invalid argument";
				goto invalid;
			}
			break;

		case sw_atom:
			if (astring_char(c)) {
				if (push(p, (char)c) < 0)
					goto too_long;
				break;
			}
			if (add_arg(p, IMAP_ATOM) < 0)
				goto invalid;
			p->state = sw_after_arg;
			continue; /* the delimiter is the next state's business */

		case sw_quoted:
			if (c == '"') {
				if (add_arg(p, IMAP_STRING) < 0)
					goto invalid;
				p->state = sw_after_arg;
			} else if (c == '\\') {
				p->state = sw_quoted_escape;
			} else if (c == '\r' || c == '\n' || c == '\0') {
				p->error = "invalid quoted string";
				goto invalid;
			} else if (push(p, (char)c) < 0) {
				goto too_long;
			}
			break;

		case sw_quoted_escape:
			if (c != '"' && c != '\\') {
				p->error = "invalid escape in quoted string";
				goto invalid;
			}
			if (push(p, (char)c) < 0)
				goto too_long;
			p->state = sw_quoted;
			break;

		case sw_after_arg:
			if (c == ' ') {
				p->state = sw_arg_start;
			} else if (c == ')') {
				if (close_list(p) < 0)
					goto invalid;
			} else if (c == '\r') {
				if (end_of_line(p) < 0)
					goto invalid;
				p->state = sw_almost_done;
			} else if (c == '\n') {
				if (end_of_line(p) < 0)
					goto invalid;
				goto done;
			} else {
				p->error = "missing space between arguments";
				goto invalid;
			}
			break;

		case sw_literal_length:
			if (c >= '0' && c <= '9') {
				if (++p->token > IMAP_LITERAL_DIGITS_MAX)
					goto too_long;
				p->literal = p->literal * 10 + (c - '0');
			} else if (c == '+' && p->token) {
				p->literal_plus = 1;
				p->state = sw_literal_plus;
			} else if (c == '}' && p->token) {
				p->state = sw_literal_cr;
			} else {
				p->error = "invalid literal";
				goto invalid;
			}
			break;

		case sw_literal_plus:
			if (c != '}') {
				p->error = "invalid literal";
				goto invalid;
			}
			p->state = sw_literal_cr;
			break;

		case sw_literal_cr:
			if (c == '\r') {
				p->state = sw_literal_lf;
				break;
			}
			/* fall through */
		case sw_literal_lf:
			if (c != '\n') {
				p->error = "literal not followed by CRLF";
				goto invalid;
			}
			/* The literal and its NUL must fit: refuse before the
			 * client sends it, not after. */
			if (p->used + (size_t)p->literal + 1 > p->size ||
			    begin(p) < 0)
				goto too_long;
			p->state = sw_literal;
			if (p->literal == 0) {
				if (add_arg(p, IMAP_STRING) < 0)
					goto invalid;
				p->state = sw_after_arg;
			}
			if (!p->literal_plus) {
				*used = i + 1;
				return IMAP_PARSE_CONTINUE;
			}
			break;

		case sw_literal: {
			size_t n = len - i;

			if (n > p->literal)
				n = p->literal;
			memcpy(p->store + p->used, in + i, n);
			p->used += n;
			p->literal -= (uint32_t)n;
			i += n;
			if (p->literal == 0) {
				if (add_arg(p, IMAP_STRING) < 0)
					goto invalid;
				p->state = sw_after_arg;
			}
			continue;
		}

		case sw_almost_done:
			if (c != '\n') {
				p->error = "CR without LF";
				goto invalid;
			}
			goto done;

		case sw_skip:
			if (c == '\n') {
				*used = i + 1;
				p->state = sw_tag_start;
				return IMAP_PARSE_INVALID;
			}
			break;
		}
		i++;
	}
	*used = len;
	return IMAP_PARSE_AGAIN;

done:
	*used = i + 1;
	return IMAP_PARSE_DONE;

invalid:
	/* Skip the rest of the line; the line's end reports the error. A
	 * literal that ends the input fails with nothing left to look at. */
	if (i < len && in[i] == '\n') {
		*used = i + 1;
		p->state = sw_tag_start;
		return IMAP_PARSE_INVALID;
	}
	p->state = sw_skip;
	if (i < len)
		i++;
	goto again;

too_long:
	*used = i;
	return IMAP_PARSE_TOO_LONG;
}
