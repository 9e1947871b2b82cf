#include "imap.h"
#include "imap_filter.h"
#include "lineio.h"
#include "log.h"
#include "session_state.h"
#include "session_io.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum imap_astring imap_astring_kind(const char *s)
{
	size_t n = strlen(s);
	int atom = n > 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			return ASTRING_LITERAL;
		if (*p == ' ' || strchr("(){%*\"\\]", *p))
			atom = 0;
	}
	if (atom)
		return ASTRING_ATOM;
	return n < 128 ? ASTRING_QUOTED : ASTRING_LITERAL;
}

/* ID, then LOGIN with escapes: what goes to the backend in one write. */
#define OUT_SIZE (4 * CRED_MAX + 768)

/* Our ID's tag: never the client's, whose tag the LOGIN carries. */
static const char *id_tag(const struct imap_state *is)
{
	return strcmp(is->tag, "pid") == 0 ? "pid2" : "pid";
}

/* The replies to our ID are postern's business: "* ID" and the tagged
 * line are read and left. 1 when line was one of them. */
static int id_reply(struct imap_state *is, const char *line)
{
	const char *tag = id_tag(is);
	size_t n = strlen(tag);

	if (!is->id_pending)
		return 0;
	if (strncasecmp(line, "* ID ", 5) == 0)
		return 1;
	if (strncmp(line, tag, n) != 0 || line[n] != ' ')
		return 0;
	is->id_pending = 0;
	if (strncasecmp(line + n + 1, "OK", 2) != 0)
		logmsg(LOG_NOTICE, "event=backend_refused command=ID reply=\"%.80s\"",
		       LOGV(line));
	return 1;
}

/* Read backend lines until one that is not untagged data; untagged ones
 * go on to the client, who may make sense of them. */
static enum io_result next_line(struct session *s, int64_t deadline,
                                char **line, size_t *len)
{
	for (;;) {
		enum io_result r = lineio_getline(&s->backend, deadline, line, len);

		if (r == IO_OK && id_reply(s->proto_state, *line))
			continue;
		if (r != IO_OK || strncmp(*line, "* ", 2) != 0)
			return r;
		(*line)[*len] = '\r';
		if (session_write(s, *line, *len + 1) < 0 ||
		    session_write(s, "\n", 1) < 0)
			return IO_ERROR;
	}
}

static int flush(struct session *s, struct strbuf *o, int64_t deadline)
{
	enum io_result r = lineio_write_all(&s->backend, o->buf, o->len, deadline);

	explicit_bzero(o->buf, o->len);
	strbuf_reset(o);
	return r == IO_OK ? 0 : -1;
}

static int put_astring(struct session *s, struct strbuf *o, const char *v,
                       int64_t deadline, char *text, size_t size)
{
	char *line;
	size_t len;

	switch (imap_astring_kind(v)) {
	case ASTRING_ATOM:
		return strbuf_puts(o, v);
	case ASTRING_QUOTED:
		if (strbuf_puts(o, "\"") < 0)
			return -1;
		for (const char *p = v; *p; p++)
			if ((strchr("\"\\", *p) && strbuf_puts(o, "\\") < 0) ||
			    strbuf_put(o, p, 1) < 0)
				return -1;
		return strbuf_puts(o, "\"");
	case ASTRING_LITERAL:
		break;
	}
	if (strbuf_printf(o, "{%zu}\r\n", strlen(v)) < 0 ||
	    flush(s, o, deadline) < 0)
		return -1;
	if (next_line(s, deadline, &line, &len) != IO_OK || line[0] != '+') {
		snprintf(text, size, "backend refused a literal");
		return -1;
	}
	return strbuf_puts(o, v);
}

static enum auth_result fail(char *text, size_t size, const char *why,
                             enum io_result r)
{
	snprintf(text, size, "%s: %s", why, io_result_str(r));
	return AUTH_TEMPFAIL;
}

/* Whether the CAPABILITY code of a greeting lists cap. */
static int greeting_lists(const char *line, const char *cap)
{
	const char *p = strcasestr(line, "[CAPABILITY ");
	const char *end = p ? strchr(p, ']') : NULL;
	size_t n = strlen(cap);

	if (!end)
		return 0;
	for (p += 12; p + n <= end; p++)
		if (p[-1] == ' ' && strncasecmp(p, cap, n) == 0 &&
		    (p[n] == ' ' || p[n] == ']'))
			return 1;
	return 0;
}

static enum auth_result greeting(struct session *s, int64_t deadline,
                                 char *text, size_t size)
{
	enum io_result r;
	char *line;
	size_t len;

	r = lineio_getline(&s->backend, deadline, &line, &len);
	if (r != IO_OK)
		return fail(text, size, "reading the greeting", r);
	if (strncasecmp(line, "* OK", 4) != 0) {
		snprintf(text, size, "unexpected greeting \"%.60s\"", line);
		return AUTH_TEMPFAIL;
	}
	((struct imap_state *)s->proto_state)->backend_id =
		greeting_lists(line, "ID");
	return AUTH_OK;
}

/* proxy_forward_client: who the client is, as Dovecot's own proxy tells
 * a backend that lists it in login_trusted_networks. Sent with the LOGIN
 * that follows, in one write: no round trip of its own. */
static int put_id(struct session *s, struct strbuf *o)
{
	struct imap_state *is = s->proto_state;
	char local_ip[ADDR_TEXT_MAX];

	if (!s->conf->forward_client || !is->backend_id ||
	    (s->client_addr.ss.ss_family != AF_INET &&
	     s->client_addr.ss.ss_family != AF_INET6))
		return 0;
	addr_format_ip((const struct sockaddr *)&s->local.ss, local_ip,
	               sizeof local_ip);
	if (strbuf_printf(o, "%s ID (\"x-originating-ip\" \"%s\" "
	                  "\"x-originating-port\" \"%d\" \"x-connected-ip\" "
	                  "\"%s\" \"x-connected-port\" \"%d\" \"x-session-id\" "
	                  "\"%s\")\r\n", id_tag(is), s->client_ip,
	                  addr_port((const struct sockaddr *)&s->client_addr.ss),
	                  local_ip,
	                  addr_port((const struct sockaddr *)&s->local.ss),
	                  s->id) < 0)
		return -1;
	is->id_pending = 1;
	return 0;
}

/* Untagged lines before the tagged answer are the backend's business
 * with postern, not the client's: they are read and left. */
enum auth_result imap_backend_starttls(struct session *s, char *text,
                                       size_t size)
{
	int64_t deadline = session_deadline(s);
	enum auth_result g = greeting(s, deadline, text, size);
	enum io_result r;
	char *line;
	size_t len;

	if (g != AUTH_OK)
		return g;
	if (lineio_write_all(&s->backend, "S STARTTLS\r\n", 12, deadline) != IO_OK)
		return fail(text, size, "sending STARTTLS", IO_ERROR);
	do {
		r = lineio_getline(&s->backend, deadline, &line, &len);
		if (r != IO_OK)
			return fail(text, size, "reading the STARTTLS reply", r);
	} while (strncmp(line, "S ", 2) != 0);
	if (strncasecmp(line, "S OK", 4) != 0) {
		snprintf(text, size, "STARTTLS answered \"%.60s\"", line);
		return AUTH_TEMPFAIL;
	}
	return AUTH_OK;
}

/* LOGIN with the user and password, ID before it when it goes. */
static int send_login(struct session *s, struct strbuf *o, int64_t deadline,
                      char *text, size_t size)
{
	struct imap_state *is = s->proto_state;

	if (strbuf_puts(o, is->tag) < 0 || strbuf_puts(o, " LOGIN ") < 0 ||
	    put_astring(s, o, s->cred.user, deadline, text, size) < 0 ||
	    strbuf_puts(o, " ") < 0 ||
	    put_astring(s, o, s->cred.pass, deadline, text, size) < 0 ||
	    strbuf_puts(o, "\r\n") < 0 || flush(s, o, deadline) < 0)
		return -1;
	return 0;
}

/* The client's own OAuth mechanism and token, with SASL-IR (RFC 4959),
 * when the auth server gave no password of its own. */
static int send_oauth(struct session *s, struct strbuf *o, int64_t deadline)
{
	static char msg[OAUTH_MESSAGE_MAX + 1];
	struct imap_state *is = s->proto_state;
	const char *mech = sasl_mech_name(s->cred.mech);
	int rc = -1;

	if (sasl_oauth_message(&s->cred, msg, sizeof msg) >= 0 &&
	    strbuf_printf(o, "%s AUTHENTICATE %s ", is->tag, mech) == 0 &&
	    flush(s, o, deadline) == 0 &&
	    lineio_write_all(&s->backend, msg, strlen(msg), deadline) == IO_OK &&
	    lineio_write_all(&s->backend, "\r\n", 2, deadline) == IO_OK)
		rc = 0;
	explicit_bzero(msg, sizeof msg);
	return rc;
}

enum auth_result imap_backend_login(struct session *s, char *text,
                                    size_t size)
{
	struct imap_state *is = s->proto_state;
	int64_t deadline = session_deadline(s);
	size_t taglen = strlen(is->tag), len;
	int oauth = (s->cred.mech & SASL_OAUTH) && s->cred.token[0];
	char buf[OUT_SIZE];
	struct strbuf o;
	enum io_result r;
	char *line;

	strbuf_init(&o, buf, sizeof buf);
	if (!s->backend_greeted) {
		enum auth_result g = greeting(s, deadline, text, size);

		if (g != AUTH_OK)
			return g;
	}
	snprintf(text, size, "backend failed while logging in");
	if (put_id(s, &o) < 0 ||
	    (oauth ? send_oauth(s, &o, deadline)
	           : send_login(s, &o, deadline, text, size)) < 0) {
		explicit_bzero(buf, sizeof buf);
		return AUTH_TEMPFAIL;
	}
	r = next_line(s, deadline, &line, &len);
	/* An OAuth refusal is a challenge first; the dummy answer gets the
	 * tagged NO (RFC 7628 3.2.3). */
	if (r == IO_OK && oauth && line[0] == '+') {
		const char *dummy = s->cred.mech == SASL_OAUTHBEARER ? "AQ==\r\n"
		                                                     : "\r\n";

		if (lineio_write_all(&s->backend, dummy, strlen(dummy), deadline) !=
		    IO_OK)
			return fail(text, size, "answering the OAuth error", IO_ERROR);
		r = next_line(s, deadline, &line, &len);
	}
	if (r != IO_OK)
		return fail(text, size, "reading the LOGIN reply", r);
	if (strncmp(line, is->tag, taglen) != 0 || line[taglen] != ' ') {
		snprintf(text, size, "unexpected reply \"%.60s\"", line);
		return AUTH_TEMPFAIL;
	}
	line += taglen + 1;
	if (strncasecmp(line, "OK", 2) == 0) {
		/* The backend's own tagged OK carries its capabilities, less
		 * those the filter hides. */
		if (session_guard(s)) {
			static char kept[IMAP_FILTER_LINE_MAX];

			kept[imap_filter_hide(s->conf->imap_hide, line,
			                      strnlen(line, sizeof kept - 1), kept)] = '\0';
			line = kept;
		}
		if (session_printf(s, "%s %s\r\n", is->tag, line) < 0) {
			snprintf(text, size, "client went away");
			return AUTH_TEMPFAIL;
		}
		return AUTH_OK;
	}
	if (strncasecmp(line, "NO ", 3) == 0) {
		snprintf(text, size, "%s", line + 3);
		return AUTH_FAILED;
	}
	snprintf(text, size, "LOGIN answered \"%.60s\"", line);
	return AUTH_TEMPFAIL;
}
