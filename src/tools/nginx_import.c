#include "nginx_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_STR,          /* name = "word" */
	K_WORD,         /* name = word (protocol) */
	K_BOOL,         /* on|off -> true|false */
	K_LIST,         /* name = {"a", "b"}, every occurrence adding */
	K_HEADER,       /* auth_http_header Name Value -> list of "Name Value" */
	K_ACCESS,       /* allow/deny x -> allow("x") */
	K_SSL,          /* ssl on (obsolete form of listen ... ssl) */
	K_ERROR_LOG,    /* error_log file [level] */
	K_RESOLVER,     /* resolver addr... [valid=] [ipv6=] */
	K_LISTEN,       /* handled by the section writer */
	K_SKIP,         /* not carried over; reason says why */
};

struct rule {
	const char *nginx;
	enum kind kind;
	const char *reason;       /* K_SKIP only */
};

/* nginx's mail modules (core, auth_http, proxy, realip, ssl, imap, pop3,
 * smtp), by the name postern shares with them. */
static const struct rule rules[] = {
	{ "server_name", K_STR, NULL },
	{ "protocol", K_WORD, NULL },
	{ "listen", K_LISTEN, NULL },
	{ "timeout", K_STR, NULL },
	{ "max_errors", K_STR, NULL },
	{ "resolver", K_RESOLVER, NULL },
	{ "resolver_timeout", K_STR, NULL },
	{ "error_log", K_ERROR_LOG, NULL },
	{ "auth_http", K_STR, NULL },
	{ "auth_http_header", K_HEADER, NULL },
	{ "auth_http_timeout", K_STR, NULL },
	{ "auth_http_pass_client_cert", K_BOOL, NULL },
	{ "proxy_pass_error_message", K_BOOL, NULL },
	{ "proxy_protocol", K_STR, NULL },
	{ "proxy_smtp_auth", K_BOOL, NULL },
	{ "proxy_timeout", K_STR, NULL },
	{ "xclient", K_BOOL, NULL },
	{ "set_real_ip_from", K_LIST, NULL },
	{ "allow", K_ACCESS, NULL },
	{ "deny", K_ACCESS, NULL },
	{ "ssl", K_SSL, NULL },
	{ "starttls", K_STR, NULL },
	{ "ssl_certificate", K_LIST, NULL },
	{ "ssl_certificate_key", K_LIST, NULL },
	{ "ssl_password_file", K_STR, NULL },
	{ "ssl_protocols", K_LIST, NULL },
	{ "ssl_ciphers", K_STR, NULL },
	{ "ssl_dhparam", K_STR, NULL },
	{ "ssl_verify_client", K_STR, NULL },
	{ "ssl_verify_depth", K_STR, NULL },
	{ "ssl_client_certificate", K_STR, NULL },
	{ "ssl_trusted_certificate", K_STR, NULL },
	{ "ssl_crl", K_STR, NULL },
	{ "ssl_session_tickets", K_BOOL, NULL },
	{ "ssl_session_ticket_key", K_LIST, NULL },
	{ "ssl_session_timeout", K_STR, NULL },
	{ "imap_auth", K_LIST, NULL },
	{ "imap_capabilities", K_LIST, NULL },
	{ "imap_client_buffer", K_STR, NULL },
	{ "pop3_auth", K_LIST, NULL },
	{ "pop3_capabilities", K_LIST, NULL },
	{ "smtp_auth", K_LIST, NULL },
	{ "smtp_capabilities", K_LIST, NULL },
	{ "smtp_client_buffer", K_STR, NULL },
	{ "smtp_greeting_delay", K_STR, NULL },
	{ "proxy_buffer", K_SKIP, "postern-relay moves bytes with splice(2) "
	  "through kernel pipes: there is no buffer to size" },
	{ "ssl_session_cache", K_SKIP, "there is no cache shared between "
	  "processes; postern resumes sessions with tickets "
	  "(ssl_session_tickets, ssl_session_ticket_key)" },
	{ "ssl_prefer_server_ciphers", K_SKIP, "GnuTLS's priority string "
	  "orders ciphers (ssl_priority)" },
	{ "ssl_ecdh_curve", K_SKIP, "name the groups in ssl_priority (for "
	  "example NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1)" },
	{ "ssl_conf_command", K_SKIP, "an OpenSSL command; postern uses "
	  "GnuTLS (ssl_priority)" },
	{ "so_keepalive", K_SKIP, "the socket units set KeepAlive=yes" },
	{ "proxy", K_SKIP, "obsolete in nginx; postern always proxies" },
};

struct out {
	char *buf;
	size_t len, size;
	int full;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->full = 1;
		return;
	}
	o->len += (size_t)n;
}

/* A word inside "...": libconfuse reads \" and \\ there. */
static void put_quoted(struct out *o, const char *w)
{
	put(o, "\"");
	for (; *w; w++) {
		if (*w == '"' || *w == '\\')
			put(o, "\\");
		if ((unsigned char)*w >= 0x20)
			put(o, "%c", *w);
	}
	put(o, "\"");
}

struct importer {
	const struct ngx_conf *c;
	struct import_result *r;
	struct out conf, notes;
};

static void note(struct importer *im, const struct ngx_directive *d,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(struct importer *im, const struct ngx_directive *d,
                 const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	put(&im->notes, "line %d: %s: %s\n", d->line, d->name, why);
	im->r->nnotes++;
}

static const struct rule *rule_of(const char *name)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (strcmp(rules[i].nginx, name) == 0)
			return &rules[i];
	return NULL;
}

static int is_on(const char *w)
{
	return strcmp(w, "on") == 0;
}

/* Every occurrence of name among the children of parent, as one list;
 * written where the first one stands. */
static void put_list(struct importer *im, int parent, const char *name,
                     const char *indent, int header)
{
	int first = 1;

	put(&im->conf, "%s%s = {", indent, name);
	for (int i = 0; i < im->c->n; i++) {
		const struct ngx_directive *d = &im->c->d[i];

		if (d->parent != parent || strcmp(d->name, name) != 0)
			continue;
		if (header) {
			char h[1024];

			snprintf(h, sizeof h, "%s %s", d->nargs > 0 ? d->args[0] : "",
			         d->nargs > 1 ? d->args[1] : "");
			put(&im->conf, "%s", first ? "" : ", ");
			put_quoted(&im->conf, h);
			first = 0;
			continue;
		}
		for (int a = 0; a < d->nargs; a++) {
			put(&im->conf, "%s", first ? "" : ", ");
			put_quoted(&im->conf, d->args[a]);
			first = 0;
		}
	}
	put(&im->conf, "}\n");
}

static int seen_before(const struct importer *im, int index)
{
	const struct ngx_directive *d = &im->c->d[index];

	for (int i = 0; i < index; i++)
		if (im->c->d[i].parent == d->parent &&
		    strcmp(im->c->d[i].name, d->name) == 0)
			return 1;
	return 0;
}

static const char *level_of(const char *nginx_level)
{
	static const char *const map[][2] = {
		{ "debug", "debug" }, { "info", "info" }, { "notice", "notice" },
		{ "warn", "warn" }, { "error", "error" }, { "crit", "error" },
		{ "alert", "error" }, { "emerg", "error" },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i][0], nginx_level) == 0)
			return map[i][1];
	return NULL;
}

/* One directive of a scope (the mail block or a server block). */
static void directive(struct importer *im, int index, const char *indent)
{
	const struct ngx_directive *d = &im->c->d[index];
	const struct rule *r = rule_of(d->name);

	if (!r) {
		note(im, d, d->block ? "a block postern does not have"
		                     : "not a directive of nginx's mail modules "
		                       "that postern knows");
		return;
	}
	if (d->block) {
		note(im, d, "a block where a directive was expected");
		return;
	}
	if (d->nargs == 0 && r->kind != K_SKIP) {
		note(im, d, "no value");
		return;
	}
	switch (r->kind) {
	case K_STR:
	case K_WORD:
		if (d->nargs > 1)
			note(im, d, "only the first value is carried over");
		put(&im->conf, "%s%s = ", indent, d->name);
		if (r->kind == K_WORD)
			put(&im->conf, "%s\n", d->args[0]);
		else {
			put_quoted(&im->conf, d->args[0]);
			put(&im->conf, "\n");
		}
		break;
	case K_BOOL:
		put(&im->conf, "%s%s = %s\n", indent, d->name,
		    is_on(d->args[0]) ? "true" : "false");
		break;
	case K_LIST:
	case K_HEADER:
		if (!seen_before(im, index))
			put_list(im, d->parent, d->name, indent, r->kind == K_HEADER);
		break;
	case K_ACCESS:
		put(&im->conf, "%s%s(", indent, d->name);
		put_quoted(&im->conf, d->args[0]);
		put(&im->conf, ")\n");
		break;
	case K_SSL:
		put(&im->conf, "%sssl = %s\n", indent,
		    is_on(d->args[0]) ? "true" : "false");
		break;
	case K_ERROR_LOG:
		if (strncmp(d->args[0], "syslog:", 7) == 0 ||
		    strcmp(d->args[0], "stderr") == 0) {
			note(im, d, "postern logs to syslog, the journal or a file: "
			            "error_log = \"syslog\" or \"auto\"");
		} else {
			put(&im->conf, "%serror_log = ", indent);
			put_quoted(&im->conf, d->args[0]);
			put(&im->conf, "\n");
		}
		if (d->nargs > 1) {
			const char *level = level_of(d->args[1]);

			if (level)
				put(&im->conf, "%slog_level = \"%s\"\n", indent, level);
			else
				note(im, d, "level %s is not one postern has", d->args[1]);
		}
		break;
	case K_RESOLVER: {
		int first = 1;

		put(&im->conf, "%sresolver = {", indent);
		for (int a = 0; a < d->nargs; a++) {
			if (strchr(d->args[a], '=')) {
				note(im, d, "%s: postern keeps no answers and asks for "
				            "both families", d->args[a]);
				continue;
			}
			put(&im->conf, "%s", first ? "" : ", ");
			put_quoted(&im->conf, d->args[a]);
			first = 0;
		}
		put(&im->conf, "}\n");
		break;
	}
	case K_LISTEN:
		break;
	case K_SKIP:
		note(im, d, "%s", r->reason);
		break;
	}
}

struct listen {
	char addr[128];        /* for ListenStream= and listen = */
	int port, ssl, proxy_protocol;
};

/* The shipped sockets' names, by port, protocol and TLS. */
static const struct {
	int port, ssl;
	const char *protocol, *name;
} well_known[] = {
	{ 143, 0, "imap", "imap" }, { 993, 1, "imap", "imaps" },
	{ 110, 0, "pop3", "pop3" }, { 995, 1, "pop3", "pop3s" },
	{ 25, 0, "smtp", "smtp" }, { 587, 0, "smtp", "submission" },
	{ 465, 1, "smtp", "smtps" },
};

static int parse_listen(struct importer *im, const struct ngx_directive *d,
                        struct listen *l)
{
	const char *a = d->args[0], *colon = strrchr(a, ':');
	const char *port = colon ? colon + 1 : a;
	char *end;
	long p;

	memset(l, 0, sizeof *l);
	if (strncmp(a, "unix:", 5) == 0) {
		note(im, d, "unix sockets: write ListenStream=%s in a socket unit "
		            "by hand", a + 5);
		return -1;
	}
	p = strtol(port, &end, 10);
	if (*port < '0' || *port > '9' || *end || p < 1 || p > 65535) {
		note(im, d, "\"%s\" is not [address:]port", a);
		return -1;
	}
	l->port = (int)p;
	if (!colon || strncmp(a, "*:", 2) == 0)
		snprintf(l->addr, sizeof l->addr, "%ld", p);
	else
		snprintf(l->addr, sizeof l->addr, "%s", a);
	for (int i = 1; i < d->nargs; i++) {
		if (strcmp(d->args[i], "ssl") == 0)
			l->ssl = 1;
		else if (strcmp(d->args[i], "proxy_protocol") == 0)
			l->proxy_protocol = 1;
		else
			note(im, d, "%s: set it in the socket unit (Backlog=, "
			            "ReceiveBuffer=, SendBuffer=, BindIPv6Only=, "
			            "KeepAlive=)", d->args[i]);
	}
	return 0;
}

/* The server's protocol: its protocol directive, or its port's. */
static const char *protocol_of(const struct importer *im, int server,
                               int port)
{
	for (int i = 0; i < im->c->n; i++)
		if (im->c->d[i].parent == server &&
		    strcmp(im->c->d[i].name, "protocol") == 0 &&
		    im->c->d[i].nargs == 1)
			return im->c->d[i].args[0];
	for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++)
		if (well_known[i].port == port)
			return well_known[i].protocol;
	return NULL;
}

static int name_taken(const struct import_result *r, const char *name)
{
	for (int i = 0; i < r->nunits; i++)
		if (strcmp(r->units[i].name, name) == 0)
			return 1;
	return 0;
}

/* imap, imaps, submission... as the shipped sockets are named; the port
 * is added when that name is taken. */
static void section_name(const struct import_result *r, const char *protocol,
                         const struct listen *l, char *name, size_t size)
{
	snprintf(name, size, "%s%s", protocol, l->ssl ? "s" : "");
	for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++)
		if (well_known[i].port == l->port && well_known[i].ssl == l->ssl &&
		    strcmp(well_known[i].protocol, protocol) == 0)
			snprintf(name, size, "%s", well_known[i].name);
	if (name_taken(r, name)) {
		size_t n = strlen(name);

		snprintf(name + n, size - n, "-%d", l->port);
	}
}

static void unit(struct importer *im, const struct ngx_directive *d,
                 const char *name, const struct listen *l)
{
	struct import_unit *u = &im->r->units[im->r->nunits++];

	snprintf(u->name, sizeof u->name, "%s", name);
	u->tls = l->ssl;
	snprintf(u->text, sizeof u->text,
	         "# From nginx's \"listen %s\" (line %d), by postern-nginx-import.\n"
	         "# Its service: postern-%s@.service, a link to %s.\n"
	         "[Unit]\nDescription=postern %s socket\n"
	         "Documentation=man:postern(8)\n\n"
	         "[Socket]\nListenStream=%s\nAccept=yes\nFileDescriptorName=%s\n"
	         "MaxConnections=512\nMaxConnectionsPerSource=32\n"
	         "TriggerLimitIntervalSec=0\nKeepAlive=yes\n"
	         "KeepAliveTimeSec=300\nKeepAliveIntervalSec=30\n"
	         "KeepAliveProbes=4\n\n[Install]\nWantedBy=sockets.target\n",
	         l->addr, d->line, name,
	         l->ssl ? "postern-tls@.service" : "postern@.service",
	         name, l->addr, name);
}

static int server_block(struct importer *im, int server)
{
	int listens = 0;

	for (int i = 0; i < im->c->n; i++) {
		const struct ngx_directive *d = &im->c->d[i];
		const char *protocol;
		struct listen l;
		char name[64];

		if (d->parent != server || strcmp(d->name, "listen") != 0)
			continue;
		listens++;
		if (d->nargs == 0 || parse_listen(im, d, &l) < 0)
			continue;
		protocol = protocol_of(im, server, l.port);
		if (!protocol) {
			note(im, d, "no protocol directive, and port %d is no mail "
			            "port: the server is left out", l.port);
			continue;
		}
		if (im->r->nunits == IMPORT_UNITS_MAX) {
			snprintf(im->r->why, sizeof im->r->why,
			         "line %d: more than %d listen lines", d->line,
			         IMPORT_UNITS_MAX);
			return -1;
		}
		section_name(im->r, protocol, &l, name, sizeof name);
		put(&im->conf, "\n# nginx line %d\nserver %s {\n    listen = \"%s%s%s\"\n",
		    d->line, name, l.addr, l.ssl ? " ssl" : "",
		    l.proxy_protocol ? " proxy_protocol" : "");
		if (!protocol_of(im, server, 0))
			put(&im->conf, "    protocol = %s\n", protocol);
		for (int j = 0; j < im->c->n; j++)
			if (im->c->d[j].parent == server)
				directive(im, j, "    ");
		put(&im->conf, "}\n");
		unit(im, d, name, &l);
	}
	if (!listens)
		note(im, &im->c->d[server], "a server without listen is left out");
	return 0;
}

int nginx_import(const struct ngx_conf *c, struct import_result *r)
{
	struct importer im = { c, r, { r->conf, 0, sizeof r->conf, 0 },
	                       { r->notes, 0, sizeof r->notes, 0 } };
	int mail = -1, outside = 0;

	memset(r, 0, sizeof *r);
	for (int i = 0; i < c->n; i++) {
		if (c->d[i].parent != -1)
			continue;
		if (strcmp(c->d[i].name, "mail") == 0 && c->d[i].block && mail < 0)
			mail = i;
		else
			outside++;
	}
	if (mail < 0) {
		snprintf(r->why, sizeof r->why, "no mail {} block");
		return -1;
	}
	put(&im.conf, "# Imported from nginx's mail {} block by "
	              "postern-nginx-import; see postern.conf(5).\n");
	if (outside)
		put(&im.notes, "%d directive(s) outside mail {} were left alone\n",
		    outside);
	for (int i = 0; i < c->n; i++) {
		if (c->d[i].parent != mail)
			continue;
		if (strcmp(c->d[i].name, "server") == 0 && c->d[i].block)
			continue;
		directive(&im, i, "");
	}
	for (int i = 0; i < c->n; i++)
		if (c->d[i].parent == mail && c->d[i].block &&
		    strcmp(c->d[i].name, "server") == 0 && server_block(&im, i) < 0)
			return -1;
	if (im.conf.full || im.notes.full) {
		snprintf(r->why, sizeof r->why, "the result is larger than %d bytes",
		         IMPORT_OUT_MAX);
		return -1;
	}
	r->conf_len = im.conf.len;
	r->notes_len = im.notes.len;
	return 0;
}
