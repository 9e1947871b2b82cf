/* nginx's syntax and the import, on any bytes. The reader keeps to its
 * bounds (every directive's parent comes before it, every word lies in
 * the word store). An import that succeeds is read back by a grammar of
 * its own here: postern.conf holds only comments, sections and directive
 * lines whose names postern has and whose strings are closed, exactly as
 * many directives as the importer meant to write; each socket unit holds
 * only section headers, comments and keys it may have, as many as meant:
 * Accept=no, its own name, and a shipped spawner service named only when
 * the socket is not the shipped one of that name.
 * So no value can add a directive or a unit line. Text after a line
 * "--" is the file every include reads. */
#include "fuzz.h"
#include "nginx_conf.h"
#include "nginx_import.h"

#include <stdio.h>
#include <string.h>

static struct ngx_conf conf;
static struct import_result res;
static const char *included;
static size_t included_len;

static int inside(const char *w)
{
	return w >= conf.words && w < conf.words + conf.used;
}

static int include(struct ngx_conf *c, const char *pattern, int parent,
                   const struct ngx_directive *at, void *ctx)
{
	(void)pattern;
	(void)at;
	(void)ctx;
	return ngx_conf_parse_file(c, "included.conf", included, included_len,
	                           parent);
}

/* The directives the importer may write. */
static const char *const names[] = {
	"server_name", "timeout", "max_errors", "resolver", "resolver_timeout",
	"error_log", "log_level", "auth_http", "auth_http_header",
	"auth_http_timeout", "auth_http_pass_client_cert",
	"proxy_pass_error_message", "proxy_protocol", "proxy_smtp_auth",
	"proxy_timeout", "xclient", "set_real_ip_from", "ssl", "starttls",
	"ssl_certificate", "ssl_certificate_key", "ssl_password_file",
	"ssl_priority", "ssl_dhparam", "ssl_verify_client", "ssl_verify_depth",
	"ssl_client_certificate", "ssl_trusted_certificate", "ssl_crl",
	"ssl_session_tickets", "ssl_session_ticket_key", "ssl_session_timeout",
	"imap_auth", "imap_capabilities", "imap_client_buffer", "pop3_auth",
	"pop3_capabilities", "smtp_auth", "smtp_capabilities",
	"smtp_client_buffer", "smtp_greeting_delay", "listen", "protocol",
	NULL,
};

static const char *const keys[] = {
	"Documentation", "ListenStream", "BindIPv6Only", "Backlog",
	"ReceiveBuffer", "SendBuffer", "Accept", "FileDescriptorName",
	"Service", "KeepAlive", "KeepAliveTimeSec", "KeepAliveIntervalSec",
	"KeepAliveProbes", "WantedBy", NULL,
};

/* The shipped spawner services a socket may hand its port to. */
static const char *const shipped[] = {
	"imap", "imaps", "pop3", "pop3s", "smtp", "smtps", "submission", NULL,
};

/* The unit being read, and what its keys said. */
static const struct import_unit *unit;
static int accept_no, fd_named, service_named;

static int listed(const char *const *list, const char *p, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && strncmp(*list, p, n) == 0)
			return 1;
	return 0;
}

/* A closed "..." as libconfuse reads it; the text after it. */
static const char *quoted(const char *p, const char *end)
{
	FUZZ_ASSERT(p < end && *p == '"');
	for (p++; p < end && *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			FUZZ_ASSERT(p < end && (*p == '"' || *p == '\\'));
		}
		FUZZ_ASSERT((unsigned char)*p >= 0x20);
	}
	FUZZ_ASSERT(p < end);
	return p + 1;
}

static size_t span(const char *p, const char *end, const char *set)
{
	size_t n = 0;

	while (p + n < end && p[n] && strchr(set, p[n]))
		n++;
	return n;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz0123456789_"

/* One line of postern.conf; 1 when it is a directive. */
static int conf_line(const char *p, const char *end)
{
	size_t n;

	if (p == end || *p == '#')
		return 0;
	if (end - p == 1 && *p == '}')
		return 0;
	if (strncmp(p, "server ", 7) == 0) {
		n = span(p + 7, end, LOWER "-");
		FUZZ_ASSERT(n > 0 && p + 7 + n + 2 == end &&
		            strncmp(p + 7 + n, " {", 2) == 0);
		return 1;
	}
	if (strncmp(p, "    ", 4) == 0)
		p += 4;
	n = span(p, end, LOWER);
	if (n == 5 && (strncmp(p, "allow", 5) == 0) && p[5] == '(') {
		p = quoted(p + 6, end);
	} else if (n == 4 && strncmp(p, "deny", 4) == 0 && p[4] == '(') {
		p = quoted(p + 5, end);
	} else {
		FUZZ_ASSERT(listed(names, p, n));
		p += n;
		FUZZ_ASSERT(end - p > 3 && strncmp(p, " = ", 3) == 0);
		p += 3;
		if (*p == '"') {
			FUZZ_ASSERT(quoted(p, end) == end);
		} else if (*p == '{') {
			for (p++; *p != '}';) {
				p = quoted(p, end);
				if (*p == ',')
					p += 2;
			}
			FUZZ_ASSERT(p + 1 == end);
		} else {
			FUZZ_ASSERT(p + span(p, end, LOWER) == end);
		}
		return 1;
	}
	FUZZ_ASSERT(p + 1 == end && *p == ')');
	return 1;
}

static int is(const char *p, const char *end, const char *want)
{
	return (size_t)(end - p) == strlen(want) &&
	       strncmp(p, want, strlen(want)) == 0;
}

/* Accept=no (the spawner accepts), FileDescriptorName= the section, and
 * Service= a shipped service, only for a socket not named as one. */
static void value_of(const char *k, size_t n, const char *v, const char *end)
{
	char want[96];

	if (n == 6 && strncmp(k, "Accept", 6) == 0) {
		FUZZ_ASSERT(is(v, end, "no"));
		accept_no++;
	} else if (n == 18 && strncmp(k, "FileDescriptorName", 18) == 0) {
		FUZZ_ASSERT(is(v, end, unit->name));
		fd_named++;
	} else if (n == 7 && strncmp(k, "Service", 7) == 0) {
		snprintf(want, sizeof want, "postern-%s.service", unit->service);
		FUZZ_ASSERT(is(v, end, want));
		FUZZ_ASSERT(strcmp(unit->name, unit->service) != 0);
		service_named++;
	}
}

static int unit_line(const char *p, const char *end)
{
	size_t n;

	for (const char *q = p; q < end; q++)
		FUZZ_ASSERT((unsigned char)*q >= 0x20);
	if (p == end || *p == '#' || strncmp(p, "Description=", 12) == 0)
		return 0;
	if (*p == '[') {
		FUZZ_ASSERT((end - p == 6 && strncmp(p, "[Unit]", 6) == 0) ||
		            (end - p == 8 && strncmp(p, "[Socket]", 8) == 0) ||
		            (end - p == 9 && strncmp(p, "[Install]", 9) == 0));
		return 0;
	}
	n = span(p, end, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456");
	FUZZ_ASSERT(listed(keys, p, n) && p[n] == '=');
	value_of(p, n, p + n + 1, end);
	return 1;
}

static int lines(const char *text, int (*line)(const char *, const char *))
{
	int count = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');

		FUZZ_ASSERT(nl);
		count += line(p, nl);
		p = nl + 1;
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct import_options o = { "/etc/nginx/" };
	const char *text = (const char *)data, *sep;
	size_t len = size;

	sep = memmem(text, size, "\n--\n", 4);
	included = sep ? sep + 4 : "";
	included_len = sep ? size - (size_t)(sep + 4 - text) : 0;
	if (sep)
		len = (size_t)(sep - text);
	ngx_conf_init(&conf, include, NULL);
	if (ngx_conf_parse_file(&conf, "nginx.conf", text, len, -1) < 0) {
		FUZZ_ASSERT(strchr(conf.why, ':'));
		return 0;
	}
	FUZZ_ASSERT(conf.n <= NGX_DIRECTIVES_MAX && conf.used <= NGX_WORDS_BYTES);
	for (int i = 0; i < conf.n; i++) {
		FUZZ_ASSERT(conf.d[i].parent < i);
		FUZZ_ASSERT(conf.d[i].parent < 0 || conf.d[conf.d[i].parent].block);
		FUZZ_ASSERT(inside(conf.d[i].name));
		FUZZ_ASSERT(strcmp(conf.d[i].name, "include") != 0);
		for (int a = 0; a < conf.d[i].nargs; a++)
			FUZZ_ASSERT(inside(conf.d[i].args[a]));
	}
	if (nginx_import(&conf, &o, &res) < 0) {
		FUZZ_ASSERT(res.why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(res.conf_len < sizeof res.conf);
	FUZZ_ASSERT(strlen(res.conf) == res.conf_len);
	FUZZ_ASSERT(lines(res.conf, conf_line) == res.ndirectives);
	FUZZ_ASSERT(res.nunits <= IMPORT_UNITS_MAX);
	for (int i = 0; i < res.nunits; i++) {
		unit = &res.units[i];
		accept_no = fd_named = service_named = 0;
		FUZZ_ASSERT(lines(res.units[i].text, unit_line) == res.units[i].nkeys);
		FUZZ_ASSERT(accept_no == 1 && fd_named == 1);
		FUZZ_ASSERT(service_named ==
		            (strcmp(unit->name, unit->service) != 0));
		FUZZ_ASSERT(listed(shipped, unit->service, strlen(unit->service)));
		FUZZ_ASSERT(res.units[i].port >= 1 && res.units[i].port <= 65535);
	}
	return 0;
}
