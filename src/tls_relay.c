#include "tls_relay.h"
#include "clock.h"
#include "handoff.h"
#include "log.h"
#include "session.h"
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

struct flow {
	char data[16384];
	size_t len, off;
	int eof;            /* the source said all it will */
	int done;           /* and the end went on to the other side */
	uint64_t bytes;
};

struct relay {
	struct session *s;
	struct tls *t;
	int backend;
	struct flow up, down;   /* client -> backend, backend -> client */
	const char *end;
};

static int retry(ssize_t n)
{
	return n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED;
}

/* Client to backend. 1 if something moved, 0 if not, -1 to stop. */
static int up(struct relay *r)
{
	struct flow *f = &r->up;
	int moved = 0;
	ssize_t n;

	if (!f->eof && f->len == 0) {
		n = gnutls_record_recv(r->t->session, f->data, sizeof f->data);
		if (n > 0) {
			f->len = (size_t)n;
			f->off = 0;
			moved = 1;
		} else if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
			f->eof = moved = 1;
		} else if (!retry(n)) {
			r->end = gnutls_strerror((int)n);
			return -1;
		}
	}
	if (f->off < f->len) {
		n = send(r->backend, f->data + f->off, f->len - f->off,
		         MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			f->off += (size_t)n;
			f->bytes += (uint64_t)n;
			if (f->off == f->len)
				f->len = f->off = 0;
			moved = 1;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r->end = "backend write error";
			return -1;
		}
	}
	if (f->eof && f->len == 0 && !f->done) {
		shutdown(r->backend, SHUT_WR);
		f->done = moved = 1;
	}
	return moved;
}

/* Backend to client. */
static int down(struct relay *r)
{
	struct flow *f = &r->down;
	int moved = 0;
	ssize_t n;

	if (!f->eof && f->len == 0) {
		n = recv(r->backend, f->data, sizeof f->data, MSG_DONTWAIT);
		if (n > 0) {
			f->len = (size_t)n;
			f->off = 0;
			moved = 1;
		} else if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			f->eof = moved = 1;
		} else if (errno != EAGAIN && errno != EINTR) {
			r->end = "backend read error";
			return -1;
		}
	}
	if (f->off < f->len) {
		/* GnuTLS wants a retry with the same bytes, which these are. */
		n = gnutls_record_send(r->t->session, f->data + f->off,
		                       f->len - f->off);
		if (n > 0) {
			f->off += (size_t)n;
			f->bytes += (uint64_t)n;
			if (f->off == f->len)
				f->len = f->off = 0;
			moved = 1;
		} else if (n < 0 && !retry(n)) {
			r->end = "client write error";
			return -1;
		}
	}
	if (f->eof && f->len == 0 && !f->done) {
		n = gnutls_bye(r->t->session, GNUTLS_SHUT_WR);
		if (n == 0 || !retry(n))
			f->done = moved = 1;
	}
	return moved;
}

static void wait_events(struct relay *r, struct pollfd pfd[2])
{
	int tls_busy = (r->down.off < r->down.len) ||
	               (r->down.eof && r->down.len == 0 && !r->down.done);

	pfd[0].events = pfd[1].events = 0;
	if (!r->up.eof && r->up.len == 0)
		pfd[0].events |= POLLIN;
	if (tls_busy)
		pfd[0].events |= gnutls_record_get_direction(r->t->session) ?
		                 POLLOUT : POLLIN;
	if (!r->down.eof && r->down.len == 0)
		pfd[1].events |= POLLIN;
	if (r->up.off < r->up.len)
		pfd[1].events |= POLLOUT;
}

static void run(struct relay *r)
{
	int64_t timeout = r->s->conf->proxy_timeout_ms;
	struct pollfd pfd[2] = { { .fd = r->t->fd }, { .fd = r->backend } };
	int hangup = 0;

	for (;;) {
		int u = up(r), d = u < 0 ? -1 : down(r), n;

		if (u < 0 || d < 0)
			return;
		if (r->up.done && r->down.done) {
			r->end = "both sides closed";
			return;
		}
		if (hangup && !u && !d) {
			r->end = "connection lost";
			return;
		}
		/* Decrypted bytes may wait inside GnuTLS: no poll for those. */
		if (u || d || (r->up.len == 0 && !r->up.eof &&
		               gnutls_record_check_pending(r->t->session) > 0))
			continue;
		wait_events(r, pfd);
		n = poll(pfd, 2, timeout > 0 && timeout < INT32_MAX ? (int)timeout
		                                                    : -1);
		if (n == 0) {
			r->end = "idle timeout";
			return;
		}
		if (n < 0 && errno != EINTR) {
			r->end = "poll error";
			return;
		}
		hangup = n > 0 && ((pfd[0].revents | pfd[1].revents) &
		                   (POLLERR | POLLHUP));
	}
}

static void log_close(const struct relay *r)
{
	const struct session *s = r->s;
	int64_t ms = clock_ms() - s->started_ms;

	logmsg(LOG_INFO,
	       "event=close client=%s user=\"%s\" backend=%s result=relayed "
	       "reason=\"%s\" bytes_in=%llu bytes_out=%llu relay_up=%llu "
	       "relay_down=%llu duration=%lld.%03lld",
	       s->client, s->user_shown, s->backend_name, r->end,
	       (unsigned long long)s->in.total,
	       (unsigned long long)(s->bytes_out + r->down.bytes),
	       (unsigned long long)r->up.bytes, (unsigned long long)r->down.bytes,
	       (long long)(ms / 1000), (long long)(ms % 1000));
}

void tls_relay(struct session *s, struct tls *t)
{
	static struct relay r;   /* 32 kB of buffers: not on the stack */
	const char *why = NULL;

	memset(&r, 0, sizeof r);
	r.s = s;
	r.t = t;
	r.backend = s->backend.fd;
	r.end = "?";
	if (handoff_flush_leftovers(s, &why) < 0) {
		logmsg(LOG_ERR, "event=relay_error reason=\"%s\"", why);
		return;
	}
	credentials_clear(&s->cred);
	run(&r);
	/* bytes_in counts TLS records' plaintext before login, plus the relay. */
	s->in.total += r.up.bytes;
	log_close(&r);
}
