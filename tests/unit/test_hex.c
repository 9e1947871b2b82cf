/* hex.c: each byte a form picks becomes its prefix and two digits; a
 * short output holds a whole start and says so. */
#include "hex.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

static const struct hex_escape percent = { "%", 0, 0x21, 0xff, "%" };
static const struct hex_escape backslash_x = { "\\x", 1, 0x20, 0x7e,
	                                       "\"\\" };

START_TEST(escapes_what_the_form_picks)
{
	char out[64];

	ck_assert_int_eq(hex_escape("a b%c\x01\xe9", out, sizeof out, &percent),
	                 13);
	ck_assert_str_eq(out, "a%20b%25c%01\xe9");
	ck_assert_int_eq(hex_escape("a\"\n\xff~", out, sizeof out,
	                            &backslash_x), 14);
	ck_assert_str_eq(out, "a\\x22\\x0a\\xff~");
	ck_assert_int_eq(hex_escape("", out, sizeof out, &percent), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(a_short_output_holds_whole_units)
{
	char out[6];

	/* Five characters and the NUL: "ab" and one escape, not half one. */
	ck_assert_int_eq(hex_escape("ab  ", out, sizeof out, &percent), -1);
	ck_assert_str_eq(out, "ab%20");
	ck_assert_int_eq(hex_escape("abc  ", out, sizeof out, &percent), -1);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(hex_escape("abcdef", out, sizeof out, &percent), -1);
	ck_assert_str_eq(out, "abcde");
	/* Exactly full is not short. */
	ck_assert_int_eq(hex_escape("abcde", out, sizeof out, &percent), 5);
	ck_assert_int_eq(hex_escape("x", out, 0, &percent), -1);
}
END_TEST

START_TEST(encodes_bytes_in_either_case)
{
	static const unsigned char b[] = { 0x00, 0x7f, 0xab, 0xff };
	char out[9], small[6];

	ck_assert_int_eq(hex_encode(b, sizeof b, out, sizeof out, 0), 8);
	ck_assert_str_eq(out, "007FABFF");
	ck_assert_int_eq(hex_encode(b, sizeof b, out, sizeof out, 1), 8);
	ck_assert_str_eq(out, "007fabff");
	ck_assert_int_eq(hex_encode(b, sizeof b, small, sizeof small, 1), -1);
	ck_assert_str_eq(small, "007f");
	ck_assert_int_eq(hex_encode(b, 0, small, sizeof small, 1), 0);
	ck_assert_str_eq(small, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hex");
	TCase *tc = tcase_create("hex");

	tcase_add_test(tc, escapes_what_the_form_picks);
	tcase_add_test(tc, a_short_output_holds_whole_units);
	tcase_add_test(tc, encodes_bytes_in_either_case);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
