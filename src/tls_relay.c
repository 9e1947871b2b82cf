#include "tls_relay.h"
#include "exec_contract.h"
#include "guard_relay.h"
#include "handoff.h"
#include "log.h"
#include "session_state.h"
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* One side of the relay: a socket, with or without TLS on it. */
struct end {
	int fd;
	gnutls_session_t tls;    /* NULL: plain */
};

enum { MOVED = 1, WAIT = 0, STOP = -1 };

static ssize_t end_recv(struct end *e, char *buf, size_t len)
{
	ssize_t n;

	if (!e->tls) {
		n = recv(e->fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && errno == ECONNRESET)
			return 0;
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? -EAGAIN :
		       n < 0 ? -EIO : n;
	}
	n = gnutls_record_recv(e->tls, buf, len);
	if (n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0; /* a close without close_notify is still a close */
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	return n < 0 ? -EIO : n;
}

/* TLS wants a retry with the same bytes, which the flows give it. */
static ssize_t end_send(struct end *e, const char *buf, size_t len)
{
	ssize_t n;

	if (!e->tls) {
		n = send(e->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? -EAGAIN :
		       n < 0 ? -EIO : n;
	}
	n = gnutls_record_send(e->tls, buf, len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	return n < 0 ? -EIO : n;
}

/* Half-close: close_notify on TLS, FIN on plain. 1 when done. */
static int end_close_write(struct end *e)
{
	int rc;

	if (!e->tls) {
		shutdown(e->fd, SHUT_WR);
		return 1;
	}
	rc = gnutls_bye(e->tls, GNUTLS_SHUT_WR);
	return rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED ? 0 : 1;
}

static short end_events(struct end *e, short plain)
{
	if (!e->tls)
		return plain;
	return gnutls_record_get_direction(e->tls) ? POLLOUT : POLLIN;
}

struct flow {
	struct end *from, *to;
	char data[16384];
	size_t len, off;
	int eof;            /* from said all it will */
	int done;           /* and the end went on to the other side */
	uint64_t bytes;
	const char *from_name, *to_name;
};

/* Move what can move now on one flow. */
static int pump(struct flow *f, const char **end)
{
	int moved = WAIT;
	ssize_t n;

	if (!f->eof && f->len == 0) {
		n = end_recv(f->from, f->data, sizeof f->data);
		if (n > 0) {
			f->len = (size_t)n;
			f->off = 0;
			moved = MOVED;
		} else if (n == 0) {
			f->eof = 1;
			moved = MOVED;
		} else if (n != -EAGAIN) {
			*end = f->from_name;
			return STOP;
		}
	}
	if (f->off < f->len) {
		n = end_send(f->to, f->data + f->off, f->len - f->off);
		if (n > 0) {
			f->off += (size_t)n;
			f->bytes += (uint64_t)n;
			if (f->off == f->len)
				f->len = f->off = 0;
			moved = MOVED;
		} else if (n != -EAGAIN) {
			*end = f->to_name;
			return STOP;
		}
	}
	if (f->eof && f->len == 0 && !f->done && end_close_write(f->to)) {
		f->done = 1;
		moved = MOVED;
	}
	return moved;
}

/* Poll events for one end, from both flows that touch it. */
static short events(const struct flow *reading, const struct flow *writing)
{
	struct end *e = reading->from;
	short ev = 0;

	if (!reading->eof && reading->len == 0)
		ev |= POLLIN;
	if (writing->off < writing->len ||
	    (writing->eof && writing->len == 0 && !writing->done))
		ev |= end_events(e, POLLOUT);
	return ev;
}

/* Decrypted bytes may wait inside GnuTLS, where poll cannot see them. */
static int tls_pending(const struct flow *f)
{
	return f->from->tls && !f->eof && f->len == 0 &&
	       gnutls_record_check_pending(f->from->tls) > 0;
}

static const char *run(struct flow *up, struct flow *down, int64_t timeout)
{
	struct pollfd pfd[2] = { { .fd = up->from->fd }, { .fd = down->from->fd } };
	const char *end = NULL;
	int hangup = 0;

	for (;;) {
		int u = pump(up, &end), d = u == STOP ? STOP : pump(down, &end), n;

		if (u == STOP || d == STOP)
			return end;
		if (up->done && down->done)
			return "both sides closed";
		if (hangup && !u && !d)
			return "connection lost";
		if (u || d || tls_pending(up) || tls_pending(down))
			continue;
		pfd[0].events = events(up, down);
		pfd[1].events = events(down, up);
		n = poll(pfd, 2, timeout > 0 && timeout < INT32_MAX ? (int)timeout
		                                                    : -1);
		if (n == 0)
			return "idle timeout";
		if (n < 0 && errno != EINTR)
			return "poll error";
		hangup = n > 0 && ((pfd[0].revents | pfd[1].revents) &
		                   (POLLERR | POLLHUP));
	}
}

/* The same ends for the guarded relay (guard_relay.h). */
static ssize_t op_recv(struct relay_end *e, char *buf, size_t len)
{
	return end_recv(e->ctx, buf, len);
}

static ssize_t op_send(struct relay_end *e, const char *buf, size_t len)
{
	return end_send(e->ctx, buf, len);
}

static int op_close_write(struct relay_end *e)
{
	return end_close_write(e->ctx);
}

static short op_events(struct relay_end *e, short wanted)
{
	struct end *x = e->ctx;

	return x->tls && wanted ? end_events(x, wanted) : wanted;
}

static int op_pending(struct relay_end *e)
{
	struct end *x = e->ctx;

	return x->tls && gnutls_record_check_pending(x->tls) > 0;
}

static const struct relay_end_ops tls_end_ops = {
	.recv = op_recv,
	.send = op_send,
	.close_write = op_close_write,
	.events = op_events,
	.pending = op_pending,
};

/* The client's bytes go through the protocol's guard (SMTP), the rest as
 * in the plain guarded relay; what the client pipelined behind its login
 * is guarded first. */
static const char *guarded(struct session *s, struct end *c, struct end *b,
                           uint64_t moved[2])
{
	static char keep[1024 * 1024 + 1];
	struct relay_end client = { c->fd, c, &tls_end_ops };
	struct relay_end backend = { b->fd, b, &tls_end_ops };
	struct relay_counts counts;
	const char *why = NULL;
	size_t kept = 0;

	if (handoff_leftovers(s, keep, sizeof keep, &kept, &why) < 0)
		return why;
	credentials_clear(&s->cred);
	why = guard_relay_smtp(&client, &backend, keep, kept,
	                       s->conf->proxy_timeout_ms, &counts);
	explicit_bzero(keep, kept);
	moved[0] = counts.up;
	moved[1] = counts.down;
	return why;
}

void tls_relay(struct session *s, struct tls *client, struct tls *backend)
{
	/* 32 kB of buffers: not on the stack. */
	static struct flow up, down;
	static struct end c, b;
	const char *why = NULL;
	uint64_t moved[2] = { 0, 0 };
	struct crossing x;

	c = (struct end){ s->in.fd, client ? client->session : NULL };
	b = (struct end){ s->backend.fd, backend ? backend->session : NULL };
	if (s->proto->guard) {
		why = guarded(s, &c, &b, moved);
	} else if (handoff_leftovers(s, NULL, 0, NULL, &why) < 0) {
		logmsg(LOG_ERR, "event=relay_error reason=\"%s\"", LOGV(why));
		return;
	} else {
		up = (struct flow){ .from = &c, .to = &b,
		                    .from_name = "client read error",
		                    .to_name = "backend write error" };
		down = (struct flow){ .from = &b, .to = &c,
		                      .from_name = "backend read error",
		                      .to_name = "client write error" };
		credentials_clear(&s->cred);
		why = run(&up, &down, s->conf->proxy_timeout_ms);
		moved[0] = up.bytes;
		moved[1] = down.bytes;
	}
	session_crossing(s, &x);
	contract_log_close(&x, "relayed", why, moved);
}
