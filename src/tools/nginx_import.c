#include "nginx_import_int.h"

#include "cidr.h"
#include "quantity.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_STR,          /* one printable word: name = "word" */
	K_NAME,         /* a host name */
	K_URL,          /* a word without spaces */
	K_TIME,         /* a duration, as postern reads it */
	K_SIZE,         /* a size */
	K_INT,          /* digits, written bare */
	K_WORD,         /* one of the rule's words, quoted */
	K_PROTOCOL,     /* imap, pop3 or smtp, written bare */
	K_BOOL,         /* on|off -> true|false */
	K_PATH,         /* a file, made absolute against the prefix */
	K_PATHS,        /* files, every occurrence adding to one list */
	K_LIST,         /* printable words, every occurrence adding */
	K_MECHS,        /* mechanism names, every occurrence adding */
	K_CIDRS,        /* addresses and networks, every occurrence adding */
	K_HEADER,       /* auth_http_header Name Value -> list of "Name Value" */
	K_ACCESS,       /* allow/deny x -> allow("x") */
	K_SSL,          /* ssl on (obsolete form of listen ... ssl) */
	K_ERROR_LOG,    /* error_log file [level] */
	K_RESOLVER,     /* resolver addr... [valid=] [ipv6=] */
	K_TLS,          /* the section's ssl_priority (nginx_import_tls.c) */
	K_LISTEN,       /* the sections (nginx_import_listen.c) */
	K_SKIP,         /* not carried over; text says why */
};

struct rule {
	const char *nginx;
	enum kind kind;
	const char *text;         /* K_WORD: its words; K_SKIP: the reason */
};

/* nginx's mail modules (core, auth_http, proxy, realip, ssl, imap, pop3,
 * smtp), by the name postern shares with them. */
static const struct rule rules[] = {
	{ "server_name", K_NAME, NULL },
	{ "protocol", K_PROTOCOL, NULL },
	{ "listen", K_LISTEN, NULL },
	{ "timeout", K_TIME, NULL },
	{ "max_errors", K_INT, NULL },
	{ "resolver", K_RESOLVER, NULL },
	{ "resolver_timeout", K_TIME, NULL },
	{ "error_log", K_ERROR_LOG, NULL },
	{ "auth_http", K_URL, NULL },
	{ "auth_http_header", K_HEADER, NULL },
	{ "auth_http_timeout", K_TIME, NULL },
	{ "auth_http_pass_client_cert", K_BOOL, NULL },
	{ "proxy_pass_error_message", K_BOOL, NULL },
	{ "proxy_protocol", K_WORD, "on off" },
	{ "proxy_smtp_auth", K_BOOL, NULL },
	{ "proxy_timeout", K_TIME, NULL },
	{ "xclient", K_BOOL, NULL },
	{ "set_real_ip_from", K_CIDRS, NULL },
	{ "allow", K_ACCESS, NULL },
	{ "deny", K_ACCESS, NULL },
	{ "ssl", K_SSL, NULL },
	{ "starttls", K_WORD, "on off only" },
	{ "ssl_certificate", K_PATHS, NULL },
	{ "ssl_certificate_key", K_PATHS, NULL },
	{ "ssl_password_file", K_PATH, NULL },
	{ "ssl_protocols", K_TLS, NULL },
	{ "ssl_ciphers", K_TLS, NULL },
	{ "ssl_prefer_server_ciphers", K_TLS, NULL },
	{ "ssl_dhparam", K_PATH, NULL },
	{ "ssl_verify_client", K_WORD, "on off optional optional_no_ca" },
	{ "ssl_verify_depth", K_INT, NULL },
	{ "ssl_client_certificate", K_PATH, NULL },
	{ "ssl_trusted_certificate", K_PATH, NULL },
	{ "ssl_crl", K_PATH, NULL },
	{ "ssl_session_tickets", K_BOOL, NULL },
	{ "ssl_session_ticket_key", K_PATHS, NULL },
	{ "ssl_session_timeout", K_TIME, NULL },
	{ "imap_auth", K_MECHS, NULL },
	{ "imap_capabilities", K_LIST, NULL },
	{ "imap_client_buffer", K_SIZE, NULL },
	{ "pop3_auth", K_MECHS, NULL },
	{ "pop3_capabilities", K_LIST, NULL },
	{ "smtp_auth", K_MECHS, NULL },
	{ "smtp_capabilities", K_LIST, NULL },
	{ "smtp_client_buffer", K_SIZE, NULL },
	{ "smtp_greeting_delay", K_TIME, NULL },
	{ "proxy_buffer", K_SKIP, "postern-relay moves bytes with splice(2) "
	  "through kernel pipes: there is no buffer to size" },
	{ "ssl_session_cache", K_SKIP, "there is no cache shared between "
	  "processes; postern resumes sessions with tickets "
	  "(ssl_session_tickets, ssl_session_ticket_key)" },
	{ "ssl_ecdh_curve", K_SKIP, "name the groups in ssl_priority (for "
	  "example NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1)" },
	{ "ssl_conf_command", K_SKIP, "an OpenSSL command; postern uses "
	  "GnuTLS (ssl_priority)" },
	{ "so_keepalive", K_SKIP, "the socket units set KeepAlive=yes" },
	{ "proxy", K_SKIP, "obsolete in nginx; postern always proxies" },
};

/* Kinds that take one value and may appear once in a scope, as nginx -t
 * holds them. */
static int single(enum kind k)
{
	return k != K_PATHS && k != K_LIST && k != K_MECHS && k != K_CIDRS &&
	       k != K_HEADER && k != K_ACCESS && k != K_ERROR_LOG &&
	       k != K_LISTEN && k != K_SKIP && k != K_RESOLVER && k != K_TLS;
}

static const struct rule *rule_of(const char *name)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (strcmp(rules[i].nginx, name) == 0)
			return &rules[i];
	return NULL;
}

/* Printable: nothing that could end a line or a quoted word early. */
static int printable(const char *w)
{
	for (; *w; w++)
		if ((unsigned char)*w < 0x20 || *w == 0x7f)
			return 0;
	return 1;
}

static int made_of(const char *w, const char *chars)
{
	return *w && w[strspn(w, chars)] == '\0';
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int one_of(const char *w, const char *words)
{
	size_t n = strlen(w);

	for (const char *p = words; *p; p += strcspn(p, " "), p += *p == ' ')
		if (strncmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\0') && n)
			return 1;
	return 0;
}

/* An IP address, with a port or not: 192.0.2.1, 192.0.2.1:53, [::1]:53,
 * ::1. */
static int ip_port(const char *w)
{
	char host[64];
	unsigned char bin[16];
	const char *colon = strrchr(w, ':'), *port = NULL;
	size_t n;

	if (w[0] == '[') {
		const char *close = strchr(w, ']');

		if (!close || (close[1] && close[1] != ':'))
			return 0;
		n = (size_t)(close - w - 1);
		if (n >= sizeof host)
			return 0;
		memcpy(host, w + 1, n);
		host[n] = '\0';
		port = close[1] ? close + 2 : NULL;
		if (inet_pton(AF_INET6, host, bin) != 1)
			return 0;
	} else if (colon && strchr(w, ':') == colon) {
		n = (size_t)(colon - w);
		if (n >= sizeof host)
			return 0;
		memcpy(host, w, n);
		host[n] = '\0';
		port = colon + 1;
		if (inet_pton(AF_INET, host, bin) != 1)
			return 0;
	} else if (inet_pton(AF_INET, w, bin) != 1 &&
	           inet_pton(AF_INET6, w, bin) != 1) {
		return 0;
	}
	return !port || (made_of(port, "0123456789") && strlen(port) <= 5 &&
	                 atoi(port) >= 1 && atoi(port) <= 65535);
}

/* Whether a value is what its directive takes; the reason if not. */
static const char *invalid(const struct rule *r, const char *v)
{
	int64_t ms;
	size_t bytes;
	struct cidr c;

	if (!printable(v))
		return "a control character (a line break, a tab) in the value";
	switch (r->kind) {
	case K_NAME:
		return made_of(v, ALNUM ".-_") ? NULL : "not a host name";
	case K_URL:
		return strchr(v, ' ') ? "a space in the address" : NULL;
	case K_TIME:
		return parse_duration_ms(v, &ms) == 0 ? NULL : "not a duration";
	case K_SIZE:
		return parse_size(v, &bytes) == 0 ? NULL : "not a size";
	case K_INT:
		return made_of(v, "0123456789") && strlen(v) < 10 ? NULL
		       : "not a number";
	case K_WORD:
		return one_of(v, r->text) ? NULL : "not one of its words";
	case K_PROTOCOL:
		return one_of(v, "imap pop3 smtp") ? NULL
		       : "not imap, pop3 or smtp";
	case K_BOOL:
	case K_SSL:
		return one_of(v, "on off") ? NULL : "not on or off";
	case K_MECHS:
		return made_of(v, ALNUM "-_") ? NULL : "not a mechanism name";
	case K_CIDRS:
	case K_ACCESS:
		return cidr_parse(v, &c) == 0 ? NULL
		       : "not an address, a network, all or unix:";
	case K_RESOLVER:
		return ip_port(v) ? NULL
		       : "not an IP address (postern does not look up its "
		         "resolver's name)";
	default:
		return NULL;
	}
}

/* A file, as nginx finds it: relative ones in its configuration
 * directory. */
static const char *path_of(struct importer *im, const struct ngx_directive *d,
                           const char *v, char *buf, size_t size)
{
	const char *prefix = im->opt->prefix;
	size_t n = strlen(prefix);

	if (v[0] == '/')
		return v;
	snprintf(buf, size, "%s%s%s", prefix,
	         n && prefix[n - 1] == '/' ? "" : "/", v);
	im_note(im, d, "%s is read as %s, as nginx reads it (-p names "
	        "nginx's configuration directory)", v, buf);
	return buf;
}

/* Every occurrence of a list directive among the children of parent, as
 * one list, written where the first one stands. */
static int put_list(struct importer *im, const struct ngx_directive *first,
                    const struct rule *r, const char *indent)
{
	int written = 0;

	im_directive(im, indent, first->name);
	strbuf_printf(&im->conf, "{");
	for (int i = (int)(first - im->c->d); i < im->c->n; i++) {
		const struct ngx_directive *d = &im->c->d[i];

		if (d->parent != first->parent || strcmp(d->name, first->name) != 0)
			continue;
		if (r->kind == K_HEADER && d->nargs != 2)
			return im_refuse(im, d, "want a name and a value");
		for (int a = 0; a < d->nargs; a++) {
			char path[4096], h[1024];
			const char *why = invalid(r, d->args[a]), *v = d->args[a];

			if (why)
				return im_refuse(im, d, "\"%s\": %s", d->args[a], why);
			if (r->kind == K_PATHS)
				v = path_of(im, d, v, path, sizeof path);
			if (r->kind == K_HEADER) {
				if (!made_of(d->args[0], ALNUM "-_") || !printable(d->args[1]))
					return im_refuse(im, d, "not a header name and value");
				snprintf(h, sizeof h, "%s %s", d->args[0], d->args[1]);
				v = h;
				a = d->nargs;
			}
			strbuf_printf(&im->conf, "%s", written++ ? ", " : "");
			out_quoted(&im->conf, v);
		}
	}
	strbuf_printf(&im->conf, "}\n");
	return 0;
}

static const struct ngx_directive *first_in(const struct importer *im,
                                            int parent, const char *name)
{
	for (int i = 0; i < im->c->n; i++)
		if (im->c->d[i].parent == parent &&
		    strcmp(im->c->d[i].name, name) == 0)
			return &im->c->d[i];
	return NULL;
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

/* error_log: stderr and syslog as postern's own words, absolute files as
 * they are. */
static int error_log(struct importer *im, const struct ngx_directive *d,
                     const char *indent)
{
	const char *f = d->args[0], *level = d->nargs > 1 ? d->args[1] : NULL;

	if (first_in(im, d->parent, "error_log") != d) {
		im_note(im, d, "postern logs to one place: the first error_log "
		        "is carried over");
		return 0;
	}
	if (d->nargs > 2)
		return im_refuse(im, d, "want a file and a level");
	if (level && !level_of(level))
		return im_refuse(im, d, "\"%s\" is not a level", level);
	if (strcmp(f, "stderr") == 0 || strcmp(f, "/dev/stderr") == 0) {
		im_directive(im, indent, "error_log");
		strbuf_printf(&im->conf, "\"stderr\"\n");
		im_note(im, d, "written as stderr: the journal under systemd; "
		        "under inetd or xinetd fd 2 is the client's socket and "
		        "postern writes nothing there (auto takes syslog)");
	} else if (strncmp(f, "syslog:", 7) == 0) {
		im_directive(im, indent, "error_log");
		strbuf_printf(&im->conf, "\"syslog\"\n");
		im_note(im, d, "written as syslog, the local one: server=, "
		        "facility= and tag= are not carried over");
	} else if (f[0] != '/') {
		im_note(im, d, "%s: nginx reads it against its -p prefix "
		        "(/usr/share/nginx/ for Debian's nginx), which is not "
		        "known here: write the absolute path; left out", f);
		level = NULL;
	} else if (!printable(f)) {
		return im_refuse(im, d, "a control character in the file name");
	} else {
		im_directive(im, indent, "error_log");
		out_quoted(&im->conf, f);
		strbuf_printf(&im->conf, "\n");
	}
	if (level) {
		im_directive(im, indent, "log_level");
		strbuf_printf(&im->conf, "\"%s\"\n", level_of(level));
	}
	return 0;
}

/* resolver off: nginx's default (words after it are ignored, as nginx
 * ignores them); postern has no word for it in a section under a global
 * resolver. */
static int resolver_off(struct importer *im, const struct ngx_directive *d)
{
	const struct ngx_directive *above = NULL, *protocol = NULL;
	int parent = d->parent;

	if (strcmp(im->c->d[parent].name, "server") == 0)
		above = first_in(im, im->c->d[parent].parent, "resolver");
	for (int i = 0; i < im->c->n; i++)
		if (im->c->d[i].parent == parent && im->c->d[i].nargs == 1 &&
		    strcmp(im->c->d[i].name, "protocol") == 0)
			protocol = &im->c->d[i];
	/* IMAP and POP3 sections ask no resolver: off changes nothing. */
	if (protocol && strcmp(protocol->args[0], "smtp") != 0)
		above = NULL;
	if (above && above->nargs && strcmp(above->args[0], "off") != 0)
		return im_refuse(im, d, "off under the mail block's resolver "
		                 "(%s:%d): a postern section cannot turn the "
		                 "global one off; name the resolver in the "
		                 "servers that use it", im->c->files[above->file],
		                 above->line);
	im_note(im, d, "off: nginx's default, and postern's; nothing written");
	return 0;
}

static int resolver(struct importer *im, const struct ngx_directive *d,
                    const struct rule *r, const char *indent)
{
	int written = 0;

	if (strcmp(d->args[0], "off") == 0)
		return resolver_off(im, d);
	for (int a = 0; a < d->nargs; a++) {
		if (strchr(d->args[a], '=') && printable(d->args[a])) {
			im_note(im, d, "%s: postern keeps no answers and asks for "
			        "both families", d->args[a]);
			continue;
		}
		if (invalid(r, d->args[a]))
			return im_refuse(im, d, "\"%s\": %s", d->args[a],
			                 invalid(r, d->args[a]));
		if (!written)
			im_directive(im, indent, "resolver");
		strbuf_printf(&im->conf, "%s", written++ ? ", " : "{");
		out_quoted(&im->conf, d->args[a]);
	}
	if (!written)
		return im_refuse(im, d, "no address");
	strbuf_printf(&im->conf, "}\n");
	/* What it will do: nginx's mail modules ask it for SMTP clients
	 * only, and postern does the same unless told. */
	im_note(im, d, "asked for the client's name in SMTP sections only, as "
	        "nginx does (Client-Host, XCLIENT NAME); IMAP and POP3 logins "
	        "do not wait for it. resolver_imap_pop3 = true would look "
	        "their clients up too, each login waiting up to "
	        "resolver_timeout");
	return 0;
}

/* ssl on with starttls on in one scope: nginx -t refuses it, naming the
 * one written second. */
static int ssl_conflict(struct importer *im, const struct ngx_directive *d)
{
	const struct ngx_directive *ssl = first_in(im, d->parent, "ssl");
	const struct ngx_directive *starttls = first_in(im, d->parent, "starttls");

	if (!ssl || !starttls || ssl->nargs != 1 || starttls->nargs != 1 ||
	    strcmp(ssl->args[0], "on") != 0 || strcmp(starttls->args[0], "off") == 0)
		return 0;
	if (d == ssl && ssl > starttls)
		return im_refuse(im, ssl, "\"ssl\" directive conflicts with "
		                 "\"starttls\" (nginx -t refuses it: implicit TLS "
		                 "or STARTTLS, not both)");
	if (d == starttls && starttls > ssl)
		return im_refuse(im, starttls, "\"starttls\" directive conflicts "
		                 "with \"ssl on\" (nginx -t refuses it: implicit "
		                 "TLS or STARTTLS, not both)");
	return 0;
}

static int scalar(struct importer *im, const struct ngx_directive *d,
                  const struct rule *r, const char *indent)
{
	char path[4096];
	const char *v = d->args[0];

	if (d->nargs != 1)
		return im_refuse(im, d, "takes one value (nginx -t refuses more)");
	if (invalid(r, v))
		return im_refuse(im, d, "\"%s\": %s", v, invalid(r, v));
	if (first_in(im, d->parent, d->name) != d)
		return im_refuse(im, d, "is duplicate (nginx -t refuses it)");
	if (r->kind == K_SSL && ssl_conflict(im, d) < 0)
		return -1;
	if (r->kind == K_WORD && strcmp(d->name, "starttls") == 0 &&
	    ssl_conflict(im, d) < 0)
		return -1;
	if (r->kind == K_SSL && strcmp(v, "on") == 0)
		im_note(im, d, "ssl on: deprecated in nginx (listen ... ssl); "
		        "written as ssl = true");
	im_directive(im, indent, r->kind == K_SSL ? "ssl" : d->name);
	switch (r->kind) {
	case K_BOOL:
	case K_SSL:
		strbuf_printf(&im->conf, "%s\n", strcmp(v, "on") == 0 ? "true" : "false");
		return 0;
	case K_INT:
	case K_PROTOCOL:
		strbuf_printf(&im->conf, "%s\n", v);
		return 0;
	case K_PATH:
		v = path_of(im, d, v, path, sizeof path);
		break;
	default:
		break;
	}
	out_quoted(&im->conf, v);
	strbuf_printf(&im->conf, "\n");
	return 0;
}

/* One directive of a scope (the mail block or a server block). */
static int directive(struct importer *im, int index, const char *indent)
{
	const struct ngx_directive *d = &im->c->d[index];
	const struct rule *r = rule_of(d->name);

	if (!r) {
		im_note(im, d, d->block ? "a block postern does not have"
		                        : "not a directive of nginx's mail modules "
		                          "that postern knows");
		return 0;
	}
	if (d->block)
		return im_refuse(im, d, "a block where a directive was expected");
	if (d->nargs == 0 && r->kind != K_SKIP)
		return im_refuse(im, d, "no value");
	switch (r->kind) {
	case K_PATHS:
	case K_LIST:
	case K_MECHS:
	case K_CIDRS:
	case K_HEADER:
		return first_in(im, d->parent, d->name) == d ?
		       put_list(im, d, r, indent) : 0;
	case K_ACCESS:
		if (d->nargs != 1 || invalid(r, d->args[0]))
			return im_refuse(im, d, "want one address, network, all or "
			                 "unix:");
		strbuf_printf(&im->conf, "%s%s(", indent, d->name);
		im->r->ndirectives++;
		out_quoted(&im->conf, d->args[0]);
		strbuf_printf(&im->conf, ")\n");
		return 0;
	case K_ERROR_LOG:
		return error_log(im, d, indent);
	case K_RESOLVER:
		if (first_in(im, d->parent, d->name) != d)
			return im_refuse(im, d, "is duplicate (nginx -t refuses it)");
		return resolver(im, d, r, indent);
	case K_PROTOCOL:
		/* The section writes it: the last one counts, as in nginx. */
		if (strcmp(im->c->d[d->parent].name, "server") != 0)
			return im_refuse(im, d, "only in a server block");
		if (d->nargs != 1 || invalid(r, d->args[0]))
			return im_refuse(im, d, "want imap, pop3 or smtp");
		return 0;
	case K_LISTEN:
		if (strcmp(im->c->d[d->parent].name, "server") != 0)
			return im_refuse(im, d, "only in a server block");
		return 0;
	case K_TLS:
		return 0;
	case K_SKIP:
		im_note(im, d, "%s", r->text);
		return 0;
	default:
		return single(r->kind) ? scalar(im, d, r, indent) : 0;
	}
}

static const struct ngx_directive *in_scope(const struct importer *im,
                                            int server, int mail,
                                            const char *name)
{
	const struct ngx_directive *d = first_in(im, server, name);

	return d ? d : first_in(im, mail, name);
}

/* Whether a server speaks TLS at all: listen ... ssl, ssl on or starttls
 * there or above. */
static int speaks_tls(const struct importer *im, int server, int mail)
{
	const struct ngx_directive *ssl = in_scope(im, server, mail, "ssl");
	const struct ngx_directive *st = in_scope(im, server, mail, "starttls");

	for (int i = 0; i < im->c->n; i++) {
		const struct ngx_directive *d = &im->c->d[i];

		if (d->parent == server && strcmp(d->name, "listen") == 0)
			for (int a = 1; a < d->nargs; a++)
				if (strcmp(d->args[a], "ssl") == 0)
					return 1;
	}
	return (ssl && ssl->nargs && strcmp(ssl->args[0], "on") == 0) ||
	       (st && st->nargs && strcmp(st->args[0], "off") != 0);
}

/* The section's ssl_priority, from nginx's TLS settings of its scope. */
static int priority(struct importer *im, int server, int mail)
{
	char p[512];

	if (!speaks_tls(im, server, mail))
		return 0;
	if (im_priority(im, in_scope(im, server, mail, "ssl_protocols"),
	                in_scope(im, server, mail, "ssl_ciphers"),
	                in_scope(im, server, mail, "ssl_prefer_server_ciphers"),
	                in_scope(im, server, mail, "ssl_dhparam") != NULL,
	                &im->c->d[server], p, sizeof p) < 0)
		return -1;
	im_directive(im, "    ", "ssl_priority");
	out_quoted(&im->conf, p);
	strbuf_printf(&im->conf, "\n");
	return 0;
}

static int server_body(struct importer *im, int server)
{
	int mail = im->c->d[server].parent;

	for (int j = 0; j < im->c->n; j++)
		if (im->c->d[j].parent == server && directive(im, j, "    ") < 0)
			return -1;
	return priority(im, server, mail);
}

/* nginx's only limit on mail sessions is its total, outside mail {}:
 * worker_connections per worker process, two connections per session
 * (the client's and the backend's). The spawner services count live
 * sessions, SESSIONS_MAX each; said where nginx took more. */
static void total_limit(struct importer *im)
{
	const struct ngx_directive *events = first_in(im, -1, "events");
	const struct ngx_directive *wc, *wp = first_in(im, -1, "worker_processes");
	long sessions, workers = 1;
	int per_worker = 0;     /* worker_processes auto: per CPU */

	if (!events || !events->block)
		return;
	wc = first_in(im, (int)(events - im->c->d), "worker_connections");
	if (!wc || wc->nargs != 1 || !made_of(wc->args[0], "0123456789") ||
	    strlen(wc->args[0]) > 7)
		return;
	if (wp && wp->nargs == 1 && made_of(wp->args[0], "0123456789") &&
	    strlen(wp->args[0]) <= 4 && atol(wp->args[0]) > 0)
		workers = atol(wp->args[0]);
	else if (wp)
		per_worker = 1;
	sessions = atol(wc->args[0]) / 2 * workers;
	if (sessions <= SPAWN_SESSIONS_MAX)
		return;
	im_note(im, wc, "nginx took up to %ld mail sessions%s (two connections "
	        "each); each shipped postern-NAME.service takes %d live "
	        "sessions (SESSIONS_MAX): raise it with a drop-in, TasksMax= "
	        "above it (postern(8), SIZING)", sessions,
	        per_worker ? " per worker process" : "", SPAWN_SESSIONS_MAX);
}

/* nginx's mail sessions log to the top-level error_log when mail {} names
 * none; the import writes only what mail {} and its servers say. */
static void top_error_log(struct importer *im, int mail)
{
	const struct ngx_directive *top = first_in(im, -1, "error_log");

	if (top && !first_in(im, mail, "error_log"))
		im_note(im, top, "nginx's mail sessions logged here (mail {} "
		        "names no error_log of its own): not carried over, "
		        "postern logs to its default, auto (the journal under "
		        "systemd, syslog otherwise); write error_log in "
		        "postern.conf to keep a file");
}

int nginx_import(const struct ngx_conf *c, const struct import_options *o,
                 struct import_result *r)
{
	struct importer im = { c, o, r, { .buf = r->conf, .size = sizeof r->conf },
	                       { .buf = r->notes, .size = sizeof r->notes }, 0,
	                       server_body };
	int mail = -1, outside = 0;

	r->conf[0] = r->notes[0] = r->why[0] = '\0';
	r->conf_len = r->notes_len = 0;
	r->ndirectives = r->nnotes = r->nunits = 0;
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
	strbuf_printf(&im.conf, "# Imported from nginx's mail {} block by "
	                  "postern-nginx-import; see postern.conf(5).\n");
	if (outside)
		strbuf_printf(&im.notes, "%d directive(s) outside mail {} were left "
		        "alone\n", outside);
	for (int i = 0; i < c->n; i++) {
		if (c->d[i].parent != mail)
			continue;
		if (strcmp(c->d[i].name, "server") == 0 && c->d[i].block)
			continue;
		if (directive(&im, i, "") < 0)
			return -1;
	}
	if (im_sections(&im, mail) < 0)
		return -1;
	top_error_log(&im, mail);
	total_limit(&im);
	if (im.conf.overflow || im.notes.overflow) {
		snprintf(r->why, sizeof r->why, "the result is larger than %d bytes",
		         IMPORT_OUT_MAX);
		return -1;
	}
	r->conf_len = im.conf.len;
	r->notes_len = im.notes.len;
	return 0;
}
