#include "auth_http.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct auth_http_target target = {
	.host = "127.0.0.1",
	.uri = "/mail/auth",
};

START_TEST(escape_like_nginx)
{
	char out[64];

	ck_assert_int_eq(auth_http_escape("a b%c\"d'\t", out, sizeof out), 15);
	ck_assert_str_eq(out, "a%20b%25c\"d'%09");
	ck_assert_int_eq(auth_http_escape("\xc3\xa9", out, sizeof out), 2);
	ck_assert_int_eq(auth_http_escape("   ", out, 9), -1);
}
END_TEST

START_TEST(request_has_nginx_headers)
{
	char buf[2048];
	struct auth_request req = {
		.mech = SASL_PLAIN, .user = "bob@example.org", .pass = "p w",
		.protocol = "imap", .attempt = 2, .client_ip = "192.0.2.7",
	};
	ssize_t n = auth_http_build(buf, sizeof buf, &target,
	                            "X-Auth-Key: k\r\n", &req);

	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf,
	                 "GET /mail/auth HTTP/1.0\r\n"
	                 "Host: 127.0.0.1\r\n"
	                 "Auth-Method: plain\r\n"
	                 "Auth-User: bob@example.org\r\n"
	                 "Auth-Pass: p%20w\r\n"
	                 "Auth-Protocol: imap\r\n"
	                 "Auth-Login-Attempt: 2\r\n"
	                 "Client-IP: 192.0.2.7\r\n"
	                 "X-Auth-Key: k\r\n"
	                 "\r\n");
}
END_TEST

/* A certificate with an empty subject (it names only its issuer, or
 * only an alt name): nginx sends no Auth-SSL-Subject at all. */
START_TEST(an_empty_subject_is_left_out)
{
	char buf[2048];
	struct tls_info tls = { .protocol = "TLS1.3", .cipher = "X",
	                        .has_cert = 1, .issuer = "CN=ca",
	                        .serial = "01", .fingerprint = "ab" };
	struct auth_request req = {
		.mech = SASL_PLAIN, .user = "bob", .pass = "p",
		.protocol = "imap", .attempt = 1, .client_ip = "192.0.2.7",
		.tls = &tls,
	};

	ck_assert_int_gt(auth_http_build(buf, sizeof buf, &target, "", &req), 0);
	ck_assert_ptr_null(strstr(buf, "Auth-SSL-Subject"));
	ck_assert_ptr_nonnull(strstr(buf, "Auth-SSL-Issuer: CN=ca\r\n"));
	snprintf(tls.subject, sizeof tls.subject, "CN=bob");
	ck_assert_int_gt(auth_http_build(buf, sizeof buf, &target, "", &req), 0);
	ck_assert_ptr_nonnull(strstr(buf, "Auth-SSL-Subject: CN=bob\r\n"));
}
END_TEST

START_TEST(request_with_salt_and_host)
{
	char buf[2048];
	struct auth_request req = {
		.mech = SASL_CRAM_MD5, .user = "u", .pass = "", .salt = "<1.2@h>",
		.protocol = "imap", .attempt = 1, .client_ip = "::1",
		.client_host = "client.example.org",
	};

	ck_assert_int_gt(auth_http_build(buf, sizeof buf, &target, "", &req), 0);
	ck_assert_ptr_nonnull(strstr(buf, "Auth-Salt: <1.2@h>\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Client-Host: client.example.org\r\n"));
	ck_assert_int_eq(auth_http_build(buf, 40, &target, "", &req), -1);
}
END_TEST

START_TEST(request_smtp_none)
{
	char buf[2048];
	struct auth_request req = {
		.mech = SASL_NONE, .user = "", .pass = "", .protocol = "smtp",
		.attempt = 1, .client_ip = "192.0.2.7", .smtp_helo = "client.test",
		.smtp_from = "MAIL FROM:<>", .smtp_to = "RCPT TO:<a@b.test>",
	};

	ck_assert_int_gt(auth_http_build(buf, sizeof buf, &target, "", &req), 0);
	ck_assert_ptr_nonnull(strstr(buf,
	                             "Auth-User: \r\nAuth-Pass: \r\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	                             "Auth-SMTP-Helo: client.test\r\n"
	                             "Auth-SMTP-From: MAIL FROM:<>\r\n"
	                             "Auth-SMTP-To: RCPT TO:<a@b.test>\r\n"));
	/* Other methods never carry them. */
	req.mech = SASL_PLAIN;
	ck_assert_int_gt(auth_http_build(buf, sizeof buf, &target, "", &req), 0);
	ck_assert_ptr_null(strstr(buf, "Auth-SMTP"));
	/* A CR or LF could forge headers: the request is refused instead. */
	req.mech = SASL_NONE;
	req.smtp_to = "RCPT TO:<a@b.test>\r\nAuth-Status: OK";
	ck_assert_int_eq(auth_http_build(buf, sizeof buf, &target, "", &req), -1);
}
END_TEST

static int parse(const char *text, int need_pass, struct auth_reply *r)
{
	auth_reply_init(r);
	return auth_http_parse(text, strlen(text), need_pass, r);
}

START_TEST(response_ok)
{
	struct auth_reply r;

	ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\n"
	                       "Auth-Status: OK\r\n"
	                       "Auth-Server: 192.0.2.10\r\n"
	                       "auth-port:   143  \r\n"
	                       "Auth-User: alice\r\n"
	                       "Auth-Pass: s3cret\r\n"
	                       "X-Other: ignored\r\n"
	                       "\r\n", 0, &r), 1);
	ck_assert_int_eq(r.status, AUTH_STATUS_OK);
	ck_assert_str_eq(r.server, "192.0.2.10");
	ck_assert_str_eq(r.port, "143");
	ck_assert_str_eq(r.user, "alice");
	ck_assert_str_eq(r.pass, "s3cret");
	ck_assert_int_eq(r.backend.ss.ss_family, AF_INET);
}
END_TEST

START_TEST(response_ipv6_bare_lf)
{
	struct auth_reply r;

	ck_assert_int_eq(parse("HTTP/1.0 200 OK\nAuth-Status: OK\n"
	                       "Auth-Server: 2001:db8::5\nAuth-Port: 1143\n\n",
	                       0, &r), 1);
	ck_assert_int_eq(r.backend.ss.ss_family, AF_INET6);
}
END_TEST

START_TEST(response_failure_with_wait)
{
	struct auth_reply r;

	ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\n"
	                       "Auth-Status: Invalid login or password\r\n"
	                       "Auth-Wait: 3\r\n"
	                       "Auth-Error-Code: 535 5.7.8\r\n\r\n", 0, &r), 1);
	ck_assert_int_eq(r.status, AUTH_STATUS_FAIL);
	ck_assert_str_eq(r.error, "Invalid login or password");
	ck_assert_int_eq(r.wait, 3);
	ck_assert_str_eq(r.error_code, "535 5.7.8");
}
END_TEST

START_TEST(response_wait_status)
{
	struct auth_reply r;

	ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\nAuth-Status: WAIT\r\n"
	                       "Auth-Wait: 1\r\n\r\n", 0, &r), 1);
	ck_assert_int_eq(r.status, AUTH_STATUS_WAIT);
}
END_TEST

START_TEST(response_incomplete)
{
	struct auth_reply r;

	ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n", 0, &r), 0);
	ck_assert_int_eq(parse("HTTP/1.", 0, &r), 0);
}
END_TEST

START_TEST(response_malformed)
{
	const char *bad[] = {
		"garbage\r\n\r\n",
		"HTTP/1.0 200 OK\r\nNo colon here\r\n\r\n",
		"HTTP/1.0 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n\r\n",
		"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: x.org\r\n"
		"Auth-Port: 143\r\n\r\n",
		"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 1.2.3.4\r\n"
		"Auth-Port: 99999\r\n\r\n",
		/* Issue 9, hole 5: no Auth-Status is no yes. */
		"HTTP/1.0 200 OK\r\nAuth-Server: 192.0.2.1\r\n"
		"Auth-Port: 143\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\n",
		/* Too long for the field: not cut to port 14 or to another
		 * address. */
		"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 1.2.3.4\r\n"
		"Auth-Port: 00000143\r\n\r\n",
		"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: "
		"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]5\r\n"
		"Auth-Port: 143\r\n\r\n",
		NULL,
	};
	struct auth_reply r;

	for (int i = 0; bad[i]; i++) {
		ck_assert_msg(parse(bad[i], 0, &r) == -1, "case %d", i);
		ck_assert_int_eq(r.status, AUTH_STATUS_TEMPFAIL);
		ck_assert_msg(r.why[0] != '\0', "case %d has no reason", i);
	}
}
END_TEST

/* Auth-IMAP-Deny longer than postern keeps: refused, not cut (a list
 * ending in "GETACL" cut to "GET" let GETACL through). */
START_TEST(response_deny_too_long)
{
	char text[1024], names[600];
	struct auth_reply r;

	memset(names, 'A', sizeof names - 1);
	names[sizeof names - 1] = '\0';
	snprintf(text, sizeof text, "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	         "Auth-Server: 1.2.3.4\r\nAuth-Port: 143\r\n"
	         "Auth-IMAP-Deny: %s\r\n\r\n", names);
	ck_assert_int_eq(parse(text, 0, &r), -1);
	ck_assert_int_eq(r.status, AUTH_STATUS_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(r.why, "Auth-IMAP-Deny"));
	names[sizeof r.deny - 1] = '\0';
	snprintf(text, sizeof text, "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	         "Auth-Server: 1.2.3.4\r\nAuth-Port: 143\r\n"
	         "Auth-IMAP-Deny: %s\r\n\r\n", names);
	ck_assert_int_eq(parse(text, 0, &r), 1);
	ck_assert_str_eq(r.deny, names);
}
END_TEST

/* An Auth-User or Auth-Pass longer than a credential: refused, not cut
 * to a prefix that logs in as someone else at the backend. */
START_TEST(response_credentials_too_long)
{
	static const char *const names[] = { "Auth-User", "Auth-Pass" };
	char text[1024], v[CRED_MAX + 1];
	struct auth_reply r;

	memset(v, 'a', sizeof v - 1);
	v[sizeof v - 1] = '\0';
	for (int i = 0; i < 2; i++) {
		snprintf(text, sizeof text, "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
		         "Auth-Server: 1.2.3.4\r\nAuth-Port: 143\r\n"
		         "Auth-Pass: x\r\n%s: %s\r\n\r\n", names[i], v);
		ck_assert_int_eq(parse(text, 0, &r), -1);
		ck_assert_ptr_nonnull(strstr(r.why, names[i]));
	}
}
END_TEST

START_TEST(response_needs_password_after_salted_method)
{
	struct auth_reply r;

	ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	                       "Auth-Server: 1.2.3.4\r\nAuth-Port: 143\r\n\r\n",
	                       1, &r), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auth_http");
	TCase *tc = tcase_create("protocol");

	tcase_add_test(tc, escape_like_nginx);
	tcase_add_test(tc, request_has_nginx_headers);
	tcase_add_test(tc, an_empty_subject_is_left_out);
	tcase_add_test(tc, request_with_salt_and_host);
	tcase_add_test(tc, request_smtp_none);
	tcase_add_test(tc, response_ok);
	tcase_add_test(tc, response_ipv6_bare_lf);
	tcase_add_test(tc, response_failure_with_wait);
	tcase_add_test(tc, response_wait_status);
	tcase_add_test(tc, response_incomplete);
	tcase_add_test(tc, response_malformed);
	tcase_add_test(tc, response_needs_password_after_salted_method);
	tcase_add_test(tc, response_deny_too_long);
	tcase_add_test(tc, response_credentials_too_long);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
