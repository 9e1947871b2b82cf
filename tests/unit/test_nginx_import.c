/* nginx's syntax read back (quotes, escapes, comments, blocks, errors
 * with their line) and the mail {} block as postern.conf: the example of
 * nginx's mail documentation, TLS, access rules, the proxy protocol, and
 * what is not carried over. */
#include "nginx_conf.h"
#include "nginx_import.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

static struct ngx_conf conf;
static struct import_result res;

static int parse(const char *text)
{
	return ngx_conf_parse(&conf, text, strlen(text));
}

static const char *import(const char *text)
{
	ck_assert_msg(parse(text) == 0, "%s", conf.why);
	ck_assert_msg(nginx_import(&conf, &res) == 0, "%s", res.why);
	return res.conf;
}

START_TEST(syntax)
{
	ck_assert_int_eq(parse("a b \"c d\" 'e;f' g\\ h; # x ; y\n"
	                       "blk { inner \"q\\\"t\" 'n\\n'; }\n"), 0);
	ck_assert_int_eq(conf.n, 3);
	ck_assert_str_eq(conf.d[0].name, "a");
	ck_assert_int_eq(conf.d[0].nargs, 4);
	ck_assert_str_eq(conf.d[0].args[1], "c d");
	ck_assert_str_eq(conf.d[0].args[2], "e;f");
	ck_assert_str_eq(conf.d[0].args[3], "g h");
	ck_assert(conf.d[1].block);
	ck_assert_int_eq(conf.d[2].parent, 1);
	ck_assert_int_eq(conf.d[2].line, 2);
	ck_assert_str_eq(conf.d[2].args[0], "q\"t");
	ck_assert_str_eq(conf.d[2].args[1], "n\n");
	ck_assert_int_eq(parse("word#notcomment x;"), 0);
	ck_assert_str_eq(conf.d[0].name, "word#notcomment");
}
END_TEST

START_TEST(syntax_errors_name_their_line)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "a;\nb", "line 2: the last directive has no ';'" },
		{ "a {\n b;\n", "line 3: a block is not closed" },
		{ "}\n", "line 1: '}' without its '{'" },
		{ "\n;", "line 2: ';' without a directive" },
		{ "a \"b;\n", "line 2: a quote is not closed" },
		{ "a { b }", "line 1: '}' after a directive without ';'" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(parse(bad[i].text), -1);
		ck_assert_str_eq(conf.why, bad[i].why);
	}
}
END_TEST

START_TEST(the_mail_documentation_example)
{
	const char *out = import(
		"worker_processes auto;\n"
		"events { worker_connections 1024; }\n"
		"mail {\n"
		"  server_name mail.example.com;\n"
		"  auth_http localhost:9000/cgi-bin/nginxauth.cgi;\n"
		"  imap_capabilities IMAP4rev1 UIDPLUS IDLE LITERAL+ QUOTA;\n"
		"  pop3_auth plain apop cram-md5;\n"
		"  smtp_capabilities \"SIZE 10485760\" ENHANCEDSTATUSCODES;\n"
		"  xclient off;\n"
		"  server { listen 25; protocol smtp; }\n"
		"  server { listen 110; protocol pop3; proxy_pass_error_message on; }\n"
		"  server { listen 143; protocol imap; }\n"
		"  server { listen 587; protocol smtp; }\n"
		"}\n");

	ck_assert(strstr(out, "server_name = \"mail.example.com\"\n"));
	ck_assert(strstr(out, "auth_http = \"localhost:9000/cgi-bin/nginxauth.cgi\"\n"));
	ck_assert(strstr(out, "imap_capabilities = {\"IMAP4rev1\", \"UIDPLUS\", "
	                      "\"IDLE\", \"LITERAL+\", \"QUOTA\"}\n"));
	ck_assert(strstr(out, "pop3_auth = {\"plain\", \"apop\", \"cram-md5\"}\n"));
	ck_assert(strstr(out, "smtp_capabilities = {\"SIZE 10485760\", "
	                      "\"ENHANCEDSTATUSCODES\"}\n"));
	ck_assert(strstr(out, "xclient = false\n"));
	ck_assert(strstr(out, "server smtp {\n    listen = \"25\"\n    protocol = smtp\n}"));
	ck_assert(strstr(out, "server pop3 {\n    listen = \"110\"\n    protocol = pop3\n"
	                      "    proxy_pass_error_message = true\n}"));
	ck_assert(strstr(out, "server submission {\n    listen = \"587\"\n"));
	ck_assert_int_eq(res.nunits, 4);
	ck_assert_str_eq(res.units[3].name, "submission");
	ck_assert(strstr(res.units[3].text, "ListenStream=587\n"));
	ck_assert(strstr(res.units[3].text, "FileDescriptorName=submission\n"));
	ck_assert(strstr(res.notes, "2 directive(s) outside mail {} were left alone"));
	ck_assert_int_eq(res.nnotes, 0);
}
END_TEST

START_TEST(tls_and_the_front_door)
{
	const char *out = import(
		"mail {\n"
		"  ssl_certificate a.pem; ssl_certificate b.pem;\n"
		"  ssl_certificate_key a.key; ssl_certificate_key b.key;\n"
		"  ssl_session_cache shared:x:10m;\n"
		"  ssl_session_tickets off;\n"
		"  error_log /var/log/mail.log crit;\n"
		"  resolver 127.0.0.53 [::1]:53 valid=30s;\n"
		"  server { listen 993 ssl; listen [::]:993 ssl; }\n"
		"  server { listen 10.0.0.1:1143 proxy_protocol rcvbuf=8k;\n"
		"           protocol imap; set_real_ip_from 10.0.0.0/8;\n"
		"           deny 192.0.2.1; allow all; starttls only; }\n"
		"  server { listen unix:/run/x.sock; protocol imap; }\n"
		"  server { listen 9999; }\n"
		"  server { listen 110; frobnicate on; }\n"
		"}\n");

	ck_assert(strstr(out, "ssl_certificate = {\"a.pem\", \"b.pem\"}\n"));
	ck_assert(strstr(out, "ssl_certificate_key = {\"a.key\", \"b.key\"}\n"));
	ck_assert(strstr(out, "ssl_session_tickets = false\n"));
	ck_assert(strstr(out, "error_log = \"/var/log/mail.log\"\nlog_level = \"error\"\n"));
	ck_assert(strstr(out, "resolver = {\"127.0.0.53\", \"[::1]:53\"}\n"));
	ck_assert(strstr(out, "server imaps {\n    listen = \"993 ssl\"\n    protocol = imap\n}"));
	ck_assert(strstr(out, "server imaps-993 {\n    listen = \"[::]:993 ssl\"\n"));
	ck_assert(strstr(out, "server imap {\n    listen = \"10.0.0.1:1143 proxy_protocol\"\n"
	                      "    protocol = imap\n"
	                      "    set_real_ip_from = {\"10.0.0.0/8\"}\n"
	                      "    deny(\"192.0.2.1\")\n    allow(\"all\")\n"
	                      "    starttls = \"only\"\n}"));
	ck_assert(strstr(out, "server pop3 {\n    listen = \"110\"\n    protocol = pop3\n}"));
	ck_assert(res.units[0].tls && !res.units[2].tls);
	ck_assert(strstr(res.units[2].text, "ListenStream=10.0.0.1:1143\n"));
	ck_assert(strstr(res.notes, "line 4: ssl_session_cache: there is no cache"));
	ck_assert(strstr(res.notes, "line 7: resolver: valid=30s:"));
	ck_assert(strstr(res.notes, "line 9: listen: rcvbuf=8k: set it in the socket unit"));
	ck_assert(strstr(res.notes, "line 12: listen: unix sockets"));
	ck_assert(strstr(res.notes, "line 13: listen: no protocol directive, and port 9999"));
	ck_assert(strstr(res.notes, "line 14: frobnicate: not a directive"));
}
END_TEST

START_TEST(no_mail_block)
{
	ck_assert_int_eq(parse("http { server { listen 80; } }"), 0);
	ck_assert_int_eq(nginx_import(&conf, &res), -1);
	ck_assert_str_eq(res.why, "no mail {} block");
}
END_TEST

START_TEST(quotes_survive_into_libconfuse)
{
	const char *out = import("mail { auth_http_header X-Key 'a\"b\\\\c'; "
	                         "server { listen 143; } }");

	ck_assert(strstr(out, "auth_http_header = {\"X-Key a\\\"b\\\\c\"}\n"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nginx_import");
	TCase *t = tcase_create("nginx_import");

	tcase_add_test(t, syntax);
	tcase_add_test(t, syntax_errors_name_their_line);
	tcase_add_test(t, the_mail_documentation_example);
	tcase_add_test(t, tls_and_the_front_door);
	tcase_add_test(t, no_mail_block);
	tcase_add_test(t, quotes_survive_into_libconfuse);
	suite_add_tcase(s, t);
	return run_suite(s);
}
