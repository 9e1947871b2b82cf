/* strbuf.c: appends never pass the size, a refused one writes nothing
 * that counts, and once one is refused every later one is too. */
#include "strbuf.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

START_TEST(appends_bytes_strings_and_formats)
{
	char mem[32];
	struct strbuf sb;

	strbuf_init(&sb, mem, sizeof mem);
	ck_assert_int_eq(strbuf_put(&sb, "a\0b", 3), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "cd"), 0);
	ck_assert_int_eq(strbuf_printf(&sb, "-%d-%s", 42, "x"), 0);
	ck_assert_uint_eq(sb.len, 10);
	ck_assert_int_eq(memcmp(mem, "a\0bcd-42-x", 10), 0);
	/* printf's NUL is left after the text and not counted. */
	ck_assert_int_eq(mem[10], '\0');
	ck_assert_uint_eq(strbuf_room(&sb), sizeof mem - 10);
	ck_assert(!sb.overflow);
}
END_TEST

START_TEST(bytes_may_fill_it_to_the_last)
{
	char mem[4];
	struct strbuf sb;

	strbuf_init(&sb, mem, sizeof mem);
	ck_assert_int_eq(strbuf_put(&sb, "abcd", 4), 0);
	ck_assert_uint_eq(strbuf_room(&sb), 0);
	ck_assert_int_eq(strbuf_put(&sb, "", 0), 0);
	ck_assert(!sb.overflow);
}
END_TEST

START_TEST(a_format_needs_room_for_its_nul)
{
	char mem[4];
	struct strbuf sb;

	strbuf_init(&sb, mem, sizeof mem);
	ck_assert_int_eq(strbuf_printf(&sb, "%s", "abc"), 0);
	ck_assert_uint_eq(sb.len, 3);
	strbuf_init(&sb, mem, sizeof mem);
	ck_assert_int_eq(strbuf_printf(&sb, "%s", "abcd"), -1);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert(sb.overflow);
}
END_TEST

START_TEST(what_does_not_fit_is_refused_whole)
{
	char mem[8 + 1];
	struct strbuf sb;

	memset(mem, '#', sizeof mem);
	strbuf_init(&sb, mem, sizeof mem - 1);
	ck_assert_int_eq(strbuf_puts(&sb, "abcde"), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "fghi"), -1);
	ck_assert_uint_eq(sb.len, 5);
	ck_assert_int_eq(memcmp(mem, "abcde###", 8), 0);
	ck_assert(sb.overflow);
	/* Never past the size, whatever a format would make. */
	ck_assert_int_eq(strbuf_printf(&sb, "%0100d", 1), -1);
	ck_assert_int_eq(mem[8], '#');
}
END_TEST

START_TEST(after_a_refusal_every_append_is_refused)
{
	char mem[8];
	struct strbuf sb;

	strbuf_init(&sb, mem, sizeof mem);
	ck_assert_int_eq(strbuf_puts(&sb, "123456789"), -1);
	/* These would fit, but the text would no longer be a prefix. */
	ck_assert_int_eq(strbuf_puts(&sb, "ab"), -1);
	ck_assert_int_eq(strbuf_put(&sb, "", 0), -1);
	ck_assert_int_eq(strbuf_printf(&sb, "c"), -1);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(strbuf_room(&sb), 0);
	/* A writer that finds its own input too long says so the same way. */
	strbuf_init(&sb, mem, sizeof mem);
	sb.overflow = 1;
	ck_assert_int_eq(strbuf_puts(&sb, "a"), -1);
}
END_TEST

START_TEST(reset_empties_and_forgets)
{
	char mem[4];
	struct strbuf sb;

	strbuf_init(&sb, mem, sizeof mem);
	ck_assert_int_eq(strbuf_puts(&sb, "abcdef"), -1);
	strbuf_reset(&sb);
	ck_assert(!sb.overflow);
	ck_assert_int_eq(strbuf_puts(&sb, "abcd"), 0);
	ck_assert_int_eq(memcmp(mem, "abcd", 4), 0);
}
END_TEST

START_TEST(an_empty_buffer_takes_nothing)
{
	struct strbuf sb;

	strbuf_init(&sb, NULL, 0);
	ck_assert_int_eq(strbuf_put(&sb, "", 0), 0);
	ck_assert_int_eq(strbuf_printf(&sb, "%s", ""), -1);
	ck_assert(sb.overflow);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("strbuf");

	tcase_add_test(tc, appends_bytes_strings_and_formats);
	tcase_add_test(tc, bytes_may_fill_it_to_the_last);
	tcase_add_test(tc, a_format_needs_room_for_its_nul);
	tcase_add_test(tc, what_does_not_fit_is_refused_whole);
	tcase_add_test(tc, after_a_refusal_every_append_is_refused);
	tcase_add_test(tc, reset_empties_and_forgets);
	tcase_add_test(tc, an_empty_buffer_takes_nothing);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
