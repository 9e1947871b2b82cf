/* nginx's listen lines as server sections and socket units. The listens
 * of one server on one port (and the same ssl and proxy_protocol) are one
 * section and one unit; "listen 110; listen [::]:110;" is one socket for
 * both families. A section on its protocol's standard port takes the
 * shipped socket's name (imap, imaps, submission, ...) before a section
 * elsewhere can; every section says its listen port, so that a spawner
 * can also find it by port. What nginx serves from one socket by the
 * address a client reached, postern cannot: refused. */
#include "nginx_import_int.h"

#include "quantity.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTENS_MAX (IMPORT_UNITS_MAX * 4)

struct listen {
	const struct ngx_directive *d;
	int server;
	char host[48];         /* without brackets; "" for the wildcard */
	int v6, port, ssl, proxy_protocol;
	int v6only;            /* [::]: nginx's ipv6only=, on by default */
	int dropped;           /* covered by the server's wildcard */
	char backlog[12];
	size_t rcvbuf, sndbuf;
	int section;
};

struct section {
	int server, port, ssl, proxy_protocol;
	const char *protocol;
	int listens[8], nlistens;
	char name[64];
	char base[32];         /* the shipped socket whose service serves it */
};

struct plan {
	struct listen l[LISTENS_MAX];
	int nl;
	struct section s[IMPORT_UNITS_MAX];
	int ns;
};

/* The shipped sockets' names, by port, protocol and TLS; nginx's ports
 * for a server without protocol. */
static const struct {
	int port, ssl;
	const char *protocol, *name;
} well_known[] = {
	{ 143, 0, "imap", "imap" }, { 993, 1, "imap", "imaps" },
	{ 110, 0, "pop3", "pop3" }, { 995, 1, "pop3", "pop3s" },
	{ 25, 0, "smtp", "smtp" }, { 587, 0, "smtp", "submission" },
	{ 465, 1, "smtp", "smtps" },
};
#define NWELL (sizeof well_known / sizeof well_known[0])

static int port_of(const char *w)
{
	if (!*w || strlen(w) > 5 || w[strspn(w, "0123456789")])
		return -1;
	return atoi(w) >= 1 && atoi(w) <= 65535 ? atoi(w) : -1;
}

/* "110", "*:110", "192.0.2.1:110", "[::]:110", "[2001:db8::1]:110". */
static int address(struct importer *im, const struct ngx_directive *d,
                   struct listen *l)
{
	const char *a = d->args[0], *colon = strrchr(a, ':');
	unsigned char bin[16];
	size_t n;

	if (!colon) {
		l->port = port_of(a);
		return l->port < 0 ? im_refuse(im, d, "\"%s\": want [address:]port",
		                               a) : 0;
	}
	l->port = port_of(colon + 1);
	if (l->port < 0)
		return im_refuse(im, d, "\"%s\": want [address:]port", a);
	n = (size_t)(colon - a);
	if (a[0] == '[') {
		if (n < 2 || a[n - 1] != ']' || n - 2 >= sizeof l->host)
			return im_refuse(im, d, "\"%s\": want [address]:port", a);
		memcpy(l->host, a + 1, n - 2);
		l->host[n - 2] = '\0';
		l->v6 = 1;
		l->v6only = 1;
		if (inet_pton(AF_INET6, l->host, bin) != 1)
			return im_refuse(im, d, "\"%s\": not an IPv6 address", l->host);
		if (strcmp(l->host, "::") == 0)
			l->host[0] = '\0';
		return 0;
	}
	if (n >= sizeof l->host)
		return im_refuse(im, d, "\"%s\": want address:port", a);
	memcpy(l->host, a, n);
	l->host[n] = '\0';
	if (strcmp(l->host, "*") == 0 || strcmp(l->host, "0.0.0.0") == 0) {
		l->host[0] = '\0';
		return 0;
	}
	if (inet_pton(AF_INET, l->host, bin) != 1)
		return im_refuse(im, d, "\"%s\": not an IP address (nginx looks a "
		                 "name up when it starts; write the address)",
		                 l->host);
	return 0;
}

static int parameter(struct importer *im, const struct ngx_directive *d,
                     struct listen *l, const char *p)
{
	if (strcmp(p, "ssl") == 0) {
		l->ssl = 1;
	} else if (strcmp(p, "proxy_protocol") == 0) {
		l->proxy_protocol = 1;
	} else if (strcmp(p, "bind") == 0) {
		/* systemd binds every ListenStream= on its own anyway. */
	} else if (strcmp(p, "ipv6only=on") == 0 ||
	           strcmp(p, "ipv6only=off") == 0) {
		l->v6only = l->v6 && strcmp(p, "ipv6only=on") == 0;
	} else if (strncmp(p, "backlog=", 8) == 0 && port_of(p + 8) > 0) {
		snprintf(l->backlog, sizeof l->backlog, "%s", p + 8);
	} else if (strncmp(p, "rcvbuf=", 7) == 0 &&
	           parse_size(p + 7, &l->rcvbuf) == 0) {
	} else if (strncmp(p, "sndbuf=", 7) == 0 &&
	           parse_size(p + 7, &l->sndbuf) == 0) {
	} else if (strncmp(p, "so_keepalive=", 13) == 0) {
		im_note(im, d, "%.40s: the socket unit keeps its KeepAlive= "
		        "settings (yes, 300 s, 30 s, 4 probes)", p);
	} else {
		return im_refuse(im, d, "\"%.60s\": not a parameter of nginx's "
		                 "mail listen (nginx -t refuses it)", p);
	}
	return 0;
}

static int read_listen(struct importer *im, const struct ngx_directive *d,
                       int server, struct listen *l)
{
	memset(l, 0, sizeof *l);
	l->d = d;
	l->server = server;
	for (int i = 0; i < d->nargs; i++)
		for (const char *p = d->args[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return im_refuse(im, d, "a control character in the "
				                 "value");
	if (address(im, d, l) < 0)
		return -1;
	for (int i = 1; i < d->nargs; i++)
		if (parameter(im, d, l, d->args[i]) < 0)
			return -1;
	return 0;
}

/* The server's protocol, as nginx finds it: its protocol directive (the
 * last), or the first of its listens on a port of a protocol's own. */
static const char *protocol_of(const struct importer *im, const struct plan *p,
                               int server)
{
	const char *found = NULL;

	for (int i = 0; i < im->c->n; i++)
		if (im->c->d[i].parent == server &&
		    strcmp(im->c->d[i].name, "protocol") == 0)
			found = im->c->d[i].nargs == 1 ? im->c->d[i].args[0] : "";
	for (int i = 0; !found && i < p->nl; i++)
		for (size_t w = 0; p->l[i].server == server && w < NWELL; w++)
			if (well_known[w].port == p->l[i].port) {
				found = well_known[w].protocol;
				break;
			}
	return found;
}

/* nginx -t refuses a pair twice; a wildcard and an address on one port
 * are one socket in nginx, which picks the server by the address the
 * client reached. */
static int clash(struct importer *im, struct listen *a, struct listen *b)
{
	int v4a = !a->v6 || (!a->host[0] && !a->v6only);
	int v4b = !b->v6 || (!b->host[0] && !b->v6only);
	int same_family = a->v6 == b->v6 || (!a->host[0] && !b->host[0] &&
	                                     v4a && v4b);

	if (a->port != b->port || !same_family || a->dropped || b->dropped)
		return 0;
	if (strcmp(a->host, b->host) == 0)
		return im_refuse(im, b->d, "duplicate address and port pair (with "
		                 "%s:%d; nginx -t refuses it)",
		                 im->c->files[a->d->file], a->d->line);
	if (a->host[0] && b->host[0])
		return 0;
	if (a->server == b->server) {
		struct listen *covered = a->host[0] ? a : b;

		covered->dropped = 1;
		im_note(im, covered->d, "the wildcard listen on this port serves "
		        "this address too, as nginx binds only the wildcard: left "
		        "out");
		return 0;
	}
	return im_refuse(im, b->d, "nginx serves this and %s:%d from one "
	                 "socket and picks the server by the address the client "
	                 "reached; postern finds a section by its socket: give "
	                 "each server its own port, or name the addresses in both",
	                 im->c->files[a->d->file], a->d->line);
}

static int gather(struct importer *im, struct plan *p, int mail)
{
	for (int s = 0; s < im->c->n; s++) {
		int listens = 0;

		if (im->c->d[s].parent != mail || !im->c->d[s].block ||
		    strcmp(im->c->d[s].name, "server") != 0)
			continue;
		for (int i = 0; i < im->c->n; i++) {
			const struct ngx_directive *d = &im->c->d[i];

			if (d->parent != s || strcmp(d->name, "listen") != 0)
				continue;
			listens++;
			if (d->nargs == 0)
				return im_refuse(im, d, "no address");
			if (strncmp(d->args[0], "unix:", 5) == 0) {
				im_note(im, d, "unix sockets: write ListenStream=%.200s in "
				        "a socket unit by hand; left out", d->args[0] + 5);
				continue;
			}
			if (p->nl == LISTENS_MAX)
				return im_refuse(im, d, "more than %d listens",
				                 LISTENS_MAX);
			if (read_listen(im, d, s, &p->l[p->nl]) < 0)
				return -1;
			p->nl++;
		}
		if (!listens)
			return im_refuse(im, &im->c->d[s], "no \"listen\" is defined "
			                 "for server (nginx -t refuses it)");
	}
	for (int i = 0; i < p->nl; i++)
		for (int j = i + 1; j < p->nl; j++)
			if (clash(im, &p->l[i], &p->l[j]) < 0)
				return -1;
	return 0;
}

static int group(struct importer *im, struct plan *p)
{
	for (int i = 0; i < p->nl; i++) {
		struct listen *l = &p->l[i];
		struct section *s = NULL;

		if (l->dropped)
			continue;
		for (int k = 0; k < p->ns && !s; k++)
			if (p->s[k].server == l->server && p->s[k].port == l->port &&
			    p->s[k].ssl == l->ssl &&
			    p->s[k].proxy_protocol == l->proxy_protocol &&
			    p->s[k].nlistens < 8)
				s = &p->s[k];
		if (!s) {
			if (p->ns == IMPORT_UNITS_MAX)
				return im_refuse(im, l->d, "more than %d sections",
				                 IMPORT_UNITS_MAX);
			s = &p->s[p->ns++];
			memset(s, 0, sizeof *s);
			s->server = l->server;
			s->port = l->port;
			s->ssl = l->ssl;
			s->proxy_protocol = l->proxy_protocol;
			s->protocol = protocol_of(im, p, l->server);
			if (s->protocol && strcmp(s->protocol, "imap") != 0 &&
			    strcmp(s->protocol, "pop3") != 0 &&
			    strcmp(s->protocol, "smtp") != 0)
				return im_refuse(im, &im->c->d[l->server], "protocol: "
				                 "want imap, pop3 or smtp");
			if (!s->protocol)
				return im_refuse(im, &im->c->d[l->server], "unknown mail "
				                 "protocol for server: no protocol, and no "
				                 "listen on a mail port (nginx -t refuses "
				                 "it)");
		}
		l->section = (int)(s - p->s);
		s->listens[s->nlistens++] = i;
	}
	return 0;
}

static int name_taken(const struct plan *p, const struct section *self,
                      const char *name)
{
	for (int i = 0; i < p->ns; i++)
		if (&p->s[i] != self && strcmp(p->s[i].name, name) == 0)
			return 1;
	return 0;
}

static const char *standard_name(const struct section *s)
{
	for (size_t w = 0; w < NWELL; w++)
		if (well_known[w].port == s->port && well_known[w].ssl == s->ssl &&
		    strcmp(well_known[w].protocol, s->protocol) == 0)
			return well_known[w].name;
	return NULL;
}

/* Sections on their standard port first take its name; the others their
 * protocol's, or with the port added, or a number after that. A
 * section's base is the shipped socket of its protocol and TLS (its
 * standard port's, when it is on it), whose service runs the program the
 * section needs. A section is named other than its base only when
 * another section already has that name, and so that base: the shipped
 * postern-BASE.service then serves both. */
static void name_sections(struct plan *p)
{
	for (int i = 0; i < p->ns; i++) {
		const char *std = standard_name(&p->s[i]);

		if (std && !name_taken(p, &p->s[i], std))
			snprintf(p->s[i].name, sizeof p->s[i].name, "%s", std);
		if (std)
			snprintf(p->s[i].base, sizeof p->s[i].base, "%s", std);
		else
			snprintf(p->s[i].base, sizeof p->s[i].base, "%s%s",
			         p->s[i].protocol, p->s[i].ssl ? "s" : "");
	}
	for (int i = 0; i < p->ns; i++) {
		struct section *s = &p->s[i];
		char base[sizeof s->base];

		if (s->name[0])
			continue;
		/* A copy: the compiler cannot tell the two fields apart. */
		memcpy(base, s->base, sizeof base);
		snprintf(s->name, sizeof s->name, "%s", base);
		for (int k = 1; name_taken(p, s, s->name) && k < 100; k++) {
			s->name[0] = '\0';
			if (k == 1)
				snprintf(s->name, sizeof s->name, "%s-%d", base, s->port);
			else
				snprintf(s->name, sizeof s->name, "%s-%d-%d", base,
				         s->port, k);
		}
	}
}

/* One dual-stack socket: the wildcards of both families, and nothing
 * else. */
static int dual_stack(const struct plan *p, const struct section *s)
{
	int v4 = 0, v6 = 0;

	for (int i = 0; i < s->nlistens; i++) {
		const struct listen *l = &p->l[s->listens[i]];

		if (l->host[0])
			return 0;
		if (l->v6 && l->v6only)
			v6++;
		else if (!l->v6)
			v4++;
	}
	return v4 == 1 && v6 == 1 && s->nlistens == 2;
}

static void stream_of(const struct listen *l, char *buf, size_t size)
{
	if (!l->v6)
		snprintf(buf, size, "%s:%d", l->host[0] ? l->host : "0.0.0.0",
		         l->port);
	else
		snprintf(buf, size, "[%s]:%d", l->host[0] ? l->host : "::", l->port);
}

/* listen = in the section: the port, as a spawner matching by port
 * reads it, after the first address. */
static void listen_value(const struct plan *p, const struct section *s,
                         char *buf, size_t size)
{
	const struct listen *l = &p->l[s->listens[0]];
	char a[80];

	if (dual_stack(p, s) || (!l->v6 && !l->host[0]))
		snprintf(a, sizeof a, "%d", s->port);
	else
		stream_of(l, a, sizeof a);
	snprintf(buf, size, "%s%s%s", a, s->ssl ? " ssl" : "",
	         s->proxy_protocol ? " proxy_protocol" : "");
}

struct unit_out {
	struct strbuf o;
	int keys;
};

static void key(struct unit_out *u, const char *k, const char *v)
{
	strbuf_printf(&u->o, "%s=%s\n", k, v);
	u->keys++;
}

static void socket_keys(struct importer *im, const struct plan *p,
                        const struct section *s, struct unit_out *u)
{
	const struct listen *first = &p->l[s->listens[0]];
	int v6 = 0, both = 0, backlog = 0;
	char v[96];

	if (dual_stack(p, s)) {
		snprintf(v, sizeof v, "%d", s->port);
		key(u, "ListenStream", v);
		key(u, "BindIPv6Only", "both");
		im_note(im, p->l[s->listens[1]].d, "with %s:%d: one socket for "
		        "IPv4 and IPv6 (ListenStream=%d, BindIPv6Only=both)",
		        im->c->files[first->d->file], first->d->line, s->port);
	} else {
		for (int i = 0; i < s->nlistens; i++) {
			const struct listen *l = &p->l[s->listens[i]];

			stream_of(l, v, sizeof v);
			key(u, "ListenStream", v);
			v6 |= l->v6;
			both |= l->v6 && !l->v6only;
		}
		if (v6)
			key(u, "BindIPv6Only", both ? "both" : "ipv6-only");
	}
	for (int i = 0; i < s->nlistens; i++) {
		const struct listen *l = &p->l[s->listens[i]];

		if (l->backlog[0])
			key(u, "Backlog", l->backlog);
		backlog |= l->backlog[0] != '\0';
		snprintf(v, sizeof v, "%zu", l->rcvbuf);
		if (l->rcvbuf)
			key(u, "ReceiveBuffer", v);
		snprintf(v, sizeof v, "%zu", l->sndbuf);
		if (l->sndbuf)
			key(u, "SendBuffer", v);
		if (l->backlog[0] || l->rcvbuf || l->sndbuf)
			break;
	}
	/* The shipped sockets' queue: a burst of logins waits there while
	 * the spawner starts or restarts. */
	if (!backlog)
		key(u, "Backlog", "1024");
}

/* The shipped units' shape: the socket (Accept=no) hands its listening
 * socket to a long-lived, hardened postern-spawn service, the shipped
 * postern-BASE.service, which accepts and starts the section's program
 * per connection, counting its limits (SESSIONS_MAX, SESSIONS_PER_SOURCE)
 * over live sessions. A section named as its base replaces that shipped
 * socket; another names the service with Service=, which then serves both
 * sockets, each section found by its FileDescriptorName=. No service file
 * is written: every one needed is shipped. */
static int unit(struct importer *im, const struct plan *p,
                const struct section *s)
{
	struct import_unit *iu = &im->r->units[im->r->nunits++];
	struct unit_out u = { { .buf = iu->text, .size = sizeof iu->text }, 0 };
	int own = strcmp(s->name, s->base) == 0;
	char service[64];

	snprintf(iu->name, sizeof iu->name, "%s", s->name);
	snprintf(iu->service, sizeof iu->service, "%s", s->base);
	iu->tls = s->ssl;
	iu->port = s->port;
	snprintf(service, sizeof service, "postern-%s.service", s->base);
	strbuf_printf(&u.o, "# From nginx's listen at");
	for (int i = 0; i < s->nlistens; i++) {
		const struct ngx_directive *d = p->l[s->listens[i]].d;

		strbuf_printf(&u.o, " ");
		out_comment_text(&u.o, im->c->files[d->file]);
		strbuf_printf(&u.o, ":%d", d->line);
	}
	strbuf_printf(&u.o, ", by postern-nginx-import.\n");
	if (own)
		strbuf_printf(&u.o, "# In place of the shipped postern-%s.socket: the "
		        "shipped\n# %s (postern-spawn) accepts here and starts "
		        "%s\n# per connection.\n", s->name, service,
		        s->ssl ? "postern-tls" : "postern");
	else
		strbuf_printf(&u.o, "# Served by the shipped %s (postern-spawn), as\n"
		        "# postern-%s.socket is: it accepts on both, starts %s "
		        "per\n# connection, and its limits count the sessions of "
		        "both. Accept=yes\n# (per-connection.conf) cannot go with "
		        "Service=.\n", service, s->base,
		        s->ssl ? "postern-tls" : "postern");
	strbuf_printf(&u.o, "[Unit]\nDescription=postern %s socket (port %d)\n",
	        s->name, s->port);
	key(&u, "Documentation", "man:postern(8)");
	strbuf_printf(&u.o, "\n[Socket]\n");
	socket_keys(im, p, s, &u);
	key(&u, "Accept", "no");
	key(&u, "FileDescriptorName", s->name);
	if (!own)
		key(&u, "Service", service);
	key(&u, "KeepAlive", "yes");
	key(&u, "KeepAliveTimeSec", "300");
	key(&u, "KeepAliveIntervalSec", "30");
	key(&u, "KeepAliveProbes", "4");
	strbuf_printf(&u.o, "\n[Install]\n");
	key(&u, "WantedBy", "sockets.target");
	iu->nkeys = u.keys;
	if (u.o.overflow)
		return im_refuse(im, p->l[s->listens[0]].d, "the socket unit is "
		                 "longer than %zu bytes", sizeof iu->text);
	return 0;
}

/* Two sections on one port: the shipped units tell them apart by the
 * socket's name; postern-spawn -a (the container's), which picks by
 * port, refuses to start with both. */
static void shared_ports(struct importer *im, const struct plan *p)
{
	for (int i = 0; i < p->ns; i++)
		for (int j = i + 1; j < p->ns; j++)
			if (p->s[i].port == p->s[j].port)
				im_note(im, p->l[p->s[j].listens[0]].d, "sections %s and "
				        "%s share port %d: the socket units tell them "
				        "apart by name; postern-spawn -a (the container's), "
				        "which finds sections by port, refuses both",
				        p->s[i].name, p->s[j].name,
				        p->s[i].port);
}

static int section(struct importer *im, const struct plan *p,
                   const struct section *s)
{
	const struct listen *first = &p->l[s->listens[0]];
	char v[128];

	strbuf_printf(&im->conf, "\n# nginx ");
	out_comment_text(&im->conf, im->c->files[first->d->file]);
	strbuf_printf(&im->conf, ":%d, port %d\nserver %s {\n", first->d->line,
	        s->port, s->name);
	im->r->ndirectives++;
	listen_value(p, s, v, sizeof v);
	im_directive(im, "    ", "listen");
	out_quoted(&im->conf, v);
	strbuf_printf(&im->conf, "\n");
	im_directive(im, "    ", "protocol");
	strbuf_printf(&im->conf, "%s\n", s->protocol);
	if (im->server_body(im, s->server) < 0)
		return -1;
	strbuf_printf(&im->conf, "}\n");
	return unit(im, p, s);
}

int im_sections(struct importer *im, int mail)
{
	static struct plan p;

	p.nl = p.ns = 0;
	if (gather(im, &p, mail) < 0 || group(im, &p) < 0)
		return -1;
	name_sections(&p);
	shared_ports(im, &p);
	for (int i = 0; i < p.ns; i++)
		if (section(im, &p, &p.s[i]) < 0)
			return -1;
	return 0;
}
