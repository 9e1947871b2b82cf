/* POP3 before login (RFC 1939, 2449, 5034): greeting, CAPA, USER/PASS,
 * APOP, AUTH, NOOP, QUIT; then USER/PASS at the backend. Replies are
 * nginx's, word for word, so clients and monitoring see no change. */
#include "line_command.h"
#include "lineio.h"
#include "log.h"
#include "proto.h"
#include "sasl_exchange.h"
#include "session_state.h"
#include "session_io.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pop3_state {
	struct line_command lc;  /* first: line_command.h */
	int have_user;           /* USER was accepted; PASS may follow */
	int backend_xclient;     /* the backend's greeting offered XCLIENT */
};

static struct pop3_state *st(struct session *s)
{
	return s->proto_state;
}

static int pop3_init(struct session *s)
{
	return line_command_init(s, sizeof(struct pop3_state));
}

static enum step invalid(struct session *s, const char *why)
{
	logmsg(LOG_INFO, "event=invalid_command reason=\"%s\"", why);
	st(s)->have_user = 0;
	return session_reply(s, STEP_ERROR, "-ERR invalid command");
}

static enum step pop3_greet(struct session *s)
{
	const char *salt = NULL;

	if (s->conf->auth & SASL_SALTED) {
		salt = sasl_session_salt(s);
		if (!salt) {
			session_internal_error(s);
			session_end(s, "error", "server_name too long for a salt");
			return STEP_CLOSE;
		}
	}
	if (salt)
		return session_reply(s, STEP_NEXT, "+OK POP3 ready %s", salt);
	return session_reply(s, STEP_NEXT, "+OK POP3 ready");
}

static enum step pop3_read_command(struct session *s, const char **name)
{
	return line_command_read(s, name, invalid);
}

/* "plain" in pop3_auth allows USER/PASS, AUTH PLAIN and AUTH LOGIN. APOP
 * is a command of its own, not an AUTH mechanism. */
static unsigned mechs(const struct session *s)
{
	unsigned m = session_mechs(s) & ~(unsigned)SASL_APOP;

	if (m & SASL_PLAIN)
		m |= SASL_LOGIN;
	return m;
}

static void sasl_list(const struct session *s, char *buf, size_t size,
                      const char *sep)
{
	static const unsigned order[] = { SASL_PLAIN, SASL_LOGIN, SASL_CRAM_MD5,
	                                  SASL_EXTERNAL, SASL_XOAUTH2,
	                                  SASL_OAUTHBEARER, 0 };
	struct strbuf o;

	buf[0] = '\0';
	strbuf_init(&o, buf, size);
	for (int i = 0; order[i]; i++)
		if (mechs(s) & order[i])
			strbuf_printf(&o, "%s%s", sasl_mech_name(order[i]), sep);
}

static enum step pop3_capa(struct session *s)
{
	char out[2048], list[64];
	struct strbuf o;

	/* As nginx: with starttls only and no TLS yet, no USER and no SASL. */
	int plain_ok = !session_needs_tls(s);

	strbuf_init(&o, out, sizeof out);
	strbuf_printf(&o, "+OK Capability list follows\r\n");
	for (size_t i = 0; i < s->conf->ncapabilities; i++)
		if (plain_ok || strcasecmp(s->conf->capabilities[i], "USER") != 0)
			strbuf_printf(&o, "%s\r\n", s->conf->capabilities[i]);
	sasl_list(s, list, sizeof list, " ");
	if (!plain_ok)
		list[0] = '\0';
	if (list[0])
		strbuf_printf(&o, "SASL %.*s\r\n", (int)strlen(list) - 1, list);
	/* nginx's order: SASL, then STLS. */
	if (session_can_starttls(s))
		strbuf_printf(&o, "STLS\r\n");
	strbuf_printf(&o, ".\r\n");
	if (o.overflow || session_write(s, out, o.len) < 0)
		return session_client_gone(s, IO_ERROR);
	return STEP_NEXT;
}

static enum step pop3_noop(struct session *s)
{
	return session_reply(s, STEP_NEXT, "+OK");
}

static enum step pop3_quit(struct session *s)
{
	/* First: a client that leaves before the reply still quit. */
	session_end(s, "logout", "client quit");
	session_reply(s, STEP_CLOSE, "+OK");
	return STEP_CLOSE;
}

static enum step pop3_stls(struct session *s)
{
	if (st(s)->have_user || line_command_nargs(s) || !session_can_starttls(s))
		return invalid(s, "STLS not available");
	if (session_reply(s, STEP_NEXT, "+OK") != STEP_NEXT)
		return STEP_CLOSE;
	return STEP_STARTTLS;
}

static enum step pop3_user(struct session *s)
{
	if (session_needs_tls(s))
		return invalid(s, "login before STLS");
	if (st(s)->have_user || !(s->conf->auth & SASL_PLAIN))
		return invalid(s, "USER not allowed now");
	if (line_command_nargs(s) != 1 || strlen(line_command_arg(s, 0)) >= sizeof s->cred.user)
		return invalid(s, "USER needs one argument");
	snprintf(s->cred.user, sizeof s->cred.user, "%s", line_command_arg(s, 0));
	st(s)->have_user = 1;
	return session_reply(s, STEP_NEXT, "+OK");
}

/* The password is the rest of the line: spaces are part of it (as with
 * Dovecot and most servers, though nginx took one word). */
static enum step pop3_pass(struct session *s)
{
	const struct cmdline *c = line_command(s);

	if (!st(s)->have_user)
		return invalid(s, "PASS without USER");
	st(s)->have_user = 0;
	if (c->rest_len == 0 || c->rest_len >= sizeof s->cred.pass) {
		line_command_wipe(s);
		return invalid(s, "PASS needs a password");
	}
	memcpy(s->cred.pass, c->rest, c->rest_len);
	s->cred.pass[c->rest_len] = '\0';
	s->cred.mech = SASL_PLAIN;
	line_command_wipe(s);
	return STEP_LOGIN;
}

static enum step pop3_apop(struct session *s)
{
	const char *why = NULL;
	int rc;

	if (session_needs_tls(s))
		return invalid(s, "login before STLS");
	if (st(s)->have_user || !(s->conf->auth & SASL_APOP) || line_command_nargs(s) != 2)
		return invalid(s, "APOP not allowed or malformed");
	rc = sasl_apop(line_command_arg(s, 0), line_command_arg(s, 1), &s->cred, &why);
	line_command_wipe(s);
	if (rc < 0)
		return invalid(s, why);
	return STEP_LOGIN;
}

static enum step pop3_auth(struct session *s)
{
	char list[64];
	unsigned mech;
	enum step r;

	if (session_needs_tls(s))
		return invalid(s, "login before STLS");
	if (st(s)->have_user)
		return invalid(s, "AUTH after USER");
	if (line_command_nargs(s) == 0) {
		sasl_list(s, list, sizeof list, "\r\n");
		return session_reply(s, STEP_NEXT, "+OK methods supported:\r\n%s.", list);
	}
	mech = sasl_mech_parse(line_command_arg(s, 0));
	if (line_command_nargs(s) > 2 || !(mech & mechs(s)))
		return invalid(s, "unsupported mechanism");
	r = sasl_exchange(s, mech, line_command_nargs(s) == 2 ? line_command_arg(s, 1) : NULL,
	                  line_command_nargs(s) == 2 ? strlen(line_command_arg(s, 1)) : 0);
	line_command_wipe(s);
	return r;
}

static enum step pop3_unknown(struct session *s)
{
	return invalid(s, "unknown command");
}

static const struct command pop3_commands[] = {
	{ "CAPA", pop3_capa },
	{ "USER", pop3_user },
	{ "PASS", pop3_pass },
	{ "APOP", pop3_apop },
	{ "AUTH", pop3_auth },
	{ "NOOP", pop3_noop },
	{ "QUIT", pop3_quit },
	{ "STLS", pop3_stls },
	{ NULL, pop3_unknown },
};

static void pop3_auth_reply(struct session *s, enum auth_result r,
                            const char *text, const char *code)
{
	(void)code; /* Auth-Error-Code is SMTP's */
	switch (r) {
	case AUTH_OK:
		break;
	case AUTH_FAILED:
	case AUTH_BACKEND_ERROR:
		session_reply(s, STEP_NEXT, "-ERR %s",
		    text ? text : "[AUTH] Authentication failed.");
		break;
	case AUTH_TEMPFAIL:
		session_internal_error(s);
		break;
	}
}

static enum step pop3_sasl_trouble(struct session *s, enum sasl_trouble t,
                                   const char *why)
{
	/* As nginx, a cancel ("*") too; the exchange logged which it was. */
	(void)why;
	(void)t;
	return session_reply(s, STEP_ERROR, "-ERR invalid command");
}

static void pop3_bye(struct session *s, const char *why)
{
	session_reply(s, STEP_CLOSE, "-ERR %s", why);
}

static void pop3_too_long(struct session *s)
{
	session_reply(s, STEP_CLOSE, "-ERR invalid command");
}

/* The backend's line after a command: +OK, or -ERR with its reason. */
static enum auth_result backend_says(struct session *s, int64_t deadline,
                                     const char *what, char **line,
                                     char *text, size_t size)
{
	size_t len;
	enum io_result r = lineio_getline(&s->backend, deadline, line, &len);

	if (r != IO_OK) {
		snprintf(text, size, "%s: %s", what, io_result_str(r));
		return AUTH_TEMPFAIL;
	}
	if (strncmp(*line, "+OK", 3) == 0) {
		if (strcmp(what, "greeting") == 0)
			st(s)->backend_xclient = strncasecmp(*line, "+OK [XCLIENT]", 13) == 0;
		return AUTH_OK;
	}
	if (strncmp(*line, "-ERR", 4) == 0 && strcmp(what, "greeting") != 0) {
		snprintf(text, size, "%s", (*line)[4] ? *line + 5 : "");
		return AUTH_FAILED;
	}
	snprintf(text, size, "%s answered \"%.60s\"", what, *line);
	return AUTH_TEMPFAIL;
}

/* proxy_forward_client: who the client is, as Dovecot's own proxy tells
 * a backend that lists it in login_trusted_networks. Dovecot offers
 * XCLIENT in its greeting ("+OK [XCLIENT] ..."), not in CAPA, and only to
 * the hosts it trusts. A refusal is logged, and the login goes on. */
static enum auth_result forward_client(struct session *s, int64_t deadline,
                                       char *text, size_t size)
{
	char out[256], *line;
	enum auth_result r;
	int n;

	if (!s->conf->forward_client || !st(s)->backend_xclient ||
	    (s->client_addr.ss.ss_family != AF_INET &&
	     s->client_addr.ss.ss_family != AF_INET6))
		return AUTH_OK;
	n = snprintf(out, sizeof out, "XCLIENT ADDR=%s PORT=%d SESSION=%s\r\n",
	             s->client_ip,
	             addr_port((const struct sockaddr *)&s->client_addr.ss), s->id);
	if (lineio_write_all(&s->backend, out, (size_t)n, deadline) != IO_OK) {
		snprintf(text, size, "backend went away");
		return AUTH_TEMPFAIL;
	}
	r = backend_says(s, deadline, "XCLIENT", &line, text, size);
	if (r == AUTH_FAILED) {
		logmsg(LOG_NOTICE, "event=backend_refused command=XCLIENT "
		       "reply=\"%.80s\"", LOGV(line));
		return AUTH_OK;
	}
	return r;
}

/* The client's own OAuth mechanism and token replayed, when the auth
 * server gave no password of its own; a refusal's challenge gets the
 * dummy answer, then the -ERR (RFC 7628 3.2.3). */
static enum auth_result oauth_login(struct session *s, int64_t deadline,
                                    char **line, char *text, size_t size)
{
	static char msg[OAUTH_MESSAGE_MAX + 1];
	enum io_result r = IO_ERROR;
	char head[64];
	int n = snprintf(head, sizeof head, "AUTH %s ",
	                 sasl_mech_name(s->cred.mech));
	size_t len;

	if (sasl_oauth_message(&s->cred, msg, sizeof msg) >= 0 &&
	    lineio_write_all(&s->backend, head, (size_t)n, deadline) == IO_OK &&
	    lineio_write_all(&s->backend, msg, strlen(msg), deadline) == IO_OK)
		r = lineio_write_all(&s->backend, "\r\n", 2, deadline);
	explicit_bzero(msg, sizeof msg);
	if (r == IO_OK)
		r = lineio_getline(&s->backend, deadline, line, &len);
	if (r == IO_OK && (*line)[0] == '+' && (*line)[1] != 'O') {
		const char *dummy = s->cred.mech == SASL_OAUTHBEARER ? "AQ==\r\n"
		                                                     : "\r\n";

		r = lineio_write_all(&s->backend, dummy, strlen(dummy), deadline);
		if (r == IO_OK)
			return backend_says(s, deadline, "AUTH", line, text, size);
	}
	if (r != IO_OK) {
		snprintf(text, size, "AUTH: %s", io_result_str(r));
		return AUTH_TEMPFAIL;
	}
	if (strncmp(*line, "+OK", 3) == 0)
		return AUTH_OK;
	if (strncmp(*line, "-ERR", 4) == 0) {
		snprintf(text, size, "%s", (*line)[4] ? *line + 5 : "");
		return AUTH_FAILED;
	}
	snprintf(text, size, "AUTH answered \"%.60s\"", *line);
	return AUTH_TEMPFAIL;
}

/* USER and PASS; *line is the backend's last reply. */
static enum auth_result user_pass(struct session *s, int64_t deadline,
                                  char **line, char *text, size_t size)
{
	char out[2 * CRED_MAX + 16];
	enum auth_result r;
	int n = snprintf(out, sizeof out, "USER %s\r\n", s->cred.user);

	if (lineio_write_all(&s->backend, out, (size_t)n, deadline) != IO_OK) {
		snprintf(text, size, "backend went away");
		return AUTH_TEMPFAIL;
	}
	r = backend_says(s, deadline, "USER", line, text, size);
	if (r != AUTH_OK)
		return r;
	n = snprintf(out, sizeof out, "PASS %s\r\n", s->cred.pass);
	r = lineio_write_all(&s->backend, out, (size_t)n, deadline) == IO_OK ?
	    AUTH_OK : AUTH_TEMPFAIL;
	explicit_bzero(out, sizeof out);
	if (r != AUTH_OK) {
		snprintf(text, size, "backend went away");
		return r;
	}
	return backend_says(s, deadline, "PASS", line, text, size);
}

static enum auth_result pop3_backend_login(struct session *s, char *text,
                                           size_t size)
{
	int64_t deadline = session_deadline(s);
	enum auth_result r;
	char *line;

	/* A CR or LF in a SASL-decoded name would start a second command. */
	if (!credentials_fit_a_line(&s->cred)) {
		snprintf(text, size, "control characters in user or password");
		return AUTH_FAILED;
	}
	if (!s->backend_greeted) {
		r = backend_says(s, deadline, "greeting", &line, text, size);
		if (r != AUTH_OK)
			return r;
	}
	r = forward_client(s, deadline, text, size);
	if (r != AUTH_OK)
		return r;
	r = (s->cred.mech & SASL_OAUTH) && s->cred.token[0] ?
	    oauth_login(s, deadline, &line, text, size) :
	    user_pass(s, deadline, &line, text, size);
	if (r != AUTH_OK)
		return r;
	/* The backend's own +OK goes to the client, as nginx passes it. */
	if (session_printf(s, "%s\r\n", line) < 0) {
		snprintf(text, size, "client went away");
		return AUTH_TEMPFAIL;
	}
	return AUTH_OK;
}

static enum auth_result pop3_backend_starttls(struct session *s, char *text,
                                              size_t size)
{
	int64_t deadline = session_deadline(s);
	enum auth_result r;
	char *line;

	r = backend_says(s, deadline, "greeting", &line, text, size);
	if (r != AUTH_OK)
		return r;
	if (lineio_write_all(&s->backend, "STLS\r\n", 6, deadline) != IO_OK) {
		snprintf(text, size, "backend went away");
		return AUTH_TEMPFAIL;
	}
	r = backend_says(s, deadline, "STLS", &line, text, size);
	return r == AUTH_FAILED ? AUTH_TEMPFAIL : r;
}

const struct protocol proto_pop3 = {
	.name = "pop3",
	.default_capabilities = "{TOP, USER, UIDL}",
	.default_auth = "{plain}",
	.default_client_buffer = "512",
	.alpn = "pop3",
	.ports = { 110, 995, 0 },
	.commands = pop3_commands,
	.auth_allowed = SASL_PLAIN | SASL_APOP | SASL_CRAM_MD5 | SASL_EXTERNAL |
	                SASL_OAUTH,
	.sasl_prompt = "+ ",
	.init = pop3_init,
	.greet = pop3_greet,
	.read_command = pop3_read_command,
	.auth_reply = pop3_auth_reply,
	.sasl_trouble = pop3_sasl_trouble,
	.backend_login = pop3_backend_login,
	.backend_starttls = pop3_backend_starttls,
	.bye = pop3_bye,
	.too_long = pop3_too_long,
	.internal_error = "-ERR internal server error\r\n",
	.no_cert = "-ERR No required SSL certificate\r\n",
	.cert_error = "-ERR SSL certificate error\r\n",
	.access_denied = "-ERR Access denied\r\n",
	.unavailable = "-ERR Service temporarily unavailable\r\n",
};
