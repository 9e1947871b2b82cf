#include "nginx_conf.h"

#include <stdio.h>
#include <string.h>

struct lexer {
	const char *p, *end;
	int file, line;
};

static int fail(struct ngx_conf *c, const struct lexer *lx, int line,
                const char *why)
{
	snprintf(c->why, sizeof c->why, "%s:%d: %s", c->files[lx->file], line,
	         why);
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
		lx->line += *lx->p == '\n';
		if (n + 1 >= room) {
			fail(c, lx, lx->line, "the words are longer than 256 KiB in all");
			return NULL;
		}
		out[n++] = ch;
		lx->p++;
	}
	if (quote) {
		if (lx->p >= lx->end) {
			fail(c, lx, lx->line, "a quote is not closed");
			return NULL;
		}
		lx->p++;
	}
	out[n] = '\0';
	c->used += n + 1;
	return out;
}

void ngx_conf_init(struct ngx_conf *c, ngx_include_fn include, void *ctx)
{
	c->n = 0;
	c->used = 0;
	c->nfiles = 0;
	c->include = include;
	c->include_ctx = ctx;
	c->include_depth = 0;
	c->why[0] = '\0';
}

const char *ngx_where(const struct ngx_conf *c, const struct ngx_directive *d,
                      char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d", c->files[d->file], d->line);
	return buf;
}

static int is_include(const struct ngx_directive *d)
{
	return d && strcmp(d->name, "include") == 0;
}

/* include, read where it stands: the directive gives its place to what
 * the files hold, as nginx reads it. */
static int include(struct ngx_conf *c, struct lexer *lx)
{
	struct ngx_directive at = c->d[--c->n];
	int rc;

	if (at.nargs != 1)
		return fail(c, lx, at.line, "include: want one file or pattern");
	if (!c->include)
		return fail(c, lx, at.line, "include: files are not read here");
	if (c->include_depth == NGX_INCLUDE_DEPTH)
		return fail(c, lx, at.line, "include: nested more than 8 deep "
		            "(does a file include itself?)");
	c->include_depth++;
	rc = c->include(c, at.args[0], at.parent, &at, c->include_ctx);
	c->include_depth--;
	return rc;
}

static int new_file(struct ngx_conf *c, const char *name)
{
	if (c->nfiles == NGX_FILES_MAX) {
		snprintf(c->why, sizeof c->why, "%s: more than %d files", name,
		         NGX_FILES_MAX);
		return -1;
	}
	snprintf(c->files[c->nfiles], sizeof c->files[0], "%s", name);
	return c->nfiles++;
}

int ngx_conf_parse_file(struct ngx_conf *c, const char *name,
                        const char *text, size_t len, int parent)
{
	struct lexer lx = { text, text + len, 0, 1 };
	int stack[NGX_DEPTH_MAX], depth = 0;
	struct ngx_directive *d = NULL;

	if ((lx.file = new_file(c, name)) < 0)
		return -1;
	c->why[0] = '\0';
	for (;;) {
		skip_space(&lx);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == ';' || *lx.p == '{') {
			if (!d)
				return fail(c, &lx, lx.line, *lx.p == ';'
				            ? "';' without a directive"
				            : "'{' without a directive");
			if (*lx.p == '{') {
				if (is_include(d))
					return fail(c, &lx, d->line, "include: not a block");
				if (depth == NGX_DEPTH_MAX)
					return fail(c, &lx, lx.line, "blocks nested too deep");
				d->block = 1;
				stack[depth++] = (int)(d - c->d);
			}
			lx.p++;
			if (is_include(d) && include(c, &lx) < 0)
				return -1;
			d = NULL;
			continue;
		}
		if (*lx.p == '}') {
			if (d)
				return fail(c, &lx, lx.line,
				            "'}' after a directive without ';'");
			if (!depth)
				return fail(c, &lx, lx.line, "'}' without its '{'");
			depth--;
			lx.p++;
			continue;
		}
		if (!d) {
			if (c->n == NGX_DIRECTIVES_MAX)
				return fail(c, &lx, lx.line, "more than 2048 directives");
			d = &c->d[c->n++];
			memset(d, 0, sizeof *d);
			d->file = lx.file;
			d->line = lx.line;
			d->parent = depth ? stack[depth - 1] : parent;
			if (!(d->name = word(c, &lx)))
				return -1;
			continue;
		}
		if (d->nargs == NGX_ARGS_MAX)
			return fail(c, &lx, lx.line, "more than 32 words in a directive");
		if (!(d->args[d->nargs++] = word(c, &lx)))
			return -1;
	}
	if (d)
		return fail(c, &lx, lx.line, "the last directive has no ';'");
	if (depth)
		return fail(c, &lx, lx.line, "a block is not closed");
	return 0;
}
