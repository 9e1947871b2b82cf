/* RFC 3461 xtext, the encoding XCLIENT's LOGIN= takes. */
#ifndef POSTERN_XTEXT_H
#define POSTERN_XTEXT_H

#include <stddef.h>

/* "+XX" for '+', '=', and bytes outside '!'..'~'; -1 if out is short. */
int xtext_encode(const char *in, char *out, size_t size);

#endif
