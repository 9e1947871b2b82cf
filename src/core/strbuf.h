/* The bounded writer: text or bytes appended to a buffer the caller owns,
 * never past its size. An append that does not fit whole writes nothing
 * that counts, and once one has not fit every later one is refused as
 * well: what the buffer holds is then a prefix of what was meant, and one
 * test at the end (overflow) says whether it is all of it. No allocation:
 * the buffers are fixed, sized for their protocol. */
#ifndef POSTERN_STRBUF_H
#define POSTERN_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t size, len;
	int overflow;       /* an append did not fit; a writer that cannot
	                     * write its input (too long, unprintable) may
	                     * set it too */
};

/* Empty, over buf's size bytes. */
void strbuf_init(struct strbuf *sb, void *buf, size_t size);
/* Empty again, overflow forgotten (after what was written was sent). */
void strbuf_reset(struct strbuf *sb);
/* Bytes that may still be appended. */
size_t strbuf_room(const struct strbuf *sb);

/* n bytes as they are, with no NUL after them. 0, or -1 when they do not
 * fit (or an earlier append did not). */
int strbuf_put(struct strbuf *sb, const void *data, size_t n);
/* A string without its NUL, as strbuf_put. */
int strbuf_puts(struct strbuf *sb, const char *s);
/* Formatted as by snprintf. The NUL that ends it must fit too; it is left
 * after the text and not counted in len. 0, or -1 as strbuf_put (what
 * vsnprintf wrote past len then is not part of the text). */
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
