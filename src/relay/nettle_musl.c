/* Debian's libnettle.a is built for glibc with _FORTIFY_SOURCE: its only
 * call musl lacks is __fprintf_chk, in the CPU-feature report printed
 * when NETTLE_FAT_VERBOSE is set (read with secure_getenv; the exec
 * contract passes no such variable, so it is never called). Linked into
 * postern-tls-relay only when it is a musl program. */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
