/* The SMTP command guard alone: what reaches the backend, what the client
 * hears, and in which order. */
#include "smtp_guard.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct smtp_guard g;
static char backend_buf[SMTP_GUARD_OUT_MIN * 4], client_buf[SMTP_GUARD_OUT_MIN * 4];
static struct strbuf backend, client;
static unsigned refusals;

static void setup(void)
{
	smtp_guard_init(&g);
	backend = (struct strbuf){ backend_buf, sizeof backend_buf, 0, 0 };
	client = (struct strbuf){ client_buf, sizeof client_buf, 0, 0 };
	refusals = 0;
}

/* Feed the client's bytes, n at a time; returns how many were taken
 * before the guard held. */
static size_t from_client_by(const char *in, size_t n)
{
	size_t len = strlen(in), off = 0, used;

	while (off < len) {
		size_t piece = len - off < n ? len - off : n;
		enum guard_result r = smtp_guard_client(&g, in + off, piece,
		                                             &used, &backend,
		                                             &client);

		ck_assert_int_ne(r, GUARD_ERROR);
		refusals += r == GUARD_REFUSED;
		off += used;
		if (r == GUARD_HOLD && used < piece)
			break;
	}
	return off;
}

static size_t from_client(const char *in)
{
	return from_client_by(in, strlen(in));
}

static void from_backend(const char *in)
{
	size_t used;

	ck_assert_int_eq(smtp_guard_backend(&g, in, strlen(in), &used, &client),
	                 GUARD_OK);
	ck_assert_uint_eq(used, strlen(in));
}

static void backend_got(const char *want)
{
	ck_assert_uint_eq(backend.len, strlen(want));
	ck_assert_msg(memcmp(backend.buf, want, backend.len) == 0,
	              "backend got %.*s", (int)backend.len, backend.buf);
}

static void client_got(const char *want)
{
	ck_assert_msg(client.len == strlen(want) &&
	              memcmp(client.buf, want, client.len) == 0,
	              "client got [%.*s], want [%s]", (int)client.len,
	              client.buf, want);
}

START_TEST(commands_pass_as_sent)
{
	from_client("MAIL FROM:<a@b>\r\nrcpt to:<c@d> NOTIFY=NEVER\nNOOP\r\n");
	backend_got("MAIL FROM:<a@b>\r\nrcpt to:<c@d> NOTIFY=NEVER\nNOOP\r\n");
	from_backend("250 ok\r\n250 ok\r\n250 ok\r\n");
	client_got("250 ok\r\n250 ok\r\n250 ok\r\n");
}
END_TEST

START_TEST(xclient_xforward_starttls_answered_in_turn)
{
	from_client("MAIL FROM:<a@b>\r\nXCLIENT ADDR=10.9.9.9\r\n"
	            "  xforward NAME=x\r\nSTARTTLS\r\nRCPT TO:<c@d>\r\n");
	ck_assert_uint_eq(refusals, 3);
	backend_got("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	client_got("");
	from_backend("250 2.1.0 Ok\r\n");
	client_got("250 2.1.0 Ok\r\n"
	           "550 5.7.0 Command not permitted\r\n"
	           "550 5.7.0 Command not permitted\r\n"
	           "454 4.7.0 TLS not available after login\r\n");
	from_backend("250 2.1.5 Ok\r\n");
	ck_assert_str_eq(g.report.last_refused, "STARTTLS");
}
END_TEST

START_TEST(refused_at_once_when_nothing_is_in_flight)
{
	from_client("XCLIENT LOGIN=alice\r\n");
	backend_got("");
	client_got("550 5.7.0 Command not permitted\r\n");
}
END_TEST

START_TEST(a_word_that_only_begins_like_one_passes)
{
	from_client("XCLIENTS\r\nXFORWARDED x\r\n");
	backend_got("XCLIENTS\r\nXFORWARDED x\r\n");
	ck_assert_uint_eq(refusals, 0);
}
END_TEST

START_TEST(ehlo_reply_loses_what_the_client_may_not_use)
{
	from_client("EHLO x\r\n");
	from_backend("250-backend.test\r\n250-PIPELINING\r\n"
	             "250-XCLIENT NAME ADDR LOGIN\r\n250-STARTTLS\r\n"
	             "250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n");
	client_got(""); /* held until the reply is whole */
	from_backend("250-8BITMIME\r\n250-AUTHX\r\n250 XFORWARD NAME ADDR\r\n");
	client_got("250-backend.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
	           "250 AUTHX\r\n");
}
END_TEST

/* A client past postern's login may not log in again at the backend:
 * that would be Postfix's login, round the auth server. */
START_TEST(auth_after_login_is_answered_by_the_guard)
{
	from_client("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\nauth login\r\n");
	backend_got("");
	client_got("503 5.5.1 Error: authentication not available here\r\n"
	           "503 5.5.1 Error: authentication not available here\r\n");
	ck_assert_str_eq(g.report.last_refused, "AUTH");
}
END_TEST

START_TEST(data_content_is_data_until_the_lone_dot)
{
	ck_assert_uint_eq(from_client("DATA\r\nXCLIENT LOGIN=a\r\n"), 6);
	backend_got("DATA\r\n");
	from_backend("354 go ahead\r\n");
	{
	const char *content = "XCLIENT LOGIN=a\r\n..x\r\n.y\r\n.\r\n"
	                      "XCLIENT LOGIN=a\r\n";

	ck_assert_uint_eq(from_client(content), strlen(content));
	backend_got("DATA\r\nXCLIENT LOGIN=a\r\n..x\r\n.y\r\n.\r\n");
	ck_assert_uint_eq(refusals, 1);
	}
}
END_TEST

START_TEST(a_refused_data_leaves_commands)
{
	ck_assert_uint_eq(from_client("DATA\r\nXCLIENT LOGIN=a\r\n"), 6);
	from_backend("554 5.5.1 no valid recipients\r\n");
	from_client("XCLIENT LOGIN=a\r\n");
	backend_got("DATA\r\n");
	client_got("554 5.5.1 no valid recipients\r\n"
	           "550 5.7.0 Command not permitted\r\n");
}
END_TEST

START_TEST(bare_lf_dot_ends_data_as_postfix_reads_it)
{
	from_client("DATA\r\n");
	from_backend("354 go\r\n");
	from_client("a\n.\nXCLIENT LOGIN=a\r\n");
	backend_got("DATA\r\na\n.\n");
	ck_assert_uint_eq(refusals, 1);
}
END_TEST

START_TEST(bdat_chunk_is_data_by_its_size)
{
	from_client("BDAT 21\r\nXCLIENT LOGIN=alice\r\nXCLIENT LOGIN=alice\r\n");
	backend_got("BDAT 21\r\nXCLIENT LOGIN=alice\r\n");
	ck_assert_uint_eq(refusals, 1);
	setup();
	/* No size to trust: Postfix answers 521 and hangs up, and the client
	 * may think a chunk follows. The guard answers it and reads on. */
	from_client("BDAT +5\r\nXCLIENT a\r\n");
	backend_got("");
	ck_assert_uint_eq(refusals, 2);
	client_got("501 5.5.4 Syntax: BDAT count [LAST]\r\n"
	           "550 5.7.0 Command not permitted\r\n");
}
END_TEST

/* Issue 20: Postfix's tokenizer splits on all of isspace(), the guard's
 * on space and tab: every line where the two could differ is refused. */
START_TEST(control_bytes_are_refused_not_forwarded)
{
	static const char *const lines[] = {
		"\rXCLIENT LOGIN=alice\r\n", "\x0bXCLIENT LOGIN=alice\r\n",
		"\x0cXFORWARD ADDR=1.2.3.4\r\n", "XCLIENT\x0b" "ADDR=1.2.3.4\r\n",
		"NOOP\rXCLIENT\r\n", "NOOP\x01\r\n", "\x7fNOOP\r\n",
		"STARTTLS\x0c\r\n",
	};

	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		setup();
		from_client(lines[i]);
		backend_got("");
		ck_assert_uint_eq(refusals, 1);
		client_got("500 5.5.2 Error: control character in command\r\n");
		ck_assert_str_eq(g.report.last_refused, "control-character");
	}
	/* A NUL ends Postfix's string: "XCLIENT\0" would be XCLIENT alone. */
	setup();
	{
		size_t used;

		ck_assert_int_eq(smtp_guard_client(&g, "XCLIENT\0 x\r\n", 12,
		                                   &used, &backend, &client),
		                 GUARD_REFUSED);
		backend_got("");
	}
	/* CRs before the LF are the line's end, for Postfix too; a tab is
	 * white space to both. */
	setup();
	from_client("NOOP\r\r\r\nRSET\tx\r\n\tXCLIENT LOGIN=a\r\r\n");
	backend_got("NOOP\r\r\r\nRSET\tx\r\n");
	ck_assert_uint_eq(refusals, 1);
	ck_assert_str_eq(g.report.last_refused, "XCLIENT");
}
END_TEST

START_TEST(a_word_beyond_postfix_line_limit_is_refused)
{
	char line[3000];

	memset(line, ' ', 2041);
	strcpy(line + 2041, "STARTTLSX\r\n");
	from_client(line);
	backend_got("");
	client_got("500 5.5.2 Error: command word too far in\r\n");
	setup();
	memset(line, ' ', 500);
	strcpy(line + 500, "NOOP\r\n");
	from_client(line);
	ck_assert_uint_eq(backend.len, 506);
}
END_TEST

START_TEST(bdat_read_as_postfix_reads_it)
{
	static const char *const bad[] = {
		"BDAT 19 x\r\n", "BDAT 10x\r\n", "BDAT 5 LAST more\r\n",
		"BDAT\r\n", "BDAT 99999999999999999999\r\n", "BDAT \"5\"\r\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		setup();
		from_client(bad[i]);
		from_client("XCLIENT LOGIN=alice\r\n");
		backend_got("");
		ck_assert_uint_eq(refusals, 2);
	}
	setup();
	from_client("bdat\t 0005 \t last\r\n12345XCLIENT\r\n");
	backend_got("bdat\t 0005 \t last\r\n12345");
	ck_assert_uint_eq(refusals, 1);
}
END_TEST

START_TEST(dot_and_any_crs_end_data)
{
	from_client("DATA\r\n");
	from_backend("354 go\r\n");
	from_client("body\r\n.\r\r\nXCLIENT LOGIN=alice\r\n");
	backend_got("DATA\r\nbody\r\n.\r\r\n");
	ck_assert_uint_eq(refusals, 1);
	/* .\r then more is no end, for Postfix neither. */
	setup();
	from_client("DATA\r\n");
	from_backend("354 go\r\n");
	from_client(".\rx\r\nXCLIENT\r\n");
	backend_got("DATA\r\n.\rx\r\nXCLIENT\r\n");
	ck_assert_uint_eq(refusals, 0);
}
END_TEST

START_TEST(the_final_dot_is_answered_before_a_refusal_behind_it)
{
	from_client("DATA\r\n");
	from_backend("354 go\r\n");
	client.len = 0;
	from_client("body\r\n.\r\nXCLIENT LOGIN=alice\r\n");
	client_got("");
	from_backend("250 2.0.0 Ok: queued\r\n");
	client_got("250 2.0.0 Ok: queued\r\n550 5.7.0 Command not permitted\r\n");
}
END_TEST

/* Issue 20, item 3: the held EHLO reply and a full queue of refusals come
 * out in one step; the output is only as large as the guard asks for. */
START_TEST(ehlo_reply_and_every_refusal_fit_the_minimum_output)
{
	static char small[SMTP_GUARD_OUT_MIN];
	char *reply = malloc(SMTP_GUARD_REPLY_MAX);
	size_t at = 0, used;

	client = (struct strbuf){ small, sizeof small, 0, 0 };
	from_client("EHLO x\r\n");
	for (int i = 0; i < SMTP_GUARD_INFLIGHT_MAX - 1; i++)
		from_client("XCLIENT LOGIN=alice\r\n");
	ck_assert_uint_eq(g.count, SMTP_GUARD_INFLIGHT_MAX);
	while (at + 200 < SMTP_GUARD_REPLY_MAX - 100) {
		memcpy(reply + at, "250-", 4);
		memset(reply + at + 4, 'x', 194);
		memcpy(reply + at + 198, "\r\n", 2);
		at += 200;
	}
	memcpy(reply + at, "250 end\r\n", 9);
	at += 9;
	ck_assert_int_eq(smtp_guard_backend(&g, reply, at, &used, &client),
	                 GUARD_OK);
	ck_assert_uint_eq(used, at);
	ck_assert_uint_le(client.len, client.size);
	ck_assert_uint_eq(g.count, 0);
	free(reply);
}
END_TEST

START_TEST(same_result_whatever_the_pieces)
{
	const char *in = "EHLO x\r\nMAIL FROM:<a>\r\nXCLIENT A=1\r\nBDAT 9 LAST\r\n"
	                 "XCLIENT\r\nNOOP\r\n";
	char whole[512];
	size_t whole_len;

	from_client(in);
	whole_len = backend.len;
	memcpy(whole, backend.buf, whole_len);
	for (size_t n = 1; n < 9; n++) {
		setup();
		from_client_by(in, n);
		ck_assert_uint_eq(backend.len, whole_len);
		ck_assert(memcmp(backend.buf, whole, whole_len) == 0);
		ck_assert_uint_eq(refusals, 1);
	}
}
END_TEST

START_TEST(limits_end_the_session)
{
	char *line = malloc(SMTP_GUARD_LINE_MAX + 10);
	size_t used;

	memset(line, 'a', SMTP_GUARD_LINE_MAX + 9);
	line[SMTP_GUARD_LINE_MAX + 9] = '\0';
	ck_assert_int_eq(smtp_guard_client(&g, line, strlen(line), &used,
	                                   &backend, &client), GUARD_ERROR);
	ck_assert_str_eq(g.report.why, "command line too long");
	free(line);
	setup();
	from_client("NOOP\r\n");
	ck_assert_int_eq(smtp_guard_backend(&g, "hello\r\n", 7, &used, &client),
	                 GUARD_ERROR);
}
END_TEST

START_TEST(pipelining_too_far_ahead_holds)
{
	char *many = malloc(6 * (SMTP_GUARD_INFLIGHT_MAX + 5) + 1);

	many[0] = '\0';
	for (int i = 0; i < SMTP_GUARD_INFLIGHT_MAX + 5; i++)
		strcat(many, "NOOP\r\n");
	ck_assert_uint_eq(from_client(many), 6 * SMTP_GUARD_INFLIGHT_MAX);
	free(many);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smtp_guard");
	TCase *tc = tcase_create("guard");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, commands_pass_as_sent);
	tcase_add_test(tc, xclient_xforward_starttls_answered_in_turn);
	tcase_add_test(tc, refused_at_once_when_nothing_is_in_flight);
	tcase_add_test(tc, a_word_that_only_begins_like_one_passes);
	tcase_add_test(tc, ehlo_reply_loses_what_the_client_may_not_use);
	tcase_add_test(tc, data_content_is_data_until_the_lone_dot);
	tcase_add_test(tc, a_refused_data_leaves_commands);
	tcase_add_test(tc, bare_lf_dot_ends_data_as_postfix_reads_it);
	tcase_add_test(tc, bdat_chunk_is_data_by_its_size);
	tcase_add_test(tc, auth_after_login_is_answered_by_the_guard);
	tcase_add_test(tc, control_bytes_are_refused_not_forwarded);
	tcase_add_test(tc, a_word_beyond_postfix_line_limit_is_refused);
	tcase_add_test(tc, bdat_read_as_postfix_reads_it);
	tcase_add_test(tc, dot_and_any_crs_end_data);
	tcase_add_test(tc, the_final_dot_is_answered_before_a_refusal_behind_it);
	tcase_add_test(tc, ehlo_reply_and_every_refusal_fit_the_minimum_output);
	tcase_add_test(tc, same_result_whatever_the_pieces);
	tcase_add_test(tc, limits_end_the_session);
	tcase_add_test(tc, pipelining_too_far_ahead_holds);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
