#include "imap_parse.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char store[256];
static struct imap_parser p;

static enum imap_parse_result feed(const char *in, size_t *used)
{
	return imap_parse(&p, in, strlen(in), used);
}

static void setup(void)
{
	imap_parser_init(&p, store, sizeof store);
}

START_TEST(simple_command)
{
	size_t used;

	ck_assert_int_eq(feed("a1 NOOP\r\n", &used), IMAP_PARSE_DONE);
	ck_assert_uint_eq(used, 9);
	ck_assert_str_eq(p.tag, "a1");
	ck_assert_str_eq(p.name, "NOOP");
	ck_assert_uint_eq(p.nargs, 0);
}
END_TEST

START_TEST(bare_lf_and_pipelined_rest)
{
	const char *in = "a NOOP\nb NOOP\r\n";
	size_t used;

	ck_assert_int_eq(feed(in, &used), IMAP_PARSE_DONE);
	ck_assert_uint_eq(used, 7);
	imap_parser_reset(&p);
	ck_assert_int_eq(imap_parse(&p, in + used, strlen(in + used), &used),
	                 IMAP_PARSE_DONE);
	ck_assert_str_eq(p.tag, "b");
}
END_TEST

START_TEST(atoms_and_quoted)
{
	size_t used;

	ck_assert_int_eq(feed("t LOGIN alice \"p a\\\"s\\\\s\"\r\n", &used),
	                 IMAP_PARSE_DONE);
	ck_assert_uint_eq(p.nargs, 2);
	ck_assert_int_eq(p.args[0].type, IMAP_ATOM);
	ck_assert_str_eq(p.args[0].s, "alice");
	ck_assert_int_eq(p.args[1].type, IMAP_STRING);
	ck_assert_str_eq(p.args[1].s, "p a\"s\\s");
	ck_assert_uint_eq(p.args[1].len, 7);
}
END_TEST

START_TEST(sync_literal_needs_continuation)
{
	const char *part1 = "t LOGIN {5}\r\n";
	const char *part2 = "alice {3}\r\n";
	size_t used;

	ck_assert_int_eq(feed(part1, &used), IMAP_PARSE_CONTINUE);
	ck_assert_uint_eq(used, strlen(part1));
	ck_assert_int_eq(feed(part2, &used), IMAP_PARSE_CONTINUE);
	ck_assert_int_eq(feed("pxw\r\n", &used), IMAP_PARSE_DONE);
	ck_assert_str_eq(p.args[0].s, "alice");
	ck_assert_str_eq(p.args[1].s, "pxw");
}
END_TEST

START_TEST(literal_with_nul_and_split_input)
{
	const char in[] = "t LOGIN {5}\r\nalice {3}\r\np\0w\r\n";
	size_t total = sizeof in - 1, pos = 0, used;
	enum imap_parse_result r = IMAP_PARSE_AGAIN;

	/* One byte at a time: the parser must resume anywhere. */
	while (pos < total) {
		r = imap_parse(&p, in + pos, 1, &used);
		pos += used;
		if (r == IMAP_PARSE_DONE)
			break;
		ck_assert(r == IMAP_PARSE_AGAIN || r == IMAP_PARSE_CONTINUE);
	}
	ck_assert_int_eq(r, IMAP_PARSE_DONE);
	ck_assert_uint_eq(pos, total);
	ck_assert_uint_eq(p.nargs, 2);
	ck_assert_str_eq(p.args[0].s, "alice");
	ck_assert_uint_eq(p.args[1].len, 3);
	ck_assert_int_eq(memcmp(p.args[1].s, "p\0w", 3), 0);
}
END_TEST

START_TEST(non_sync_literal)
{
	size_t used;

	ck_assert_int_eq(feed("t LOGIN {5+}\r\nalice {0+}\r\n\r\n", &used),
	                 IMAP_PARSE_DONE);
	ck_assert_str_eq(p.args[0].s, "alice");
	ck_assert_uint_eq(p.args[1].len, 0);
}
END_TEST

START_TEST(literal_too_big_refused_before_data)
{
	size_t used;

	ck_assert_int_eq(feed("t LOGIN {300}\r\n", &used), IMAP_PARSE_TOO_LONG);
	setup();
	ck_assert_int_eq(feed("t LOGIN {9999999999}\r\n", &used),
	                 IMAP_PARSE_TOO_LONG);
}
END_TEST

START_TEST(line_too_long)
{
	char line[400];
	size_t used;

	memset(line, 'a', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	memcpy(line, "t LOGIN ", 8);
	ck_assert_int_eq(feed(line, &used), IMAP_PARSE_TOO_LONG);
}
END_TEST

START_TEST(lists)
{
	size_t used;

	ck_assert_int_eq(feed("i ID (\"name\" \"x\" \"v\" NIL)\r\n", &used),
	                 IMAP_PARSE_DONE);
	ck_assert_uint_eq(p.nargs, 6);
	ck_assert_int_eq(p.args[0].type, IMAP_LIST_START);
	ck_assert_int_eq(p.args[4].type, IMAP_ATOM);
	ck_assert_int_eq(p.args[5].type, IMAP_LIST_END);
}
END_TEST

START_TEST(invalid_lines_are_skipped)
{
	const char *cases[] = {
		"+t NOOP\r\n", "t\r\n", "t 1NOOP\r\n", "t LOGIN \"x\r\n",
		"t LOGIN a\"b\r\n", "t ID (a\r\n", "t ID a)\r\n", "t X {5x}\r\n",
		"t X \"\\q\"\r\n", "\r\n", "t NOOP\rx\n", NULL,
	};

	for (int i = 0; cases[i]; i++) {
		size_t used;

		setup();
		ck_assert_msg(feed(cases[i], &used) == IMAP_PARSE_INVALID,
		              "case %d: %s", i, cases[i]);
		ck_assert_uint_eq(used, strlen(cases[i]));
		ck_assert_ptr_nonnull(p.error);
		/* The parser is ready for the next line. */
		imap_parser_reset(&p);
		ck_assert_int_eq(feed("n NOOP\r\n", &used), IMAP_PARSE_DONE);
	}
}
END_TEST

START_TEST(tag_kept_for_bad_reply)
{
	size_t used;

	ck_assert_int_eq(feed("a7 LOGIN \"open\r\n", &used), IMAP_PARSE_INVALID);
	ck_assert_str_eq(p.tag, "a7");
}
END_TEST

START_TEST(too_many_arguments)
{
	char line[200] = "t X";
	size_t used;

	for (int i = 0; i < 70; i++)
		strcat(line, " a");
	strcat(line, "\r\n");
	ck_assert_int_eq(feed(line, &used), IMAP_PARSE_INVALID);
}
END_TEST

/* Issue 9, hole 1: an empty quoted string once finished its argument
 * without the bound check, writing a NUL past a store exactly full. The
 * store here is exactly its size on the heap, so a sanitizer build sees
 * any byte past it. */
START_TEST(empty_string_in_a_full_store)
{
	const size_t size = 64;
	char *heap = malloc(size), line[128];
	size_t used, n;

	ck_assert_ptr_nonnull(heap);
	imap_parser_init(&p, heap, size);
	/* "a\0" "X\0" then an atom and its NUL fill all 64 bytes. */
	n = (size_t)snprintf(line, sizeof line, "a X %.*s \"\" \"\"\r\n",
	                     (int)(size - 5),
	                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	ck_assert_int_eq(imap_parse(&p, line, n, &used), IMAP_PARSE_TOO_LONG);
	ck_assert_uint_le(p.used, size);
	free(heap);
}
END_TEST

/* Issue 9, hole 2: a literal that ends the input and cannot be taken (64
 * arguments already) made the error path read the byte after the input;
 * an LF there pushed "used" past the input. */
START_TEST(literal_at_end_of_input_over_the_argument_limit)
{
	char line[300] = "t X";
	char data[] = "hello\n";  /* the LF lies just past what is fed */
	size_t used;

	for (int i = 0; i < IMAP_ARGS_MAX; i++)
		strcat(line, " x");
	strcat(line, " {5+}\r\n");
	ck_assert_int_eq(feed(line, &used), IMAP_PARSE_AGAIN);
	ck_assert_uint_eq(used, strlen(line));
	ck_assert_int_eq(imap_parse(&p, data, 5, &used), IMAP_PARSE_AGAIN);
	ck_assert_uint_eq(used, 5);
	ck_assert_int_eq(feed("\r\n", &used), IMAP_PARSE_INVALID);
	ck_assert_uint_eq(used, 2);
	ck_assert_str_eq(p.error, "too many arguments");
	imap_parser_reset(&p);
	ck_assert_int_eq(feed("n NOOP\r\n", &used), IMAP_PARSE_DONE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("imap_parse");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, simple_command);
	tcase_add_test(tc, bare_lf_and_pipelined_rest);
	tcase_add_test(tc, atoms_and_quoted);
	tcase_add_test(tc, sync_literal_needs_continuation);
	tcase_add_test(tc, literal_with_nul_and_split_input);
	tcase_add_test(tc, non_sync_literal);
	tcase_add_test(tc, literal_too_big_refused_before_data);
	tcase_add_test(tc, line_too_long);
	tcase_add_test(tc, lists);
	tcase_add_test(tc, invalid_lines_are_skipped);
	tcase_add_test(tc, tag_kept_for_bad_reply);
	tcase_add_test(tc, too_many_arguments);
	tcase_add_test(tc, empty_string_in_a_full_store);
	tcase_add_test(tc, literal_at_end_of_input_over_the_argument_limit);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
