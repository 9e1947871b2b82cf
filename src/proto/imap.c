/* IMAP before login (RFC 9051/3501): greeting, CAPABILITY, NOOP, LOGOUT, ID,
 * LOGIN, AUTHENTICATE; then LOGIN at the backend under the client's tag. */
#include "imap.h"
#include "lineio.h"
#include "log.h"
#include "proto.h"
#include "sasl_exchange.h"
#include "session_state.h"
#include "session_io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct imap_state *st(struct session *s)
{
	return s->proto_state;
}

static int imap_init(struct session *s)
{
	struct imap_state *is = calloc(1, sizeof *is + s->conf->client_buffer);

	if (!is)
		return -1;
	imap_parser_init(&is->parser, is->store, s->conf->client_buffer);
	s->proto_state = is;
	return 0;
}

static int has_cap(const char *list, const char *cap)
{
	size_t n = strlen(cap);

	for (const char *p = list; (p = strcasestr(p, cap)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static void add_cap(char *buf, size_t size, const char *cap)
{
	size_t used = strlen(buf);

	if (has_cap(buf, cap))
		return;
	snprintf(buf + used, size - used, "%s%s", used ? " " : "", cap);
}

/* The configured list, then STARTTLS and the AUTH= methods, as nginx
 * builds it; with starttls only and no TLS yet, LOGINDISABLED instead of
 * any AUTH=. ID, LITERAL+ and SASL-IR work whether listed or not; nginx
 * does not list them, so they are listed only when configured. */
static void capabilities(const struct session *s, char *buf, size_t size)
{
	const struct server_conf *c = s->conf;
	static const unsigned mechs[] = { SASL_PLAIN, SASL_LOGIN, SASL_CRAM_MD5,
	                                  SASL_EXTERNAL, SASL_XOAUTH2,
	                                  SASL_OAUTHBEARER, 0 };
	char auth[32];

	buf[0] = '\0';
	for (size_t i = 0; i < c->ncapabilities; i++)
		add_cap(buf, size, c->capabilities[i]);
	/* nginx's order: AUTH= methods, then STARTTLS (and LOGINDISABLED). */
	for (int i = 0; mechs[i] && !session_needs_tls(s); i++) {
		if (!(session_mechs(s) & mechs[i]))
			continue;
		snprintf(auth, sizeof auth, "AUTH=%s", sasl_mech_name(mechs[i]));
		add_cap(buf, size, auth);
	}
	if (session_can_starttls(s))
		add_cap(buf, size, "STARTTLS");
	if (session_needs_tls(s))
		add_cap(buf, size, "LOGINDISABLED");
}

static enum step imap_greet(struct session *s)
{
	char caps[1024];

	capabilities(s, caps, sizeof caps);
	/* nginx's "* OK IMAP4 ready", with the capabilities a client would
	 * otherwise ask for first (RFC 9051 7.1). */
	if (session_printf(s, "* OK [CAPABILITY %s] IMAP4 ready\r\n", caps) < 0) {
		session_end(s, "error", "write failed");
		return STEP_CLOSE;
	}
	return STEP_NEXT;
}

static void imap_bye(struct session *s, const char *why)
{
	session_printf(s, "* BYE %s\r\n", why);
}

static enum step reply(struct session *s, enum step next, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));

/* A tagged reply; a failed write ends the session whatever was planned. */
static enum step reply(struct session *s, enum step next, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (session_printf(s, "%s %s\r\n", st(s)->tag, line) < 0) {
		session_end(s, "error", "write failed");
		return STEP_CLOSE;
	}
	return next;
}

/* Every refusal before login gets nginx's one answer; the log says
 * which it was. */
static enum step invalid(struct session *s, const char *why)
{
	logmsg(LOG_INFO, "event=invalid_command reason=\"%s\"", why);
	return reply(s, STEP_ERROR, "BAD invalid command");
}

static enum step imap_read_command(struct session *s, const char **name)
{
	struct imap_state *is = st(s);
	struct lineio *in = &s->in;

	imap_parser_reset(&is->parser);
	snprintf(is->tag, sizeof is->tag, "*");
	for (;;) {
		size_t used = 0;
		enum imap_parse_result rc = IMAP_PARSE_AGAIN;
		enum io_result r;

		if (lineio_pending(in)) {
			rc = imap_parse(&is->parser, in->buf + in->start,
			                lineio_pending(in), &used);
			in->start += used;
		}
		if (is->parser.tag)
			snprintf(is->tag, sizeof is->tag, "%s", is->parser.tag);
		switch (rc) {
		case IMAP_PARSE_DONE:
			*name = is->parser.name;
			return STEP_NEXT;
		case IMAP_PARSE_CONTINUE:
			if (session_printf(s, "+ OK\r\n") < 0)
				return session_client_gone(s, IO_ERROR);
			continue;
		case IMAP_PARSE_INVALID:
			return invalid(s, is->parser.error);
		case IMAP_PARSE_TOO_LONG:
			return session_client_gone(s, IO_TOOLONG);
		case IMAP_PARSE_AGAIN:
			break;
		}
		r = lineio_fill(in, session_deadline(s));
		if (r != IO_OK)
			return session_client_gone(s, r);
	}
}

static size_t nargs(struct session *s)
{
	return st(s)->parser.nargs;
}

static const struct imap_arg *arg(struct session *s, size_t i)
{
	return &st(s)->parser.args[i];
}

static enum step imap_capability(struct session *s)
{
	char caps[1024];

	if (nargs(s))
		return invalid(s, "CAPABILITY takes no arguments");
	capabilities(s, caps, sizeof caps);
	if (session_printf(s, "* CAPABILITY %s\r\n", caps) < 0)
		return session_client_gone(s, IO_ERROR);
	return reply(s, STEP_NEXT, "OK completed");
}

static enum step imap_noop(struct session *s)
{
	if (nargs(s))
		return invalid(s, "NOOP takes no arguments");
	return reply(s, STEP_NEXT, "OK completed");
}

static enum step imap_logout(struct session *s)
{
	if (nargs(s))
		return invalid(s, "LOGOUT takes no arguments");
	/* Recorded first: a client that leaves before reading the reply
	 * still logged out. One write: a health check that resets once it
	 * reads BYE finds nothing left to send. */
	session_end(s, "logout", "client logged out");
	session_printf(s, "* BYE\r\n%s OK completed\r\n", st(s)->tag);
	return STEP_CLOSE;
}

static int is_nil(const struct imap_arg *a)
{
	return a->type == IMAP_ATOM && strcasecmp(a->s, "NIL") == 0;
}

/* RFC 2971: NIL, or a list of at most 30 field/value pairs. */
static int id_valid(struct session *s)
{
	size_t n = nargs(s);

	if (n == 1 && is_nil(arg(s, 0)))
		return 1;
	if (n < 2 || arg(s, 0)->type != IMAP_LIST_START ||
	    arg(s, n - 1)->type != IMAP_LIST_END || (n - 2) % 2 || n - 2 > 60)
		return 0;
	for (size_t i = 1; i < n - 1; i++) {
		const struct imap_arg *a = arg(s, i);

		if (a->type != IMAP_STRING && !(i % 2 == 0 && is_nil(a)))
			return 0;
	}
	return 1;
}

static enum step imap_id(struct session *s)
{
	if (!id_valid(s))
		return invalid(s, "invalid ID parameters");
	/* Nothing about postern: a name and version help only an attacker. */
	if (session_printf(s, "* ID NIL\r\n") < 0)
		return session_client_gone(s, IO_ERROR);
	return reply(s, STEP_NEXT, "OK completed");
}

static int take_string(const struct imap_arg *a, char *out, size_t size)
{
	if ((a->type != IMAP_ATOM && a->type != IMAP_STRING) ||
	    a->len >= size || memchr(a->s, '\0', a->len))
		return -1;
	memcpy(out, a->s, a->len + 1);
	return 0;
}

/* The password was copied out: wipe the parser's copy, and the command
 * as it was read, too. */
static void wipe_store(struct session *s)
{
	explicit_bzero(st(s)->store, s->conf->client_buffer);
	explicit_bzero(s->in.buf, s->in.start);
}

static enum step refuse_plaintext(struct session *s)
{
	wipe_store(s);
	return invalid(s, "login before STARTTLS");
}

static enum step imap_starttls(struct session *s)
{
	if (nargs(s))
		return invalid(s, "STARTTLS takes no arguments");
	if (!session_can_starttls(s))
		return invalid(s, "STARTTLS not available");
	if (reply(s, STEP_NEXT, "OK completed") != STEP_NEXT)
		return STEP_CLOSE;
	return STEP_STARTTLS;
}

static enum step imap_login(struct session *s)
{
	if (session_needs_tls(s))
		return refuse_plaintext(s);
	if (nargs(s) != 2)
		return invalid(s, "LOGIN needs a user and a password");
	if (take_string(arg(s, 0), s->cred.user, sizeof s->cred.user) < 0 ||
	    take_string(arg(s, 1), s->cred.pass, sizeof s->cred.pass) < 0 ||
	    !s->cred.user[0]) {
		wipe_store(s);
		credentials_clear(&s->cred);
		return invalid(s, "invalid user or password");
	}
	wipe_store(s);
	s->cred.mech = SASL_PLAIN;
	return STEP_LOGIN;
}

/* As nginx: "plain" in imap_auth lets AUTHENTICATE LOGIN in too,
 * without listing it. */
static unsigned accepted(const struct session *s)
{
	unsigned m = session_mechs(s);

	return m & SASL_PLAIN ? m | SASL_LOGIN : m;
}

static enum step imap_authenticate(struct session *s)
{
	unsigned mech;
	enum step r;

	if (nargs(s) < 1 || nargs(s) > 2 || arg(s, 0)->type != IMAP_ATOM ||
	    (nargs(s) == 2 && arg(s, 1)->type != IMAP_ATOM))
		return invalid(s, "invalid AUTHENTICATE arguments");
	if (session_needs_tls(s))
		return refuse_plaintext(s);
	mech = sasl_mech_parse(arg(s, 0)->s);
	if (!(mech & accepted(s)))
		return invalid(s, "unsupported authentication mechanism");
	if (nargs(s) == 2)
		r = sasl_exchange(s, mech, arg(s, 1)->s, arg(s, 1)->len);
	else
		r = sasl_exchange(s, mech, NULL, 0);
	wipe_store(s);
	return r;
}

static enum step imap_unknown(struct session *s)
{
	return invalid(s, "unknown command");
}

static const struct command imap_commands[] = {
	{ "CAPABILITY", imap_capability },
	{ "NOOP", imap_noop },
	{ "LOGOUT", imap_logout },
	{ "ID", imap_id },
	{ "LOGIN", imap_login },
	{ "STARTTLS", imap_starttls },
	{ "AUTHENTICATE", imap_authenticate },
	{ NULL, imap_unknown },
};

static void imap_auth_reply(struct session *s, enum auth_result r,
                            const char *text, const char *code)
{
	(void)code; /* Auth-Error-Code is SMTP's */
	switch (r) {
	case AUTH_OK:
		break;
	case AUTH_FAILED:
	case AUTH_BACKEND_ERROR:
		reply(s, STEP_NEXT, "NO %s",
		      text ? text : "[AUTHENTICATIONFAILED] Authentication failed.");
		break;
	case AUTH_TEMPFAIL:
		session_internal_error(s);   /* nginx's, then the end */
		break;
	}
}

static enum step imap_sasl_trouble(struct session *s, enum sasl_trouble t,
                                   const char *why)
{
	return invalid(s, t == SASL_CANCELLED ? "AUTHENTICATE cancelled" : why);
}

/* As nginx: the tag read so far, and the end. */
static void imap_too_long(struct session *s)
{
	reply(s, STEP_CLOSE, "BAD invalid command");
}

const struct protocol proto_imap = {
	.name = "imap",
	.default_capabilities = "{IMAP4, IMAP4rev1, UIDPLUS}",
	.default_auth = "{plain}",
	.default_client_buffer = "4k",
	.alpn = "imap",
	.filter = "imap",
	.ports = { 143, 993, 0 },
	.commands = imap_commands,
	.auth_allowed = SASL_PLAIN | SASL_LOGIN | SASL_CRAM_MD5 | SASL_EXTERNAL |
	                SASL_OAUTH,
	.sasl_prompt = "+ ",
	.init = imap_init,
	.greet = imap_greet,
	.read_command = imap_read_command,
	.auth_reply = imap_auth_reply,
	.backend_login = imap_backend_login,
	.backend_starttls = imap_backend_starttls,
	.bye = imap_bye,
	.too_long = imap_too_long,
	.sasl_trouble = imap_sasl_trouble,
	.internal_error = "* BAD internal server error\r\n",
	.no_cert = "* BYE No required SSL certificate\r\n",
	.cert_error = "* BYE SSL certificate error\r\n",
	.access_denied = "* BYE Access denied\r\n",
	.unavailable = "* BYE Service temporarily unavailable\r\n",
};
