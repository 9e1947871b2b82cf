#include "cmdline.h"
#include "xtext.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

static struct cmdline c;
static char store[256];

static enum cmdline_result parse(const char *line)
{
	return cmdline_parse(line, strlen(line), store, sizeof store, &c);
}

START_TEST(name_and_arguments)
{
	ck_assert_int_eq(parse("APOP alice 0123"), CMDLINE_OK);
	ck_assert_str_eq(c.name, "APOP");
	ck_assert_uint_eq(c.nargs, 2);
	ck_assert_str_eq(c.args[0], "alice");
	ck_assert_str_eq(c.args[1], "0123");
	ck_assert_int_eq(parse("quit"), CMDLINE_OK);
	ck_assert_str_eq(c.name, "quit");
	ck_assert_uint_eq(c.nargs, 0);
	ck_assert_uint_eq(c.rest_len, 0);
}
END_TEST

START_TEST(spaces_collapse_but_rest_is_kept)
{
	ck_assert_int_eq(parse("PASS  two  spaces  "), CMDLINE_OK);
	ck_assert_uint_eq(c.nargs, 2);
	ck_assert_str_eq(c.args[1], "spaces");
	/* PASS takes the rest of the line: inner spaces stay, trailing go. */
	ck_assert_uint_eq(c.rest_len, strlen("two  spaces"));
	ck_assert_int_eq(memcmp(c.rest, "two  spaces", c.rest_len), 0);
	ck_assert_uint_eq(c.line_len, strlen("PASS  two  spaces"));
}
END_TEST

START_TEST(smtp_paths)
{
	const char *line = "MAIL FROM:<a@b.test> SIZE=10";

	ck_assert_int_eq(parse(line), CMDLINE_OK);
	ck_assert_str_eq(c.args[0], "FROM:<a@b.test>");
	ck_assert_str_eq(c.args[1], "SIZE=10");
	ck_assert_ptr_eq(c.line, line);
	ck_assert_uint_eq(c.line_len, strlen(line));
}
END_TEST

START_TEST(rejects)
{
	ck_assert_int_eq(parse(""), CMDLINE_BAD_NAME);
	ck_assert_int_eq(parse(" USER a"), CMDLINE_BAD_NAME);
	ck_assert_int_eq(parse("US3R a"), CMDLINE_BAD_NAME);
	ck_assert_int_eq(parse("ABCDEFGHIJKLMNOPQ"), CMDLINE_BAD_NAME);
	ck_assert_int_eq(parse("MAIL FROM:<a>\rX: y"), CMDLINE_CONTROL);
	ck_assert_int_eq(parse("USER a\tb"), CMDLINE_CONTROL);
	ck_assert_int_eq(cmdline_parse("USER a\0b", 8, store, sizeof store, &c),
	                 CMDLINE_CONTROL);
	ck_assert_int_eq(parse("X 1 2 3 4 5 6 7 8 9"), CMDLINE_TOO_MANY);
	/* The store must hold the line: no write past it. */
	ck_assert_int_eq(cmdline_parse("USER alice", 10, store, 10, &c),
	                 CMDLINE_BAD_NAME);
}
END_TEST

START_TEST(high_bytes_are_data)
{
	ck_assert_int_eq(parse("USER j\xc3\xbcrgen"), CMDLINE_OK);
	ck_assert_str_eq(c.args[0], "j\xc3\xbcrgen");
}
END_TEST

/* XCLIENT LOGIN= is xtext: the same shape of problem, one line out. */
START_TEST(xtext)
{
	char out[64];

	ck_assert_int_eq(xtext_encode("bob@example.org", out, sizeof out), 0);
	ck_assert_str_eq(out, "bob@example.org");
	ck_assert_int_eq(xtext_encode("a b+c=d\xc3\xa9", out, sizeof out), 0);
	ck_assert_str_eq(out, "a+20b+2Bc+3Dd+C3+A9");
	ck_assert_int_eq(xtext_encode("a b", out, 4), -1);
	ck_assert_int_eq(xtext_encode("ab", out, 3), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, name_and_arguments);
	tcase_add_test(tc, spaces_collapse_but_rest_is_kept);
	tcase_add_test(tc, smtp_paths);
	tcase_add_test(tc, rejects);
	tcase_add_test(tc, high_bytes_are_data);
	tcase_add_test(tc, xtext);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
