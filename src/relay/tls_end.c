#include "tls_end.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

static struct tls_end *tls_of(struct relay_end *e)
{
	return e->ctx;
}

/* The session ends: said once, here, with the side; the relay's close
 * line gives the side's read or write error as its reason. */
static int fail(struct tls_end *t, const char *why)
{
	if (!t->failed)
		logmsg(LOG_NOTICE, "event=tls_record_error side=%s reason=\"%s\"",
		       t->side, LOGV(why));
	t->failed = 1;
	return -1;
}

/* The fatal alert the peer's last record earned (RFC 8446 6.2), sealed
 * and offered to the socket once. The peer may be gone: what the socket
 * does not take is left. */
static void send_alert(struct tls_end *t, int fd, uint8_t alert)
{
	const uint8_t body[2] = { 2, alert };   /* fatal */
	size_t n;

	/* A record of ours partly out would lose its framing; nothing
	 * follows our close_notify. */
	if (alert == TLS_ALERT_NONE || t->wlen != 0 || t->closed)
		return;
	n = tls_rec_seal(&t->tx, TLS_CT_ALERT, body, sizeof body, t->wbuf);
	if (n > t->whigh)
		t->whigh = n;
	if (n > 0)
		send(fd, t->wbuf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* What the peer sent ends the session: its alert, then the end. */
static int refuse(struct tls_end *t, int fd, const char *why, uint8_t alert)
{
	if (!t->failed)
		send_alert(t, fd, alert);
	return fail(t, why);
}

/* The next whole record, opened and judged. 1 when something was taken
 * (data, a ticket, close_notify), 0 when more bytes are needed, -1 when
 * the session must end. */
static int open_next(struct tls_end *t, int fd)
{
	uint8_t type, *plain;
	size_t used, len;
	const char *why = NULL;

	switch (tls_rec_open(&t->rx, t->rbuf + t->rstart, t->rend - t->rstart,
	                     &used, &type, &plain, &len, &why)) {
	case TLS_REC_MORE:
		return 0;
	case TLS_REC_BAD:
		return refuse(t, fd, why, t->rx.alert);
	case TLS_REC_OK:
		break;
	}
	t->rstart += used;
	switch (tls_in_content(&t->in, type, plain, len, &why)) {
	case TLS_IN_DATA:
		t->plain = plain;
		t->plain_len = len;
		return 1;
	case TLS_IN_NONE:
		return 1;
	case TLS_IN_EOF:
		t->eof = 1;
		return 1;
	case TLS_IN_BAD:
		break;
	}
	return refuse(t, fd, why, t->in.alert);
}

/* Read behind what is buffered; the part of a record kept moves to the
 * front first, so a whole record always fits. 1 read, 0 the end, or
 * -EAGAIN, -EIO. */
static int read_more(struct tls_end *t, int fd)
{
	size_t keep = t->rend - t->rstart;
	ssize_t n;

	if (t->rstart > 0) {
		memmove(t->rbuf, t->rbuf + t->rstart, keep);
		t->rstart = 0;
		t->rend = keep;
	}
	n = recv(fd, t->rbuf + t->rend, sizeof t->rbuf - t->rend,
	         MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		/* A close without close_notify is still a close. */
		t->eof = 1;
		return 0;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EIO;
	t->rend += (size_t)n;
	if (t->rend > t->rhigh)
		t->rhigh = t->rend;
	return 1;
}

static ssize_t give(struct tls_end *t, char *buf, size_t len)
{
	size_t n = t->plain_len < len ? t->plain_len : len;

	memcpy(buf, t->plain, n);
	t->plain += n;
	t->plain_len -= n;
	return (ssize_t)n;
}

static ssize_t end_recv(struct relay_end *e, char *buf, size_t len)
{
	struct tls_end *t = tls_of(e);

	for (;;) {
		int r;

		if (t->failed)
			return -EIO;
		if (t->plain_len)
			return give(t, buf, len);
		if (t->eof)
			return 0;
		r = open_next(t, e->fd);
		if (r < 0)
			return -EIO;
		if (r > 0)
			continue;
		r = read_more(t, e->fd);
		if (r < 0)
			return r;
	}
}

/* The sealed record out, as far as the socket takes it. 0 when all of it
 * is, else -EAGAIN or -EIO. */
static int flush(struct tls_end *t, int fd)
{
	while (t->woff < t->wlen) {
		ssize_t n = send(fd, t->wbuf + t->woff, t->wlen - t->woff,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EIO;
		t->woff += (size_t)n;
	}
	t->woff = t->wlen = 0;
	return 0;
}

/* Up to TLS_END_SEND_RECORDS records from what the caller offers, out
 * with one send(). After -EAGAIN the relay offers the same bytes again
 * (its output keeps them), and the records already sealed from them go
 * on; their count is returned once the last of them is out. */
static ssize_t end_send(struct relay_end *e, const char *buf, size_t len)
{
	struct tls_end *t = tls_of(e);
	int r;

	if (t->failed)
		return -EIO;
	if (t->wlen == 0) {
		t->woff = 0;
		t->wtaken = 0;
		do {
			size_t n = len - t->wtaken < t->max_send ?
			           len - t->wtaken : t->max_send;
			size_t w = tls_rec_seal(&t->tx, TLS_CT_APPLICATION_DATA,
			                        (const uint8_t *)buf + t->wtaken,
			                        n, t->wbuf + t->wlen);

			if (w == 0)
				break;
			t->wlen += w;
			t->wtaken += n;
		} while (t->wtaken < len &&
		         t->wlen + TLS_REC_OUT_MAX <= sizeof t->wbuf);
		if (t->wlen > t->whigh)
			t->whigh = t->wlen;
		if (t->wlen == 0)
			return fail(t, "this key may seal no more records"), -EIO;
	}
	r = flush(t, e->fd);
	if (r < 0)
		return r;
	len = t->wtaken;
	t->wtaken = 0;
	return (ssize_t)len;
}

/* close_notify: this side has all it will get. 1 when done (or when it
 * cannot be sent), 0 to retry. */
static int end_close_write(struct relay_end *e)
{
	static const uint8_t close_notify[2] = { 1, 0 };
	struct tls_end *t = tls_of(e);

	if (t->closed || t->failed)
		return 1;
	if (t->wlen == 0) {
		t->wlen = tls_rec_seal(&t->tx, TLS_CT_ALERT, close_notify,
		                       sizeof close_notify, t->wbuf);
		if (t->wlen > t->whigh)
			t->whigh = t->wlen;
		t->woff = 0;
		t->wtaken = 0;
		if (t->wlen == 0)
			return 1;
	}
	if (flush(t, e->fd) == -EAGAIN)
		return 0;
	t->closed = 1;
	return 1;
}

/* A record partly written must go out even when the relay has nothing
 * more to send: its close_notify, or bytes it already counts. */
static short end_events(struct relay_end *e, short wanted)
{
	return (short)(wanted | (tls_of(e)->wlen ? POLLOUT : 0));
}

/* Data opened and not given out, or a whole record read: poll would not
 * see either. */
static int end_pending(struct relay_end *e)
{
	const struct tls_end *t = tls_of(e);
	size_t have = t->rend - t->rstart;

	if (t->failed || t->eof)
		return 0;
	if (t->plain_len)
		return 1;
	return have >= TLS_REC_HEADER &&
	       have >= TLS_REC_HEADER + ((size_t)t->rbuf[t->rstart + 3] << 8 |
	                                 t->rbuf[t->rstart + 4]);
}

const struct relay_end_ops tls_end_ops = {
	.recv = end_recv,
	.send = end_send,
	.close_write = end_close_write,
	.events = end_events,
	.pending = end_pending,
};

int tls_end_init(struct tls_end *t, const char *side,
                 const struct tls_side_keys *k, int tickets_ok,
                 const char **why)
{
	memset(t, 0, offsetof(struct tls_end, rbuf));
	t->side = side;
	t->max_send = k->max_send < TLS_REC_PLAIN_MAX ? k->max_send
	                                              : TLS_REC_PLAIN_MAX;
	if (tls_rec_init(&t->rx, &k->rx, why) < 0 ||
	    tls_rec_init(&t->tx, &k->tx, why) < 0) {
		tls_end_wipe(t);
		return -1;
	}
	tls_in_init(&t->in, k->rx.version, tickets_ok);
	return 0;
}

void tls_end_wipe(struct tls_end *t)
{
	explicit_bzero(t->rbuf, t->rhigh);
	explicit_bzero(t->wbuf, t->whigh);
	explicit_bzero(t, offsetof(struct tls_end, rbuf));
}
