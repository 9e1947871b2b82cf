#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>
#include <sys/types.h>

#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes a NUL-terminated encoding; returns its length or -1 if out is short. */
ssize_t base64_encode(const void *in, size_t len, char *out, size_t size);
/* Strict RFC 4648 decoding (padding required); -1 on bad input or short out. */
ssize_t base64_decode(const char *in, size_t len, void *out, size_t size);

#endif
