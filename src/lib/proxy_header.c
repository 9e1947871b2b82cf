#include "proxy_header.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	                                  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const char v1_sig[] = "PROXY ";

static enum proxy_result bad(struct proxy_header *h, const char *why)
{
	h->why = why;
	return PROXY_BAD;
}

/* An address of the given family from text, as inet_pton takes it; the
 * text must end where the field ends. */
static int v1_addr(const char *text, size_t n, int family, void *out)
{
	char tmp[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, text, n);
	tmp[n] = '\0';
	return inet_pton(family, tmp, out) == 1 ? 0 : -1;
}

static int v1_port(const char *text, size_t n, unsigned *port)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = v;
	return 0;
}

static void set_in4(struct sockaddr_storage *ss, const void *ip, unsigned port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof *ss);
	a->sin_family = AF_INET;
	memcpy(&a->sin_addr, ip, 4);
	a->sin_port = htons((unsigned short)port);
}

static void set_in6(struct sockaddr_storage *ss, const void *ip, unsigned port)
{
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	a->sin6_family = AF_INET6;
	memcpy(&a->sin6_addr, ip, 16);
	a->sin6_port = htons((unsigned short)port);
}

/* "TCP4 1.2.3.4 5.6.7.8 1111 2222": exactly one space between fields. */
static enum proxy_result v1_fields(const char *p, size_t n,
                                   struct proxy_header *h)
{
	const char *f[5];
	size_t len[5], nf = 0, start = 0;
	unsigned char sip[16], dip[16];
	unsigned sport, dport;
	int family;

	/* UNKNOWN may be followed by anything, up to the CRLF. */
	if (n >= 7 && memcmp(p, "UNKNOWN", 7) == 0 && (n == 7 || p[7] == ' ')) {
		h->local = 1;
		return PROXY_DONE;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != ' ')
			continue;
		if (nf == 5)
			return bad(h, "PROXY v1: too many fields");
		f[nf] = p + start;
		len[nf++] = i - start;
		start = i + 1;
	}
	if (len[0] == 4 && memcmp(f[0], "TCP4", 4) == 0)
		family = AF_INET;
	else if (len[0] == 4 && memcmp(f[0], "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return bad(h, "PROXY v1: unknown protocol");
	if (nf != 5)
		return bad(h, "PROXY v1: want protocol, two addresses, two ports");
	if (v1_addr(f[1], len[1], family, sip) < 0 ||
	    v1_addr(f[2], len[2], family, dip) < 0)
		return bad(h, "PROXY v1: bad address");
	if (v1_port(f[3], len[3], &sport) < 0 || v1_port(f[4], len[4], &dport) < 0)
		return bad(h, "PROXY v1: bad port");
	if (family == AF_INET) {
		set_in4(&h->src, sip, sport);
		set_in4(&h->dst, dip, dport);
	} else {
		set_in6(&h->src, sip, sport);
		set_in6(&h->dst, dip, dport);
	}
	return PROXY_DONE;
}

static enum proxy_result v1(const unsigned char *buf, size_t len,
                            struct proxy_header *h)
{
	const unsigned char *lf = memchr(buf, '\n', len);
	size_t line;

	h->version = 1;
	if (!lf)
		return len < PROXY_V1_MAX ? PROXY_MORE :
		       bad(h, "PROXY v1: no end of line within 107 bytes");
	line = (size_t)(lf - buf) + 1;
	if (line > PROXY_V1_MAX)
		return bad(h, "PROXY v1: longer than 107 bytes");
	if (line < 8 || buf[line - 2] != '\r')
		return bad(h, "PROXY v1: the line does not end in CRLF");
	for (size_t i = 0; i < line - 2; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return bad(h, "PROXY v1: a control or non-ASCII byte");
	h->length = line;
	return v1_fields((const char *)buf + 6, line - 8, h);
}

/* TLVs are not used, but each must fit in what the header says it holds. */
static int v2_tlvs_fit(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t vlen;

		if (n < 3)
			return -1;
		vlen = (size_t)p[1] << 8 | p[2];
		if (vlen > n - 3)
			return -1;
		p += 3 + vlen;
		n -= 3 + vlen;
	}
	return 0;
}

static enum proxy_result v2(const unsigned char *buf, size_t len,
                            struct proxy_header *h)
{
	size_t body, addrs = 0;
	const unsigned char *a = buf + 16;
	int family, transport;

	h->version = 2;
	if (len < 16)
		return PROXY_MORE;
	if (buf[12] >> 4 != 2)
		return bad(h, "PROXY v2: not version 2");
	if ((buf[12] & 0x0f) > 1)
		return bad(h, "PROXY v2: unknown command");
	body = (size_t)buf[14] << 8 | buf[15];
	if (body > 216 + PROXY_V2_TLV_MAX)
		return bad(h, "PROXY v2: header too long");
	if (len < 16 + body)
		return PROXY_MORE;
	h->length = 16 + body;
	family = buf[13] >> 4;
	transport = buf[13] & 0x0f;
	if (family > 3 || transport > 2)
		return bad(h, "PROXY v2: unknown address family or transport");
	if ((buf[12] & 0x0f) == 0 || family == 0 || family == 3) {
		/* LOCAL (a health check), UNSPEC or UNIX: keep the peer's. */
		h->local = 1;
		addrs = family == 3 ? 216 : family == 1 ? 12 : family == 2 ? 36 : 0;
	} else if (transport != 1) {
		return bad(h, "PROXY v2: not a stream connection");
	} else if (family == 1) {
		addrs = 12;
	} else {
		addrs = 36;
	}
	if (body < addrs)
		return bad(h, "PROXY v2: too short for its addresses");
	if (v2_tlvs_fit(a + addrs, body - addrs) < 0)
		return bad(h, "PROXY v2: a TLV runs past the header");
	if (h->local)
		return PROXY_DONE;
	if (family == 1) {
		set_in4(&h->src, a, (unsigned)(a[8] << 8 | a[9]));
		set_in4(&h->dst, a + 4, (unsigned)(a[10] << 8 | a[11]));
	} else {
		set_in6(&h->src, a, (unsigned)(a[32] << 8 | a[33]));
		set_in6(&h->dst, a + 16, (unsigned)(a[34] << 8 | a[35]));
	}
	return PROXY_DONE;
}

enum proxy_result proxy_parse(const unsigned char *buf, size_t len,
                              struct proxy_header *h)
{
	memset(h, 0, sizeof *h);
	if (len == 0)
		return PROXY_MORE;
	if (buf[0] == 'P') {
		size_t n = len < 6 ? len : 6;

		if (memcmp(buf, v1_sig, n) != 0)
			return bad(h, "not a PROXY header");
		return len < 6 ? PROXY_MORE : v1(buf, len, h);
	}
	if (buf[0] == v2_sig[0]) {
		size_t n = len < 12 ? len : 12;

		if (memcmp(buf, v2_sig, n) != 0)
			return bad(h, "not a PROXY header");
		return len < 12 ? PROXY_MORE : v2(buf, len, h);
	}
	return bad(h, "not a PROXY header");
}

static int same_tcp_family(const struct sockaddr *src,
                           const struct sockaddr *dst)
{
	return src->sa_family == dst->sa_family &&
	       (src->sa_family == AF_INET || src->sa_family == AF_INET6);
}

static ssize_t build_v1(const struct sockaddr *src, const struct sockaddr *dst,
                        unsigned char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int n;

	if (!same_tcp_family(src, dst)) {
		n = snprintf((char *)buf, size, "PROXY UNKNOWN\r\n");
	} else if (src->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;

		inet_ntop(AF_INET, &a->sin_addr, s, sizeof s);
		inet_ntop(AF_INET, &b->sin_addr, d, sizeof d);
		n = snprintf((char *)buf, size, "PROXY TCP4 %s %s %u %u\r\n", s, d,
		             ntohs(a->sin_port), ntohs(b->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;

		inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof s);
		inet_ntop(AF_INET6, &b->sin6_addr, d, sizeof d);
		n = snprintf((char *)buf, size, "PROXY TCP6 %s %s %u %u\r\n", s, d,
		             ntohs(a->sin6_port), ntohs(b->sin6_port));
	}
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static ssize_t build_v2(const struct sockaddr *src, const struct sockaddr *dst,
                        unsigned char *buf, size_t size)
{
	size_t body = 0;
	unsigned char *a = buf + 16;

	if (size < 16 + 36)
		return -1;
	memcpy(buf, v2_sig, 12);
	buf[12] = 0x20;          /* version 2, LOCAL */
	buf[13] = 0x00;
	if (same_tcp_family(src, dst) && src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;

		buf[12] = 0x21;
		buf[13] = 0x11;
		memcpy(a, &s->sin_addr, 4);
		memcpy(a + 4, &d->sin_addr, 4);
		memcpy(a + 8, &s->sin_port, 2);
		memcpy(a + 10, &d->sin_port, 2);
		body = 12;
	} else if (same_tcp_family(src, dst)) {
		const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;

		buf[12] = 0x21;
		buf[13] = 0x21;
		memcpy(a, &s->sin6_addr, 16);
		memcpy(a + 16, &d->sin6_addr, 16);
		memcpy(a + 32, &s->sin6_port, 2);
		memcpy(a + 34, &d->sin6_port, 2);
		body = 36;
	}
	buf[14] = (unsigned char)(body >> 8);
	buf[15] = (unsigned char)body;
	return (ssize_t)(16 + body);
}

ssize_t proxy_build(int version, const struct sockaddr *src,
                    const struct sockaddr *dst, unsigned char *buf,
                    size_t size)
{
	return version == 2 ? build_v2(src, dst, buf, size) :
	       build_v1(src, dst, buf, size);
}
