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
	K_BAD_BYTE,  /* a line Postfix could read otherwise than the guard */
	K_LONG_WORD,
	K_BAD_BDAT,
	K_NO_AUTH,
};

/* DATA: content ends at a line that is "." and any number of CRs, as
 * Postfix reads it (smtp_get() strips every CR before the LF): ending
 * content later than the backend would let the client talk to it
 * unguarded. */
enum { LINE_START, LINE_MID, LINE_DOT, LINE_DOT_CR };

/* Postfix keeps the first line_length_limit bytes (2048 by default) of a
 * command line and skips the rest; a word the guard reads whole must lie
 * well inside that, and so must a BDAT line, whose size is read. */
#define WORD_END_MAX 512

/* Offered by the backend to postern, not to the client. */
static const char *const hidden[] = { "XCLIENT", "XFORWARD", "STARTTLS",
	                              "AUTH", NULL };

static const struct {
	const char *verb;
	enum kind kind;
} refused[] = {
	{ "XCLIENT", K_REFUSED },
	{ "XFORWARD", K_REFUSED },
	/* TLS begun through the relay would hide every later command. */
	{ "STARTTLS", K_NO_TLS },
	/* The client logged in at postern (or, on a port without login, is
	 * no one); a login of its own at the backend would go round the
	 * auth server and be Postfix's, from postern's address. */
	{ "AUTH", K_NO_AUTH },
	{ NULL, K_OTHER },
};

static const char *const answer[] = {
	[K_REFUSED] = "550 5.7.0 Command not permitted\r\n",
	[K_NO_TLS] = "454 4.7.0 TLS not available after login\r\n",
	[K_BAD_BYTE] = "500 5.5.2 Error: control character in command\r\n",
	[K_LONG_WORD] = "500 5.5.2 Error: command word too far in\r\n",
	[K_BAD_BDAT] = "501 5.5.4 Syntax: BDAT count [LAST]\r\n",
	[K_NO_AUTH] = "503 5.5.1 Error: authentication not available here\r\n",
};
/* For the log line, what was refused when it was no word of a list. */
static const char *const refusal_name[] = {
	[K_BAD_BYTE] = "control-character",
	[K_LONG_WORD] = "long-command-word",
	[K_BAD_BDAT] = "BDAT",
};

void smtp_guard_init(struct smtp_guard *g)
{
	memset(g, 0, sizeof *g);
	g->client_state = CMD;
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A line as Postfix's smtp_get() leaves it: without its LF and every CR
 * before that. */
static size_t text_len(const char *l, size_t n)
{
	if (n && l[n - 1] == '\n')
		n--;
	while (n && l[n - 1] == '\r')
		n--;
	return n;
}

/* A line's first word, as Postfix's smtpd_token() makes argv[0] of a
 * line without control bytes: after white space, up to white space or
 * the line's end. */
struct word {
	const char *p;
	size_t n;
};

static struct word first_word(const char *l, size_t n)
{
	size_t i = 0, e;

	while (i < n && blank(l[i]))
		i++;
	for (e = i; e < n && !blank(l[e]) && l[e] != '\r' && l[e] != '\n'; e++)
		;
	return (struct word){ l + i, e - i };
}

/* The word is name, in any case (Postfix compares without case). */
static int word_is(struct word w, const char *name)
{
	return w.n == strlen(name) && strncasecmp(w.p, name, w.n) == 0;
}

/* Why the guard cannot read a line's text as Postfix does, or K_OTHER.
 * Postfix's tokenizer splits words on all six isspace() bytes, so a CR,
 * VT or FF would end a word where the guard sees none; any control byte
 * but tab is refused rather than modelled. */
static enum kind unreadable(const char *l, size_t n, struct word w)
{
	for (size_t j = 0; j < n; j++)
		if (((unsigned char)l[j] < 0x20 && l[j] != '\t') || l[j] == 0x7f)
			return K_BAD_BYTE;
	return (size_t)(w.p + w.n - l) > WORD_END_MAX ? K_LONG_WORD : K_OTHER;
}

static void push(struct smtp_guard *g, enum kind k)
{
	g->inflight[(g->head + g->count++) % SMTP_GUARD_INFLIGHT_MAX] =
		(unsigned char)k;
}

/* The guard's answers are due once nothing before them is in flight. */
static void answer_due(struct smtp_guard *g, struct strbuf *client)
{
	while (g->count) {
		enum kind k = g->inflight[g->head];

		if (k >= sizeof answer / sizeof *answer || !answer[k])
			return;
		strbuf_put(client, answer[k], strlen(answer[k]));
		g->head = (g->head + 1) % SMTP_GUARD_INFLIGHT_MAX;
		g->count--;
	}
}

/* "BDAT <size> [LAST]" read as Postfix's bdat_cmd() reads it: two or
 * three words, the size all digits, the third LAST. The size, or -1 for
 * a line Postfix would answer with 521 and hang up on, which the guard
 * refuses itself: it cannot know where the client thinks the chunk ends. */
static int64_t chunk_size(const char *l, size_t n)
{
	const char *word[3];
	size_t len[3], words = 0, i = 0;
	int64_t size = 0;

	if (n > WORD_END_MAX)
		return -1;
	while (i < n) {
		while (i < n && blank(l[i]))
			i++;
		if (i == n)
			break;
		if (words == 3)
			return -1;
		word[words] = l + i;
		while (i < n && !blank(l[i]))
			i++;
		len[words] = (size_t)(l + i - word[words]);
		words++;
	}
	if (words < 2 || (words == 3 && (len[2] != 4 ||
	                                 strncasecmp(word[2], "LAST", 4) != 0)))
		return -1;
	for (size_t k = 0; k < len[1]; k++) {
		if (word[1][k] < '0' || word[1][k] > '9' ||
		    size > (INT64_MAX - 9) / 10)
			return -1;
		size = size * 10 + (word[1][k] - '0');
	}
	return size;
}

/* One whole command line from the client; 1 if the guard refused it. */
static int command(struct smtp_guard *g, struct strbuf *backend,
                   struct strbuf *client)
{
	const char *l = g->line, *name = NULL;
	size_t n = g->line_len, t = text_len(l, n);
	struct word w = first_word(l, t);
	enum kind fault = unreadable(l, t, w);
	int64_t size = 0;

	for (int i = 0; fault == K_OTHER && refused[i].verb; i++) {
		if (word_is(w, refused[i].verb)) {
			fault = refused[i].kind;
			name = refused[i].verb;
		}
	}
	if (fault == K_OTHER && word_is(w, "BDAT") &&
	    (size = chunk_size(l, t)) < 0)
		fault = K_BAD_BDAT;
	if (fault != K_OTHER) {
		g->report.refused++;
		g->report.last_refused = name ? name : refusal_name[fault];
		push(g, fault);
		answer_due(g, client);
		return 1;
	}
	strbuf_put(backend, l, n);
	if (word_is(w, "DATA")) {
		push(g, K_DATA);
		g->client_state = WAIT_DATA;
	} else if (word_is(w, "BDAT")) {
		push(g, K_OTHER);
		g->chunk_left = (uint64_t)size;
		g->client_state = size > 0 ? CHUNK : CMD;
	} else {
		push(g, word_is(w, "EHLO") ? K_EHLO : K_OTHER);
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
		case LINE_DOT_CR:
			if (c == '\n') {
				/* The final dot is answered like a command. */
				g->client_state = CMD;
				push(g, K_OTHER);
				return i + 1;
			}
			g->data_line = c == '\r' ? LINE_DOT_CR : LINE_MID;
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
                                         struct strbuf *backend,
                                         struct strbuf *client)
{
	size_t i = 0, n;

	while (i < len) {
		if (strbuf_room(backend) < SMTP_GUARD_LINE_MAX ||
		    strbuf_room(client) < SMTP_GUARD_STEP_MAX)
			break;
		switch (g->client_state) {
		case WAIT_DATA:
			*consumed = i;
			return GUARD_HOLD;
		case DATA:
			n = len - i < strbuf_room(backend) ? len - i
			                                   : strbuf_room(backend);
			n = content(g, in + i, n);
			strbuf_put(backend, in + i, n);
			i += n;
			continue;
		case CHUNK:
			n = len - i < strbuf_room(backend) ? len - i
			                                   : strbuf_room(backend);
			if (n > g->chunk_left)
				n = (size_t)g->chunk_left;
			strbuf_put(backend, in + i, n);
			g->chunk_left -= n;
			if (g->chunk_left == 0)
				g->client_state = CMD;
			i += n;
			continue;
		}
		if (g->line_len == 0 && g->count == SMTP_GUARD_INFLIGHT_MAX)
			break; /* pipelined too far ahead: wait for replies */
		if (g->line_len == sizeof g->line) {
			g->report.why = "command line too long";
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

/* A line of the EHLO reply offers a hidden keyword: "250-AUTH PLAIN",
 * or "250-AUTH=PLAIN", as Postfix offers AUTH to old clients too. */
static int hidden_keyword(const char *l, size_t n)
{
	struct word w = first_word(l + 4, n - 4);

	for (int i = 0; hidden[i]; i++) {
		size_t k = strlen(hidden[i]);

		if (word_is(w, hidden[i]) ||
		    (w.n > k && strncasecmp(w.p, hidden[i], k) == 0 &&
		     w.p[k] == '='))
			return 1;
	}
	return 0;
}

/* The EHLO reply, without the lines the client may not use; the last
 * line kept says it is the last. */
static void rewrite_ehlo(struct smtp_guard *g, struct strbuf *client)
{
	size_t start = 0, last = (size_t)-1, from = client->len;

	while (start < g->reply_len) {
		const char *l = g->reply + start;
		size_t n = (size_t)((const char *)memchr(l, '\n',
		                    g->reply_len - start) - l) + 1;

		if (start == 0 || strncmp(l, "250", 3) != 0 ||
		    !hidden_keyword(l, n)) {
			last = client->len;
			strbuf_put(client, l, n);
			if (l[3] == ' ')
				client->buf[last + 3] = '-';
		}
		start += n;
	}
	if (last != (size_t)-1 && last >= from &&
	    client->buf[last + 3] == '-')
		client->buf[last + 3] = ' ';
}

static void reply_done(struct smtp_guard *g, int code,
                       struct strbuf *client)
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
                                          struct strbuf *client)
{
	size_t i = 0;

	while (i < len) {
		const char *l;
		size_t n;
		int end;

		/* A reply's last line may release the held EHLO reply and
		 * every refusal queued behind it at once. */
		if (strbuf_room(client) < SMTP_GUARD_STEP_MAX)
			break;
		if (g->reply_len == sizeof g->reply ||
		    g->reply_len - g->reply_line == SMTP_GUARD_LINE_MAX) {
			g->report.why = "backend reply too long";
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
			g->report.why = "backend sent a line that is no SMTP reply";
			*consumed = i;
			return GUARD_ERROR;
		}
		/* Only an EHLO reply waits whole; others go on line by line. */
		if (!g->count || g->inflight[g->head] != K_EHLO) {
			strbuf_put(client, l, n);
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
                                     size_t *consumed, struct strbuf *backend,
                                     struct strbuf *client)
{
	return smtp_guard_client(state, in, len, consumed, backend, client);
}

static enum guard_result kind_backend(void *state, const char *in, size_t len,
                                      size_t *consumed, struct strbuf *client)
{
	return smtp_guard_backend(state, in, len, consumed, client);
}

const struct guard_kind guard_smtp = {
	.name = "smtp",
	.state_size = sizeof(struct smtp_guard),
	.report_at = offsetof(struct smtp_guard, report),
	.out_min = SMTP_GUARD_OUT_MIN,
	.init = kind_init,
	.client = kind_client,
	.backend = kind_backend,
};
