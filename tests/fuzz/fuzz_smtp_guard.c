/* The SMTP guard, two ways, chosen by the input's first byte (bit 0).
 *
 * Raw: a client stream and a backend stream interleaved as the input says,
 * records of one header byte (top bit: which side; low seven: length - 1)
 * and that many bytes. Whatever comes, the guard takes no more than it was
 * given and writes no more than its outputs hold.
 *
 * Against a model of Postfix: the input is the client's stream, in pieces
 * of the records' sizes; what the guard forwards is read by a small smtpd
 * that reads as Postfix 3.7's does (smtp_get(): records to LF or to
 * line_length_limit, every CR before the LF dropped; smtpd_token(): words
 * on isspace(); DATA to a record "." not after a cut one; BDAT as
 * bdat_cmd() reads it) and answers, and its answers go back through the
 * guard. The model must never read XCLIENT, XFORWARD, STARTTLS or AUTH as a
 * command: where it does, the guard and Postfix disagreed, and libFuzzer
 * has found a way past the guard. Bit 1 of the first byte makes the model
 * refuse DATA. */
#include "fuzz.h"
#include "smtp_guard.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_LIMIT 2048   /* Postfix's line_length_limit */

struct postfix {
	enum { P_CMD, P_DATA, P_CHUNK, P_GONE } state;
	char rec[LINE_LIMIT + 1];
	size_t len;
	int skipping;        /* a command beyond the limit: the rest goes */
	int prev_cut;        /* DATA: the last record was cut at the limit */
	int refuse_data;
	uint64_t chunk;
	char out[4096];      /* its replies, for the guard */
	size_t out_len;
};

static void reply(struct postfix *p, const char *text)
{
	size_t n = strlen(text);

	if (p->out_len + n <= sizeof p->out) {
		memcpy(p->out + p->out_len, text, n);
		p->out_len += n;
	}
}

static int space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* smtpd_token()'s words, for what the oracle needs: up to four. */
static size_t words(const char *s, const char *w[4], size_t wl[4])
{
	size_t n = 0;

	while (*s) {
		while (*s && space(*s))
			s++;
		if (!*s)
			break;
		if (n == 4)
			return 5;
		w[n] = s;
		while (*s && !space(*s))
			s++;
		wl[n] = (size_t)(s - w[n]);
		n++;
	}
	return n;
}

static int word_is(const char *w, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(w, name, n) == 0;
}

static void command(struct postfix *p, char *text)
{
	const char *w[4];
	size_t wl[4], n = words(text, w, wl);

	if (n == 0) {
		reply(p, "500 5.5.2 Error: bad syntax\r\n");
		return;
	}
	/* The finding: Postfix would obey the client. */
	FUZZ_ASSERT(!word_is(w[0], wl[0], "XCLIENT"));
	FUZZ_ASSERT(!word_is(w[0], wl[0], "XFORWARD"));
	FUZZ_ASSERT(!word_is(w[0], wl[0], "STARTTLS"));
	FUZZ_ASSERT(!word_is(w[0], wl[0], "AUTH"));
	if (word_is(w[0], wl[0], "DATA")) {
		if (n != 1)
			reply(p, "501 5.5.4 Syntax: DATA\r\n");
		else if (p->refuse_data)
			reply(p, "554 5.5.1 Error: no valid recipients\r\n");
		else {
			reply(p, "354 End data with <CR><LF>.<CR><LF>\r\n");
			p->state = P_DATA;
			p->prev_cut = 0;
		}
	} else if (word_is(w[0], wl[0], "BDAT")) {
		uint64_t size = 0;
		int ok = (n == 2 || n == 3) &&
		         (n == 2 || word_is(w[2], wl[2], "LAST"));

		for (size_t i = 0; ok && i < wl[1]; i++) {
			if (!isdigit((unsigned char)w[1][i]) ||
			    size > ((uint64_t)INT64_MAX - 9) / 10)
				ok = 0;
			else
				size = size * 10 + (uint64_t)(w[1][i] - '0');
		}
		if (!ok) {
			reply(p, "521 5.5.4 Syntax: BDAT count [LAST]\r\n");
			p->state = P_GONE;
		} else if (size == 0) {
			reply(p, "250 2.0.0 Ok: 0 bytes\r\n");
		} else {
			p->chunk = size;
			p->state = P_CHUNK;
		}
	} else if (word_is(w[0], wl[0], "EHLO")) {
		reply(p, "250-backend\r\n250-XCLIENT NAME ADDR\r\n"
		         "250-STARTTLS\r\n250 PIPELINING\r\n");
	} else if (word_is(w[0], wl[0], "QUIT")) {
		reply(p, "221 2.0.0 Bye\r\n");
		p->state = P_GONE;
	} else {
		reply(p, "250 2.0.0 Ok\r\n");
	}
}

/* One record as smtp_get() returns it: whole (to LF) or cut. */
static void record(struct postfix *p, int whole)
{
	size_t n = p->len;

	if (whole) {
		n--;                            /* the LF */
		while (n && p->rec[n - 1] == '\r')
			n--;
	}
	p->rec[n] = '\0';                       /* a NUL ends it too */
	p->len = 0;
	if (p->state == P_CMD && !whole) {
		/* smtp_get() skips to the LF before smtpd reads the command. */
		p->skipping = 1;
	} else if (p->state == P_CMD) {
		command(p, p->rec);
	} else if (p->state == P_DATA) {
		if (!p->prev_cut && strcmp(p->rec, ".") == 0 && n == 1) {
			reply(p, "250 2.0.0 Ok: queued\r\n");
			p->state = P_CMD;
		}
		p->prev_cut = !whole;
	}
}

static void postfix_read(struct postfix *p, const char *in, size_t len)
{
	for (size_t i = 0; i < len && p->state != P_GONE; i++) {
		char c = in[i];

		if (p->state == P_CHUNK) {
			if (--p->chunk == 0) {
				reply(p, "250 2.0.0 Ok: chunk\r\n");
				p->state = P_CMD;
			}
			continue;
		}
		/* At the limit a CR waits for its LF (smtp_get()'s repair). */
		if (!p->skipping && p->len == LINE_LIMIT &&
		    !(p->rec[p->len - 1] == '\r' && c == '\n'))
			record(p, 0);
		if (p->skipping) {
			if (c == '\n') {
				p->skipping = 0;
				command(p, p->rec);
			}
			continue;
		}
		p->rec[p->len++] = c;
		if (c == '\n')
			record(p, 1);
	}
}

static void raw(const uint8_t *data, size_t size)
{
	static struct smtp_guard g;
	static char b[SMTP_GUARD_OUT_MIN + 64], c[SMTP_GUARD_OUT_MIN + 64];
	struct strbuf backend = { b, sizeof b, 0, 0 };
	struct strbuf client = { c, sizeof c, 0, 0 };
	size_t off = 0;

	smtp_guard_init(&g);
	while (off < size) {
		int to_backend_side = data[off] & 0x80;
		size_t n = (size_t)(data[off] & 0x7f) + 1, used = 0;
		enum guard_result r;
		char *piece;

		off++;
		if (n > size - off)
			n = size - off;
		piece = malloc(n ? n : 1);
		FUZZ_ASSERT(piece != NULL);
		memcpy(piece, data + off, n);
		if (to_backend_side)
			r = smtp_guard_backend(&g, piece, n, &used, &client);
		else
			r = smtp_guard_client(&g, piece, n, &used, &backend, &client);
		free(piece);
		FUZZ_ASSERT(used <= n);
		/* Within the room promised: nothing the strbuf had to refuse. */
		FUZZ_ASSERT(!backend.overflow && !client.overflow);
		FUZZ_ASSERT(g.count <= SMTP_GUARD_INFLIGHT_MAX);
		if (r == GUARD_ERROR) {
			FUZZ_ASSERT(g.report.why != NULL);
			return;
		}
		/* The relay drains its outputs between calls. */
		backend.len = client.len = 0;
		off += used ? used : n; /* held bytes are dropped here */
	}
}

/* The guard between the input's client stream and the model, as the
 * relay runs it: what is held is fed again once the backend answered. */
static void against_postfix(const uint8_t *data, size_t size, int refuse_data)
{
	static struct smtp_guard g;
	static struct postfix p;
	static char b[SMTP_GUARD_OUT_MIN + 64], c[SMTP_GUARD_OUT_MIN + 64];
	static char held[1 << 16];
	struct strbuf backend = { b, sizeof b, 0, 0 };
	struct strbuf client = { c, sizeof c, 0, 0 };
	size_t off = 0, held_len = 0;

	smtp_guard_init(&g);
	memset(&p, 0, sizeof p);
	p.refuse_data = refuse_data;
	while (off < size || held_len) {
		size_t n = 0, used;
		enum guard_result r;

		if (off < size) {
			n = (size_t)(data[off++] & 0x7f) + 1;
			if (n > size - off)
				n = size - off;
			if (held_len + n > sizeof held)
				return;
			memcpy(held + held_len, data + off, n);
			held_len += n;
			off += n;
		}
		r = smtp_guard_client(&g, held, held_len, &used, &backend, &client);
		FUZZ_ASSERT(used <= held_len);
		FUZZ_ASSERT(!backend.overflow && !client.overflow);
		if (r == GUARD_ERROR)
			return;
		memmove(held, held + used, held_len - used);
		held_len -= used;
		postfix_read(&p, backend.buf, backend.len);
		backend.len = client.len = 0;
		if (p.out_len) {
			size_t at = 0;

			/* The relay drains the client's side between calls. */
			while (at < p.out_len) {
				r = smtp_guard_backend(&g, p.out + at, p.out_len - at,
				                       &used, &client);
				FUZZ_ASSERT(r != GUARD_ERROR && used > 0 &&
				            !client.overflow);
				at += used;
				client.len = 0;
			}
			p.out_len = 0;
		} else if (off >= size && used == 0) {
			return;      /* held for an answer that will not come */
		}
		if (p.state == P_GONE)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		against_postfix(data + 1, size - 1, data[0] & 2);
	else
		raw(data + 1, size - 1);
	return 0;
}
