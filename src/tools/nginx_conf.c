#include "nginx_conf.h"

#include <stdio.h>
#include <string.h>

struct lexer {
	const char *p, *end;
	int line;
};

static int fail(struct ngx_conf *c, int line, const char *why)
{
	snprintf(c->why, sizeof c->why, "line %d: %s", line, why);
	return -1;
}

static void skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' ||
		           *lx->p == '\n') {
			lx->line += *lx->p == '\n';
			lx->p++;
		} else {
			return;
		}
	}
}

/* One word into c->words; its start, or NULL with c->why. */
static const char *word(struct ngx_conf *c, struct lexer *lx)
{
	char *out = c->words + c->used;
	size_t room = sizeof c->words - c->used, n = 0;
	char quote = 0;

	if (*lx->p == '"' || *lx->p == '\'')
		quote = *lx->p++;
	while (lx->p < lx->end) {
		char ch = *lx->p;

		if (quote ? ch == quote
		          : (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
		             ch == ';' || ch == '{' || ch == '}'))
			break;
		if (ch == '\\' && lx->p + 1 < lx->end) {
			lx->p++;
			ch = *lx->p;
			/* nginx keeps \t \r \n as those characters in quotes. */
			if (quote)
				ch = ch == 't' ? '\t' : ch == 'r' ? '\r' :
				     ch == 'n' ? '\n' : ch;
		}
		lx->line += ch == '\n';
		if (n + 1 >= room) {
			fail(c, lx->line, "the words are longer than 256 KiB in all");
			return NULL;
		}
		out[n++] = ch;
		lx->p++;
	}
	if (quote) {
		if (lx->p >= lx->end) {
			fail(c, lx->line, "a quote is not closed");
			return NULL;
		}
		lx->p++;
	}
	out[n] = '\0';
	c->used += n + 1;
	return out;
}

int ngx_conf_parse(struct ngx_conf *c, const char *text, size_t len)
{
	struct lexer lx = { text, text + len, 1 };
	int stack[NGX_DEPTH_MAX], depth = 0;
	struct ngx_directive *d = NULL;

	c->n = 0;
	c->used = 0;
	c->why[0] = '\0';
	for (;;) {
		skip_space(&lx);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == ';' || *lx.p == '{') {
			if (!d)
				return fail(c, lx.line, *lx.p == ';'
				            ? "';' without a directive"
				            : "'{' without a directive");
			if (*lx.p == '{') {
				if (depth == NGX_DEPTH_MAX)
					return fail(c, lx.line, "blocks nested too deep");
				d->block = 1;
				stack[depth++] = (int)(d - c->d);
			}
			d = NULL;
			lx.p++;
			continue;
		}
		if (*lx.p == '}') {
			if (d)
				return fail(c, lx.line, "'}' after a directive without ';'");
			if (!depth)
				return fail(c, lx.line, "'}' without its '{'");
			depth--;
			lx.p++;
			continue;
		}
		if (!d) {
			if (c->n == NGX_DIRECTIVES_MAX)
				return fail(c, lx.line, "more than 2048 directives");
			d = &c->d[c->n++];
			memset(d, 0, sizeof *d);
			d->line = lx.line;
			d->parent = depth ? stack[depth - 1] : -1;
			if (!(d->name = word(c, &lx)))
				return -1;
			continue;
		}
		if (d->nargs == NGX_ARGS_MAX)
			return fail(c, lx.line, "more than 32 words in a directive");
		if (!(d->args[d->nargs++] = word(c, &lx)))
			return -1;
	}
	if (d)
		return fail(c, lx.line, "the last directive has no ';'");
	if (depth)
		return fail(c, lx.line, "a block is not closed");
	return 0;
}
