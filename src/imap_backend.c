#include "imap.h"
#include "lineio.h"
#include "log.h"
#include "session_state.h"
#include "session_io.h"

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

struct out {
	char buf[2 * CRED_MAX + 256];
	size_t len;
};

static int out_add(struct out *o, const char *data, size_t n)
{
	if (o->len + n > sizeof o->buf)
		return -1;
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	return 0;
}

/* Read backend lines until one that is not untagged data; untagged ones
 * go on to the client, who may make sense of them. */
static enum io_result next_line(struct session *s, int64_t deadline,
                                char **line, size_t *len)
{
	for (;;) {
		enum io_result r = lineio_getline(&s->backend, deadline, line, len);

		if (r != IO_OK || strncmp(*line, "* ", 2) != 0)
			return r;
		(*line)[*len] = '\r';
		if (session_write(s, *line, *len + 1) < 0 ||
		    session_write(s, "\n", 1) < 0)
			return IO_ERROR;
	}
}

static int flush(struct session *s, struct out *o, int64_t deadline)
{
	enum io_result r = lineio_write_all(&s->backend, o->buf, o->len, deadline);

	explicit_bzero(o->buf, o->len);
	o->len = 0;
	return r == IO_OK ? 0 : -1;
}

static int put_astring(struct session *s, struct out *o, const char *v,
                       int64_t deadline, char *text, size_t size)
{
	char num[32];
	char *line;
	size_t len;

	switch (imap_astring_kind(v)) {
	case ASTRING_ATOM:
		return out_add(o, v, strlen(v));
	case ASTRING_QUOTED:
		if (out_add(o, "\"", 1) < 0)
			return -1;
		for (const char *p = v; *p; p++)
			if ((strchr("\"\\", *p) && out_add(o, "\\", 1) < 0) ||
			    out_add(o, p, 1) < 0)
				return -1;
		return out_add(o, "\"", 1);
	case ASTRING_LITERAL:
		break;
	}
	snprintf(num, sizeof num, "{%zu}\r\n", strlen(v));
	if (out_add(o, num, strlen(num)) < 0 || flush(s, o, deadline) < 0)
		return -1;
	if (next_line(s, deadline, &line, &len) != IO_OK || line[0] != '+') {
		snprintf(text, size, "backend refused a literal");
		return -1;
	}
	return out_add(o, v, strlen(v));
}

static enum auth_result fail(char *text, size_t size, const char *why,
                             enum io_result r)
{
	snprintf(text, size, "%s: %s", why, io_result_str(r));
	return AUTH_TEMPFAIL;
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
	return AUTH_OK;
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

enum auth_result imap_backend_login(struct session *s, char *text,
                                    size_t size)
{
	struct imap_state *is = s->proto_state;
	int64_t deadline = session_deadline(s);
	size_t taglen = strlen(is->tag), len;
	struct out o = { .len = 0 };
	enum io_result r;
	char *line;

	if (!s->backend_greeted) {
		enum auth_result g = greeting(s, deadline, text, size);

		if (g != AUTH_OK)
			return g;
	}
	snprintf(text, size, "backend failed while logging in");
	if (out_add(&o, is->tag, taglen) < 0 || out_add(&o, " LOGIN ", 7) < 0 ||
	    put_astring(s, &o, s->cred.user, deadline, text, size) < 0 ||
	    out_add(&o, " ", 1) < 0 ||
	    put_astring(s, &o, s->cred.pass, deadline, text, size) < 0 ||
	    out_add(&o, "\r\n", 2) < 0 || flush(s, &o, deadline) < 0) {
		explicit_bzero(o.buf, sizeof o.buf);
		return AUTH_TEMPFAIL;
	}
	r = next_line(s, deadline, &line, &len);
	if (r != IO_OK)
		return fail(text, size, "reading the LOGIN reply", r);
	if (strncmp(line, is->tag, taglen) != 0 || line[taglen] != ' ') {
		snprintf(text, size, "unexpected reply \"%.60s\"", line);
		return AUTH_TEMPFAIL;
	}
	line += taglen + 1;
	if (strncasecmp(line, "OK", 2) == 0) {
		/* The backend's own tagged OK carries its capabilities. */
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
