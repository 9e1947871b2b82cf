#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, void *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	strbuf_reset(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->overflow = 0;
}

size_t strbuf_room(const struct strbuf *sb)
{
	return sb->overflow ? 0 : sb->size - sb->len;
}

int strbuf_put(struct strbuf *sb, const void *data, size_t n)
{
	if (sb->overflow || n > sb->size - sb->len) {
		sb->overflow = 1;
		return -1;
	}
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_put(sb, s, strlen(s));
}

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	size_t room = strbuf_room(sb);
	va_list ap;
	int n;

	if (room == 0) {   /* also when an earlier append did not fit */
		sb->overflow = 1;
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		sb->overflow = 1;
		return -1;
	}
	sb->len += (size_t)n;
	return 0;
}
