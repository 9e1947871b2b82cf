/* The configuration loader alone: two stand-in protocols and two
 * stand-in lookups take the place of the real tables, so no protocol,
 * session or network code is linked. */
#include "conf.h"
#include "conf_text.h"
#include "lookup.h"
#include "proto.h"
#include "sasl.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <unistd.h>

static int smtp_check(const struct server_conf *c, char *err, size_t size)
{
	if (c->lookup->checks_password || c->proxy_smtp_auth)
		return 0;
	snprintf(err, size, "stand-in smtp wants proxy_smtp_auth");
	return -1;
}

const struct protocol proto_imap = {
	.name = "imap",
	.default_capabilities = "{IMAP4rev1, UIDPLUS}",
	.default_auth = "{plain}",
	.default_client_buffer = "4k",
	.ports = { 143, 993, 0 },
	.auth_allowed = SASL_PLAIN | SASL_LOGIN | SASL_CRAM_MD5,
};
const struct protocol proto_smtp = {
	.name = "smtp",
	.default_auth = "{plain}",
	.default_client_buffer = "1k",
	.ports = { 25, 587, 0 },
	.auth_allowed = SASL_PLAIN | SASL_NONE,
	.check_conf = smtp_check,
};
const struct protocol *const protocols[] = { &proto_imap, &proto_smtp, NULL };

static const char *configured;   /* the value the chosen lookup took */

static int take(struct server_conf *c, const char *value, char *err,
                size_t size)
{
	(void)c;
	if (strcmp(value, "refuse") == 0) {
		snprintf(err, size, "stand-in lookup refuses");
		return -1;
	}
	configured = value;
	return 0;
}

static const struct lookup stand_in_http = {
	.directive = "auth_http", .configure = take, .checks_password = 1,
};
static const struct lookup stand_in_map = {
	.directive = "auth_map", .default_value = "/default.map",
	.configure = take, .checks_password = 0,
};
const struct lookup *const lookups[] = { &stand_in_http, &stand_in_map, NULL };

static char path[64];
static struct conf conf;
static char err[512];

static int load(const char *text)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/test_conf.%d", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	configured = NULL;
	return conf_load(path, &conf, err, sizeof err);
}

static void teardown(void)
{
	conf_free(&conf);
	unlink(path);
}

/* The error names the file and the line: "path:line: ...". */
static void assert_error_at(int line, const char *word)
{
	char where[96];

	snprintf(where, sizeof where, "%s:%d: ", path, line);
	ck_assert_msg(strncmp(err, where, strlen(where)) == 0,
	              "want %s..., got %s", where, err);
	ck_assert_msg(strstr(err, word), "want %s in %s", word, err);
}

START_TEST(defaults)
{
	const struct server_conf *s;

	ck_assert_int_eq(load("server a {\n listen = \"143\"\n}\n"), 0);
	s = conf_by_name(&conf, "a");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(s->protocol, &proto_imap);
	ck_assert_int_eq(s->timeout_ms, 60000);
	ck_assert_int_eq(s->proxy_timeout_ms, 24LL * 3600 * 1000);
	ck_assert_int_eq(s->auth_http_timeout_ms, 60000);
	ck_assert_int_eq(s->max_errors, 5);
	ck_assert_uint_eq(s->client_buffer, 4096);
	ck_assert_uint_eq(s->ncapabilities, 2);
	ck_assert_str_eq(s->capabilities[0], "IMAP4rev1");
	ck_assert_uint_eq(s->auth, SASL_PLAIN);
	ck_assert_ptr_eq(s->lookup, &stand_in_map);
	ck_assert_str_eq(configured, "/default.map");
	ck_assert_int_eq(s->log_level, LOG_INFO);
	ck_assert_str_eq(s->error_log, "auto");
	ck_assert_int_eq(s->ssl, 0);
	ck_assert_int_eq(s->starttls, STARTTLS_OFF);
	ck_assert_int_eq(s->proxy_ssl, PROXY_SSL_OFF);
	ck_assert_int_eq(s->xclient, 1);
	ck_assert_msg(strncmp(s->ssl_priority, "NORMAL:-VERS-ALL:+VERS-TLS1.2:"
	                      "+VERS-TLS1.3:", 43) == 0, "%s", s->ssl_priority);
}
END_TEST

START_TEST(sections_inherit_what_they_do_not_set)
{
	const struct server_conf *a, *b;

	ck_assert_int_eq(load("timeout = \"30s\"\n"
	                      "imap_capabilities = {\"IMAP4rev1\"}\n"
	                      "max_errors = 7\n"
	                      "server a {\n listen = \"143\"\n}\n"
	                      "server b {\n listen = \"1143\"\n"
	                      " protocol = \"imap\"\n timeout = \"10s\"\n"
	                      " imap_capabilities = {\"X\", \"Y\", \"Z\"}\n}\n"),
	                 0);
	a = conf_by_name(&conf, "a");
	b = conf_by_name(&conf, "b");
	ck_assert_int_eq(a->timeout_ms, 30000);
	ck_assert_int_eq(b->timeout_ms, 10000);
	ck_assert_int_eq(a->max_errors, 7);
	ck_assert_int_eq(b->max_errors, 7);
	ck_assert_uint_eq(a->ncapabilities, 1);
	ck_assert_uint_eq(b->ncapabilities, 3);
	ck_assert_str_eq(b->capabilities[2], "Z");
	ck_assert_ptr_eq(conf_by_port(&conf, 1143), b);
	ck_assert_ptr_eq(conf_by_port(&conf, 143), a);
}
END_TEST

START_TEST(the_lookup_comes_from_its_table)
{
	const struct server_conf *s;

	ck_assert_int_eq(load("auth_http = \"http://127.0.0.1:9/auth\"\n"
	                      "server a {\n listen = \"143\"\n}\n"), 0);
	s = conf_by_name(&conf, "a");
	ck_assert_ptr_eq(s->lookup, &stand_in_http);
	ck_assert_str_eq(configured, "http://127.0.0.1:9/auth");
	teardown();
	ck_assert_int_eq(load("auth_map = \"refuse\"\n"
	                      "server a {\n listen = \"143\"\n}\n"), -1);
	ck_assert_msg(strstr(err, "server a: stand-in lookup refuses"), "%s",
	              err);
}
END_TEST

START_TEST(the_protocol_checks_its_section)
{
	ck_assert_int_eq(load("server s {\n listen = \"587\"\n}\n"), -1);
	ck_assert_msg(strstr(err, "server s: stand-in smtp wants"), "%s", err);
	teardown();
	ck_assert_int_eq(load("server s {\n listen = \"587\"\n"
	                      " proxy_smtp_auth = true\n}\n"), 0);
	ck_assert_uint_eq(conf_by_name(&conf, "s")->client_buffer, 1024);
}
END_TEST

/* Each kind of bad value, in a section on line 3, after two comment
 * lines (libconfuse 3.3 counted each comment line three times). */
START_TEST(every_bad_value_names_file_and_line)
{
	static const struct {
		const char *line, *word;
	} bad[] = {
		{ "timeout = \"soon\"", "invalid duration" },
		{ "proxy_timeout = \"5 minutes\"", "invalid duration" },
		{ "auth_http_timeout = \"-1s\"", "invalid duration" },
		{ "smtp_greeting_delay = \"x\"", "invalid duration" },
		{ "ssl_session_timeout = \"5q\"", "invalid duration" },
		{ "imap_client_buffer = \"12\"", "invalid size" },
		{ "smtp_client_buffer = \"2m\"", "invalid size" },
		{ "max_errors = 0", "must be 1 to 1000" },
		{ "ssl_verify_depth = 5000", "must be 1 to 1000" },
		{ "imap_auth = {\"apop\"}", "unsupported method" },
		{ "smtp_auth = {\"bogus\"}", "unsupported method" },
		{ "log_level = \"loud\"", "unknown level" },
		{ "starttls = \"maybe\"", "want on, off or only" },
		{ "ssl_verify_client = \"yes\"", "want on, off, optional" },
		{ "proxy_ssl = \"always\"", "want on, off or starttls" },
		{ "auth_http_header = {\"NoValue\"}", "want \"Name value\"" },
		{ "listen = \"143 tls\"", "want [address:]port" },
		{ "protocol = \"nntp\"", "unknown protocol" },
		{ "no_such_directive = 1", "no_such_directive" },
		{ "xclient = perhaps", "xclient" },
		{ "listen = \"143 proxy\"", "want [address:]port" },
		{ "set_real_ip_from = {\"10.0.0.0/33\"}", "set_real_ip_from: want" },
		{ "allow(\"10.0.0.0/8\", \"x\")", "allow: want one" },
		{ "deny(\"unix:\")", "deny: want one" },
		{ "deny(\"somewhere\")", "deny: want one" },
		{ "proxy_protocol = \"v3\"", "want on, off, v1 or v2" },
		{ "resolver = {\"dns.example\"}", "resolver: want" },
		{ "resolver_timeout = \"often\"", "invalid duration" },
	};
	char text[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "# one\n// two\nserver a {\n"
		         " listen = \"143\"\n %s\n}\n", bad[i].line);
		ck_assert_msg(load(text) == -1, "accepted: %s", bad[i].line);
		assert_error_at(5, bad[i].word);
		teardown();
	}
}
END_TEST

START_TEST(a_bad_line_after_comments_is_named_right)
{
	ck_assert_int_eq(load("# one\n# two\nserver_name = \"x\" # three\n"
	                      "/* four\n five */\nbogus = 1\n"), -1);
	assert_error_at(6, "bogus");
}
END_TEST

START_TEST(comments_blanked_but_strings_kept)
{
	char text[] = "a = \"x#y // z\" # c\n"
	              "b = 'q#' // d\n"
	              "c = \"e\\\"#f\" /* g\n h */ i\n";
	const char *want = "a = \"x#y // z\"    \n"
	                   "b = 'q#'     \n"
	                   "c = \"e\\\"#f\"     \n      i\n";

	conf_text_blank_comments(text, strlen(text));
	ck_assert_str_eq(text, want);
}
END_TEST

/* allow and deny keep the order written, across the two directives; a
 * section with none of its own takes the global ones, as nginx's do. */
START_TEST(access_rules_keep_their_order_and_inherit)
{
	const struct server_conf *a, *b;

	ck_assert_msg(load("deny(\"10.0.0.0/8\")\n"
	                      "server a {\n listen = \"143 ssl proxy_protocol\"\n"
	                      " ssl_certificate = {c}\n ssl_certificate_key = {k}\n"
	                      " allow(\"192.168.1.0/24\")\n deny(192.168.0.0/16)\n"
	                      " allow(\"2001:db8::/32\")\n deny(\"all\")\n"
	                      " set_real_ip_from = {\"127.0.0.1\", \"unix:\"}\n"
	                      " resolver = {\"127.0.0.1:5353\", \"[::1]\"}\n"
	                      " proxy_protocol = v2\n}\n"
	                      "server b {\n listen = \"993\"\n}\n") == 0, "%s", err);
	a = conf_by_name(&conf, "a");
	b = conf_by_name(&conf, "b");
	ck_assert_uint_eq(a->naccess, 4);
	ck_assert(a->access[0].allow && !a->access[1].allow);
	ck_assert(a->access[2].allow && !a->access[3].allow);
	ck_assert_int_eq(a->access[1].cidr.bits, 16);
	ck_assert_int_eq(a->access[2].cidr.kind, CIDR_INET6);
	ck_assert_int_eq(a->access[3].cidr.kind, CIDR_ALL);
	ck_assert(a->ssl && a->proxy_protocol_in);
	ck_assert_uint_eq(a->nreal_ip_from, 2);
	ck_assert_int_eq(a->real_ip_from[1].kind, CIDR_UNIX);
	ck_assert_uint_eq(a->nresolvers, 2);
	ck_assert_int_eq(addr_port((struct sockaddr *)&a->resolvers[1].ss), 53);
	ck_assert_int_eq(a->proxy_protocol_out, 2);
	ck_assert_int_eq(a->resolver_timeout_ms, 30000);
	ck_assert(a->forward_client);
	ck_assert_uint_eq(b->naccess, 1);
	ck_assert(!b->access[0].allow);
	ck_assert(!b->ssl && !b->proxy_protocol_in);
	ck_assert_int_eq(b->proxy_protocol_out, 0);
}
END_TEST

START_TEST(missing_file_and_no_sections)
{
	ck_assert_int_eq(conf_load("/nonexistent/postern.conf", &conf, err,
	                           sizeof err), -1);
	ck_assert_msg(strstr(err, "cannot read the file"), "%s", err);
	ck_assert_int_eq(load("timeout = \"5s\"\n"), -1);
	ck_assert_msg(strstr(err, "no server section"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, sections_inherit_what_they_do_not_set);
	tcase_add_test(tc, the_lookup_comes_from_its_table);
	tcase_add_test(tc, the_protocol_checks_its_section);
	tcase_add_test(tc, every_bad_value_names_file_and_line);
	tcase_add_test(tc, a_bad_line_after_comments_is_named_right);
	tcase_add_test(tc, comments_blanked_but_strings_kept);
	tcase_add_test(tc, missing_file_and_no_sections);
	tcase_add_test(tc, access_rules_keep_their_order_and_inherit);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
