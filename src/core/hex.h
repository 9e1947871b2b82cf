/* Bytes as two hex digits: the one table of digits, and the one escaper
 * behind every "%XX"-like form postern writes (auth_http's URL escapes,
 * XCLIENT's xtext, a certificate DN's \XX, log values' \xhh). Each form is
 * a const struct hex_escape: which bytes, what goes before the digits. */
#ifndef POSTERN_HEX_H
#define POSTERN_HEX_H

#include <stddef.h>
#include <sys/types.h>

struct hex_escape {
	const char *prefix;     /* before the two digits: "%", "+", "\\x" */
	int lower;              /* "0a", not "0A" */
	unsigned char lo, hi;   /* bytes below lo or above hi are escaped */
	const char *also;       /* and these bytes */
};

/* The string in to out, each byte that how picks as its prefix and two
 * digits. The length written, or -1 when out is too short: out then holds
 * the longest start that fits, never half an escape; NUL-ended whenever
 * size > 0. */
ssize_t hex_escape(const char *in, char *out, size_t size,
                   const struct hex_escape *how);

/* n bytes as 2n digits. The length written, or -1 when out is too short:
 * out then holds the digits of as many whole bytes as fit; NUL-ended
 * whenever size > 0. */
ssize_t hex_encode(const void *in, size_t n, char *out, size_t size,
                   int lower);

#endif
