#include "xtext.h"

int xtext_encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int esc = *p < 0x21 || *p > 0x7e || *p == '+' || *p == '=';

		if (o + (esc ? 3 : 1) >= size)
			return -1;
		if (esc) {
			out[o++] = '+';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	if (size == 0)
		return -1;
	out[o] = '\0';
	return 0;
}
