/* The PROXY header parser and builder: both versions, the bounds, and the
 * promise that PROXY_MORE never covers a byte past the header. */
#include "proxy_header.h"

#include "run_suite.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	                               0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static enum proxy_result parse(const char *s, struct proxy_header *h)
{
	return proxy_parse((const unsigned char *)s, strlen(s), h);
}

static void ip_port(const struct sockaddr_storage *ss, char *ip, int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, INET6_ADDRSTRLEN);
		*port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, INET6_ADDRSTRLEN);
		*port = ntohs(a->sin6_port);
	}
}

static void check_addr(const struct sockaddr_storage *ss, const char *want_ip,
                       int want_port)
{
	char ip[INET6_ADDRSTRLEN];
	int port;

	ip_port(ss, ip, &port);
	ck_assert_str_eq(ip, want_ip);
	ck_assert_int_eq(port, want_port);
}

START_TEST(v1_tcp4_and_what_follows_is_not_taken)
{
	const char *in = "PROXY TCP4 192.0.2.7 198.51.100.1 40000 143\r\nA1 LOGIN";
	struct proxy_header h;

	ck_assert_int_eq(parse(in, &h), PROXY_DONE);
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.local, 0);
	ck_assert_uint_eq(h.length, strlen(in) - strlen("A1 LOGIN"));
	check_addr(&h.src, "192.0.2.7", 40000);
	check_addr(&h.dst, "198.51.100.1", 143);
}
END_TEST

START_TEST(v1_tcp6_and_unknown)
{
	struct proxy_header h;

	ck_assert_int_eq(parse("PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n",
	                       &h), PROXY_DONE);
	check_addr(&h.src, "2001:db8::7", 1);
	check_addr(&h.dst, "2001:db8::1", 65535);
	ck_assert_int_eq(parse("PROXY UNKNOWN\r\n", &h), PROXY_DONE);
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", &h),
	                 PROXY_DONE);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v1_malformed)
{
	static const char *const bad[] = {
		"GET / HTTP/1.0\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 40000 143\n",     /* no CR */
		"PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",       /* family */
		"PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 143\r\n",  /* port */
		"PROXY TCP4 192.0.2.7 198.51.100.1 -1 143\r\n",
		"PROXY TCP4 192.0.2.7  198.51.100.1 1 143\r\n",     /* 2 spaces */
		"PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n",          /* short */
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 2 3\r\n",      /* long */
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7\x01 198.51.100.1 1 2\r\n",    /* control */
		"PROXY \r\n",
		"proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
	};
	struct proxy_header h;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(parse(bad[i], &h) == PROXY_BAD, "%s", bad[i]);
		ck_assert_ptr_nonnull(h.why);
	}
}
END_TEST

START_TEST(v1_longer_than_107_is_refused)
{
	char line[200];
	struct proxy_header h;

	memset(line, 'x', sizeof line);
	memcpy(line, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 106, &h), PROXY_MORE);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 107, &h), PROXY_BAD);
	memcpy(line + 105, "\r\n", 2);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 120, &h), PROXY_DONE);
	ck_assert_uint_eq(h.length, 107);
	memcpy(line + 105, "xx\r\n", 4);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 120, &h), PROXY_BAD);
}
END_TEST

/* Every prefix of a header is MORE, never DONE or BAD: a reader that
 * consumes what MORE covers stays inside the header. */
START_TEST(every_prefix_is_more)
{
	unsigned char v2[16 + 12 + 7];
	const char *v1 = "PROXY TCP4 192.0.2.7 198.51.100.1 40000 143\r\n";
	struct proxy_header h;

	for (size_t n = 0; n < strlen(v1); n++)
		ck_assert_int_eq(proxy_parse((const unsigned char *)v1, n, &h),
		                 PROXY_MORE);
	memcpy(v2, sig, 12);
	v2[12] = 0x21;
	v2[13] = 0x11;
	v2[14] = 0;
	v2[15] = 12 + 7;
	memset(v2 + 16, 1, 12);
	memcpy(v2 + 28, "\x04\x00\x04" "abcd", 7);   /* a NOOP TLV */
	for (size_t n = 0; n < sizeof v2; n++)
		ck_assert_int_eq(proxy_parse(v2, n, &h), PROXY_MORE);
	ck_assert_int_eq(proxy_parse(v2, sizeof v2, &h), PROXY_DONE);
	ck_assert_uint_eq(h.length, sizeof v2);
}
END_TEST

static size_t v2_header(unsigned char *b, int cmd, int fam, size_t body)
{
	memcpy(b, sig, 12);
	b[12] = (unsigned char)(0x20 | cmd);
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(body >> 8);
	b[15] = (unsigned char)body;
	return 16 + body;
}

START_TEST(v2_tcp4_tcp6_local_unix)
{
	unsigned char b[16 + 216 + 16];
	struct proxy_header h;
	size_t n;

	n = v2_header(b, 1, 0x11, 12);
	memcpy(b + 16, "\xc0\x00\x02\x07\xc6\x33\x64\x01\x9c\x40\x00\x8f", 12);
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_DONE);
	ck_assert_int_eq(h.version, 2);
	check_addr(&h.src, "192.0.2.7", 40000);
	check_addr(&h.dst, "198.51.100.1", 143);

	n = v2_header(b, 1, 0x21, 36);
	memset(b + 16, 0, 36);
	b[16] = 0x20; b[17] = 0x01; b[18] = 0x0d; b[19] = 0xb8; b[31] = 7;
	b[32] = 0x20; b[33] = 0x01; b[34] = 0x0d; b[35] = 0xb8; b[47] = 1;
	b[48] = 0; b[49] = 25; b[50] = 0; b[51] = 143;
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_DONE);
	check_addr(&h.src, "2001:db8::7", 25);
	check_addr(&h.dst, "2001:db8::1", 143);

	/* A health check: LOCAL, with or without addresses. */
	n = v2_header(b, 0, 0x00, 0);
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_DONE);
	ck_assert_int_eq(h.local, 1);
	n = v2_header(b, 0, 0x11, 12);
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_DONE);
	ck_assert_int_eq(h.local, 1);
	n = v2_header(b, 1, 0x31, 216);
	memset(b + 16, 'p', 216);
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_DONE);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v2_malformed)
{
	unsigned char b[2048];
	struct proxy_header h;
	size_t n;

	memset(b, 0, sizeof b);
	n = v2_header(b, 1, 0x11, 8);                 /* short for TCP4 */
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	n = v2_header(b, 1, 0x12, 12);                /* UDP */
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	n = v2_header(b, 2, 0x11, 12);                /* command 2 */
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	n = v2_header(b, 1, 0x41, 12);                /* family 4 */
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	n = v2_header(b, 1, 0x11, 12);
	b[12] = 0x11;                                 /* version 1 */
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	n = v2_header(b, 1, 0x11, 12 + 5);            /* TLV overruns */
	memcpy(b + 28, "\x01\x00\x09zz", 5);
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	n = v2_header(b, 1, 0x11, 12 + 2);            /* half a TLV */
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_BAD);
	v2_header(b, 1, 0x11, 216 + PROXY_V2_TLV_MAX + 1);
	ck_assert_int_eq(proxy_parse(b, 16, &h), PROXY_BAD);
	b[0] = 0x0d;
	b[1] = 0x0b;
	ck_assert_int_eq(proxy_parse(b, 2, &h), PROXY_BAD);
}
END_TEST

static struct sockaddr_storage in4(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof ss);
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	a->sin_port = htons((unsigned short)port);
	return ss;
}

static struct sockaddr_storage in6(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	a->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &a->sin6_addr);
	a->sin6_port = htons((unsigned short)port);
	return ss;
}

START_TEST(built_headers_parse_back)
{
	struct sockaddr_storage pairs[][2] = {
		{ in4("192.0.2.7", 40000), in4("198.51.100.1", 143) },
		{ in6("2001:db8::7", 1), in6("2001:db8::1", 993) },
	};
	unsigned char b[PROXY_HEADER_MAX];
	struct proxy_header h;

	for (int v = 1; v <= 2; v++)
		for (int i = 0; i < 2; i++) {
			ssize_t n = proxy_build(v, (struct sockaddr *)&pairs[i][0],
			                        (struct sockaddr *)&pairs[i][1], b,
			                        sizeof b);

			ck_assert_int_gt(n, 0);
			ck_assert_int_eq(proxy_parse(b, (size_t)n, &h), PROXY_DONE);
			ck_assert_int_eq(h.version, v);
			ck_assert_uint_eq(h.length, (size_t)n);
			ck_assert_int_eq(memcmp(&h.src, &pairs[i][0],
			                        sizeof(struct sockaddr_in)), 0);
		}
	ck_assert_int_eq(proxy_build(1, (struct sockaddr *)&pairs[0][0],
	                             (struct sockaddr *)&pairs[1][1], b, sizeof b),
	                 15);
	ck_assert_int_eq(memcmp(b, "PROXY UNKNOWN\r\n", 15), 0);
	ck_assert_int_eq(proxy_build(2, (struct sockaddr *)&pairs[0][0],
	                             (struct sockaddr *)&pairs[1][1], b, sizeof b),
	                 16);
	ck_assert_int_eq(b[12], 0x20);
	ck_assert_int_eq(proxy_build(1, (struct sockaddr *)&pairs[1][0],
	                             (struct sockaddr *)&pairs[1][1], b, 20), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proxy_header");
	TCase *tc = tcase_create("proxy_header");

	tcase_add_test(tc, v1_tcp4_and_what_follows_is_not_taken);
	tcase_add_test(tc, v1_tcp6_and_unknown);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, v1_longer_than_107_is_refused);
	tcase_add_test(tc, every_prefix_is_more);
	tcase_add_test(tc, v2_tcp4_tcp6_local_unix);
	tcase_add_test(tc, v2_malformed);
	tcase_add_test(tc, built_headers_parse_back);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
