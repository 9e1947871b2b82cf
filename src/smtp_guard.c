#include "smtp_guard.h"

#include <string.h>
#include <strings.h>

enum client_state {
	CMD,         /* command lines */
	WAIT_DATA,   /* DATA went on: its reply says whether content follows */
	DATA,        /* message content up to a line "." */
	CHUNK,       /* a BDAT chunk, chunk_left bytes */
};

/* What each command in flight waits for. */
enum kind {
	K_OTHER,
	K_EHLO,      /* its reply loses the lines the client may not use */
	K_DATA,      /* 354 starts content */
	K_REFUSED,   /* answered by the guard in its turn */
	K_NO_TLS,
};

/* DATA: a line is "." (with or without its CR) at any line end, as
 * Postfix reads lines: ending content later than the backend would let
 * the client talk to it unguarded. */
enum { LINE_START, LINE_MID, LINE_DOT, LINE_DOT_CR };

/* Offered by the backend to postern, not to the client. */
static const char *const hidden[] = { "XCLIENT", "XFORWARD", "STARTTLS",
	                              NULL };

static const struct {
	const char *verb;
	enum kind kind;
} refused[] = {
	{ "XCLIENT", K_REFUSED },
	{ "XFORWARD", K_REFUSED },
	/* TLS begun through the relay would hide every later command. */
	{ "STARTTLS", K_NO_TLS },
	{ NULL, K_OTHER },
};

static const char *const answer[] = {
	[K_REFUSED] = "550 5.7.0 Command not permitted\r\n",
	[K_NO_TLS] = "454 4.7.0 TLS not available after login\r\n",
};

void smtp_guard_init(struct smtp_guard *g)
{
	memset(g, 0, sizeof *g);
	g->client_state = CMD;
}

static size_t room(const struct guard_out *o)
{
	return o->size - o->len;
}

static void put(struct guard_out *o, const char *data, size_t len)
{
	memcpy(o->data + o->len, data, len);
	o->len += len;
}

/* The first word of a line is word, in any case (Postfix splits on
 * white space and compares without case). */
static int first_word_is(const char *line, size_t len, const char *word)
{
	size_t i = 0, n = strlen(word);

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < n || strncasecmp(line + i, word, n) != 0)
		return 0;
	i += n;
	return i == len || line[i] == ' ' || line[i] == '\t' ||
	       line[i] == '\r' || line[i] == '\n';
}

static void push(struct smtp_guard *g, enum kind k)
{
	g->inflight[(g->head + g->count++) % SMTP_GUARD_INFLIGHT_MAX] =
		(unsigned char)k;
}

/* The guard's answers are due once nothing before them is in flight. */
static void answer_due(struct smtp_guard *g, struct guard_out *client)
{
	while (g->count) {
		enum kind k = g->inflight[g->head];

		if (k != K_REFUSED && k != K_NO_TLS)
			return;
		put(client, answer[k], strlen(answer[k]));
		g->head = (g->head + 1) % SMTP_GUARD_INFLIGHT_MAX;
		g->count--;
	}
}

/* "BDAT <size> [LAST]": the size, or -1 when there is none to trust (the
 * backend refuses such a line and reads no chunk either). */
static int64_t chunk_size(const char *line, size_t len)
{
	size_t i = 0;
	int64_t n = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	i += 4; /* BDAT */
	if (i >= len || (line[i] != ' ' && line[i] != '\t'))
		return -1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] < '0' || line[i] > '9')
		return -1;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (line[i] - '0');
	}
	return n;
}

/* One whole command line from the client; 1 if the guard refused it. */
static int command(struct smtp_guard *g, struct guard_out *backend,
                   struct guard_out *client)
{
	const char *l = g->line;
	size_t n = g->line_len;
	int64_t size;

	for (int i = 0; refused[i].verb; i++) {
		if (!first_word_is(l, n, refused[i].verb))
			continue;
		g->refused++;
		g->last_refused = refused[i].verb;
		push(g, refused[i].kind);
		answer_due(g, client);
		return 1;
	}
	put(backend, l, n);
	if (first_word_is(l, n, "DATA")) {
		push(g, K_DATA);
		g->client_state = WAIT_DATA;
	} else if (first_word_is(l, n, "BDAT") &&
	           (size = chunk_size(l, n)) >= 0) {
		push(g, K_OTHER);
		g->chunk_left = (uint64_t)size;
		g->client_state = size > 0 ? CHUNK : CMD;
	} else {
		push(g, first_word_is(l, n, "EHLO") ? K_EHLO : K_OTHER);
	}
	return 0;
}

/* Message content up to and with its final ".": how much of in it is.
 * Inside a line only its end matters, and memchr finds that fast. */
static size_t content(struct smtp_guard *g, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c;

		if (g->data_line == LINE_MID) {
			const char *lf = memchr(in + i, '\n', len - i);

			if (!lf)
				return len;
			i = (size_t)(lf - in);
		}
		c = in[i];

		switch (g->data_line) {
		case LINE_START:
			g->data_line = c == '.' ? LINE_DOT :
			               c == '\n' ? LINE_START : LINE_MID;
			break;
		case LINE_DOT:
			if (c == '\n') {
				g->client_state = CMD;
				return i + 1;
			}
			g->data_line = c == '\r' ? LINE_DOT_CR : LINE_MID;
			break;
		case LINE_DOT_CR:
			if (c == '\n') {
				g->client_state = CMD;
				return i + 1;
			}
			g->data_line = LINE_MID;
			break;
		default:
			if (c == '\n')
				g->data_line = LINE_START;
			break;
		}
	}
	return len;
}

enum guard_result smtp_guard_client(struct smtp_guard *g, const char *in,
                                         size_t len, size_t *consumed,
                                         struct guard_out *backend,
                                         struct guard_out *client)
{
	size_t i = 0, n;

	while (i < len) {
		if (room(backend) < SMTP_GUARD_LINE_MAX ||
		    room(client) < SMTP_GUARD_LINE_MAX)
			break;
		switch (g->client_state) {
		case WAIT_DATA:
			*consumed = i;
			return GUARD_HOLD;
		case DATA:
			n = len - i < room(backend) ? len - i : room(backend);
			n = content(g, in + i, n);
			put(backend, in + i, n);
			i += n;
			continue;
		case CHUNK:
			n = len - i < room(backend) ? len - i : room(backend);
			if (n > g->chunk_left)
				n = (size_t)g->chunk_left;
			put(backend, in + i, n);
			g->chunk_left -= n;
			if (g->chunk_left == 0)
				g->client_state = CMD;
			i += n;
			continue;
		}
		if (g->line_len == 0 && g->count == SMTP_GUARD_INFLIGHT_MAX)
			break; /* pipelined too far ahead: wait for replies */
		if (g->line_len == sizeof g->line) {
			g->why = "command line too long";
			*consumed = i;
			return GUARD_ERROR;
		}
		g->line[g->line_len++] = in[i++];
		if (g->line[g->line_len - 1] == '\n') {
			int refused_it = command(g, backend, client);

			g->line_len = 0;
			if (refused_it) {
				*consumed = i;
				return GUARD_REFUSED;
			}
		}
	}
	*consumed = i;
	return i == len ? GUARD_OK : GUARD_HOLD;
}

/* A reply line: "250-..." goes on, "250 ..." (or "250") ends the reply.
 * -1 if it is no reply line at all. */
static int line_ends_reply(const char *l, size_t n)
{
	if (n < 4 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' ||
	    l[2] < '0' || l[2] > '9')
		return -1;
	if (l[3] == '-')
		return 0;
	return l[3] == ' ' || l[3] == '\r' || l[3] == '\n' ? 1 : -1;
}

static int hidden_keyword(const char *l, size_t n)
{
	for (int i = 0; hidden[i]; i++)
		if (first_word_is(l + 4, n - 4, hidden[i]))
			return 1;
	return 0;
}

/* The EHLO reply, without the lines the client may not use; the last
 * line kept says it is the last. */
static void rewrite_ehlo(struct smtp_guard *g, struct guard_out *client)
{
	size_t start = 0, last = (size_t)-1, from = client->len;

	while (start < g->reply_len) {
		const char *l = g->reply + start;
		size_t n = (size_t)((const char *)memchr(l, '\n',
		                    g->reply_len - start) - l) + 1;

		if (start == 0 || strncmp(l, "250", 3) != 0 ||
		    !hidden_keyword(l, n)) {
			last = client->len;
			put(client, l, n);
			if (l[3] == ' ')
				client->data[last + 3] = '-';
		}
		start += n;
	}
	if (last != (size_t)-1 && last >= from &&
	    client->data[last + 3] == '-')
		client->data[last + 3] = ' ';
}

static void reply_done(struct smtp_guard *g, int code,
                       struct guard_out *client)
{
	enum kind k = K_OTHER;

	if (g->count) {
		k = g->inflight[g->head];
		g->head = (g->head + 1) % SMTP_GUARD_INFLIGHT_MAX;
		g->count--;
	}
	if (k == K_EHLO)
		rewrite_ehlo(g, client);
	if (k == K_DATA) {
		g->client_state = code == 354 ? DATA : CMD;
		g->data_line = LINE_START;
	}
	g->reply_len = g->reply_line = 0;
	answer_due(g, client);
}

enum guard_result smtp_guard_backend(struct smtp_guard *g,
                                          const char *in, size_t len,
                                          size_t *consumed,
                                          struct guard_out *client)
{
	size_t i = 0;

	while (i < len) {
		const char *l;
		size_t n;
		int end;

		if (room(client) < SMTP_GUARD_OUT_MIN - 1024)
			break;
		if (g->reply_len == sizeof g->reply ||
		    g->reply_len - g->reply_line == SMTP_GUARD_LINE_MAX) {
			g->why = "backend reply too long";
			*consumed = i;
			return GUARD_ERROR;
		}
		g->reply[g->reply_len++] = in[i++];
		if (g->reply[g->reply_len - 1] != '\n')
			continue;
		l = g->reply + g->reply_line;
		n = g->reply_len - g->reply_line;
		end = line_ends_reply(l, n);
		if (end < 0) {
			g->why = "backend sent a line that is no SMTP reply";
			*consumed = i;
			return GUARD_ERROR;
		}
		/* Only an EHLO reply waits whole; others go on line by line. */
		if (!g->count || g->inflight[g->head] != K_EHLO) {
			put(client, l, n);
			g->reply_len = g->reply_line;
		} else {
			g->reply_line = g->reply_len;
		}
		if (end)
			reply_done(g, (l[0] - '0') * 100 + (l[1] - '0') * 10 +
			              (l[2] - '0'), client);
	}
	*consumed = i;
	return i == len ? GUARD_OK : GUARD_HOLD;
}

static int kind_init(void *state, const struct guard_settings *set,
                     const char **why)
{
	(void)set;
	(void)why;
	smtp_guard_init(state);
	return 0;
}

static enum guard_result kind_client(void *state, const char *in, size_t len,
                                     size_t *consumed, struct guard_out *backend,
                                     struct guard_out *client)
{
	return smtp_guard_client(state, in, len, consumed, backend, client);
}

static enum guard_result kind_backend(void *state, const char *in, size_t len,
                                      size_t *consumed, struct guard_out *client)
{
	return smtp_guard_backend(state, in, len, consumed, client);
}

static const char *kind_last_refused(const void *state)
{
	return ((const struct smtp_guard *)state)->last_refused;
}

static const char *kind_why(const void *state)
{
	return ((const struct smtp_guard *)state)->why;
}

static unsigned kind_refused(const void *state)
{
	return ((const struct smtp_guard *)state)->refused;
}

const struct guard_kind guard_smtp = {
	.name = "smtp",
	.state_size = sizeof(struct smtp_guard),
	.out_min = SMTP_GUARD_OUT_MIN,
	.init = kind_init,
	.client = kind_client,
	.backend = kind_backend,
	.last_refused = kind_last_refused,
	.why = kind_why,
	.refused = kind_refused,
};
