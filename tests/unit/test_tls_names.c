/* GnuTLS's names turned into the ones nginx's auth scripts know. */
#include "tls_names.h"

#include "run_suite.h"

#include <check.h>

static const char *cipher(const char *in)
{
	static char out[128];

	tls_openssl_cipher(in, out, sizeof out);
	return out;
}

START_TEST(protocols)
{
	char out[32];

	tls_openssl_protocol("TLS1.3", out, sizeof out);
	ck_assert_str_eq(out, "TLSv1.3");
	tls_openssl_protocol("TLS1.2", out, sizeof out);
	ck_assert_str_eq(out, "TLSv1.2");
	tls_openssl_protocol("SSL3.0", out, sizeof out);
	ck_assert_str_eq(out, "SSLv3");
	tls_openssl_protocol("DTLS1.2", out, sizeof out);
	ck_assert_str_eq(out, "DTLS1.2");
}
END_TEST

START_TEST(tls12_suites)
{
	ck_assert_str_eq(cipher("TLS_ECDHE_ECDSA_AES_256_GCM_SHA384"),
	                 "ECDHE-ECDSA-AES256-GCM-SHA384");
	ck_assert_str_eq(cipher("TLS_ECDHE_RSA_AES_128_GCM_SHA256"),
	                 "ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert_str_eq(cipher("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
	                 "ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert_str_eq(cipher("TLS_ECDHE_RSA_CHACHA20_POLY1305"),
	                 "ECDHE-RSA-CHACHA20-POLY1305");
	ck_assert_str_eq(cipher("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
	                 "ECDHE-ECDSA-CHACHA20-POLY1305");
	ck_assert_str_eq(cipher("TLS_DHE_RSA_AES_256_CBC_SHA1"), "DHE-RSA-AES256-SHA");
	ck_assert_str_eq(cipher("TLS_RSA_AES_128_CBC_SHA256"), "AES128-SHA256");
	ck_assert_str_eq(cipher("TLS_RSA_AES_256_GCM_SHA384"), "AES256-GCM-SHA384");
	ck_assert_str_eq(cipher("TLS_ECDHE_ECDSA_AES_128_CCM"), "ECDHE-ECDSA-AES128-CCM");
	ck_assert_str_eq(cipher("TLS_RSA_AES_128_CCM_8"), "AES128-CCM8");
	ck_assert_str_eq(cipher("TLS_RSA_3DES_EDE_CBC_SHA1"), "DES-CBC3-SHA");
}
END_TEST

START_TEST(tls13_and_unknown_suites_stay)
{
	ck_assert_str_eq(cipher("TLS_AES_256_GCM_SHA384"), "TLS_AES_256_GCM_SHA384");
	ck_assert_str_eq(cipher("TLS_CHACHA20_POLY1305_SHA256"),
	                 "TLS_CHACHA20_POLY1305_SHA256");
	ck_assert_str_eq(cipher("TLS_PSK_AES_128_GCM_SHA256"),
	                 "TLS_PSK_AES_128_GCM_SHA256");
	ck_assert_str_eq(cipher("TLS_RSA_NULL_MD5"), "TLS_RSA_NULL_MD5");
	ck_assert_str_eq(cipher(""), "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_names");
	TCase *tc = tcase_create("tls_names");

	tcase_add_test(tc, protocols);
	tcase_add_test(tc, tls12_suites);
	tcase_add_test(tc, tls13_and_unknown_suites_stay);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
