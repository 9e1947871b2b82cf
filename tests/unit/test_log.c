/* log.c: values from outside cannot end their line or their quotes. */
#include "log.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(escape_controls_quotes_and_8bit)
{
	char out[64];

	ck_assert_str_eq(log_escape("plain text", out, sizeof out), "plain text");
	ck_assert_str_eq(log_escape("a\nb\r\"c\\d", out, sizeof out),
	                 "a\\x0ab\\x0d\\x22c\\x5cd");
	ck_assert_str_eq(log_escape("\xc3\xa9\x7f", out, sizeof out),
	                 "\\xc3\\xa9\\x7f");
	ck_assert_str_eq(log_escape(NULL, out, sizeof out), "");
}
END_TEST

START_TEST(escape_cuts_whole_escapes)
{
	char out[8];

	/* Room for 7 characters: "ab" and one escape, never half of one;
	 * plain bytes to the last. */
	ck_assert_str_eq(log_escape("ab\n\n\n", out, sizeof out), "ab\\x0a");
	ck_assert_str_eq(log_escape("abcdefghij", out, sizeof out), "abcdefg");
}
END_TEST

START_TEST(a_file_line_stays_one_line)
{
	char path[64], buf[1024];
	FILE *f;
	int lines = 0;

	snprintf(path, sizeof path, "/tmp/test_log.%d", (int)getpid());
	ck_assert_int_eq(log_open("test", path, LOG_DEBUG, 0), 0);
	/* A value that missed LOGV, and one that did not. */
	logmsg(LOG_INFO, "event=a raw=\"%s\"", "x\nsession=0 event=forged");
	logmsg(LOG_INFO, "event=b safe=\"%s\"", LOGV("y\"\nz"));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(buf, sizeof buf, f)) {
		lines++;
		ck_assert_msg(strstr(buf, "event=a") || strstr(buf, "event=b"),
		              "forged line: %s", buf);
	}
	fclose(f);
	unlink(path);
	ck_assert_int_eq(lines, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, escape_controls_quotes_and_8bit);
	tcase_add_test(tc, escape_cuts_whole_escapes);
	tcase_add_test(tc, a_file_line_stays_one_line);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
