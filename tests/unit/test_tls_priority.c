#include "tls_priority.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

static char out[TLS_PRIORITY_MAX], why[256];

static int build(const char *const *protocols, size_t n, const char *ciphers)
{
	return tls_priority(protocols, n, ciphers, out, sizeof out, why,
	                    sizeof why);
}

START_TEST(nginx_defaults)
{
	const char *p[] = { "TLSv1.2", "TLSv1.3" };

	ck_assert_int_eq(build(p, 2, "HIGH:!aNULL:!MD5"), 0);
	ck_assert_str_eq(out, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3"
	                      ":-ARCFOUR-128:-3DES-CBC:-MD5:-MD5");
}
END_TEST

START_TEST(exclusions)
{
	const char *p[] = { "TLSv1.3" };

	ck_assert_int_eq(build(p, 1, "DEFAULT:!SHA1:!CBC"), 0);
	ck_assert_ptr_nonnull(strstr(out, "+VERS-TLS1.3"));
	ck_assert_ptr_null(strstr(out, "+VERS-TLS1.2"));
	ck_assert_ptr_nonnull(strstr(out, ":-SHA1"));
	ck_assert_ptr_nonnull(strstr(out, "-AES-128-CBC"));
}
END_TEST

START_TEST(refusals)
{
	const char *bad[] = { "SSLv3" };
	const char *p[] = { "TLSv1.2" };

	ck_assert_int_eq(build(bad, 1, "HIGH"), -1);
	ck_assert_ptr_nonnull(strstr(why, "SSLv3"));
	ck_assert_int_eq(build(p, 0, "HIGH"), -1);
	/* A cipher name has no honest GnuTLS equivalent: say so. */
	ck_assert_int_eq(build(p, 1, "ECDHE-RSA-AES128-GCM-SHA256"), -1);
	ck_assert_ptr_nonnull(strstr(why, "ssl_priority"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_priority");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, nginx_defaults);
	tcase_add_test(tc, exclusions);
	tcase_add_test(tc, refusals);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
