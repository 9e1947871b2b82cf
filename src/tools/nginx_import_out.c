/* What the importer writes and says: quoted words and comment text over
 * strbuf, and its notes and refusals, each with the file and line of the
 * directive it is about. The other importer files call these; these call
 * none of them. */
#include "nginx_import_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void out_quoted(struct strbuf *o, const char *w)
{
	strbuf_printf(o, "\"");
	for (; *w; w++)
		strbuf_printf(o, *w == '"' || *w == '\\' ? "\\%c" : "%c", *w);
	strbuf_printf(o, "\"");
}

void out_comment_text(struct strbuf *o, const char *w)
{
	for (; *w; w++)
		strbuf_printf(o, "%c", (unsigned char)*w < 0x20 || *w == 0x7f ? '?' : *w);
}

static void where(struct importer *im, const struct ngx_directive *d,
                  struct strbuf *o)
{
	if (!d)
		return;
	out_comment_text(o, im->c->files[d->file]);
	strbuf_printf(o, ":%d: %s: ", d->line, d->name);
}

void im_note(struct importer *im, const struct ngx_directive *d,
             const char *fmt, ...)
{
	char text[IMPORT_WHY_MAX + 1024], line[sizeof text + 16];
	struct strbuf o = { .buf = text, .size = sizeof text };
	va_list ap;

	where(im, d, &o);
	va_start(ap, fmt);
	if (o.len < o.size)
		vsnprintf(text + o.len, o.size - o.len, fmt, ap);
	va_end(ap);
	/* A scope's settings serve every section under it: one note each. */
	snprintf(line, sizeof line, "%s\n", text);
	im->notes.buf[im->notes.len] = '\0';
	if (strstr(im->notes.buf, line))
		return;
	strbuf_printf(&im->notes, "%s", line);
	im->r->nnotes++;
}

int im_refuse(struct importer *im, const struct ngx_directive *d,
              const char *fmt, ...)
{
	struct strbuf o = { .buf = im->r->why, .size = sizeof im->r->why };
	va_list ap;

	if (im->refused)
		return -1;
	im->refused = 1;
	where(im, d, &o);
	va_start(ap, fmt);
	if (o.len < o.size)
		vsnprintf(o.buf + o.len, o.size - o.len, fmt, ap);
	va_end(ap);
	return -1;
}

void im_directive(struct importer *im, const char *indent, const char *name)
{
	strbuf_printf(&im->conf, "%s%s = ", indent, name);
	im->r->ndirectives++;
}
