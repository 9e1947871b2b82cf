#include "tls_hello.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

/* A ClientHello body with the given extensions block. */
static size_t hello(unsigned char *out, const unsigned char *ext, size_t n)
{
	size_t o = 0;

	out[o++] = 3;
	out[o++] = 3;
	memset(out + o, 0xaa, 32);      /* random */
	o += 32;
	out[o++] = 0;                   /* session id */
	out[o++] = 0;
	out[o++] = 2;
	out[o++] = 0x13;
	out[o++] = 0x01;                /* one cipher suite */
	out[o++] = 1;
	out[o++] = 0;                   /* null compression */
	out[o++] = (unsigned char)(n >> 8);
	out[o++] = (unsigned char)n;
	memcpy(out + o, ext, n);
	return o + n;
}

START_TEST(tls12_session_ticket)
{
	static const unsigned char ext[] = {
		0x00, 0x00, 0x00, 0x00,             /* server_name, empty */
		0x00, 0x23, 0x00, 0x04, 'T', 'K', 'T', '!',
	};
	unsigned char msg[256];
	const unsigned char *t;
	size_t n = hello(msg, ext, sizeof ext), len;

	ck_assert_int_eq(tls_hello_ticket(msg, n, &t, &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(t, "TKT!", 4), 0);
}
END_TEST

START_TEST(tls13_psk_identity_with_header)
{
	static const unsigned char ext[] = {
		0x00, 0x29, 0x00, 0x0b,             /* pre_shared_key */
		0x00, 0x09,                         /* identities */
		0x00, 0x03, 'a', 'b', 'c',          /* identity */
		0x00, 0x00, 0x00, 0x01,             /* obfuscated age */
	};
	unsigned char msg[256];
	const unsigned char *t;
	size_t n = hello(msg + 4, ext, sizeof ext), len;

	msg[0] = 1;                              /* client_hello */
	msg[1] = 0;
	msg[2] = (unsigned char)(n >> 8);
	msg[3] = (unsigned char)n;
	ck_assert_int_eq(tls_hello_ticket(msg, n + 4, &t, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(t, "abc", 3), 0);
}
END_TEST

START_TEST(none_or_malformed)
{
	static const unsigned char empty_ticket[] = { 0x00, 0x23, 0x00, 0x00 };
	static const unsigned char cut[] = { 0x00, 0x23, 0x00, 0x09, 'x' };
	unsigned char msg[256];
	const unsigned char *t;
	size_t len, n;

	n = hello(msg, empty_ticket, sizeof empty_ticket);
	ck_assert_int_eq(tls_hello_ticket(msg, n, &t, &len), -1);
	n = hello(msg, cut, sizeof cut);
	ck_assert_int_eq(tls_hello_ticket(msg, n, &t, &len), -1);
	for (size_t k = 0; k < n; k++)   /* every truncation is refused */
		ck_assert_int_eq(tls_hello_ticket(msg, k, &t, &len), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_hello");
	TCase *tc = tcase_create("ticket");

	tcase_add_test(tc, tls12_session_ticket);
	tcase_add_test(tc, tls13_psk_identity_with_header);
	tcase_add_test(tc, none_or_malformed);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
