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

/* The relay's ends (guard_relay.h) over a socket with TLS on it or not:
 * ctx is the GnuTLS session, NULL for plain. */
static gnutls_session_t tls_of(struct relay_end *e)
{
	return e->ctx;
}

static ssize_t end_recv(struct relay_end *e, char *buf, size_t len)
{
	ssize_t n;

	if (!tls_of(e))
		return relay_plain_ops.recv(e, buf, len);
	n = gnutls_record_recv(tls_of(e), buf, len);
	if (n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0; /* a close without close_notify is still a close */
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	return n < 0 ? -EIO : n;
}

/* TLS wants a retry with the same bytes, which the relay's output keeps. */
static ssize_t end_send(struct relay_end *e, const char *buf, size_t len)
{
	ssize_t n;

	if (!tls_of(e))
		return relay_plain_ops.send(e, buf, len);
	n = gnutls_record_send(tls_of(e), buf, len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	return n < 0 ? -EIO : n;
}

/* Half-close: close_notify on TLS, FIN on plain. 1 when done. */
static int end_close_write(struct relay_end *e)
{
	int rc;

	if (!tls_of(e))
		return relay_plain_ops.close_write(e);
	rc = gnutls_bye(tls_of(e), GNUTLS_SHUT_WR);
	return rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED ? 0 : 1;
}

/* A TLS write that had to wait may wait to read (and the other way). */
static short end_events(struct relay_end *e, short wanted)
{
	if (!tls_of(e) || !(wanted & POLLOUT))
		return wanted;
	return (short)((wanted & ~POLLOUT) |
	               (gnutls_record_get_direction(tls_of(e)) ? POLLOUT
	                                                        : POLLIN));
}

/* Decrypted bytes may wait inside GnuTLS, where poll cannot see them. */
static int end_pending(struct relay_end *e)
{
	return tls_of(e) && gnutls_record_check_pending(tls_of(e)) > 0;
}

static const struct relay_end_ops tls_end_ops = {
	.recv = end_recv,
	.send = end_send,
	.close_write = end_close_write,
	.events = end_events,
	.pending = end_pending,
};

void tls_relay(struct session *s, struct tls *client, struct tls *backend)
{
	/* Leftovers up to a TLS record past the line buffer: not the stack. */
	static char keep[1024 * 1024 + 1];
	struct relay_end ce = { s->in.fd, client ? client->session : NULL,
	                        &tls_end_ops };
	struct relay_end be = { s->backend.fd, backend ? backend->session : NULL,
	                        &tls_end_ops };
	struct relay_counts counts = { 0, 0, 0 };
	const char *why = NULL;
	size_t kept = 0;
	struct crossing x;

	/* A guard reads what the client pipelined behind its login first;
	 * otherwise it goes to the backend now. */
	const char *guard = session_guard(s);
	struct guard_settings set;

	if (handoff_leftovers(s, guard ? keep : NULL, sizeof keep,
	                      &kept, &why) < 0) {
		logmsg(LOG_ERR, "event=relay_error reason=\"%s\"", LOGV(why));
		return;
	}
	credentials_clear(&s->cred);
	session_guard_settings(s, &set);
	why = guard_relay(guard, &set, &ce, &be, keep, kept,
	                  s->conf->proxy_timeout_ms > 0 ?
	                  s->conf->proxy_timeout_ms : -1, &counts);
	explicit_bzero(keep, kept);
	session_crossing(s, &x);
	contract_log_close(&x, "relayed", why,
	                   (const uint64_t[2]){ counts.up, counts.down });
}
