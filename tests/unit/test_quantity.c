#include "quantity.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>

START_TEST(durations)
{
	int64_t ms;

	ck_assert_int_eq(parse_duration_ms("60s", &ms), 0);
	ck_assert_int_eq(ms, 60000);
	ck_assert_int_eq(parse_duration_ms("60", &ms), 0);
	ck_assert_int_eq(ms, 60000);
	ck_assert_int_eq(parse_duration_ms("500ms", &ms), 0);
	ck_assert_int_eq(ms, 500);
	ck_assert_int_eq(parse_duration_ms("5m", &ms), 0);
	ck_assert_int_eq(ms, 300000);
	ck_assert_int_eq(parse_duration_ms("1h 30m", &ms), 0);
	ck_assert_int_eq(ms, 5400000);
	ck_assert_int_eq(parse_duration_ms("1d", &ms), 0);
	ck_assert_int_eq(ms, 86400000);
	ck_assert_int_eq(parse_duration_ms("0", &ms), 0);
	ck_assert_int_eq(ms, 0);
}
END_TEST

START_TEST(bad_durations)
{
	int64_t ms;

	ck_assert_int_eq(parse_duration_ms("", &ms), -1);
	ck_assert_int_eq(parse_duration_ms("s", &ms), -1);
	ck_assert_int_eq(parse_duration_ms("5 parsecs", &ms), -1);
	ck_assert_int_eq(parse_duration_ms("-5s", &ms), -1);
	ck_assert_int_eq(parse_duration_ms("5x", &ms), -1);
	ck_assert_int_eq(parse_duration_ms("99999999999999999999s", &ms), -1);
}
END_TEST

START_TEST(sizes)
{
	size_t n;

	ck_assert_int_eq(parse_size("4096", &n), 0);
	ck_assert_uint_eq(n, 4096);
	ck_assert_int_eq(parse_size("4k", &n), 0);
	ck_assert_uint_eq(n, 4096);
	ck_assert_int_eq(parse_size("1M", &n), 0);
	ck_assert_uint_eq(n, 1048576);
	ck_assert_int_eq(parse_size("4kb", &n), -1);
	ck_assert_int_eq(parse_size("k", &n), -1);
	ck_assert_int_eq(parse_size("", &n), -1);
	ck_assert_int_eq(parse_size("99999999999999999999", &n), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quantity");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, durations);
	tcase_add_test(tc, bad_durations);
	tcase_add_test(tc, sizes);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
