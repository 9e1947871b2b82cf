/* Logging in to an SMTP backend, in nginx's order: greeting; EHLO with
 * server_name; XCLIENT with the client's address and login when the
 * backend offers it, then the client's own HELO/EHLO again; then
 * AUTH PLAIN (proxy_smtp_auth), or the saved MAIL/RCPT (smtp_auth none). */
#include "base64.h"
#include "lineio.h"
#include "log.h"
#include "resolver.h"
#include "session_state.h"
#include "session_io.h"
#include "smtp.h"
#include "xtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct reply {
	int code;            /* 220, 250, ... */
	char last[512];      /* the last line, for errors and the client */
	int xclient;         /* an EHLO reply offered XCLIENT */
	int auth;            /* its AUTH line: 0 none, else AUTH_* bits */
};

enum { AUTH_LISTED = 1, AUTH_HAS_PLAIN = 2, AUTH_HAS_LOGIN = 4 };

/* "250-AUTH PLAIN LOGIN" (or the old "AUTH=" form): which we can use. */
static int auth_line(const char *line, size_t len)
{
	int bits = AUTH_LISTED;

	if (len < 8 || strncasecmp(line + 4, "AUTH", 4) != 0 ||
	    (line[8] != ' ' && line[8] != '='))
		return 0;
	for (const char *p = line + 9; *p; p += strcspn(p, " "), p += *p == ' ') {
		size_t n = strcspn(p, " ");

		if (n == 5 && strncasecmp(p, "PLAIN", 5) == 0)
			bits |= AUTH_HAS_PLAIN;
		if (n == 5 && strncasecmp(p, "LOGIN", 5) == 0)
			bits |= AUTH_HAS_LOGIN;
	}
	return bits;
}

/* Read one reply, all its lines; IO_ERROR if it is not SMTP. */
static enum io_result read_reply(struct session *s, int64_t deadline,
                                 struct reply *rep)
{
	char *line;
	size_t len;
	enum io_result r;

	rep->code = 0;
	rep->auth = 0;
	for (;;) {
		r = lineio_getline(&s->backend, deadline, &line, &len);
		if (r != IO_OK)
			return r;
		if (len < 3 || line[0] < '1' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-'))
			return IO_ERROR;
		if (len >= 11 && strncasecmp(line + 4, "XCLIENT", 7) == 0 &&
		    (len == 11 || line[11] == ' '))
			rep->xclient = 1;
		rep->auth |= auth_line(line, len);
		if (len == 3 || line[3] == ' ') {
			rep->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
			            (line[2] - '0');
			snprintf(rep->last, sizeof rep->last, "%s", line);
			return IO_OK;
		}
	}
}

struct talk {
	struct session *s;
	int64_t deadline;
	char *text;          /* why it failed, for the caller */
	size_t size;
	struct reply rep;
};

static int say(struct talk *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Send one command and read its reply; -1 when the backend is unusable. */
static int say(struct talk *t, const char *fmt, ...)
{
	char out[3 * SMTP_PATH_LINE_MAX];
	enum io_result r;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof out, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof out) {
		snprintf(t->text, t->size, "command too long for the backend");
		return -1;
	}
	r = lineio_write_all(&t->s->backend, out, (size_t)n, t->deadline);
	explicit_bzero(out, sizeof out);
	if (r == IO_OK)
		r = read_reply(t->s, t->deadline, &t->rep);
	if (r != IO_OK) {
		snprintf(t->text, t->size, "%.*s: %s", (int)strcspn(fmt, " \r"),
		         fmt, r == IO_ERROR ? "not an SMTP reply" : io_result_str(r));
		return -1;
	}
	return 0;
}

/* The client's own OAuth mechanism and token replayed, when the auth
 * server gave no password of its own; a refusal's challenge gets the
 * dummy answer, then the 535 (RFC 7628 3.2.3). */
static int auth_oauth(struct talk *t)
{
	static char msg[OAUTH_MESSAGE_MAX + 1];
	struct session *s = t->s;
	char head[64];
	int n = snprintf(head, sizeof head, "AUTH %s ",
	                 sasl_mech_name(s->cred.mech));
	enum io_result r = IO_ERROR;

	if (sasl_oauth_message(&s->cred, msg, sizeof msg) >= 0 &&
	    lineio_write_all(&s->backend, head, (size_t)n, t->deadline) == IO_OK &&
	    lineio_write_all(&s->backend, msg, strlen(msg), t->deadline) == IO_OK)
		r = lineio_write_all(&s->backend, "\r\n", 2, t->deadline);
	explicit_bzero(msg, sizeof msg);
	if (r == IO_OK)
		r = read_reply(s, t->deadline, &t->rep);
	if (r == IO_OK && t->rep.code == 334)
		return say(t, "%s\r\n", s->cred.mech == SASL_OAUTHBEARER ? "AQ==" : "");
	if (r != IO_OK) {
		snprintf(t->text, t->size, "AUTH: %s", io_result_str(r));
		return -1;
	}
	return 0;
}

/* The reply was not what we wanted: say what came. */
static enum auth_result refused(struct talk *t, const char *what,
                                enum auth_result r)
{
	snprintf(t->text, t->size, "%s", t->rep.last);
	logmsg(LOG_NOTICE, "event=backend_refused command=%s reply=\"%.80s\"",
	       what, LOGV(t->rep.last));
	return r;
}

/* What Postfix's smtpd_authorized_xclient_hosts lets postern say: the
 * client's address, port and name (nginx sends no PORT; Postfix logs it
 * and its policy services see it), and the login unless the backend
 * checks the AUTH itself. */
static int xclient(struct talk *t)
{
	struct session *s = t->s;
	char login[3 * CRED_MAX + 8] = "", user[3 * CRED_MAX], port[24] = "";
	const char *v6 = strchr(s->client_ip, ':') ? "IPV6:" : "";
	const char *addr = strcmp(s->client_ip, "unknown") == 0 ? "[UNAVAILABLE]"
	                                                        : s->client_ip;
	const char *name = s->client_host[0] ? s->client_host
	                                     : RESOLVER_UNAVAILABLE;
	int p = addr_port((const struct sockaddr *)&s->client_addr.ss);

	if (s->cred.user[0] && !s->conf->proxy_smtp_auth) {
		if (xtext_encode(s->cred.user, user, sizeof user) < 0)
			return -1;
		snprintf(login, sizeof login, " LOGIN=%s", user);
	}
	if (p > 0)
		snprintf(port, sizeof port, " PORT=%d", p);
	return say(t, "XCLIENT ADDR=%s%s%s%s NAME=%s\r\n",
	           *addr == '[' ? "" : v6, addr, port, login, name);
}

/* AUTH LOGIN, for backends that lack PLAIN (Exchange; nginx ticket
 * #601): the user and the password, one challenge each. */
static int auth_login(struct talk *t)
{
	struct session *s = t->s;
	char b64[BASE64_ENCODED_LEN(CRED_MAX) + 1];
	int rc = say(t, "AUTH LOGIN\r\n");

	if (rc == 0 && t->rep.code == 334 &&
	    base64_encode(s->cred.user, strlen(s->cred.user), b64, sizeof b64) >= 0)
		rc = say(t, "%s\r\n", b64);
	if (rc == 0 && t->rep.code == 334 &&
	    base64_encode(s->cred.pass, strlen(s->cred.pass), b64, sizeof b64) >= 0)
		rc = say(t, "%s\r\n", b64);
	explicit_bzero(b64, sizeof b64);
	return rc;
}

static int auth_plain(struct talk *t)
{
	struct session *s = t->s;
	char raw[2 * CRED_MAX + 2], b64[BASE64_ENCODED_LEN(sizeof raw) + 1];
	size_t ulen = strlen(s->cred.user), plen = strlen(s->cred.pass);
	int rc;

	raw[0] = '\0';
	memcpy(raw + 1, s->cred.user, ulen + 1);
	memcpy(raw + 2 + ulen, s->cred.pass, plen);
	rc = base64_encode(raw, 2 + ulen + plen, b64, sizeof b64) < 0 ? -1 :
	     say(t, "AUTH PLAIN %s\r\n", b64);
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(b64, sizeof b64);
	return rc;
}

static enum auth_result greeting(struct talk *t)
{
	enum io_result r = read_reply(t->s, t->deadline, &t->rep);

	if (r != IO_OK) {
		snprintf(t->text, t->size, "greeting: %s",
		         r == IO_ERROR ? "not an SMTP reply" : io_result_str(r));
		return AUTH_TEMPFAIL;
	}
	if (t->rep.code != 220)
		return refused(t, "greeting", AUTH_BACKEND_ERROR);
	return AUTH_OK;
}

/* RFC 3207: greeting, EHLO, STARTTLS; the login that follows starts with
 * EHLO again, as it must after TLS. */
enum auth_result smtp_backend_starttls(struct session *s, char *text,
                                       size_t size)
{
	struct talk t = { s, session_deadline(s), text, size, { 0, "", 0, 0 } };

	if (greeting(&t) != AUTH_OK)
		return AUTH_TEMPFAIL;
	if (say(&t, "EHLO %s\r\n", s->conf->server_name) < 0)
		return AUTH_TEMPFAIL;
	if (t.rep.code != 250)
		return refused(&t, "EHLO", AUTH_TEMPFAIL);
	if (say(&t, "STARTTLS\r\n") < 0)
		return AUTH_TEMPFAIL;
	if (t.rep.code != 220)
		return refused(&t, "STARTTLS", AUTH_TEMPFAIL);
	return AUTH_OK;
}

/* EHLO or HELO as the client said it, with its name. */
static enum auth_result client_helo(struct talk *t)
{
	struct smtp_state *ss = t->s->proto_state;

	if (say(t, "%s %s\r\n", ss->esmtp ? "EHLO" : "HELO", ss->helo) < 0)
		return AUTH_TEMPFAIL;
	if (t->rep.code != 250)
		return refused(t, "client HELO", AUTH_BACKEND_ERROR);
	return AUTH_OK;
}

/* Greeting and EHLO/HELO. With XCLIENT: EHLO with server_name, XCLIENT,
 * then the client's HELO again, as nginx does. XCLIENT is sent whether
 * the EHLO offers it or not: a backend that does not take it must not
 * see every client as postern (for Postfix, perhaps in mynetworks), so
 * its refusal ends the login, as it does with nginx. Without XCLIENT:
 * the client's HELO name straight away, so the backend at least knows
 * what the client called itself. */
static enum auth_result introduce(struct talk *t)
{
	struct session *s = t->s;
	struct smtp_state *ss = s->proto_state;

	if (!s->backend_greeted && greeting(t) != AUTH_OK)
		return AUTH_TEMPFAIL;
	if (!s->conf->xclient && ss->helo[0])
		return client_helo(t);
	if (say(t, "%s %s\r\n", ss->esmtp || s->conf->xclient ? "EHLO" : "HELO",
	        s->conf->server_name) < 0)
		return AUTH_TEMPFAIL;
	if (t->rep.code != 250)
		return refused(t, "EHLO", AUTH_BACKEND_ERROR);
	if (!s->conf->xclient)
		return AUTH_OK;
	if (!t->rep.xclient)
		logmsg(LOG_WARNING, "event=no_xclient backend=%s reason=\"the "
		       "backend does not offer XCLIENT: list postern in Postfix's "
		       "smtpd_authorized_xclient_hosts, or set xclient = false\"",
		       s->backend_name);
	if (xclient(t) < 0)
		return AUTH_TEMPFAIL;
	if (t->rep.code != 220 && t->rep.code != 250)
		return refused(t, "XCLIENT", AUTH_BACKEND_ERROR);
	return ss->helo[0] ? client_helo(t) : AUTH_OK;
}

/* smtp_auth none: MAIL and RCPT as the client sent them; the backend's
 * RCPT reply, whatever it is, goes to the client, as with nginx. */
static enum auth_result replay_envelope(struct talk *t)
{
	struct smtp_state *ss = t->s->proto_state;

	if (say(t, "%s\r\n", ss->from) < 0)
		return AUTH_TEMPFAIL;
	if (t->rep.code != 250)
		return refused(t, "MAIL", AUTH_BACKEND_ERROR);
	if (say(t, "%s\r\n", ss->to) < 0)
		return AUTH_TEMPFAIL;
	if (session_printf(t->s, "%s\r\n", t->rep.last) < 0) {
		snprintf(t->text, t->size, "client went away");
		return AUTH_TEMPFAIL;
	}
	return AUTH_OK;
}

enum auth_result smtp_backend_login(struct session *s, char *text,
                                    size_t size)
{
	struct talk t = { s, session_deadline(s), text, size, { 0, "", 0, 0 } };
	int none = s->cred.mech == SASL_NONE;
	enum auth_result r;

	if (!credentials_fit_a_line(&s->cred)) {
		snprintf(text, size, "control characters in user or password");
		return AUTH_FAILED;
	}
	r = introduce(&t);
	if (r != AUTH_OK)
		return r;
	if (none)
		return replay_envelope(&t);
	if (s->conf->proxy_smtp_auth) {
		int oauth = (s->cred.mech & SASL_OAUTH) && s->cred.token[0];

		/* PLAIN unless the backend's last EHLO listed AUTH without it
		 * but with LOGIN. */
		int login = (t.rep.auth & (AUTH_LISTED | AUTH_HAS_PLAIN |
		                          AUTH_HAS_LOGIN)) ==
		            (AUTH_LISTED | AUTH_HAS_LOGIN);

		if ((oauth ? auth_oauth(&t) : login ? auth_login(&t)
		                                    : auth_plain(&t)) < 0)
			return AUTH_TEMPFAIL;
		if (t.rep.code != 235)
			return refused(&t, "AUTH", t.rep.code / 100 == 5 ?
			               AUTH_FAILED : AUTH_BACKEND_ERROR);
	}
	if (session_printf(s, "235 2.0.0 OK\r\n") < 0) {
		snprintf(text, size, "client went away");
		return AUTH_TEMPFAIL;
	}
	return AUTH_OK;
}
