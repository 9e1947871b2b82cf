/* DNS queries and replies as the resolver reads them: answers, CNAME
 * chains, compression, hostile names, spoofs and truncations. */
#include "dns_parse.h"

#include "run_suite.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#define PTR_NAME "7.2.0.192.in-addr.arpa"

static unsigned char msg[1024];
static size_t len;

static void put(const void *p, size_t n)
{
	memcpy(msg + len, p, n);
	len += n;
}

static void put16(unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(b, 2);
}

/* A name as labels; "\xc0\x0c"-style pointers may be written raw. */
static void put_name(const char *name)
{
	while (*name) {
		size_t n = strcspn(name, ".");

		msg[len++] = (unsigned char)n;
		put(name, n);
		name += n + (name[n] == '.');
	}
	msg[len++] = 0;
}

/* Header and the question back, as a server writes a reply. */
static void reply(unsigned id, unsigned rcode, unsigned answers,
                  const char *qname, unsigned qtype)
{
	len = 0;
	put16(id);
	put16(0x8180 | rcode);
	put16(1);
	put16(answers);
	put16(0);
	put16(0);
	put_name(qname);
	put16(qtype);
	put16(1);
}

static void record_head(unsigned type, unsigned rdlen)
{
	put16(type);
	put16(1);
	put16(0);
	put16(300);
	put16(rdlen);
}

START_TEST(reverse_names)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_in6 b = { .sin6_family = AF_INET6 };
	char out[128];

	inet_pton(AF_INET, "192.0.2.7", &a.sin_addr);
	ck_assert_int_eq(dns_reverse_name((struct sockaddr *)&a, out, sizeof out), 0);
	ck_assert_str_eq(out, PTR_NAME);
	inet_pton(AF_INET6, "2001:db8::567:89ab", &b.sin6_addr);
	ck_assert_int_eq(dns_reverse_name((struct sockaddr *)&b, out, sizeof out), 0);
	ck_assert_str_eq(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	                 ".8.b.d.0.1.0.0.2.ip6.arpa");
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &b.sin6_addr);
	ck_assert_int_eq(dns_reverse_name((struct sockaddr *)&b, out, sizeof out), 0);
	ck_assert_str_eq(out, PTR_NAME);
}
END_TEST

START_TEST(query_layout)
{
	unsigned char q[300];
	ssize_t n = dns_build_query(0x1234, "mail.example", DNS_A, q, sizeof q);

	ck_assert_int_eq(n, 12 + 14 + 4);
	ck_assert_int_eq(q[0], 0x12);
	ck_assert_int_eq(q[2], 0x01);
	ck_assert_int_eq(memcmp(q + 12, "\x04mail\x07" "example\x00", 14), 0);
	ck_assert_int_eq(dns_build_query(1, "a..b", DNS_A, q, sizeof q), -1);
	ck_assert_int_eq(dns_build_query(1, "a.b", DNS_A, q, 10), -1);
}
END_TEST

START_TEST(ptr_with_compression)
{
	struct dns_reply r;

	reply(7, 0, 1, PTR_NAME, DNS_PTR);
	put("\xc0\x0c", 2);                 /* owner: the question's name */
	record_head(DNS_PTR, 17);
	put_name("mx1.example.org");
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), 0);
	ck_assert_int_eq(r.rcode, DNS_ANSWER);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_str_eq(r.names[0], "mx1.example.org");
	ck_assert_int_eq(r.valid[0], 1);
}
END_TEST

START_TEST(hostile_ptr_is_marked)
{
	struct dns_reply r;

	reply(7, 0, 2, PTR_NAME, DNS_PTR);
	put("\xc0\x0c", 2);
	record_head(DNS_PTR, 1 + 9 + 1 + 7 + 1);
	put("\x09" "evil\r\nrcp\x07" "example\x00", 19);
	put("\xc0\x0c", 2);
	record_head(DNS_PTR, 14);
	put("\x0c" "a.b.example", 12);       /* a dot inside a label */
	put("\x00", 1);
	put("\x00", 1);                      /* pad to the rdlen */
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), 0);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_int_eq(r.valid[0], 0);
	ck_assert_ptr_null(strpbrk(r.names[0], "\r\n"));
	ck_assert_int_eq(r.valid[1], 0);
}
END_TEST

START_TEST(cname_chain_to_addresses)
{
	unsigned char want[4] = { 192, 0, 2, 7 };
	struct dns_reply r;

	reply(9, 0, 3, "mx.example", DNS_A);
	put("\xc0\x0c", 2);
	record_head(DNS_CNAME, 9);
	put_name("mx2.net");
	put_name("other.example");           /* not on the chain: left */
	record_head(DNS_A, 4);
	put("\x01\x02\x03\x04", 4);
	put_name("mx2.net");
	record_head(DNS_A, 4);
	put(want, 4);
	ck_assert_int_eq(dns_parse_reply(msg, len, 9, "mx.example", DNS_A, &r), 0);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(memcmp(r.addrs[0], want, 4), 0);
}
END_TEST

START_TEST(rcodes)
{
	struct dns_reply r;

	reply(7, 3, 0, PTR_NAME, DNS_PTR);
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), 0);
	ck_assert_int_eq(r.rcode, DNS_NONAME);
	reply(7, 2, 0, PTR_NAME, DNS_PTR);
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), 0);
	ck_assert_int_eq(r.rcode, DNS_FAILED);
	reply(7, 5, 0, PTR_NAME, DNS_PTR);
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), 0);
	ck_assert_int_eq(r.rcode, DNS_FAILED);
	reply(7, 0, 0, PTR_NAME, DNS_PTR);
	msg[2] |= 0x02;                      /* truncated */
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), 0);
	ck_assert_int_eq(r.rcode, DNS_FAILED);
}
END_TEST

START_TEST(not_our_answer)
{
	struct dns_reply r;

	reply(7, 0, 0, PTR_NAME, DNS_PTR);
	ck_assert_int_eq(dns_parse_reply(msg, len, 8, PTR_NAME, DNS_PTR, &r), -1);
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, "8.2.0.192.in-addr.arpa",
	                                 DNS_PTR, &r), -1);
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_A, &r), -1);
	msg[2] &= 0x7f;                      /* a query, not a reply */
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), -1);
}
END_TEST

START_TEST(malformed)
{
	struct dns_reply r;
	size_t full;

	/* A pointer loop. */
	reply(7, 0, 1, PTR_NAME, DNS_PTR);
	put("\xc0\x0c", 2);
	record_head(DNS_PTR, 2);
	msg[len] = 0xc0;
	msg[len + 1] = (unsigned char)len;
	len += 2;
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), -1);
	/* A record longer than the message, at every cut. */
	reply(7, 0, 1, PTR_NAME, DNS_PTR);
	put("\xc0\x0c", 2);
	record_head(DNS_PTR, 17);
	put_name("mx1.example.org");
	full = len;
	for (len = 12; len < full; len++)
		ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r),
		                 -1);
	/* An A record of the wrong size. */
	reply(9, 0, 1, "mx.example", DNS_A);
	put("\xc0\x0c", 2);
	record_head(DNS_A, 3);
	put("\x01\x02\x03", 3);
	ck_assert_int_eq(dns_parse_reply(msg, len, 9, "mx.example", DNS_A, &r), -1);
	/* A name in rdata that runs past its record. */
	reply(7, 0, 1, PTR_NAME, DNS_PTR);
	put("\xc0\x0c", 2);
	record_head(DNS_PTR, 3);
	put_name("mx1.example.org");
	ck_assert_int_eq(dns_parse_reply(msg, len, 7, PTR_NAME, DNS_PTR, &r), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_parse");
	TCase *tc = tcase_create("dns_parse");

	tcase_add_test(tc, reverse_names);
	tcase_add_test(tc, query_layout);
	tcase_add_test(tc, ptr_with_compression);
	tcase_add_test(tc, hostile_ptr_is_marked);
	tcase_add_test(tc, cname_chain_to_addresses);
	tcase_add_test(tc, rcodes);
	tcase_add_test(tc, not_our_answer);
	tcase_add_test(tc, malformed);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
