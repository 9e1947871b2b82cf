/* SMTP before login (RFC 5321, 4954): greeting (with smtp_greeting_delay
 * against early talkers), HELO/EHLO, AUTH, MAIL/RCPT for smtp_auth none,
 * RSET, NOOP, QUIT. Replies are nginx's, word for word. */
#include "smtp.h"
#include "lookup.h"
#include "clock.h"
#include "lineio.h"
#include "log.h"
#include "resolver.h"
#include "sasl_exchange.h"
#include "session_state.h"
#include "session_io.h"
#include "strbuf.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct smtp_state *st(struct session *s)
{
	return s->proto_state;
}

static int smtp_init(struct session *s)
{
	return line_command_init(s, sizeof(struct smtp_state));
}

static enum step invalid(struct session *s, const char *why)
{
	logmsg(LOG_INFO, "event=invalid_command reason=\"%s\"", why);
	return session_reply(s, STEP_ERROR, "500 5.5.1 Invalid command");
}

static enum step invalid_argument(struct session *s, const char *why)
{
	logmsg(LOG_INFO, "event=invalid_argument reason=\"%s\"", why);
	return session_reply(s, STEP_ERROR, "501 5.5.4 Invalid argument");
}

/* A client that talks before the greeting is a bot that does not wait for
 * replies: as nginx, it gets 503 and the connection ends. */
static enum step greeting_delay(struct session *s)
{
	int64_t until = clock_ms() + s->conf->smtp_greeting_delay_ms;
	enum io_result r;

	while ((r = io_wait(s->in.fd, POLLIN, until)) == IO_OK) {
		r = lineio_fill(&s->in, until);
		if (r != IO_OK && r != IO_TOOLONG)
			return r == IO_TIMEOUT ? STEP_NEXT : session_client_gone(s, r);
		logmsg(LOG_INFO, "event=early_talker bytes=%zu",
		       lineio_pending(&s->in));
		lineio_drop(&s->in);
		session_reply(s, STEP_CLOSE, "503 5.5.0 Improper use of SMTP command "
		              "pipelining");
		session_end(s, "error", "spoke before the greeting");
		return STEP_CLOSE;
	}
	return r == IO_TIMEOUT ? STEP_NEXT : session_client_gone(s, r);
}

static enum step smtp_greet(struct session *s)
{
	if (s->conf->smtp_greeting_delay_ms > 0 &&
	    greeting_delay(s) != STEP_NEXT)
		return STEP_CLOSE;
	return session_reply(s, STEP_NEXT, "220 %s ESMTP ready", s->conf->server_name);
}

static enum step smtp_read_command(struct session *s, const char **name)
{
	return line_command_read(s, name, invalid);
}

static const unsigned auth_order[] = { SASL_PLAIN, SASL_LOGIN, SASL_CRAM_MD5,
                                       SASL_EXTERNAL, SASL_XOAUTH2,
                                       SASL_OAUTHBEARER, 0 };

static enum step smtp_ehlo_reply(struct session *s)
{
	const struct server_conf *c = s->conf;
	char out[4096], auth[64] = "";
	struct strbuf o, a;
	size_t n = c->ncapabilities;
	const char *tls = session_can_starttls(s) ? "STARTTLS" : NULL;

	strbuf_init(&a, auth, sizeof auth);
	for (int i = 0; auth_order[i] && !session_needs_tls(s); i++)
		if (session_mechs(s) & auth_order[i])
			strbuf_printf(&a, " %s", sasl_mech_name(auth_order[i]));
	strbuf_init(&o, out, sizeof out);
	strbuf_printf(&o, "250%c%s\r\n", n || tls || auth[0] ? '-' : ' ',
	              c->server_name);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&o, "250%c%s\r\n",
		              i + 1 < n || tls || auth[0] ? '-' : ' ',
		              c->capabilities[i]);
	/* nginx's order: AUTH, then STARTTLS. */
	if (auth[0])
		strbuf_printf(&o, "250%cAUTH%s\r\n", tls ? '-' : ' ', auth);
	if (tls)
		strbuf_printf(&o, "250 STARTTLS\r\n");
	if (o.overflow || session_write(s, out, o.len) < 0)
		return session_client_gone(s, IO_ERROR);
	return STEP_NEXT;
}

static enum step smtp_helo(struct session *s)
{
	struct smtp_state *ss = st(s);

	if (line_command_nargs(s) != 1 || strlen(line_command_arg(s, 0)) >= sizeof ss->helo)
		return invalid_argument(s, "HELO/EHLO needs one domain");
	snprintf(ss->helo, sizeof ss->helo, "%s", line_command_arg(s, 0));
	ss->esmtp = strcasecmp(line_command(s)->name, "EHLO") == 0;
	if (ss->esmtp)
		return smtp_ehlo_reply(s);
	return session_reply(s, STEP_NEXT, "250 %s", s->conf->server_name);
}

static enum step smtp_auth(struct session *s)
{
	unsigned mech;
	enum step r;

	if (session_needs_tls(s))
		return invalid(s, "AUTH before STARTTLS");
	if (line_command_nargs(s) == 0)
		return invalid_argument(s, "AUTH needs a mechanism");
	mech = sasl_mech_parse(line_command_arg(s, 0));
	if (line_command_nargs(s) > 2 || !(mech & s->conf->auth & ~SASL_NONE))
		return invalid(s, "unsupported mechanism");
	r = sasl_exchange(s, mech, line_command_nargs(s) == 2 ? line_command_arg(s, 1) : NULL,
	                  line_command_nargs(s) == 2 ? strlen(line_command_arg(s, 1)) : 0);
	line_command_wipe(s);
	return r;
}

/* The whole command line, as nginx puts it in Auth-SMTP-From/To. */
static int keep_line(struct session *s, char *dst, size_t size)
{
	const struct cmdline *c = line_command(s);

	if (c->line_len >= size)
		return -1;
	memcpy(dst, c->line, c->line_len);
	dst[c->line_len] = '\0';
	return 0;
}

static enum step smtp_mail(struct session *s)
{
	struct smtp_state *ss = st(s);

	if (!(s->conf->auth & SASL_NONE)) {
		logmsg(LOG_INFO, "event=rejected reason=\"MAIL before AUTH\"");
		return session_reply(s, STEP_ERROR, "530 5.7.1 Authentication required");
	}
	if (ss->from[0])
		return session_reply(s, STEP_ERROR, "503 5.5.1 Bad sequence of commands");
	if (line_command_nargs(s) == 0 || keep_line(s, ss->from, sizeof ss->from) < 0)
		return invalid_argument(s, "MAIL without a path, or too long");
	return session_reply(s, STEP_NEXT, "250 2.0.0 OK");
}

/* The address inside <>, or the argument after "TO:" without them. */
static void recipient(struct session *s, char *out, size_t size)
{
	const char *r = line_command(s)->rest, *lt = strchr(r, '<'), *gt;

	if (lt && (gt = strchr(lt, '>'))) {
		snprintf(out, size, "%.*s", (int)(gt - lt - 1), lt + 1);
		return;
	}
	if (strncasecmp(r, "TO:", 3) == 0)
		r += 3;
	snprintf(out, size, "%.*s", (int)strcspn(r, " "), r);
}

static enum step smtp_rcpt(struct session *s)
{
	struct smtp_state *ss = st(s);

	if (!ss->from[0])
		return session_reply(s, STEP_ERROR, "503 5.5.1 Bad sequence of commands");
	if (line_command_nargs(s) == 0 || keep_line(s, ss->to, sizeof ss->to) < 0)
		return invalid_argument(s, "RCPT without a path, or too long");
	recipient(s, ss->rcpt, sizeof ss->rcpt);
	s->cred.user[0] = '\0';
	s->cred.pass[0] = '\0';
	s->cred.mech = SASL_NONE;
	return STEP_LOGIN;
}

/* RFC 3207: everything learnt before TLS is forgotten, HELO included. */
static enum step smtp_starttls(struct session *s)
{
	struct smtp_state *ss = st(s);

	if (line_command_nargs(s) || !session_can_starttls(s))
		return invalid(s, "STARTTLS not available");
	if (session_reply(s, STEP_NEXT, "220 2.0.0 Start TLS") != STEP_NEXT)
		return STEP_CLOSE;
	ss->helo[0] = ss->from[0] = ss->to[0] = ss->rcpt[0] = '\0';
	ss->esmtp = 0;
	return STEP_STARTTLS;
}

static enum step smtp_rset(struct session *s)
{
	st(s)->from[0] = st(s)->to[0] = '\0';
	return session_reply(s, STEP_NEXT, "250 2.0.0 OK");
}

static enum step smtp_noop(struct session *s)
{
	return session_reply(s, STEP_NEXT, "250 2.0.0 OK");
}

static enum step smtp_quit(struct session *s)
{
	/* First: a client that leaves before the reply still quit. */
	session_end(s, "logout", "client quit");
	session_reply(s, STEP_CLOSE, "221 2.0.0 Bye");
	return STEP_CLOSE;
}

static enum step smtp_unknown(struct session *s)
{
	return invalid(s, "unknown command");
}

static const struct command smtp_commands[] = {
	{ "EHLO", smtp_helo },
	{ "HELO", smtp_helo },
	{ "AUTH", smtp_auth },
	{ "MAIL", smtp_mail },
	{ "RCPT", smtp_rcpt },
	{ "RSET", smtp_rset },
	{ "NOOP", smtp_noop },
	{ "QUIT", smtp_quit },
	{ "STARTTLS", smtp_starttls },
	{ NULL, smtp_unknown },
};

static void smtp_fill_request(struct session *s, struct auth_request *req)
{
	struct smtp_state *ss = st(s);

	/* nginx sends SMTP's Client-Host even without a resolver. */
	if (!req->client_host)
		req->client_host = RESOLVER_UNAVAILABLE;
	req->smtp_helo = ss->helo;
	req->smtp_from = ss->from;
	req->smtp_to = ss->to;
	if (req->mech == SASL_NONE)
		req->map_key = ss->rcpt;
	/* CRAM-MD5's password is needed only to replay AUTH at the backend;
	 * with XCLIENT the auth server's word is enough, as in nginx. */
	req->need_pass = req->need_pass && s->conf->proxy_smtp_auth;
}

/* A backend's refusal is already an SMTP reply; pass it as it is. */
static int is_reply(const char *text)
{
	return strlen(text) >= 4 && text[0] >= '2' && text[0] <= '5' &&
	       text[1] >= '0' && text[1] <= '9' && text[2] >= '0' &&
	       text[2] <= '9' && text[3] == ' ';
}

static void smtp_auth_reply(struct session *s, enum auth_result r,
                            const char *text, const char *code)
{
	switch (r) {
	case AUTH_OK:
		break;
	case AUTH_FAILED:
	case AUTH_BACKEND_ERROR:
		if (text && is_reply(text))
			session_reply(s, STEP_NEXT, "%s", text);
		else if (s->cred.mech == SASL_NONE)
			session_reply(s, STEP_NEXT, "%s %s", code ? code : "550 5.7.1",
			    text ? text : "Recipient address rejected");
		else
			session_reply(s, STEP_NEXT, "%s %s", code ? code : "535 5.7.0",
			    text ? text : "Authentication failed");
		break;
	case AUTH_TEMPFAIL:
		session_internal_error(s);
		break;
	}
	/* A failed none-mode lookup ends this transaction. */
	st(s)->from[0] = st(s)->to[0] = '\0';
}

static enum step smtp_sasl_trouble(struct session *s, enum sasl_trouble t,
                                   const char *why)
{
	/* As nginx, a cancel ("*") too; the exchange logged which it was. */
	(void)why;
	(void)t;
	return session_reply(s, STEP_ERROR, "500 5.5.1 Invalid command");
}

static void smtp_bye(struct session *s, const char *why)
{
	session_reply(s, STEP_CLOSE, "421 4.7.0 %s %s", s->conf->server_name, why);
}

static void smtp_too_long(struct session *s)
{
	session_reply(s, STEP_CLOSE, "500 5.5.1 Invalid command");
}

/* The map checks no password: without the backend's AUTH anyone could
 * send as anyone. */
static int smtp_check_conf(const struct server_conf *c, char *err,
                           size_t size)
{
	if (c->lookup->checks_password || !(c->auth & ~SASL_NONE) ||
	    c->proxy_smtp_auth)
		return 0;
	snprintf(err, size, "smtp logins with %s need proxy_smtp_auth = true "
	         "(the map checks no password; the backend must)",
	         c->lookup->directive);
	return -1;
}

const struct protocol proto_smtp = {
	.name = "smtp",
	.default_capabilities = NULL,
	.default_auth = "{plain, login}",
	.default_client_buffer = "4k",
	.alpn = "smtp",
	/* A client's own XCLIENT would be obeyed: Postfix trusts postern. */
	.guard = "smtp",
	.check_conf = smtp_check_conf,
	.ports = { 25, 587, 465, 0 },
	.commands = smtp_commands,
	.auth_allowed = SASL_PLAIN | SASL_LOGIN | SASL_CRAM_MD5 | SASL_NONE |
	                SASL_EXTERNAL | SASL_OAUTH,
	.resolves_client = 1,
	.sasl_prompt = "334 ",
	.init = smtp_init,
	.fill_request = smtp_fill_request,
	.greet = smtp_greet,
	.read_command = smtp_read_command,
	.auth_reply = smtp_auth_reply,
	.sasl_trouble = smtp_sasl_trouble,
	.backend_login = smtp_backend_login,
	.backend_starttls = smtp_backend_starttls,
	.bye = smtp_bye,
	.too_long = smtp_too_long,
	.internal_error = "451 4.3.2 Internal server error\r\n",
	.no_cert = "421 4.7.1 No required SSL certificate\r\n",
	.cert_error = "421 4.7.1 SSL certificate error\r\n",
	.access_denied = "554 5.7.1 Access denied\r\n",
	.unavailable = "421 4.3.0 Service temporarily unavailable\r\n",
};
