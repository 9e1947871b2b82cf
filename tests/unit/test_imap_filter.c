/* The IMAP filter alone: what reaches the backend, what the client hears,
 * in which order, and the same whatever the pieces the bytes come in. */
#include "imap_filter.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct imap_filter f;
static char backend_buf[1 << 20], client_buf[1 << 20];
static struct strbuf backend, client;
static unsigned refusals;
static size_t held_len;

static void start(const char *deny, const char *hide)
{
	const char *why = NULL;

	ck_assert_int_eq(imap_filter_init(&f, deny, hide, &why), 0);
	backend = (struct strbuf){ backend_buf, sizeof backend_buf, 0, 0 };
	client = (struct strbuf){ client_buf, sizeof client_buf, 0, 0 };
	refusals = 0;
	held_len = 0;
}

/* The client's bytes the filter has not taken yet, as the relay keeps
 * them, fed again after the backend spoke. */
static char held[1 << 16];
static size_t piece_size = 1 << 20;

static void pump(void)
{
	size_t off = 0, used;

	while (off < held_len) {
		size_t piece = held_len - off < piece_size ? held_len - off :
		               piece_size;
		enum guard_result r = imap_filter_client(&f, held + off, piece,
		                                         &used, &backend, &client);

		ck_assert_int_ne(r, GUARD_ERROR);
		refusals += r == GUARD_REFUSED;
		off += used;
		if (r == GUARD_HOLD)
			break;
	}
	memmove(held, held + off, held_len - off);
	held_len -= off;
}

/* Feed the client's bytes n at a time. */
static void from_client_by(const char *in, size_t len, size_t n)
{
	ck_assert_uint_le(held_len + len, sizeof held);
	memcpy(held + held_len, in, len);
	held_len += len;
	piece_size = n;
	pump();
}

static void from_backend_by(const char *in, size_t len, size_t n)
{
	size_t off = 0, used;

	while (off < len) {
		size_t piece = len - off < n ? len - off : n;

		ck_assert_int_eq(imap_filter_backend(&f, in + off, piece, &used,
		                                     &client), GUARD_OK);
		off += used;
		piece_size = n;
		pump();
	}
}

static void from_client(const char *in)
{
	from_client_by(in, strlen(in), strlen(in) + 1);
}

static void from_backend(const char *in)
{
	from_backend_by(in, strlen(in), strlen(in) + 1);
}

static void backend_got(const char *want)
{
	ck_assert_uint_eq(backend.len, strlen(want));
	ck_assert_int_eq(memcmp(backend.buf, want, backend.len), 0);
}

static void client_got(const char *want)
{
	client.buf[client.len] = '\0';
	ck_assert_str_eq(client.buf, want);
}

START_TEST(allowed_commands_pass_byte_exact)
{
	const char *in = "a1 SELECT INBOX\r\na2 UID FETCH 1:* (FLAGS)\r\n"
	                 "a3 LOGIN \"x y\" {3}\r\nabc\r\nDONE\r\n";

	start("DELETE", "");
	from_client(in);
	/* The literal waits for the backend's "+". */
	backend_got("a1 SELECT INBOX\r\na2 UID FETCH 1:* (FLAGS)\r\n"
	            "a3 LOGIN \"x y\" {3}\r\n");
	from_backend("+ OK\r\n");
	backend_got(in);
	client_got("+ OK\r\n");
	ck_assert_uint_eq(refusals, 0);
}
END_TEST

START_TEST(a_literal_carrying_a_denied_name_is_data)
{
	const char *in = "a1 APPEND INBOX {26}\r\nx\r\nz DELETE INBOX\r\nmore\r\n\r\n"
	                 "a2 APPEND INBOX {24+}\r\nz DELETE INBOX\r\nq DELETE\r\n";

	start("DELETE", "");
	from_client(in);
	from_backend("+ OK\r\n");
	from_backend("a1 OK appended\r\n+ OK\r\n");
	/* {24+} reached the backend as {24}; its "+" stayed here. */
	backend_got("a1 APPEND INBOX {26}\r\nx\r\nz DELETE INBOX\r\nmore\r\n\r\n"
	            "a2 APPEND INBOX {24}\r\nz DELETE INBOX\r\nq DELETE\r\n");
	client_got("+ OK\r\na1 OK appended\r\n");
	ck_assert_uint_eq(refusals, 0);
	/* A quoted brace is not a literal either. */
	start("DELETE", "");
	from_client("a1 SEARCH SUBJECT \"{5}\"\r\na2 DELETE x\r\n");
	backend_got("a1 SEARCH SUBJECT \"{5}\"\r\n");
	ck_assert_uint_eq(refusals, 1);
}
END_TEST

START_TEST(denied_commands_answered_in_their_turn)
{
	start("DELETE expunge", "");
	from_client("a1 NOOP\r\na2 DELETE Trash\r\na3 UID EXPUNGE 1:3\r\na4 NOOP\r\n");
	backend_got("a1 NOOP\r\na4 NOOP\r\n");
	ck_assert_uint_eq(refusals, 2);
	client_got("");                       /* a1 is not answered yet */
	from_backend("* 3 EXISTS\r\na1 OK NOOP completed\r\n");
	client_got("* 3 EXISTS\r\na1 OK NOOP completed\r\n"
	           "a2 NO [NOPERM] DELETE not allowed\r\n"
	           "a3 NO [NOPERM] EXPUNGE not allowed\r\n");
	client.len = 0;
	from_backend("a4 OK done\r\n");
	client_got("a4 OK done\r\n");
	/* With nothing before it, at once. */
	client.len = backend.len = 0;
	from_client("b1 delete x\r\n");
	client_got("b1 NO [NOPERM] delete not allowed\r\n");
	backend_got("");
}
END_TEST

START_TEST(denied_literals)
{
	/* Synchronising: the refusal instead of the continuation. */
	start("SETACL APPEND", "");
	from_client("a1 SETACL INBOX {5}\r\n");
	client_got("a1 NO [NOPERM] SETACL not allowed\r\n");
	from_client("a2 NOOP\r\n");
	backend_got("a2 NOOP\r\n");
	/* Non-synchronising: read and dropped. */
	start("SETACL APPEND", "");
	from_client("a1 APPEND INBOX {11+}\r\nb2 NOOP\r\n\r\n\r\na3 NOOP\r\n");
	backend_got("a3 NOOP\r\n");
	client_got("a1 NO [NOPERM] APPEND not allowed\r\n");
}
END_TEST

START_TEST(compress_and_starttls_always_refused)
{
	start("", "");
	from_client("a COMPRESS DEFLATE\r\nb STARTTLS\r\n");
	backend_got("");
	ck_assert_uint_eq(refusals, 2);
}
END_TEST

START_TEST(hidden_capabilities_go)
{
	start("", "IDLE x-Secret");
	from_client("a1 CAPABILITY\r\n");
	from_backend("* CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE X-SECRET MOVE\r\n"
	             "a1 OK [CAPABILITY IMAP4rev1 idle MOVE] done\r\n"
	             "* OK [CAPABILITY IDLE] hello IDLE\r\n");
	client_got("* CAPABILITY IMAP4rev1 MOVE\r\n"
	           "a1 OK [CAPABILITY IMAP4rev1 MOVE] done\r\n"
	           "* OK [CAPABILITY ] hello IDLE\r\n");
}
END_TEST

START_TEST(backend_literals_pass_unread)
{
	const char *in = "* 1 FETCH (BODY[] {30}\r\n* CAPABILITY IDLE MOVE\r\n\r\n)\r\n"
	                 "a OK done\r\n";

	start("", "IDLE");
	from_backend(in);
	client_got(in);
}
END_TEST

/* The same bytes in pieces of every size give the same result. */
START_TEST(same_result_whatever_the_pieces)
{
	const char *c = "a1 NOOP\r\na2 DELETE Trash\r\na3 APPEND INBOX {10}\r\n"
	                "a4 DELETE\r\nb\r\na5 UID EXPUNGE 1\r\nDONE\r\n";
	const char *b = "* CAPABILITY IMAP4rev1 IDLE\r\na1 OK ok\r\n"
	                "* 1 FETCH (BODY[] {12}\r\nIDLE\r\na2 NO\r\n)\r\na3 OK x\r\n";
	char want_b[4096], want_c[4096];
	size_t wb, wc;

	start("DELETE EXPUNGE", "IDLE");
	from_client(c);
	from_backend(b);
	wb = backend.len;
	wc = client.len;
	memcpy(want_b, backend.buf, wb);
	memcpy(want_c, client.buf, wc);
	for (size_t n = 1; n < strlen(c); n++) {
		start("DELETE EXPUNGE", "IDLE");
		from_client_by(c, strlen(c), n);
		from_backend_by(b, strlen(b), n);
		ck_assert_uint_eq(backend.len, wb);
		ck_assert_int_eq(memcmp(backend.buf, want_b, wb), 0);
		ck_assert_uint_eq(client.len, wc);
		ck_assert_int_eq(memcmp(client.buf, want_c, wc), 0);
	}
}
END_TEST

/* Issue 20, item 2: Dovecot reads a literal only where the command
 * parses an argument, after it said "+". Each of these deleted the
 * mailbox through the filter that counted any {n} at a line's end. */
START_TEST(no_literal_after_a_command_that_takes_no_arguments)
{
	start("DELETE", "");
	from_client("a NOOP {18+}\r\nD2 DELETE victim\r\n\r\nb NOOP\r\n");
	backend_got("b NOOP\r\n");
	client_got("a BAD NOOP takes no arguments\r\n");
	start("DELETE", "");
	from_client("a NOOP {19}\r\nD2 DELETE victim\r\n");
	backend_got("");
	client_got("a BAD NOOP takes no arguments\r\n"
	           "D2 NO [NOPERM] DELETE not allowed\r\n");
	ck_assert_uint_eq(refusals, 2);
	start("", "");
	from_client("i idle x\r\nj IDLE\r\n");
	backend_got("j IDLE\r\n");
	client_got("i BAD idle takes no arguments\r\n");
}
END_TEST

START_TEST(a_brace_inside_an_atom_is_held_and_the_backend_decides)
{
	start("DELETE", "");
	from_client("a SELECT x{19}\r\nD2 DELETE victim\r\n");
	backend_got("a SELECT x{19}\r\n");
	from_backend("a NO Mailbox doesn't exist: x{19}\r\n");
	backend_got("a SELECT x{19}\r\n");
	client_got("a NO Mailbox doesn't exist: x{19}\r\n"
	           "D2 NO [NOPERM] DELETE not allowed\r\n");
}
END_TEST

START_TEST(a_literal_the_backend_refused_before_its_plus)
{
	start("DELETE", "");
	from_client("a APPEND no-such-box {19}\r\nD2 DELETE victim\r\n");
	backend_got("a APPEND no-such-box {19}\r\n");
	from_backend("a NO [TRYCREATE] Mailbox doesn't exist\r\n");
	backend_got("a APPEND no-such-box {19}\r\n");
	ck_assert_uint_eq(refusals, 1);
	/* Sent as {n+}: the client meant the bytes as the literal, and they
	 * go to no one. */
	start("DELETE", "");
	from_client("a APPEND no-such-box {17+}\r\nb DELETE victim\r\n\r\n"
	            "c SELECT x\r\n");
	backend_got("a APPEND no-such-box {17}\r\n");
	from_backend("a NO [TRYCREATE] Mailbox doesn't exist\r\n");
	backend_got("a APPEND no-such-box {17}\r\nc SELECT x\r\n");
	client_got("a NO [TRYCREATE] Mailbox doesn't exist\r\n");
	ck_assert_uint_eq(refusals, 0);
}
END_TEST

START_TEST(idles_plus_is_not_a_literals)
{
	start("DELETE", "");
	from_client("a IDLE\r\nDONE\r\nb APPEND nobox {19}\r\nD2 DELETE victim\r\n");
	backend_got("a IDLE\r\nDONE\r\nb APPEND nobox {19}\r\n");
	from_backend("+ idling\r\n");
	backend_got("a IDLE\r\nDONE\r\nb APPEND nobox {19}\r\n");
	from_backend("a OK Idle completed\r\nb NO [TRYCREATE] no\r\n");
	backend_got("a IDLE\r\nDONE\r\nb APPEND nobox {19}\r\n");
	client_got("+ idling\r\na OK Idle completed\r\nb NO [TRYCREATE] no\r\n"
	           "D2 NO [NOPERM] DELETE not allowed\r\n");
	/* Once IDLE is answered, a "+" is the literal's. */
	start("", "");
	from_client("a IDLE\r\nDONE\r\nb APPEND box {3}\r\nabc\r\n");
	from_backend("+ idling\r\na OK done\r\n+ OK\r\n");
	backend_got("a IDLE\r\nDONE\r\nb APPEND box {3}\r\nabc\r\n");
}
END_TEST

START_TEST(a_tag_in_flight_is_refused)
{
	start("", "");
	from_client("a NOOP\r\na SELECT {5}\r\nb NOOP\r\n");
	backend_got("a NOOP\r\nb NOOP\r\n");
	from_backend("a OK done\r\n");
	client_got("a OK done\r\na BAD Tag in use by a command in progress\r\n");
	/* Once answered, the tag is free again. */
	backend.len = 0;
	from_client("a SELECT INBOX\r\n");
	backend_got("a SELECT INBOX\r\n");
}
END_TEST

START_TEST(every_marker_form_waits)
{
	static const char *const lines[] = {
		"a SELECT {}\r\n", "a APPEND x ~{3}\r\n", "a SELECT (x){3}\r\n",
		"a SELECT \"x\"{3}\n", "a SELECT {0003}\r\n",
	};

	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		start("DELETE", "");
		from_client(lines[i]);
		from_client("D2 DELETE x\r\n");
		backend_got(lines[i]);
		ck_assert_uint_eq(refusals, 0);
		from_backend("a BAD no\r\n");
		ck_assert_uint_eq(refusals, 1);
	}
	/* {+} and {0+}: empty, and still the backend's to ask for. */
	start("", "");
	from_client("a SELECT {+}\r\nx\r\n");
	backend_got("a SELECT {}\r\n");
	from_backend("+ OK\r\n");
	backend_got("a SELECT {}\r\nx\r\n");
	client_got("");
	/* Not at the line's end: no literal, and Dovecot, which asks for one
	 * at the "}" before it sees what follows, gets no "}" to ask at. */
	start("", "");
	from_client("a SELECT {3}x\r\nb SELECT {3+}\r\r\nc NOOP\r\n");
	backend_got("a SELECT {3?x\r\nb SELECT {3+?\r\r\nc NOOP\r\n");
	/* Not joined to the digits after it either. */
	start("", "");
	from_client("c SELECT {18}3+}\r\nd NOOP\r\n");
	backend_got("c SELECT {18?3+}\r\nd NOOP\r\n");
	/* In a quoted string it is text. */
	start("", "");
	from_client("a SEARCH SUBJECT \"{3}x \\\" {5}\"\r\n");
	backend_got("a SEARCH SUBJECT \"{3}x \\\" {5}\"\r\n");
}
END_TEST

/* Found by the fuzz target's model of Dovecot and by an attack on the
 * real one: Dovecot's "+ OK" for a marker in the middle of a line, which
 * it then fails, was taken for the line's last marker's. */
START_TEST(a_marker_inside_a_line_gets_no_plus)
{
	start("DELETE", "");
	from_client("b SELECT {5}x {18}\r\nc DELETE Victim1\r\n\r\n");
	backend_got("b SELECT {5?x {18}\r\n");
	from_backend("b BAD Error in IMAP command SELECT: Invalid literal size\r\n");
	backend_got("b SELECT {5?x {18}\r\n\r\n");   /* an empty line passes */
	ck_assert_uint_eq(refusals, 1);
	start("DELETE", "");
	from_client("c LIST {5}\r\r {11}\r\nd DELETE x\r\n");
	backend_got("c LIST {5?\r\r {11}\r\n");
}
END_TEST

/* A line that is only a tag is answered by Dovecot with a tagged BAD:
 * taken for the reply to the command whose literal waited, it let the
 * filter drop what Dovecot read as the literal. */
START_TEST(a_tag_alone_is_a_command_too)
{
	start("", "");
	from_client("b APPEND x {6+}\r\n");
	from_client("abcdef\r\n");
	backend_got("b APPEND x {6}\r\n");
	start("", "");
	from_client("b NOOP\r\nb\r\nc\r\n");
	backend_got("b NOOP\r\nc\r\n");
	from_backend("b OK done\r\n");
	client_got("b OK done\r\nb BAD Tag in use by a command in progress\r\n");
	from_backend("c BAD Unknown command\r\n");
	ck_assert_uint_eq(f.count, 0);
}
END_TEST

/* Dovecot fails a line whose tag it cannot read before it looks at the
 * command: the filter refuses it, so that an IDLE it thought ran cannot
 * leave the next line unread. */
START_TEST(a_tag_dovecot_cannot_read_is_refused)
{
	static const char *const tags[] = { "a\x7f", "a\x9d", "a+b", "a]", "a{1}",
	                                    "a\"", "a\\", "*", "a%", "(a" };

	for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
		char line[64];

		start("RENAME", "");
		snprintf(line, sizeof line, "%s IDLE\r\nf RENAME x y\r\n", tags[i]);
		from_client(line);
		backend_got("");
		client_got("* BAD Invalid tag\r\nf NO [NOPERM] RENAME not allowed\r\n");
	}
	start("", "");
	from_client("a~ IDLE\r\nDONE\r\n");
	backend_got("a~ IDLE\r\nDONE\r\n");
}
END_TEST

/* Found by the differential test, bytes sent one by one: Dovecot fails
 * "a SELECT x{17" at its "{" and answers before the line's end, so no "+"
 * will come for the marker that ends it. */
START_TEST(a_command_answered_before_its_line_ends_has_no_literal)
{
	start("DELETE", "");
	from_client("a SELECT x{17");
	from_backend("a BAD Error in IMAP command SELECT: Invalid characters in atom\r\n");
	from_client("}\r\nD2 DELETE victim\r\nzz LOGOUT\r\n");
	backend_got("a SELECT x{17}\r\nzz LOGOUT\r\n");
	ck_assert_uint_eq(refusals, 1);
}
END_TEST

/* Dovecot's IDLE reads the line after it, whatever it is: no command
 * runs from it, and no tagged reply comes for it. */
START_TEST(the_line_after_idle_is_idles)
{
	start("DELETE", "");
	from_client("a IDLE\r\nx DELETE y\r\nb NOOP\r\n");
	backend_got("a IDLE\r\nx DELETE y\r\nb NOOP\r\n");
	ck_assert_uint_eq(refusals, 0);
	from_backend("+ idling\r\na BAD Expected DONE.\r\nb OK done\r\n");
	ck_assert_uint_eq(f.count, 0);
}
END_TEST

START_TEST(limits_end_the_session)
{
	static char line[IMAP_FILTER_LINE_MAX + 64];
	size_t used;

	start("", "");
	memset(line, 'x', sizeof line);
	memcpy(line, "a SEARCH ", 9);
	ck_assert_int_eq(imap_filter_client(&f, line, sizeof line, &used,
	                                    &backend, &client), GUARD_ERROR);
	ck_assert_ptr_nonnull(f.report.why);
	start("", "");
	ck_assert_int_eq(imap_filter_backend(&f, line, sizeof line, &used,
	                                     &client), GUARD_ERROR);
	start("", "");
	ck_assert_int_eq(imap_filter_client(&f, " DELETE x\r\n", 11, &used,
	                                    &backend, &client), GUARD_ERROR);
	/* A tag longer than the filter keeps may not hide a command. */
	start("DELETE", "");
	memset(line, 't', 300);
	memcpy(line + 300, " DELETE x\r\n", 11);
	ck_assert_int_eq(imap_filter_client(&f, line, 311, &used, &backend,
	                                    &client), GUARD_ERROR);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("imap_filter");
	TCase *tc = tcase_create("imap_filter");

	tcase_add_test(tc, allowed_commands_pass_byte_exact);
	tcase_add_test(tc, a_literal_carrying_a_denied_name_is_data);
	tcase_add_test(tc, denied_commands_answered_in_their_turn);
	tcase_add_test(tc, denied_literals);
	tcase_add_test(tc, compress_and_starttls_always_refused);
	tcase_add_test(tc, hidden_capabilities_go);
	tcase_add_test(tc, backend_literals_pass_unread);
	tcase_add_test(tc, same_result_whatever_the_pieces);
	tcase_add_test(tc, no_literal_after_a_command_that_takes_no_arguments);
	tcase_add_test(tc, a_brace_inside_an_atom_is_held_and_the_backend_decides);
	tcase_add_test(tc, a_literal_the_backend_refused_before_its_plus);
	tcase_add_test(tc, idles_plus_is_not_a_literals);
	tcase_add_test(tc, a_tag_in_flight_is_refused);
	tcase_add_test(tc, every_marker_form_waits);
	tcase_add_test(tc, a_marker_inside_a_line_gets_no_plus);
	tcase_add_test(tc, a_tag_alone_is_a_command_too);
	tcase_add_test(tc, the_line_after_idle_is_idles);
	tcase_add_test(tc, a_tag_dovecot_cannot_read_is_refused);
	tcase_add_test(tc, a_command_answered_before_its_line_ends_has_no_literal);
	tcase_add_test(tc, limits_end_the_session);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
