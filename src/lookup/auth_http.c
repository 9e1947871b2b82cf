#include "auth_http.h"
#include "clock.h"
#include "hex.h"
#include "lineio.h"
#include "net.h"
#include "strbuf.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

/* Space, '%' and control characters, as nginx (auth_http.h). */
static const struct hex_escape header_escape = { "%", 0, 0x21, 0xff, "%" };

ssize_t auth_http_escape(const char *in, char *out, size_t size)
{
	return hex_escape(in, out, size, &header_escape);
}

static int has_ctl(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

/* A certificate's DN as nginx sends it, RFC 2253 text as it is (an auth
 * script compares "CN=alice,O=Example"), with what OpenSSL's RFC 2253
 * printing escapes escaped the same way, \XX: control characters, DEL and
 * every byte of a non-ASCII character. No CR or LF reaches the request. */
static const struct hex_escape dn_escape = { "\\", 0, 0x20, 0x7e, NULL };

static void put_dn(struct strbuf *o, const char *name, const char *v)
{
	char esc[3 * 1024 + 1];

	if (hex_escape(v, esc, sizeof esc, &dn_escape) < 0)
		o->overflow = 1;
	else
		strbuf_printf(o, "%s: %s\r\n", name, esc);
}

static void put_tls(struct strbuf *o, const struct tls_info *t, int pass_cert)
{
	strbuf_printf(o, "Auth-SSL: on\r\n");
	strbuf_printf(o, "Auth-SSL-Protocol: %s\r\n", t->protocol);
	strbuf_printf(o, "Auth-SSL-Cipher: %s\r\n", t->cipher);
	if (t->verify_asked)
		put_dn(o, "Auth-SSL-Verify", t->verify);
	if (!t->has_cert)
		return;
	/* nginx leaves a header out when its name is empty. */
	if (t->subject[0])
		put_dn(o, "Auth-SSL-Subject", t->subject);
	if (t->issuer[0])
		put_dn(o, "Auth-SSL-Issuer", t->issuer);
	strbuf_printf(o, "Auth-SSL-Serial: %s\r\n", t->serial);
	strbuf_printf(o, "Auth-SSL-Fingerprint: %s\r\n", t->fingerprint);
	if (pass_cert && t->cert) {
		size_t n = strlen(t->cert) * 3 + 1;
		char *esc = malloc(n);

		if (!esc || auth_http_escape(t->cert, esc, n) < 0)
			o->overflow = 1;
		else
			strbuf_printf(o, "Auth-SSL-Cert: %s\r\n", esc);
		free(esc);
	}
}

/* As nginx sends them: addresses bare, IPv6 without brackets. */
static void put_proxy(struct strbuf *o, const struct addr *src,
                      const struct addr *dst)
{
	char ip[ADDR_TEXT_MAX];

	addr_format_ip((const struct sockaddr *)&src->ss, ip, sizeof ip);
	strbuf_printf(o, "Proxy-Protocol-Addr: %s\r\n", ip);
	strbuf_printf(o, "Proxy-Protocol-Port: %d\r\n",
	              addr_port((const struct sockaddr *)&src->ss));
	addr_format_ip((const struct sockaddr *)&dst->ss, ip, sizeof ip);
	strbuf_printf(o, "Proxy-Protocol-Server-Addr: %s\r\n", ip);
	strbuf_printf(o, "Proxy-Protocol-Server-Port: %d\r\n",
	              addr_port((const struct sockaddr *)&dst->ss));
}

ssize_t auth_http_build(char *buf, size_t size,
                        const struct auth_http_target *t, const char *headers,
                        const struct auth_request *req)
{
	static char pass[3 * CRED_MAX + TOKEN_MAX + 1];
	char user[3 * CRED_MAX + 1];
	struct strbuf o;

	strbuf_init(&o, buf, size);
	if (auth_http_escape(req->user, user, sizeof user) < 0 ||
	    auth_http_escape(req->pass ? req->pass : "", pass, sizeof pass) < 0) {
		explicit_bzero(pass, sizeof pass);
		return -1;
	}
	strbuf_printf(&o, "GET %s HTTP/1.0\r\nHost: %s\r\n", t->uri, t->host);
	strbuf_printf(&o, "Auth-Method: %s\r\n", sasl_auth_method(req->mech));
	strbuf_printf(&o, "Auth-User: %s\r\nAuth-Pass: %s\r\n", user, pass);
	explicit_bzero(pass, sizeof pass);
	if (req->salt)
		strbuf_printf(&o, "Auth-Salt: %s\r\n", req->salt);
	strbuf_printf(&o, "Auth-Protocol: %s\r\n", req->protocol);
	strbuf_printf(&o, "Auth-Login-Attempt: %u\r\n", req->attempt);
	strbuf_printf(&o, "Client-IP: %s\r\n", req->client_ip);
	if (req->client_host)
		strbuf_printf(&o, "Client-Host: %s\r\n", req->client_host);
	if (req->proxy_src && req->proxy_dst)
		put_proxy(&o, req->proxy_src, req->proxy_dst);
	/* The SMTP lines go as they came, as nginx sends them: the SMTP parser
	 * refuses control characters, and a header never ends early here. */
	if (req->mech == SASL_NONE) {
		if (has_ctl(req->smtp_helo) || has_ctl(req->smtp_from) ||
		    has_ctl(req->smtp_to))
			return -1;
		strbuf_printf(&o, "Auth-SMTP-Helo: %s\r\n",
		              req->smtp_helo ? req->smtp_helo : "");
		strbuf_printf(&o, "Auth-SMTP-From: %s\r\n",
		              req->smtp_from ? req->smtp_from : "");
		strbuf_printf(&o, "Auth-SMTP-To: %s\r\n",
		              req->smtp_to ? req->smtp_to : "");
	}
	if (req->tls)
		put_tls(&o, req->tls, req->pass_client_cert);
	strbuf_printf(&o, "%s\r\n", headers ? headers : "");
	if (o.overflow) {
		explicit_bzero(buf, size);
		return -1;
	}
	return (ssize_t)o.len;
}

static void copy_value(char *dst, size_t size, const char *v, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

/* A value that must arrive whole or not at all: cut to fit, "00000143"
 * was port 14, a deny list ending in "GETACL" denied "GET", and a user
 * name its prefix. One too long is named in too_long, and an OK answer
 * is then invalid. */
static void copy_whole(struct auth_reply *rep, const char *header, char *dst,
                       size_t size, const char *v, size_t len)
{
	if (len >= size) {
		rep->too_long = header;
		dst[0] = '\0';
		return;
	}
	copy_value(dst, size, v, len);
}

static int header_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static void take_header(struct auth_reply *rep, const char *name, size_t nlen,
                        const char *v, size_t vlen)
{
	if (header_is(name, nlen, "Auth-Status")) {
		rep->has_status = 1;
		if (vlen == 2 && memcmp(v, "OK", 2) == 0)
			rep->status = AUTH_STATUS_OK;
		else if (vlen == 4 && memcmp(v, "WAIT", 4) == 0)
			rep->status = AUTH_STATUS_WAIT;
		else {
			rep->status = AUTH_STATUS_FAIL;
			copy_value(rep->error, sizeof rep->error, v, vlen);
		}
	} else if (header_is(name, nlen, "Auth-Server")) {
		copy_whole(rep, "Auth-Server", rep->server, sizeof rep->server, v,
		           vlen);
	} else if (header_is(name, nlen, "Auth-Port")) {
		copy_whole(rep, "Auth-Port", rep->port, sizeof rep->port, v, vlen);
	} else if (header_is(name, nlen, "Auth-User")) {
		copy_whole(rep, "Auth-User", rep->user, sizeof rep->user, v, vlen);
		rep->has_user = 1;
	} else if (header_is(name, nlen, "Auth-Pass")) {
		copy_whole(rep, "Auth-Pass", rep->pass, sizeof rep->pass, v, vlen);
		rep->has_pass = 1;
	} else if (header_is(name, nlen, "Auth-Wait")) {
		char num[16];

		copy_value(num, sizeof num, v, vlen);
		if (vlen > 0 && vlen < 10 && strspn(num, "0123456789") == vlen)
			rep->wait = atoi(num);
	} else if (header_is(name, nlen, "Auth-IMAP-Deny")) {
		copy_whole(rep, "Auth-IMAP-Deny", rep->deny, sizeof rep->deny, v,
		           vlen);
	} else if (header_is(name, nlen, "Auth-Error-SASL")) {
		copy_value(rep->error_sasl, sizeof rep->error_sasl, v, vlen);
	} else if (header_is(name, nlen, "Auth-Error-Code")) {
		copy_value(rep->error_code, sizeof rep->error_code, v, vlen);
	} else if (header_is(name, nlen, "Auth-Backend-TLS")) {
		/* postern's own: overrides proxy_ssl for this user. */
		static const char *const modes[] = { "off", "on", "starttls" };

		rep->backend_tls = -2;
		for (int i = 0; i < 3; i++)
			if (vlen == strlen(modes[i]) &&
			    strncasecmp(v, modes[i], vlen) == 0)
				rep->backend_tls = i;
	}
}

static int malformed(struct auth_reply *rep, const char *why)
{
	snprintf(rep->why, sizeof rep->why, "auth server: %s", why);
	rep->status = AUTH_STATUS_TEMPFAIL;
	return -1;
}

/* The outcome once all headers are in: nginx's rules for what OK needs.
 * nginx takes an answer without Auth-Status as OK; a proxy in front of
 * the internet fails closed instead: a broken auth script is a temporary
 * failure, not a way in. */
static int finish(struct auth_reply *rep, int need_password)
{
	if (!rep->has_status)
		return malformed(rep, "sent no Auth-Status");
	if (rep->status != AUTH_STATUS_OK)
		return 1;
	if (rep->too_long) {
		snprintf(rep->why, sizeof rep->why, "auth server: sent an %s "
		         "longer than postern keeps", rep->too_long);
		rep->status = AUTH_STATUS_TEMPFAIL;
		return -1;
	}
	if (!rep->server[0] || !rep->port[0])
		return malformed(rep, "did not send server or port");
	if (need_password && !rep->has_pass)
		return malformed(rep, "did not send password");
	if (addr_from_parts(rep->server, rep->port, &rep->backend) < 0)
		return malformed(rep, "sent an invalid server address or port");
	if (rep->backend_tls == -2)
		return malformed(rep, "sent an Auth-Backend-TLS other than on, "
		                 "starttls or off");
	return 1;
}

int auth_http_parse(const char *buf, size_t len, int need_password,
                    struct auth_reply *rep)
{
	const char *p = buf, *end = buf + len, *eol;

	rep->status = AUTH_STATUS_TEMPFAIL; /* until Auth-Status says */
	eol = memchr(p, '\n', len);
	if (!eol)
		return len >= 5 && strncmp(buf, "HTTP/", 5) ? malformed(rep,
		       "sent an invalid status line") : 0;
	if (strncmp(p, "HTTP/", 5) != 0)
		return malformed(rep, "sent an invalid status line");
	p = eol + 1;
	while (p < end) {
		const char *name = p, *colon, *v, *ve;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return 0;
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (ve == p)
			return finish(rep, need_password);
		for (colon = p; colon < ve && (isalnum((unsigned char)*colon) ||
		                               *colon == '-');
		     colon++)
			;
		if (colon == p || colon == ve || *colon != ':')
			return malformed(rep, "sent an invalid header");
		for (v = colon + 1; v < ve && *v == ' '; v++)
			;
		while (ve > v && ve[-1] == ' ')
			ve--;
		if (memchr(v, '\r', (size_t)(ve - v)))
			return malformed(rep, "sent an invalid header");
		take_header(rep, name, (size_t)(colon - name), v,
		            (size_t)(ve - v));
		p = eol + 1;
	}
	return 0;
}

/* Within auth_http_timeout, and never past limit (the login's). */
static int exchange(const struct server_conf *c, int64_t limit,
                    const char *req, size_t len, char *resp, size_t *rlen,
                    const char **why)
{
	int64_t deadline = clock_ms() + c->auth_http_timeout_ms;
	int fd;

	if (limit > 0 && limit < deadline)
		deadline = limit;
	fd = net_connect(&c->auth_http_target.addr, deadline, why);
	struct lineio in;
	enum io_result r;

	if (fd < 0)
		return -1;
	r = io_write_all(fd, req, len, deadline);
	if (r != IO_OK) {
		*why = io_result_str(r);
		close(fd);
		return -1;
	}
	/* Every member set: an unset transport was a wild call (lineio_fill
	 * calls through t when it is not NULL). */
	in = (struct lineio){ .fd = fd, .t = NULL, .buf = resp,
	                      .size = AUTH_HTTP_RESPONSE_MAX };
	/* HTTP/1.0: the server closes when done; stop early at the blank line. */
	for (;;) {
		r = lineio_fill(&in, deadline);
		if (r == IO_EOF)
			break;
		if (r != IO_OK) {
			*why = r == IO_TOOLONG ? "response too long" :
			       io_result_str(r);
			close(fd);
			return -1;
		}
		resp[in.end] = '\0';
		/* By length: a NUL in the answer must not hide its end. */
		if (memmem(resp, in.end, "\r\n\r\n", 4) ||
		    memmem(resp, in.end, "\n\n", 2))
			break;
	}
	close(fd);
	if (memchr(resp, '\0', in.end)) {
		/* Every header is text: a NUL would cut the value it is in. */
		*why = "invalid answer: a NUL byte";
		return -1;
	}
	*rlen = in.end;
	return 0;
}

void auth_http_query(const struct server_conf *c,
                     const struct auth_request *req, struct auth_reply *rep)
{
	static char request[16384 + TOKEN_MAX];
	char response[AUTH_HTTP_RESPONSE_MAX + 1];
	ssize_t n = auth_http_build(request, sizeof request,
	                            &c->auth_http_target, c->auth_http_headers,
	                            req);
	const char *why = NULL;
	size_t rlen = 0;

	if (n < 0) {
		malformed(rep, "request too large");
		return;
	}
	if (exchange(c, req->deadline, request, (size_t)n, response, &rlen,
	             &why) < 0) {
		explicit_bzero(request, sizeof request);
		snprintf(rep->why, sizeof rep->why, "auth server %s: %s",
		         c->auth_http, why);
		rep->status = AUTH_STATUS_TEMPFAIL;
		return;
	}
	explicit_bzero(request, sizeof request);
	if (auth_http_parse(response, rlen, req->need_pass, rep) == 0)
		malformed(rep, "response ended before its headers did");
	explicit_bzero(response, sizeof response);
}

/* A host name, resolved when the configuration is read, as nginx does at
 * start-up: the system's resolver (/etc/hosts, then DNS under its own
 * timeouts from resolv.conf), first address. The answer is kept for the
 * rest of the process, so the check while reading and the section's
 * configure cost one lookup. */
static int resolve_host(const char *hostport, struct addr *a, char *err,
                        size_t size)
{
	static char cached[300];
	static struct addr cached_addr;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	                          .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[300];
	const char *colon = strrchr(hostport, ':');
	int rc;

	if (strcmp(hostport, cached) == 0) {
		*a = cached_addr;
		return 0;
	}
	if (!colon || (size_t)(colon - hostport) >= sizeof host) {
		snprintf(err, size, "auth_http: bad address \"%s\"", hostport);
		return -1;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || !res || res->ai_addrlen > sizeof a->ss) {
		snprintf(err, size, "auth_http: cannot resolve \"%s\": %s", host,
		         rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memset(a, 0, sizeof *a);
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(cached, sizeof cached, "%s", hostport);
	cached_addr = *a;
	return 0;
}

/* "http://192.0.2.1:9000/auth", "http://[::1]/auth",
 * "http://auth.example:9000/auth" or "unix:/run/auth.sock:/auth". */
static int parse_target(const char *url, struct auth_http_target *t,
                        char *err, size_t size)
{
	const char *p = url, *slash;
	char hostport[300];
	size_t n;

	memset(t, 0, sizeof *t);
	if (strncmp(p, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&t->addr.ss;
		const char *colon = strchr(p + 5, ':');

		n = colon ? (size_t)(colon - p - 5) : strlen(p + 5);
		if (n == 0 || n >= sizeof un->sun_path) {
			snprintf(err, size, "auth_http: bad unix path in \"%s\"", url);
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, p + 5, n);
		t->addr.len = sizeof *un;
		snprintf(t->host, sizeof t->host, "localhost");
		snprintf(t->uri, sizeof t->uri, "%s", colon ? colon + 1 : "/");
		return 0;
	}
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof hostport) {
		snprintf(err, size, "auth_http: bad address in \"%s\"", url);
		return -1;
	}
	memcpy(hostport, p, n);
	hostport[n] = '\0';
	snprintf(t->uri, sizeof t->uri, "%s", slash ? slash : "/");
	/* Host: carries the host part alone, as nginx sends it. */
	{
		char *colon = strrchr(hostport, ':');
		int has_port = colon && (hostport[0] != '[' || colon[-1] == ']');

		snprintf(t->host, sizeof t->host, "%.*s",
		         has_port ? (int)(colon - hostport) : (int)n, hostport);
		if (!has_port)
			strncat(hostport, ":80", sizeof hostport - n - 1);
	}
	if (addr_parse(hostport, &t->addr) == 0)
		return 0;
	if (hostport[0] == '[' || !t->host[0]) {
		snprintf(err, size, "auth_http: bad address in \"%s\"", url);
		return -1;
	}
	return resolve_host(hostport, &t->addr, err, size);
}

static int check(const char *value, char *why, size_t size)
{
	struct auth_http_target t;

	return parse_target(value, &t, why, size);
}

static int configure(struct server_conf *c, const char *value, char *err,
                     size_t size)
{
	c->auth_http = value;
	return parse_target(value, &c->auth_http_target, err, size);
}

const struct lookup lookup_auth_http = {
	.directive = "auth_http",
	.configure = configure,
	.check = check,
	.lookup = auth_http_query,
	.checks_password = 1,
};
