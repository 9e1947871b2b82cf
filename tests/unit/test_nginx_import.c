/* nginx's syntax read back (quotes, escapes, comments, blocks, include,
 * errors with their file and line) and the mail {} block as postern.conf
 * and socket units: the example of nginx's mail documentation, the shapes
 * of real configurations (internal and public listeners, included TLS
 * settings, relative paths, OpenSSL cipher lists, listen pairs, ssl on
 * with starttls), values that are not what they claim, and what is not
 * carried over. */
#include "nginx_conf.h"
#include "nginx_import.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static struct ngx_conf conf;
static struct import_result res;
static const struct import_options opts = { "/etc/nginx/" };

/* Included files, by name, for the include hook. */
static const struct {
	const char *name, *text;
} files[] = {
	{ "/etc/nginx/tls.conf", "ssl_certificate ssl/mail.crt;\n"
	                         "ssl_certificate_key /etc/ssl/mail.key;\n"
	                         "ssl_session_cache shared:x:1m;\n" },
	{ "/etc/nginx/bad.conf", "\n'open;\n" },
	{ "/etc/nginx/self.conf", "include self.conf;\n" },
	{ "/etc/nginx/server.conf", "server { listen 993 ssl; }\n" },
};

static int include(struct ngx_conf *c, const char *pattern, int parent,
                   const struct ngx_directive *at, void *ctx)
{
	char path[256];

	(void)ctx;
	snprintf(path, sizeof path, "/etc/nginx/%s", pattern);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (strcmp(files[i].name, path) == 0)
			return ngx_conf_parse_file(c, path, files[i].text,
			                           strlen(files[i].text), parent);
	snprintf(c->why, sizeof c->why, "%s:%d: include: %s: no such file",
	         c->files[at->file], at->line, path);
	return -1;
}

static int parse(const char *text)
{
	ngx_conf_init(&conf, include, NULL);
	return ngx_conf_parse_file(&conf, "nginx.conf", text, strlen(text), -1);
}

static const char *import(const char *text)
{
	ck_assert_msg(parse(text) == 0, "%s", conf.why);
	ck_assert_msg(nginx_import(&conf, &opts, &res) == 0, "%s", res.why);
	return res.conf;
}

static const char *refused(const char *text)
{
	ck_assert_msg(parse(text) == 0, "%s", conf.why);
	ck_assert_msg(nginx_import(&conf, &opts, &res) == -1, "accepted:\n%s",
	              res.conf);
	return res.why;
}

static const struct import_unit *unit_named(const char *name)
{
	for (int i = 0; i < res.nunits; i++)
		if (strcmp(res.units[i].name, name) == 0)
			return &res.units[i];
	ck_abort_msg("no unit %s", name);
	return NULL;
}

#define HAS(hay, needle) ck_assert_msg(strstr((hay), (needle)), \
	"no \"%s\" in:\n%s", (needle), (hay))
#define HASNT(hay, needle) ck_assert_msg(!strstr((hay), (needle)), \
	"\"%s\" in:\n%s", (needle), (hay))

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

START_TEST(syntax_errors_name_their_file_and_line)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "a;\nb", "nginx.conf:2: the last directive has no ';'" },
		{ "a {\n b;\n", "nginx.conf:3: a block is not closed" },
		{ "}\n", "nginx.conf:1: '}' without its '{'" },
		{ "\n;", "nginx.conf:2: ';' without a directive" },
		{ "a \"b;\n", "nginx.conf:2: a quote is not closed" },
		{ "a { b }", "nginx.conf:1: '}' after a directive without ';'" },
		{ "a \"x\\ny\" \nb", "nginx.conf:2: the last directive has no ';'" },
		{ "mail {\n include bad.conf; }", "/etc/nginx/bad.conf:3: a quote "
		  "is not closed" },
		{ "mail {\n\n include nothere.conf; }", "nginx.conf:3: include: "
		  "/etc/nginx/nothere.conf: no such file" },
		{ "include self.conf;", "/etc/nginx/self.conf:1: include: nested "
		  "more than 8 deep (does a file include itself?)" },
		{ "include a b;", "nginx.conf:1: include: want one file or "
		  "pattern" },
		{ "include a { }", "nginx.conf:1: include: not a block" },
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

	HAS(out, "server_name = \"mail.example.com\"\n");
	HAS(out, "auth_http = \"localhost:9000/cgi-bin/nginxauth.cgi\"\n");
	HAS(out, "imap_capabilities = {\"IMAP4rev1\", \"UIDPLUS\", "
	         "\"IDLE\", \"LITERAL+\", \"QUOTA\"}\n");
	HAS(out, "pop3_auth = {\"plain\", \"apop\", \"cram-md5\"}\n");
	HAS(out, "smtp_capabilities = {\"SIZE 10485760\", "
	         "\"ENHANCEDSTATUSCODES\"}\n");
	HAS(out, "xclient = false\n");
	HAS(out, "server smtp {\n    listen = \"25\"\n    protocol = smtp\n}");
	HAS(out, "server pop3 {\n    listen = \"110\"\n    protocol = pop3\n"
	         "    proxy_pass_error_message = true\n}");
	HAS(out, "server submission {\n    listen = \"587\"\n");
	ck_assert_int_eq(res.nunits, 4);
	ck_assert_str_eq(res.units[3].name, "submission");
	ck_assert_int_eq(res.units[3].port, 587);
	/* As nginx: "listen 587" is IPv4's wildcard, nothing more. */
	HAS(res.units[3].text, "ListenStream=0.0.0.0:587\n");
	HASNT(res.units[3].text, "BindIPv6Only");
	HAS(res.units[3].text, "Accept=no\nFileDescriptorName=submission\n");
	HAS(res.notes, "2 directive(s) outside mail {} were left alone");
	ck_assert_int_eq(res.nnotes, 0);
}
END_TEST

/* Item 1: Mailu's internal listeners come first; the public ones on the
 * standard ports still get the shipped sockets' names, and every section
 * says its port. */
START_TEST(standard_ports_take_the_standard_names)
{
	const char *out = import(
		"mail {\n"
		"  auth_http 127.0.0.1:8000/auth;\n"
		"  server { listen 10143; protocol imap; }\n"
		"  server { listen 10025; protocol smtp; }\n"
		"  server { listen 143; protocol imap; starttls only; }\n"
		"  server { listen 25; protocol smtp; smtp_auth none; }\n"
		"  server { listen 10.0.0.1:1143; protocol imap; }\n"
		"}\n");

	HAS(out, "server imap-10143 {\n    listen = \"10143\"\n");
	HAS(out, "server smtp-10025 {\n    listen = \"10025\"\n");
	HAS(out, "server imap {\n    listen = \"143\"\n    protocol = imap\n"
	         "    starttls = \"only\"\n");
	HAS(out, "server smtp {\n    listen = \"25\"\n");
	HAS(out, "server imap-1143 {\n    listen = \"10.0.0.1:1143\"\n");
	ck_assert_int_eq(unit_named("imap")->port, 143);
	ck_assert_int_eq(unit_named("imap-10143")->port, 10143);
	HAS(unit_named("smtp")->text, "ListenStream=0.0.0.0:25\n");
	HAS(unit_named("imap-1143")->text, "ListenStream=10.0.0.1:1143\n");
	/* Without a section on 143, a section elsewhere keeps the name. */
	out = import("mail { server { listen 1143; protocol imap; } }");
	HAS(out, "server imap {\n    listen = \"1143\"\n");
}
END_TEST

/* Item 2: include is read where it stands, in its scope, and every
 * message names the file and line it came from. */
START_TEST(include_is_read_where_it_stands)
{
	const char *out = import(
		"mail {\n"
		"  include tls.conf;\n"
		"  include server.conf;\n"
		"  server { listen 143; protocol imap; include tls.conf; }\n"
		"}\n");

	HAS(out, "ssl_certificate = {\"/etc/nginx/ssl/mail.crt\"}\n"
	         "ssl_certificate_key = {\"/etc/ssl/mail.key\"}\n");
	HAS(out, "server imaps {\n    listen = \"993 ssl\"\n    protocol = imap\n");
	HAS(out, "server imap {\n    listen = \"143\"\n    protocol = imap\n"
	         "    ssl_certificate = {\"/etc/nginx/ssl/mail.crt\"}\n");
	HAS(res.notes, "/etc/nginx/tls.conf:3: ssl_session_cache: there is no "
	               "cache");
	HASNT(res.notes, "include");
	HAS(res.units[0].text, "# From nginx's listen at "
	                       "/etc/nginx/server.conf:1, by");
}
END_TEST

/* Item 3: relative file names are nginx's configuration directory's. */
START_TEST(relative_paths_are_read_against_the_prefix)
{
	static const struct import_options other = { "/srv/nginx" };
	const char *out = import(
		"mail {\n"
		"  ssl_certificate ssl/wildcard.crt;\n"
		"  ssl_certificate_key /etc/ssl/private/wildcard.key;\n"
		"  ssl_dhparam dh.pem;\n"
		"  error_log logs/mail.log;\n"
		"  server { listen 993 ssl; ssl_client_certificate ca/clients.pem;"
		" ssl_verify_client on; }\n"
		"}\n");

	HAS(out, "ssl_certificate = {\"/etc/nginx/ssl/wildcard.crt\"}\n");
	HAS(out, "ssl_certificate_key = {\"/etc/ssl/private/wildcard.key\"}\n");
	HAS(out, "ssl_dhparam = \"/etc/nginx/dh.pem\"\n");
	HAS(out, "    ssl_client_certificate = \"/etc/nginx/ca/clients.pem\"\n");
	HASNT(out, "error_log");
	HAS(res.notes, "nginx.conf:2: ssl_certificate: ssl/wildcard.crt is read "
	               "as /etc/nginx/ssl/wildcard.crt");
	HAS(res.notes, "nginx.conf:5: error_log: logs/mail.log: nginx reads it "
	               "against its -p prefix");
	ck_assert_int_eq(parse("mail { ssl_certificate a.pem; server { listen 993 "
	                       "ssl; } }"), 0);
	ck_assert_int_eq(nginx_import(&conf, &other, &res), 0);
	HAS(res.conf, "ssl_certificate = {\"/srv/nginx/a.pem\"}\n");
}
END_TEST

/* Item 4: an OpenSSL list as a GnuTLS priority, item by item. */
START_TEST(openssl_cipher_lists_become_a_priority)
{
	const char *out = import(
		"mail {\n"
		"  ssl_protocols TLSv1.2 TLSv1.3;\n"
		"  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-"
		"SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-"
		"AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384;\n"
		"  server { listen 993 ssl; }\n"
		"  server { listen 143; }\n"
		"}\n");

	/* DHE needs ssl_dhparam in nginx; the plain server has no TLS. */
	HAS(out, "server imaps {\n    listen = \"993 ssl\"\n    protocol = imap\n"
	         "    ssl_priority = \"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"
	         "-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:+AES-256-GCM:"
	         "+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD\"\n}");
	HAS(out, "server imap {\n    listen = \"143\"\n    protocol = imap\n}");
	HASNT(out, "ssl_ciphers");
	HAS(res.notes, "nginx.conf:3: ssl_ciphers: DHE suites: left out, as "
	               "nginx offers them only with ssl_dhparam");

	/* nginx's default list, with ssl_dhparam and the server's order. */
	out = import("mail { ssl_dhparam /dh.pem; ssl_prefer_server_ciphers on;\n"
	             "server { listen 993 ssl; } }");
	HAS(out, "-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:+RSA:-CIPHER-ALL:"
	         "+AES-256-GCM:+CHACHA20-POLY1305:+AES-256-CCM-8:+AES-256-CCM:"
	         "+AES-128-GCM:+AES-128-CCM-8:+AES-128-CCM:+AES-256-CBC:"
	         "+CAMELLIA-256-CBC:+AES-128-CBC:+CAMELLIA-128-CBC:-MAC-ALL:+AEAD:"
	         "+SHA384:+SHA256:+SHA1:%SERVER_PRECEDENCE\"");

	/* Aliases, '+' combinations, exclusions; what has no meaning. */
	out = import("mail {\n ssl_protocols SSLv3 TLSv1 TLSv1.1 TLSv1.2;\n"
	             " ssl_ciphers 'EECDH+AESGCM:AES256+EECDH:!aNULL:!MD5:!RC4:"
	             "GOST2012-KUZNYECHIK-KUZNYECHIKOMAC:@STRENGTH';\n"
	             " server { listen 993 ssl; } }");
	HAS(out, "ssl_priority = \"NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:"
	         "+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:+AES-256-GCM:+AES-256-CCM-8:"
	         "+AES-256-CCM:+AES-128-GCM:+AES-256-CBC:-MAC-ALL:+AEAD:+SHA384:"
	         "+SHA1\"");
	HAS(res.notes, "nginx.conf:2: ssl_protocols: SSLv3: left out");
	HAS(res.notes, "nginx.conf:2: ssl_protocols: TLSv1: left out");
	HAS(res.notes, "nginx.conf:2: ssl_protocols: TLSv1.1: left out");
	HAS(res.notes, "nginx.conf:3: ssl_ciphers: GOST2012-KUZNYECHIK-"
	               "KUZNYECHIKOMAC: no cipher suite that GnuTLS has too");
	HASNT(res.notes, "RC4");
	/* The product adds nothing here: each pair is in the list. */
	HASNT(res.notes, "offered too");

	out = import("mail { ssl_ciphers AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384;"
	             " ssl_protocols TLSv1.2; server { listen 993 ssl; } }");
	HAS(res.notes, "offered too: ECDHE-RSA-AES128-SHA AES256-GCM-SHA384");

	ck_assert_str_eq(refused("mail { ssl_protocols TLSv1.4;\n"
	                         " server { listen 993 ssl; } }"),
	                 "nginx.conf:1: ssl_protocols: ssl_protocols: \"TLSv1.4\" "
	                 "is not one of SSLv2 SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3");
	HAS(refused("mail { ssl_protocols TLSv1.2; ssl_ciphers NOTHING;\n"
	            " server { listen 993 ssl; } }"),
	    "nginx.conf:1: ssl_ciphers: ssl_ciphers: no suite GnuTLS has");
}
END_TEST

/* Item 5: nginx -t's refusal, with its line; across scopes nginx takes
 * it (implicit TLS wins), and so does the import. */
START_TEST(ssl_on_with_starttls_is_refused)
{
	ck_assert_str_eq(refused("mail {\n server { listen 1143; protocol imap;\n"
	                         "  ssl on;\n  starttls on; } }"),
	                 "nginx.conf:4: starttls: \"starttls\" directive "
	                 "conflicts with \"ssl on\" (nginx -t refuses it: "
	                 "implicit TLS or STARTTLS, not both)");
	ck_assert_str_eq(refused("mail {\n starttls only;\n ssl on;\n"
	                         " server { listen 1143; protocol imap; } }"),
	                 "nginx.conf:3: ssl: \"ssl\" directive conflicts with "
	                 "\"starttls\" (nginx -t refuses it: implicit TLS or "
	                 "STARTTLS, not both)");
	import("mail { ssl on; server { listen 1143; protocol imap; "
	       "starttls on; } }");
	HAS(res.conf, "ssl = true\n");
	import("mail { ssl off; starttls on; server { listen 143; } }");
}
END_TEST

/* Item 6: the common pair is one socket for both families, and says so. */
START_TEST(a_listen_pair_is_one_dual_stack_socket)
{
	const char *out = import(
		"mail {\n server { listen 110;\n listen [::]:110; protocol pop3; }\n"
		" server { listen [::]:995 ssl; protocol pop3; }\n"
		" server { listen 10.0.0.1:143; listen [2001:db8::1]:143; }\n"
		" server { listen 25 backlog=64 rcvbuf=8k; }\n"
		" server { listen [::]:587 ipv6only=off; }\n"
		"}\n");

	ck_assert_int_eq(res.nunits, 5);
	HAS(out, "server pop3 {\n    listen = \"110\"\n");
	HAS(res.units[0].text, "ListenStream=110\nBindIPv6Only=both\n");
	ck_assert_ptr_null(strstr(res.units[0].text, "ListenStream=[::]"));
	HAS(res.notes, "nginx.conf:3: listen: with nginx.conf:2: one socket for "
	               "IPv4 and IPv6 (ListenStream=110, BindIPv6Only=both)");
	HAS(out, "server pop3s {\n    listen = \"[::]:995 ssl\"\n");
	HAS(res.units[1].text, "ListenStream=[::]:995\nBindIPv6Only=ipv6-only\n");
	HAS(res.units[2].text, "ListenStream=10.0.0.1:143\n"
	                       "ListenStream=[2001:db8::1]:143\n");
	HAS(res.units[3].text, "ListenStream=0.0.0.0:25\nBacklog=64\n"
	                       "ReceiveBuffer=8192\n");
	HAS(res.units[4].text, "ListenStream=[::]:587\nBindIPv6Only=both\n");

	/* The pair in two servers: two sockets, each family its own. */
	import("mail { server { listen 110; protocol pop3; }\n"
	       "server { listen [::]:110; protocol pop3; } }");
	ck_assert_int_eq(res.nunits, 2);
	HAS(res.units[0].text, "ListenStream=0.0.0.0:110\n");
	HAS(res.units[1].text, "ListenStream=[::]:110\nBindIPv6Only=ipv6-only\n");
	HAS(res.notes, "sections pop3 and pop3-110 share port 110");

	/* A wildcard and an address: one socket in nginx. */
	import("mail { server { listen 143; listen 127.0.0.1:143; } }");
	ck_assert_int_eq(res.nunits, 1);
	HAS(res.notes, "nginx.conf:1: listen: the wildcard listen on this port "
	               "serves this address too");
	HAS(refused("mail { server { listen 143; }\n"
	            "server { listen 127.0.0.1:143; } }"),
	    "nginx.conf:2: listen: nginx serves this and nginx.conf:1 from one "
	    "socket");
	HAS(refused("mail { server { listen 143; }\nserver { listen *:143; } }"),
	    "nginx.conf:2: listen: duplicate address and port pair");
}
END_TEST

/* Item 7: what a value may be is checked, and what is written is quoted:
 * no value can add a directive or a unit line. */
START_TEST(values_are_checked_and_quoted)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "mail { server { listen \"127.0.0.1:143\\\"\\nrelay_program = "
		  "\\\"/tmp/evil\"; } }", "listen: a control character" },
		{ "mail { server { listen 143 \"ssl\\nExecStartPre=/bin/x\"; } }",
		  "listen: a control character" },
		{ "mail { server { listen 1143; protocol \"imap\\nrelay_program = "
		  "/tmp/evil\"; } }", "server: protocol: want imap" },
		{ "mail { server { listen 1143; protocol \"imap relay\"; } }",
		  "server: protocol: want imap" },
		{ "mail { server { listen evil.example:143; } }",
		  "not an IP address" },
		{ "mail { server { listen 143 reuseport; } }",
		  "\"reuseport\": not a parameter of nginx's mail listen" },
		{ "mail { server { listen 143; } server { protocol imap; } }",
		  "server: no \"listen\" is defined for server" },
		{ "mail { server { listen 9999; } }", "unknown mail protocol" },
		{ "mail { ssl_certificate \"a.pem\\nb\"; }", "a control character" },
		{ "mail { xclient yes; }", "xclient: \"yes\": not on or off" },
		{ "mail { timeout \"5s\\\"\"; }", "timeout: \"5s\"\": not a duration" },
		{ "mail { timeout 5s; timeout 6s; }", "timeout: is duplicate" },
		{ "mail { starttls maybe; }", "not one of its words" },
		{ "mail { allow \"all\\\")\\nrelay_program(\"; }", "allow: want one" },
		{ "mail { resolver dns.example; }", "not an IP address" },
		{ "mail { auth_http_header X-A; }", "want a name and a value" },
		{ "mail { listen 143; }", "listen: only in a server block" },
		{ "mail { protocol imap; }", "protocol: only in a server block" },
	};
	const char *out;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = refused(bad[i].text);

		ck_assert_msg(strncmp(why, "nginx.conf:1: ", 14) == 0, "%s", why);
		HAS(why, bad[i].why);
	}
	out = import("mail { auth_http_header X-Key 'a\"b\\\\c';\n"
	             "imap_capabilities 'X\"}, relay_program = \"/tmp/evil';\n"
	             "server { listen 143; } }");
	HAS(out, "auth_http_header = {\"X-Key a\\\"b\\\\c\"}\n");
	HAS(out, "imap_capabilities = {\"X\\\"}, relay_program = \\\"/tmp/evil\"}\n");
	/* Every directive line is counted, for the fuzz target's oracle. */
	ck_assert_int_eq(res.ndirectives, 5);
}
END_TEST

/* Item 11 (part): stderr is postern's stderr, not a file of that name. */
START_TEST(error_log_stderr_and_syslog)
{
	const char *out = import("mail { error_log /dev/stderr info; "
	                         "server { listen 143; } }");

	HAS(out, "error_log = \"stderr\"\nlog_level = \"info\"\n");
	HASNT(out, "/dev/stderr");
	HAS(res.notes, "error_log: written as stderr");
	out = import("mail { error_log syslog:server=10.0.0.1 crit; "
	             "server { listen 143; } }");
	HAS(out, "error_log = \"syslog\"\nlog_level = \"error\"\n");
	out = import("mail { error_log /var/log/mail.log; error_log stderr; "
	             "server { listen 143; } }");
	HAS(out, "error_log = \"/var/log/mail.log\"\n");
	HAS(res.notes, "the first error_log is carried over");
	/* nginx's documentation example logs its mail sessions to the
	 * top-level error_log: said, as it is not carried over. */
	out = import("error_log /var/log/nginx/error.log info;\n"
	             "mail { server { listen 143; } }");
	HASNT(out, "error_log");
	HAS(res.notes, "nginx.conf:1: error_log: nginx's mail sessions logged "
	    "here");
	import("error_log /var/log/nginx/error.log;\n"
	       "mail { error_log stderr; server { listen 143; } }");
	HASNT(res.notes, "mail sessions logged here");
}
END_TEST

START_TEST(what_is_not_carried_over)
{
	import("mail {\n"
	       "  ssl_session_cache shared:x:10m;\n"
	       "  resolver 127.0.0.53 [::1]:53 valid=30s;\n"
	       "  server { listen unix:/run/x.sock; listen 1143; protocol imap; }\n"
	       "  server { listen 110; frobnicate on; }\n"
	       "}\n");
	HAS(res.conf, "resolver = {\"127.0.0.53\", \"[::1]:53\"}\n");
	HAS(res.notes, "nginx.conf:2: ssl_session_cache: there is no cache");
	HAS(res.notes, "nginx.conf:3: resolver: valid=30s:");
	HAS(res.notes, "nginx.conf:4: listen: unix sockets");
	HAS(res.notes, "nginx.conf:5: frobnicate: not a directive");
}
END_TEST

/* The shipped units' shape: each socket is Accept=no and hands its port to
 * a shipped postern-spawn service, which carries the hardening and the
 * limits; no service file is written. A section named as the shipped
 * socket replaces it; another names the shipped service of its protocol
 * and TLS with Service=. */
START_TEST(sockets_hand_off_to_the_shipped_spawners)
{
	static const char *const gone[] = {
		"\nAccept=yes", "\nMaxConnections", "\nTriggerLimitIntervalSec",
		"\n[Service]", "\nExecStart",
	};
	const struct import_unit *u;

	import("mail {\n"
	       "  server { listen 10143; protocol imap; }\n"
	       "  server { listen 143; listen [::]:143; protocol imap; }\n"
	       "  server { listen 2465 ssl backlog=64; protocol smtp; }\n"
	       "  server { listen 10.0.0.1:587; protocol smtp; }\n"
	       "  server { listen 10.0.0.2:587; protocol smtp; }\n"
	       "}\n");
	ck_assert_int_eq(res.nunits, 5);
	for (int i = 0; i < res.nunits; i++) {
		char fd_name[96];

		HAS(res.units[i].text, "\n[Socket]\n");
		HAS(res.units[i].text, "\nAccept=no\n");
		snprintf(fd_name, sizeof fd_name, "\nFileDescriptorName=%s\n",
		         res.units[i].name);
		HAS(res.units[i].text, fd_name);
		HAS(res.units[i].text, "\nKeepAlive=yes\n");
		HAS(res.units[i].text, "\n[Install]\nWantedBy=sockets.target\n");
		for (size_t k = 0; k < sizeof gone / sizeof gone[0]; k++)
			HASNT(res.units[i].text, gone[k]);
	}
	u = unit_named("imap");
	ck_assert_str_eq(u->service, "imap");
	HASNT(u->text, "Service=");
	HAS(u->text, "ListenStream=143\nBindIPv6Only=both\nBacklog=1024\n");
	HAS(u->text, "In place of the shipped postern-imap.socket");
	u = unit_named("imap-10143");
	ck_assert_str_eq(u->service, "imap");
	HAS(u->text, "FileDescriptorName=imap-10143\n"
	             "Service=postern-imap.service\n");
	/* Implicit TLS elsewhere than 465: smtps's service, postern-tls. */
	u = unit_named("smtps");
	ck_assert_int_eq(u->tls, 1);
	ck_assert_str_eq(u->service, "smtps");
	HAS(u->text, "Backlog=64\n");
	HASNT(u->text, "Backlog=1024");
	HAS(u->text, "accepts here and starts postern-tls\n");
	u = unit_named("submission-587");
	HAS(u->text, "Service=postern-submission.service\n");
	ck_assert_str_eq(unit_named("submission")->service, "submission");
	HAS(res.notes, "sections submission and submission-587 share port 587");
	/* Every key line counted, for the fuzz target's oracle. */
	ck_assert_int_eq(unit_named("imap")->nkeys, 11);
	ck_assert_int_eq(unit_named("imap-10143")->nkeys, 11);
}
END_TEST

/* nginx's one limit, its total, is compared with the spawner's. */
START_TEST(the_total_limit_is_compared)
{
	import("worker_processes 4;\nevents { worker_connections 2048; }\n"
	       "mail { server { listen 143; } }\n");
	HAS(res.notes, "nginx.conf:2: worker_connections: nginx took up to "
	               "4096 mail sessions (two connections each); each shipped "
	               "postern-NAME.service takes 512 live sessions");
	import("worker_processes auto;\nevents { worker_connections 4096; }\n"
	       "mail { server { listen 143; } }\n");
	HAS(res.notes, "up to 2048 mail sessions per worker process");
	/* nginx's own defaults (512 connections, one worker) take fewer. */
	import("events { worker_connections 1024; }\n"
	       "mail { server { listen 143; } }\n");
	HASNT(res.notes, "worker_connections");
}
END_TEST

/* Item 9: the import says what the resolver will do; resolver off is
 * nginx's default, and cannot be said in one postern section under a
 * global resolver where it matters (SMTP). */
START_TEST(the_resolver_says_what_it_will_do)
{
	import("mail {\n  resolver 127.0.0.53;\n"
	       "  server { listen 143; protocol imap; }\n"
	       "  server { listen 25; protocol smtp; }\n}\n");
	HAS(res.conf, "resolver = {\"127.0.0.53\"}\n");
	HASNT(res.conf, "resolver_imap_pop3");
	HAS(res.notes, "nginx.conf:2: resolver: asked for the client's name in "
	               "SMTP sections only, as nginx does");
	HAS(res.notes, "resolver_imap_pop3 = true would look their clients up "
	               "too, each login waiting up to resolver_timeout");
	/* Once, though it serves two sections. */
	ck_assert_int_eq(res.nnotes, 1);

	import("mail { resolver off; server { listen 25; } }");
	HASNT(res.conf, "resolver");
	HAS(res.notes, "nginx.conf:1: resolver: off: nginx's default");
	import("mail { resolver 127.0.0.53; server { listen 143; protocol imap;"
	       " resolver off; } }");
	HAS(res.notes, "resolver: off: nginx's default");
	HAS(refused("mail { resolver 127.0.0.53;\nserver { listen 25; "
	            "protocol smtp; resolver off; } }"),
	    "nginx.conf:2: resolver: off under the mail block's resolver "
	    "(nginx.conf:1)");
}
END_TEST

START_TEST(no_mail_block)
{
	ck_assert_int_eq(parse("http { server { listen 80; } }"), 0);
	ck_assert_int_eq(nginx_import(&conf, &opts, &res), -1);
	ck_assert_str_eq(res.why, "no mail {} block");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nginx_import");
	TCase *t = tcase_create("nginx_import");

	tcase_add_test(t, syntax);
	tcase_add_test(t, syntax_errors_name_their_file_and_line);
	tcase_add_test(t, the_mail_documentation_example);
	tcase_add_test(t, standard_ports_take_the_standard_names);
	tcase_add_test(t, include_is_read_where_it_stands);
	tcase_add_test(t, relative_paths_are_read_against_the_prefix);
	tcase_add_test(t, openssl_cipher_lists_become_a_priority);
	tcase_add_test(t, ssl_on_with_starttls_is_refused);
	tcase_add_test(t, a_listen_pair_is_one_dual_stack_socket);
	tcase_add_test(t, values_are_checked_and_quoted);
	tcase_add_test(t, error_log_stderr_and_syslog);
	tcase_add_test(t, what_is_not_carried_over);
	tcase_add_test(t, sockets_hand_off_to_the_shipped_spawners);
	tcase_add_test(t, the_resolver_says_what_it_will_do);
	tcase_add_test(t, the_total_limit_is_compared);
	tcase_add_test(t, no_mail_block);
	suite_add_tcase(s, t);
	return run_suite(s);
}
