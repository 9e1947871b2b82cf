#include "xtext.h"

#include "hex.h"

static const struct hex_escape xtext = { "+", 0, 0x21, 0x7e, "+=" };

int xtext_encode(const char *in, char *out, size_t size)
{
	return hex_escape(in, out, size, &xtext) < 0 ? -1 : 0;
}
