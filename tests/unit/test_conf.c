/* The configuration loader alone: two stand-in protocols and two
 * stand-in lookups take the place of the real tables, so no protocol,
 * session or network code is linked. */
#include "activate.h"
#include "conf_image.h"
#include "conf_load.h"
#include "conf_text.h"
#include "lookup.h"
#include "proto.h"
#include "sasl.h"

#include "run_suite.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* Nothing in the text is expanded from the reader's environment: a
 * value is what the file says, and ${CREDENTIALS_DIRECTORY} is left for
 * each connection (tls_path.h). */
START_TEST(nothing_is_expanded_from_the_environment)
{
	char out[64];

	setenv("POSTERN_TEST_SECRET", "leaked", 1);
	ck_assert_int_eq(load("auth_http_header = {\"X-Key: k3y-${HOME}\"}\n"
	                      "server a {\n listen = \"143\"\n"
	                      " ssl_certificate = {\"${CREDENTIALS_DIRECTORY}/c\"}\n"
	                      " ssl_certificate_key = {'${CREDENTIALS_DIRECTORY}/k'}\n"
	                      " server_name = \"a\\${POSTERN_TEST_SECRET}\"\n}\n"),
	                 0);
	ck_assert_msg(strstr(conf.servers[0].auth_http_headers,
	                     "X-Key: k3y-${HOME}\r\n"), "%s",
	              conf.servers[0].auth_http_headers);
	ck_assert_str_eq(conf.servers[0].ssl_certificate[0],
	                 "${CREDENTIALS_DIRECTORY}/c");
	ck_assert_str_eq(conf.servers[0].ssl_certificate_key[0],
	                 "${CREDENTIALS_DIRECTORY}/k");
	ck_assert_str_eq(conf.servers[0].server_name, "a${POSTERN_TEST_SECRET}");
	/* The escaping alone: quoted dollars only, escapes kept. */
	ck_assert_uint_eq(conf_text_keep_dollars("a=\"$x\\$\" b='$' $", 17, out),
	                  18);
	ck_assert_str_eq(out, "a=\"\\$x\\$\" b='$' $");
}
END_TEST

/* libconfuse takes the end of the file for the end of a section: an
 * unclosed one is refused, at the line of its "{". */
START_TEST(an_unclosed_section_is_refused)
{
	ck_assert_int_eq(load("timeout = \"1s\"\nserver a {\n listen = \"143\"\n"),
	                 -1);
	ck_assert_msg(strstr(err, ":2: this \"{\" is never closed"), "%s", err);
	ck_assert_int_eq(conf_text_unclosed("a { b = {\"}\", '{'} }", 20), 0);
	ck_assert_int_eq(conf_text_unclosed("a {\n b = {1\n}", 14), 1);
	ck_assert_int_eq(conf_text_unclosed("x = \"\\\"{\"\n", 9), 0);
}
END_TEST

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
		{ "ssl_protocols = {\"TLSv1.2\", \"SSLv9\"}", "ssl_protocols: unknown" },
		{ "ssl_ciphers = \"NOPE\"", "no GnuTLS equivalent" },
		{ "access_rules = {\"allow 10.0.0.0/8\", \"x\"}", "access_rules: want" },
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


/* ---- the image (conf_image.c) ---- */

/* Every field of both sections ends up other than zero in one of them
 * (booleans that default to on are left so), so that a field the image
 * forgets shows as a zero after the round trip. */
static const char RICH[] =
	"server_name = \"mx.example\"\n"
	"auth_http_header = {\"X-Auth-Key: secret\", \"X-Two: 2\"}\n"
	"auth_http_timeout = 7s\ntimeout = 9s\nlogin_timeout = 11s\n"
	"proxy_timeout = 13s\nsmtp_greeting_delay = 1s\n"
	"deny(\"10.0.0.0/8\")\nallow(\"all\")\n"
	"set_real_ip_from = {\"127.0.0.1\", \"unix:\"}\n"
	"resolver = {\"127.0.0.1:5353\", \"[::1]\"}\nresolver_timeout = 3s\n"
	"proxy_protocol = v1\n"
	"imap_deny_commands = {\"ENABLE\"}\nimap_hide_capabilities = {\"ID\"}\n"
	"relay_program = \"/r\"\nguard_relay_program = \"/g\"\n"
	"tls_relay_program = \"/tr\"\n"
	"tls_program = \"/t\"\nerror_log = \"/l\"\nlog_level = debug\n"
	"max_errors = 3\n"
	"server a {\n protocol = imap\n listen = \"1143 ssl proxy_protocol\"\n"
	" auth_http = \"http://127.0.0.1:9000/auth\"\n"
	" imap_capabilities = {IMAP4rev1, IDLE, XYZ}\n imap_auth = {plain, login}\n"
	" imap_client_buffer = 8k\n"
	" ssl_certificate = {c1, c2}\n ssl_certificate_key = {k1, k2}\n"
	" ssl_password_file = pw\n ssl_dhparam = dh\n ssl_verify_client = optional\n"
	" ssl_client_certificate = cc\n ssl_trusted_certificate = tc\n"
	" ssl_crl = crl\n ssl_verify_depth = 4\n"
	" ssl_session_ticket_key = {t1}\n ssl_session_timeout = 2m\n"
	" ssl_protocols = {TLSv1.3}\n auth_http_pass_client_cert = on\n"
	" proxy_ssl = starttls\n proxy_ssl_verify = on\n"
	" proxy_ssl_trusted_certificate = ptc\n proxy_ssl_name = backend.example\n"
	" proxy_pass_error_message = on\n}\n"
	"server b {\n protocol = smtp\n listen = \"2525\"\n proxy_smtp_auth = on\n"
	" starttls = only\n ssl_certificate = {c}\n ssl_certificate_key = {k}\n}\n";

static size_t image_of(const struct conf *c, unsigned char *buf, size_t size)
{
	size_t n = conf_image_encode(c, buf, size);

	ck_assert_uint_gt(n, 0);
	return n;
}

/* Every string field, compared by value and then cleared, so that what
 * is left of the two sections can be compared byte for byte. */
#define STRINGS(X) X(name) X(server_name) X(auth_http) X(auth_http_headers) \
	X(auth_map) X(ssl_password_file) X(ssl_dhparam) \
	X(ssl_client_certificate) X(ssl_trusted_certificate) X(ssl_crl) \
	X(tls_program) X(proxy_ssl_trusted_certificate) X(proxy_ssl_name) \
	X(relay_program) X(guard_relay_program) X(tls_relay_program) \
	X(error_log)
#define VECTORS(X) X(capabilities, CAPS_MAX) X(ssl_certificate, CERTS_MAX) \
	X(ssl_certificate_key, CERTS_MAX) X(ssl_session_ticket_key, CERTS_MAX)

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void assert_same_section(const struct server_conf *want,
                                const struct server_conf *got)
{
	struct server_conf a, b;

	memcpy(&a, want, sizeof a);
	memcpy(&b, got, sizeof b);
#define CMP(f) ck_assert_msg(same_str(a.f, b.f), #f); a.f = b.f = NULL;
#define CMPV(f, n) for (size_t i = 0; i < n; i++) { CMP(f[i]) }
	STRINGS(CMP)
	VECTORS(CMPV)
	ck_assert_msg(memcmp(&a, &b, sizeof a) == 0,
	              "a field the image does not carry");
}

START_TEST(the_image_carries_every_field)
{
	static unsigned char buf[1 << 16], again[1 << 16];
	struct conf back;
	const char *why = NULL;
	size_t n;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	n = image_of(&conf, buf, sizeof buf);
	ck_assert_int_eq(conf_image_decode(buf, n, &back, &why), 0);
	ck_assert_uint_eq(back.nservers, conf.nservers);
	for (size_t i = 0; i < conf.nservers; i++)
		assert_same_section(&conf.servers[i], &back.servers[i]);
	ck_assert_ptr_eq(back.servers[0].protocol, &proto_imap);
	ck_assert_ptr_eq(back.servers[1].protocol, &proto_smtp);
	ck_assert_ptr_eq(back.servers[0].lookup, &stand_in_http);
	ck_assert_ptr_eq(back.servers[1].lookup, &stand_in_map);
	/* Written again, the same bytes. */
	ck_assert_uint_eq(conf_image_encode(&back, again, sizeof again), n);
	ck_assert(memcmp(buf, again, n) == 0);
	conf_free(&back);
}
END_TEST

/* An upgrade's new build reads no image of the old one's: refused with
 * a reason, which the connection's log line gives with "run postern -A". */
START_TEST(another_versions_image_is_refused)
{
	static unsigned char buf[1 << 16];
	unsigned char *version;
	struct conf back;
	const char *why = NULL;
	size_t n;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	n = image_of(&conf, buf, sizeof buf);
	version = memmem(buf, n, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
	ck_assert_ptr_nonnull(version);
	version[0] ^= 1;
	ck_assert_int_eq(conf_image_decode(buf, n, &back, &why), -1);
	ck_assert_str_eq(why, "made by another version of postern");
	ck_assert_ptr_null(back.servers);
	/* Too small a buffer: no image, rather than half of one. */
	ck_assert_uint_eq(conf_image_encode(&conf, buf, n - 1), 0);
}
END_TEST

/* Two fields of one kind in each other's places (a build whose struct
 * was reordered under the same version) make another fingerprint, and an
 * image that carries it is refused, never misread. */
START_TEST(a_swapped_field_image_is_refused)
{
	static unsigned char buf[1 << 16];
	struct conf back;
	const char *why = NULL;
	uint32_t print, swapped;
	size_t n;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	n = image_of(&conf, buf, sizeof buf);
	/* timeout_ms and login_timeout_ms: both int64_t durations. */
	swapped = conf_image_fingerprint_swapped(11, 12);
	memcpy(&print, buf + 12, sizeof print);
	ck_assert_uint_ne(swapped, print);
	ck_assert_uint_eq(conf_image_fingerprint_swapped(11, 11), print);
	memcpy(buf + 12, &swapped, sizeof swapped);
	ck_assert_int_eq(conf_image_decode(buf, n, &back, &why), -1);
	ck_assert_str_eq(why, "made by another version of postern");
}
END_TEST

/* Between an upgrade's unpacking and its postern -A, a connection meets
 * the old build's image: it waits for the new one (written here by a
 * child while the parent waits), and gives up at the deadline with the
 * reason when none comes. Any other failure does not wait. */
START_TEST(a_connection_waits_out_an_upgrade)
{
	static unsigned char good[1 << 16], old[1 << 16];
	char image[96];
	struct conf back;
	unsigned char *version;
	size_t n;
	pid_t child;
	int status;
	FILE *f;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	n = image_of(&conf, good, sizeof good);
	memcpy(old, good, n);
	version = memmem(old, n, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
	ck_assert_ptr_nonnull(version);
	version[0] ^= 1;
	ck_assert_int_eq(conf_image_path(path, image, sizeof image), 0);
	f = fopen(image, "w");
	fwrite(old, 1, n, f);
	fclose(f);
	ck_assert_int_eq(conf_image_load(image, &back, err, sizeof err),
	                 CONF_IMAGE_OTHER_BUILD);
	ck_assert_int_eq(conf_image_load_waiting(image, &back, err, sizeof err,
	                                         150), CONF_IMAGE_OTHER_BUILD);
	ck_assert_msg(strstr(err, "made by another version of postern; run "
	                     "postern -A"), "%s", err);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		char staged[112];

		usleep(300 * 1000);
		snprintf(staged, sizeof staged, "%s.new", image);
		f = fopen(staged, "w");
		fwrite(good, 1, n, f);
		fclose(f);
		_exit(rename(staged, image) == 0 ? 0 : 1);
	}
	ck_assert_msg(conf_image_load_waiting(image, &back, err, sizeof err,
	                                      10000) == 0, "%s", err);
	ck_assert_str_eq(back.servers[0].server_name, "mx.example");
	conf_free(&back);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(image);
	ck_assert_int_eq(conf_image_load_waiting(image, &back, err, sizeof err,
	                                         10000), -1);
	unlink(image);
}
END_TEST

/* Every cut and every flipped byte: refused or read whole, never read
 * past the end (the sanitizer build runs this too). */
START_TEST(a_damaged_image_is_refused)
{
	static unsigned char buf[1 << 16], copy[1 << 16];
	struct conf back;
	const char *why;
	size_t n;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	n = image_of(&conf, buf, sizeof buf);
	for (size_t cut = 0; cut < n; cut++) {
		unsigned char *exact = malloc(cut + 1);

		memcpy(exact, buf, cut);
		why = NULL;
		ck_assert_int_eq(conf_image_decode(exact, cut, &back, &why), -1);
		ck_assert_ptr_nonnull(why);
		free(exact);
	}
	for (size_t at = 0; at < n; at++) {
		memcpy(copy, buf, n);
		copy[at] ^= 0x80;
		if (conf_image_decode(copy, n, &back, &why) == 0)
			conf_free(&back);
	}
	memcpy(copy, buf, n);
	copy[0] = 'x';
	ck_assert_int_eq(conf_image_decode(copy, n, &back, &why), -1);
	ck_assert_str_eq(why, "not a postern configuration image");
	memcpy(copy, buf, n);
	copy[n] = 0;
	ck_assert_int_eq(conf_image_decode(copy, n + 1, &back, &why), -1);
	ck_assert_str_eq(why, "bytes after the last section");
}
END_TEST

/* The file: read as written, whatever happens to the text since; a
 * damaged or missing one is refused with what to run. */
START_TEST(the_image_file_is_read_as_written)
{
	char image[96], why[256];
	struct conf back;
	struct stat st;
	FILE *f;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(conf_image_path(path, image, sizeof image), 0);
	ck_assert_msg(conf_image_write(&conf, image, &st, why, sizeof why) == 0,
	              "%s", why);
	f = fopen(path, "a");
	fputs("server broken {\n", f);
	fclose(f);
	ck_assert_int_eq(conf_image_load(image, &back, err, sizeof err), 0);
	/* The image owns the strings: they point into what was read. */
	ck_assert_ptr_nonnull(back.owner);
	ck_assert_str_eq(back.servers[0].server_name, "mx.example");
	conf_free(&back);
	f = fopen(image, "w");
	fputs("garbage, not an image", f);
	fclose(f);
	ck_assert_int_eq(conf_image_load(image, &back, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not a postern configuration image; run "
	                     "postern -A"), "%s", err);
	unlink(image);
	ck_assert_int_eq(conf_image_load(image, &back, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "No such file or directory; run postern -A"),
	              "%s", err);
	ck_assert_int_eq(conf_image_path(path, image, 4), -1);
}
END_TEST

/* The reload gate's copy has the edited file's owner, group and mode
 * (the service user reads it as it reads the edited file); as root, an
 * owner and group that are not the process's. */
START_TEST(the_active_copy_has_the_texts_owner_group_and_mode)
{
	char active[80], staged[128], why[256];
	struct stat text, copy;

	ck_assert_msg(load(RICH) == 0, "%s", err);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(stat(path, &text), 0);
	snprintf(active, sizeof active, "%s.active", path);
	ck_assert_msg(activate_stage(path, active, staged, sizeof staged, why,
	                             sizeof why) == 0, "%s", why);
	ck_assert_msg(activate_commit(staged, active, why, sizeof why) == 0,
	              "%s", why);
	ck_assert_int_eq(stat(active, &copy), 0);
	ck_assert_uint_eq(copy.st_uid, text.st_uid);
	ck_assert_uint_eq(copy.st_gid, text.st_gid);
	ck_assert_uint_eq(copy.st_mode & 07777, 0640);
	snprintf(staged, sizeof staged, "%s%s", active, CONF_IMAGE_SUFFIX);
	ck_assert_msg(conf_image_write(&conf, staged, &text, why, sizeof why) == 0,
	              "%s", why);
	ck_assert_int_eq(stat(staged, &copy), 0);
	ck_assert_uint_eq(copy.st_uid, text.st_uid);
	ck_assert_uint_eq(copy.st_gid, text.st_gid);
	ck_assert_uint_eq(copy.st_mode & 07777, 0640);
	unlink(staged);
	unlink(active);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, nothing_is_expanded_from_the_environment);
	tcase_add_test(tc, an_unclosed_section_is_refused);
	tcase_add_test(tc, sections_inherit_what_they_do_not_set);
	tcase_add_test(tc, the_lookup_comes_from_its_table);
	tcase_add_test(tc, the_protocol_checks_its_section);
	tcase_add_test(tc, every_bad_value_names_file_and_line);
	tcase_add_test(tc, a_bad_line_after_comments_is_named_right);
	tcase_add_test(tc, comments_blanked_but_strings_kept);
	tcase_add_test(tc, missing_file_and_no_sections);
	tcase_add_test(tc, access_rules_keep_their_order_and_inherit);
	tcase_add_test(tc, the_image_carries_every_field);
	tcase_add_test(tc, another_versions_image_is_refused);
	tcase_add_test(tc, a_swapped_field_image_is_refused);
	tcase_add_test(tc, a_damaged_image_is_refused);
	tcase_add_test(tc, the_image_file_is_read_as_written);
	tcase_add_test(tc, a_connection_waits_out_an_upgrade);
	tcase_add_test(tc, the_active_copy_has_the_texts_owner_group_and_mode);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
