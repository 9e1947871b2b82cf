#include "hex.h"

#include <string.h>

static const char *digits(int lower)
{
	return lower ? "0123456789abcdef" : "0123456789ABCDEF";
}

static int picked(const struct hex_escape *how, unsigned char c)
{
	return c < how->lo || c > how->hi ||
	       (how->also && strchr(how->also, c));
}

/* One byte's digits at out. */
static void pair(char *out, unsigned char c, const char *d)
{
	out[0] = d[c >> 4];
	out[1] = d[c & 15];
}

ssize_t hex_escape(const char *in, char *out, size_t size,
                   const struct hex_escape *how)
{
	const char *d = digits(how->lower);
	size_t plen = strlen(how->prefix), o = 0;

	if (size == 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int esc = picked(how, *p);

		/* The unit and the NUL after it. */
		if (o + (esc ? plen + 2 : 1) >= size) {
			out[o] = '\0';
			return -1;
		}
		if (esc) {
			memcpy(out + o, how->prefix, plen);
			pair(out + o + plen, *p, d);
			o += plen + 2;
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t hex_encode(const void *in, size_t n, char *out, size_t size,
                   int lower)
{
	const unsigned char *b = in;
	const char *d = digits(lower);
	size_t o = 0;

	if (size == 0)
		return -1;
	for (size_t i = 0; i < n; i++, o += 2) {
		if (o + 2 >= size) {
			out[o] = '\0';
			return -1;
		}
		pair(out + o, b[i], d);
	}
	out[o] = '\0';
	return (ssize_t)o;
}
