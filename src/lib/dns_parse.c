#include "dns_parse.h"

#include "strbuf.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define POINTER_HOPS_MAX 16

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

int dns_reverse_name(const struct sockaddr *sa, char *out, size_t size)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	const unsigned char *b;
	struct strbuf o;

	strbuf_init(&o, out, size);
	if (sa->sa_family == AF_INET ||
	    (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))) {
		b = sa->sa_family == AF_INET ?
		    (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr :
		    in6->sin6_addr.s6_addr + 12;
		return strbuf_printf(&o, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2],
		                     b[1], b[0]);
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	b = in6->sin6_addr.s6_addr;
	for (int i = 15; i >= 0; i--)
		strbuf_printf(&o, "%x.%x.", b[i] & 0x0f, b[i] >> 4);
	return strbuf_printf(&o, "ip6.arpa");
}

ssize_t dns_build_query(uint16_t id, const char *name, enum dns_type type,
                        unsigned char *buf, size_t size)
{
	size_t pos = 12, total = 0;
	const char *p = name;

	if (size < 12 + 1 + 4 + strlen(name) + 1)
		return -1;
	memset(buf, 0, 12);
	put16(buf, id);
	buf[2] = 0x01;         /* RD: the resolver recurses for us */
	put16(buf + 4, 1);
	while (*p) {
		size_t n = strcspn(p, ".");

		if (n == 0 || n > 63 || (total += n + 1) > 254)
			return -1;
		buf[pos++] = (unsigned char)n;
		memcpy(buf + pos, p, n);
		pos += n;
		p += n;
		if (*p == '.')
			p++;
	}
	buf[pos++] = 0;
	put16(buf + pos, type);
	put16(buf + pos + 2, 1);   /* class IN */
	return (ssize_t)(pos + 4);
}

static int host_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* The name at off as text; *next is where the record goes on. A byte
 * that is not printable, or a dot inside a label, shows as '?' and makes
 * the name invalid as a host name. */
static int read_name(const unsigned char *msg, size_t len, size_t off,
                     char *text, size_t *next, int *valid)
{
	size_t pos = off, out = 0;
	int hops = 0, jumped = 0;

	*valid = 1;
	for (;;) {
		unsigned c;

		if (pos >= len)
			return -1;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > POINTER_HOPS_MAX)
				return -1;
			if (!jumped)
				*next = pos + 2;
			jumped = 1;
			pos = (c & 0x3f) << 8 | msg[pos + 1];
			continue;
		}
		if (c & 0xc0)
			return -1;
		if (c == 0)
			break;
		if (pos + 1 + c > len || out + c + 2 > DNS_NAME_MAX)
			return -1;
		if (out)
			text[out++] = '.';
		for (unsigned i = 0; i < c; i++) {
			unsigned char b = msg[pos + 1 + i];

			if (!host_byte(b))
				*valid = 0;
			text[out++] = b > 0x20 && b < 0x7f && b != '.' ? (char)b : '?';
		}
		pos += 1 + c;
	}
	if (!jumped)
		*next = pos + 1;
	text[out] = '\0';
	if (out == 0)
		*valid = 0;
	return 0;
}

static int question_matches(const unsigned char *msg, size_t len,
                            const char *name, enum dns_type type,
                            size_t *next)
{
	char q[DNS_NAME_MAX];
	int valid;

	if (read_name(msg, len, 12, q, next, &valid) < 0 || *next + 4 > len)
		return 0;
	if (strcasecmp(q, name) != 0 || get16(msg + *next) != type ||
	    get16(msg + *next + 2) != 1)
		return 0;
	*next += 4;
	return 1;
}

/* One answer record: CNAME moves the name followed, the asked type is
 * taken. Records about other names are left. */
static int take_record(const unsigned char *msg, size_t len, size_t *pos,
                       enum dns_type type, char *want, struct dns_reply *r)
{
	char owner[DNS_NAME_MAX], target[DNS_NAME_MAX];
	size_t at, rdata, end, after;
	unsigned rtype, rclass, rdlen;
	int valid;

	if (read_name(msg, len, *pos, owner, &at, &valid) < 0 || at + 10 > len)
		return -1;
	rtype = get16(msg + at);
	rclass = get16(msg + at + 2);
	rdlen = get16(msg + at + 8);
	rdata = at + 10;
	end = rdata + rdlen;
	if (end > len)
		return -1;
	*pos = end;
	if (rclass != 1 || strcasecmp(owner, want) != 0)
		return 0;
	if (rtype == DNS_CNAME || (rtype == DNS_PTR && type == DNS_PTR)) {
		if (read_name(msg, len, rdata, target, &after, &valid) < 0 ||
		    after > end)
			return -1;
		if (rtype == DNS_CNAME) {
			memcpy(want, target, DNS_NAME_MAX);
		} else if (r->count < DNS_ANSWERS_MAX) {
			memcpy(r->names[r->count], target, DNS_NAME_MAX);
			r->valid[r->count++] = valid;
		}
		return 0;
	}
	if (rtype != type || (type != DNS_A && type != DNS_AAAA))
		return 0;
	if (rdlen != (type == DNS_A ? 4u : 16u))
		return -1;
	if (r->count < DNS_ANSWERS_MAX)
		memcpy(r->addrs[r->count++], msg + rdata, rdlen);
	return 0;
}

int dns_parse_reply(const unsigned char *msg, size_t len, uint16_t id,
                    const char *name, enum dns_type type,
                    struct dns_reply *r)
{
	char want[DNS_NAME_MAX];
	size_t pos;
	unsigned rcode, answers;

	memset(r, 0, sizeof *r);
	if (len < 12 || get16(msg) != id || !(msg[2] & 0x80) ||
	    (msg[2] & 0x78) != 0 || get16(msg + 4) != 1 ||
	    !question_matches(msg, len, name, type, &pos))
		return -1;
	rcode = msg[3] & 0x0f;
	/* Truncated: the answers may be missing, and there is no TCP here. */
	if (rcode == 3)
		r->rcode = DNS_NONAME;
	else if (rcode != 0 || (msg[2] & 0x02))
		r->rcode = DNS_FAILED;
	if (r->rcode != DNS_ANSWER)
		return 0;
	snprintf(want, sizeof want, "%s", name);
	answers = get16(msg + 6);
	for (unsigned i = 0; i < answers; i++)
		if (take_record(msg, len, &pos, type, want, r) < 0)
			return -1;
	return 0;
}
