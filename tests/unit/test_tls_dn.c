/* Names printed as nginx prints them. Each expected text is what OpenSSL
 * 3.0's X509_NAME_print_ex(..., XN_FLAG_RFC2253) printed for the same DER
 * (the Name's bytes are given in hex); test_nginx_diff compares the
 * headers with a running nginx. */
#include "tls_dn.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static unsigned char der[512];
static char out[1024];

/* The DER from hex, then its text; NULL when tls_dn_openssl refuses it. */
static const char *dn(const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < sizeof der; hex += 2) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
		der[n++] = (unsigned char)v;
	}
	return tls_dn_openssl(der, n, out, sizeof out) == 0 ? out : NULL;
}

/* The attributes of the issue: OpenSSL's short names, the last first. */
START_TEST(short_names_last_first)
{
	ck_assert_str_eq(dn("3063310e300c06035504030c05616c69636531203"
	                    "01e06092a864886f70d0109011611616c696365406578616d"
	                    "706c652e6f72673110300e06035504040c074c696464656c6"
	                    "c310e300c060355042a0c05416c696365310d300b06035504"
	                    "2d0c0464656d6f"),
	                 "x500UniqueIdentifier=demo,GN=Alice,SN=Liddell,"
	                 "emailAddress=alice@example.org,CN=alice");
	/* DC (IA5String), organizationIdentifier, jurisdictionC (EV). */
	ck_assert_str_eq(dn("305731133011060a0992268993f22c64011916036f7"
	                    "26731173015060a0992268993f22c64011916076578616d70"
	                    "6c653112301006035504610c0956415444452d31323331133"
	                    "011060b2b0601040182373c02010313024445"),
	                 "jurisdictionC=DE,organizationIdentifier=VATDE-123,"
	                 "DC=example,DC=org");
}
END_TEST

/* One RDN of two values: "+" between them, and reversed as well. */
START_TEST(multi_valued_rdn)
{
	ck_assert_str_eq(dn("302f3110300e060355040a13074578616d706c65311"
	                    "b300806035504030c0161300f060a0992268993f22c640101"
	                    "0c0162"),
	                 "UID=b+CN=a,O=Example");
}
END_TEST

/* An attribute OpenSSL does not know, and a value that is not a string:
 * the value's DER in hex, upper case. */
START_TEST(dumped_values)
{
	ck_assert_str_eq(dn("301a310c300a06032a03040c03616263310a3008060"
	                    "35504030c0178"),
	                 "CN=x,1.2.3.4=#0C03616263");
	ck_assert_str_eq(dn("300d310b3009060355042d03020780"),
	                 "x500UniqueIdentifier=#03020780");
}
END_TEST

/* RFC 2253's specials; "#" and space first, space last; a value of one
 * character is only last; "=" stays. */
START_TEST(escapes)
{
	ck_assert_str_eq(dn("305f310b300906035504030c022361310c300a06035"
	                    "504030c03206220311a301806035504030c11612c622b6322"
	                    "645c653c663e673b683d69310a300806035504030c0123310"
	                    "a300806035504030c0120310e300c06035504030c05612362"
	                    "2063"),
	                 "CN=a#b c,CN=\\ ,CN=#,CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g"
	                 "\\;h=i,CN=\\ b\\ ,CN=\\#a");
	ck_assert_str_eq(dn("3010310e300c06035504030c0561017f6200"),
	                 "CN=a\\01\\7Fb\\00");
}
END_TEST

/* é as UTF8String and as T61String (Latin-1), € as BMPString and 😀 as
 * UniversalString: each byte of their UTF-8 as \XX. */
START_TEST(non_ascii)
{
	ck_assert_str_eq(dn("3035310b300906035504030c02c3a9310a300806035"
	                    "504031401e9310b300906035504031e0220ac310d300b0603"
	                    "5504031c040001f600"),
	                 "CN=\\F0\\9F\\98\\80,CN=\\E2\\82\\AC,CN=\\C3\\A9,"
	                 "CN=\\C3\\A9");
}
END_TEST

START_TEST(empty)
{
	ck_assert_str_eq(dn("3000"), "");
	ck_assert_str_eq(dn("300b3109300706035504030c00"), "CN=");
}
END_TEST

/* What OpenSSL cannot print, and what does not fit. */
START_TEST(refused)
{
	ck_assert_ptr_null(dn("300e310c300a06035504031e03006100")); /* odd BMP */
	ck_assert_ptr_null(dn("3003310130"));                 /* short */
	ck_assert_ptr_null(dn("3000ff"));                     /* trailing */
	ck_assert_ptr_null(dn("300b3109300706035504030c01")); /* past the end */
	ck_assert_ptr_null(dn("300c310a30080604805504031300")); /* 0x80 pad */
	ck_assert_ptr_null(dn("300a31083006060255841300"));   /* unfinished */
	ck_assert_ptr_null(dn("30083106300406000c00"));       /* empty OID */
	ck_assert_ptr_null(dn("3080"));                       /* indefinite */
	ck_assert_int_eq(tls_dn_openssl((const unsigned char *)"\x30\x0b\x31"
	                                "\x09\x30\x07\x06\x03\x55\x04\x03\x0c"
	                                "\x00", 13, out, 3), -1);
	ck_assert_int_eq(tls_dn_openssl((const unsigned char *)"\x30\x0b\x31"
	                                "\x09\x30\x07\x06\x03\x55\x04\x03\x0c"
	                                "\x00", 13, out, 4), 0);
}
END_TEST

/* A BMPString with a lone surrogate or a UniversalString past U+10FFFF
 * is no name OpenSSL reads (it refuses such a certificate, so nginx never
 * sees one): refused, not printed with the character left out, which
 * made "adm<U+D800>in" the "CN=admin" an auth script trusts. */
START_TEST(invalid_code_points)
{
	/* BMPString a d m U+D800 i n */
	ck_assert_ptr_null(dn("30173115301306035504031e0c00610064006d"
	                      "d8000069006e"));
	/* BMPString a U+DFFF d */
	ck_assert_ptr_null(dn("3011310f300d06035504031e060061dfff0064"));
	/* UniversalString a U+110000 b */
	ck_assert_ptr_null(dn("30173115301306035504031c0c0000006100110000"
	                      "00000062"));
	/* The last code point there is and the last before the
	 * surrogates still print. */
	ck_assert_str_eq(dn("30133111300f06035504031c080010ffff0000d7ff"),
	                 "CN=\\F4\\8F\\BF\\BF\\ED\\9F\\BF");
}
END_TEST

/* A name of n empty CNs. */
static size_t cns(unsigned char *buf, int n)
{
	size_t used = 4, body = (size_t)n * 11;

	buf[0] = 0x30;
	buf[1] = 0x82;
	buf[2] = (unsigned char)(body >> 8);
	buf[3] = (unsigned char)body;
	for (int i = 0; i < n; i++, used += 11)
		memcpy(buf + used, "\x31\x09\x30\x07\x06\x03\x55\x04\x03"
		       "\x0c\x00", 11);
	return used;
}

/* More attributes than the table holds: refused, not cut. */
START_TEST(too_many)
{
	unsigned char big[4 + (TLS_DN_AVAS_MAX + 1) * 11];

	ck_assert_int_eq(tls_dn_openssl(big, cns(big, TLS_DN_AVAS_MAX), out,
	                                sizeof out), 0);
	ck_assert_uint_eq(strlen(out), TLS_DN_AVAS_MAX * 4 - 1);
	ck_assert_int_eq(tls_dn_openssl(big, cns(big, TLS_DN_AVAS_MAX + 1), out,
	                                sizeof out), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_dn");
	TCase *tc = tcase_create("tls_dn");

	tcase_add_test(tc, short_names_last_first);
	tcase_add_test(tc, multi_valued_rdn);
	tcase_add_test(tc, dumped_values);
	tcase_add_test(tc, escapes);
	tcase_add_test(tc, non_ascii);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, invalid_code_points);
	tcase_add_test(tc, too_many);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
