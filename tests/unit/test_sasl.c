#include "base64.h"
#include "sasl.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(base64_round_trip)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
	                      "Zm9vYmFy" };
	char enc[32], dec[32];

	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(base64_encode(in[i], strlen(in[i]), enc, sizeof enc),
		                 (ssize_t)strlen(out[i]));
		ck_assert_str_eq(enc, out[i]);
		ck_assert_int_eq(base64_decode(out[i], strlen(out[i]), dec, sizeof dec),
		                 (ssize_t)strlen(in[i]));
		ck_assert_int_eq(memcmp(dec, in[i], strlen(in[i])), 0);
	}
}
END_TEST

START_TEST(base64_rejects)
{
	char dec[32];

	ck_assert_int_eq(base64_decode("Zg=", 3, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("Z===", 4, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("Zg=a", 4, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("Zm9v!!!!", 8, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("Zg==Zg==", 8, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("Zm9vYmFy", 8, dec, 5), -1);
}
END_TEST

static const char *enc(const char *data, size_t len)
{
	static char out[256];

	base64_encode(data, len, out, sizeof out);
	return out;
}

START_TEST(plain)
{
	struct credentials c;
	const char *why = NULL;
	const char *m = enc("admin\0alice\0secret pw", 21);

	ck_assert_int_eq(sasl_plain(m, strlen(m), &c, &why), 0);
	ck_assert_str_eq(c.user, "alice");
	ck_assert_str_eq(c.pass, "secret pw");
	ck_assert_str_eq(sasl_auth_method(c.mech), "plain");
	credentials_clear(&c);
	ck_assert_str_eq(c.pass, "");
}
END_TEST

START_TEST(plain_rejects)
{
	struct credentials c;
	const char *why = NULL;
	const char *m;

	m = enc("alice\0secret", 12); /* one NUL only */
	ck_assert_int_eq(sasl_plain(m, strlen(m), &c, &why), -1);
	ck_assert_ptr_nonnull(why);
	m = enc("\0\0secret", 8); /* empty user */
	ck_assert_int_eq(sasl_plain(m, strlen(m), &c, &why), -1);
	m = enc("\0a\0b\0c", 6); /* NUL in the password */
	ck_assert_int_eq(sasl_plain(m, strlen(m), &c, &why), -1);
	ck_assert_int_eq(sasl_plain("***", 3, &c, &why), -1);
}
END_TEST

START_TEST(login_field)
{
	char out[CRED_MAX];
	const char *why = NULL;

	ck_assert_int_eq(sasl_login_field("YWxpY2U=", 8, out, sizeof out, &why), 0);
	ck_assert_str_eq(out, "alice");
	ck_assert_int_eq(sasl_login_field("YQBi", 4, out, sizeof out, &why), -1);
}
END_TEST

START_TEST(mechanism_names)
{
	ck_assert_uint_eq(sasl_mech_parse("plain"), SASL_PLAIN);
	ck_assert_uint_eq(sasl_mech_parse("LOGIN"), SASL_LOGIN);
	ck_assert_uint_eq(sasl_mech_parse("gssapi"), 0);
	ck_assert_str_eq(sasl_mech_name(SASL_LOGIN), "LOGIN");
	ck_assert_uint_eq(sasl_mech_parse("cram-md5"), SASL_CRAM_MD5);
	ck_assert_uint_eq(sasl_mech_parse("apop"), SASL_APOP);
	ck_assert_uint_eq(sasl_mech_parse("none"), SASL_NONE);
	ck_assert_str_eq(sasl_mech_name(SASL_CRAM_MD5), "CRAM-MD5");
}
END_TEST

START_TEST(cram_md5)
{
	struct credentials c;
	const char *why = NULL;
	const char *digest = "b913a602c7eda7a495b4e6e7334d3890";
	char line[128];

	snprintf(line, sizeof line, "tim tanstaaftanstaaf %s", digest);
	/* RFC 2195's digest; a user name may hold spaces: the digest
	 * follows the last one. */
	const char *m = enc(line, strlen(line));

	ck_assert_int_eq(sasl_cram_md5(m, strlen(m), &c, &why), 0);
	ck_assert_str_eq(c.user, "tim tanstaaftanstaaf");
	ck_assert_str_eq(c.pass, digest);
	ck_assert_str_eq(sasl_auth_method(c.mech), "cram-md5");
	ck_assert_uint_ne(c.mech & SASL_SALTED, 0);
	m = enc("tim", 3);
	ck_assert_int_eq(sasl_cram_md5(m, strlen(m), &c, &why), -1);
	m = enc("tim B913A602C7EDA7A495B4E6E7334D3890", 36);
	ck_assert_int_eq(sasl_cram_md5(m, strlen(m), &c, &why), -1);
	m = enc(" b913a602c7eda7a495b4e6e7334d3890", 33);
	ck_assert_int_eq(sasl_cram_md5(m, strlen(m), &c, &why), -1);
	m = enc("tim b913a602c7eda7a495b4e6e7334d389", 35);
	ck_assert_int_eq(sasl_cram_md5(m, strlen(m), &c, &why), -1);
}
END_TEST

START_TEST(apop)
{
	struct credentials c;
	const char *why = NULL;

	/* RFC 1939's example digest. */
	ck_assert_int_eq(sasl_apop("mrose", "c4c9334bac560ecc979e58001b3e22fb",
	                           &c, &why), 0);
	ck_assert_str_eq(c.user, "mrose");
	ck_assert_str_eq(sasl_auth_method(c.mech), "apop");
	ck_assert_uint_ne(c.mech & SASL_SALTED, 0);
	ck_assert_int_eq(sasl_apop("mrose", "c4c9334bac560ecc979e58001b3e22f",
	                           &c, &why), -1);
	ck_assert_int_eq(sasl_apop("mrose", "x4c9334bac560ecc979e58001b3e22fb",
	                           &c, &why), -1);
	ck_assert_int_eq(sasl_apop("", "c4c9334bac560ecc979e58001b3e22fb",
	                           &c, &why), -1);
}
END_TEST

#define XO(s) enc(s, sizeof s - 1)

START_TEST(xoauth2)
{
	struct credentials c;
	const char *why = NULL;
	const char *ok = XO("user=alice@example.org\x01" "auth=Bearer ya29.A0-b_c~d+e/f==\x01\x01");

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(sasl_xoauth2(ok, strlen(ok), &c, &why), 0);
	ck_assert_str_eq(c.user, "alice@example.org");
	ck_assert_str_eq(c.token, "ya29.A0-b_c~d+e/f==");
	ck_assert_int_eq(c.mech, SASL_XOAUTH2);
	ck_assert_str_eq(sasl_auth_method(SASL_XOAUTH2), "xoauth2");
	static const char *const bad[] = {
		"auth=Bearer x\x01\x01",                        /* no user */
		"user=\x01" "auth=Bearer x\x01\x01",               /* empty user */
		"user=a\x01" "auth=Bearer x\x01",                  /* one ^A short */
		"user=a\x01" "auth=Bearer x\x01\x01junk",          /* after the end */
		"user=a\x01" "auth=Basic eDp5\x01\x01",             /* not Bearer */
		"user=a\x01" "auth=Bearer \x01\x01",               /* empty token */
		"user=a\x01" "auth=Bearer x y\x01\x01",            /* a space */
		"user=a\x01" "auth=Bearer x\r\nA1 LOGOUT\x01\x01", /* CR LF */
		"user=a\x01" "auth=Bearer x=y\x01\x01",            /* = inside */
		"user=a\x01" "auth=Bearer x\x01" "auth=Bearer y\x01\x01",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *b = enc(bad[i], strlen(bad[i]));

		memset(&c, 0, sizeof c);
		why = NULL;
		ck_assert_msg(sasl_xoauth2(b, strlen(b), &c, &why) < 0, "%zu", i);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(c.token, "");
	}
}
END_TEST

START_TEST(oauthbearer)
{
	struct credentials c;
	const char *why = NULL;
	const char *ok = XO("n,a=user=2Cx=3Dy@example.org,\x01host=server.example.com"
	                    "\x01port=143\x01" "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
	const char *no_a;

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(sasl_oauthbearer(ok, strlen(ok), &c, &why), 0);
	ck_assert_str_eq(c.user, "user,x=y@example.org");
	ck_assert_str_eq(c.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
	ck_assert_int_eq(c.mech, SASL_OAUTHBEARER);
	memset(&c, 0, sizeof c);
	no_a = XO("y,,\x01" "auth=bearer tok\x01\x01");   /* enc's buffer again */
	ck_assert_int_eq(sasl_oauthbearer(no_a, strlen(no_a), &c, &why), 0);
	ck_assert_str_eq(c.user, "");
	ck_assert_str_eq(c.token, "tok");
	static const char *const bad[] = {
		"p=tls-unique,,\x01" "auth=Bearer x\x01\x01",  /* channel binding */
		"n,a=u=3x,\x01" "auth=Bearer x\x01\x01",       /* bad escape */
		"n,a=u\x01" "auth=Bearer x\x01\x01",           /* header unended */
		"n,,auth=Bearer x\x01\x01",                  /* no ^A after it */
		"n,,\x01host=h\x01\x01",                     /* no auth */
		"n,,\x01nokey\x01" "auth=Bearer x\x01\x01",     /* pair without = */
		"n,,\x01" "auth=Bearer x\x01",                  /* unended */
		"\x01",                                      /* the dummy */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *b = enc(bad[i], strlen(bad[i]));

		memset(&c, 0, sizeof c);
		why = NULL;
		ck_assert_msg(sasl_oauthbearer(b, strlen(b), &c, &why) < 0, "%zu", i);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert(sasl_oauth_dummy("AQ==", 4));
	ck_assert(sasl_oauth_dummy("", 0));
	ck_assert(sasl_oauth_dummy("=", 1));
	ck_assert(!sasl_oauth_dummy("eHg=", 4));
}
END_TEST

START_TEST(salt)
{
	char out[SALT_MAX];

	ck_assert_int_eq(sasl_salt(out, sizeof out, 1896, 697170952LL,
	                           "dbc.mtview.ca.us"), 0);
	ck_assert_str_eq(out, "<1896.697170952@dbc.mtview.ca.us>");
	ck_assert_int_eq(sasl_salt(out, 10, 1896, 697170952LL, "h"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, base64_round_trip);
	tcase_add_test(tc, base64_rejects);
	tcase_add_test(tc, plain);
	tcase_add_test(tc, plain_rejects);
	tcase_add_test(tc, login_field);
	tcase_add_test(tc, mechanism_names);
	tcase_add_test(tc, cram_md5);
	tcase_add_test(tc, apop);
	tcase_add_test(tc, salt);
	tcase_add_test(tc, xoauth2);
	tcase_add_test(tc, oauthbearer);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
