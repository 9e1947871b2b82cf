#include "tls_relay.h"
#include "exec_contract.h"
#include "guard_relay.h"
#include "handoff.h"
#include "log.h"
#include "sandbox.h"
#include "session_state.h"
#include "tls.h"
#include "tls_keys.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

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

static const struct relay_end_ops gnutls_end_ops = {
	.recv = end_recv,
	.send = end_send,
	.close_write = end_close_write,
	.events = end_events,
	.pending = end_pending,
};

/* The names postern-tls-relay's record layer knows. */
static uint16_t version_of(gnutls_session_t g)
{
	switch (gnutls_protocol_get_version(g)) {
	case GNUTLS_TLS1_2:
		return TLS_VERSION_12;
	case GNUTLS_TLS1_3:
		return TLS_VERSION_13;
	default:
		return 0;
	}
}

static uint8_t cipher_of(gnutls_session_t g)
{
	switch (gnutls_cipher_get(g)) {
	case GNUTLS_CIPHER_AES_128_GCM:
		return TLS_REC_AES_128_GCM;
	case GNUTLS_CIPHER_AES_256_GCM:
		return TLS_REC_AES_256_GCM;
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		return TLS_REC_CHACHA20_POLY1305;
	default:
		return 0;
	}
}

/* One direction's key, IV (TLS 1.2 GCM: the 4-byte salt) and next
 * sequence number, sizes checked against what the cipher needs. The
 * datums are GnuTLS's own memory: nothing to free. */
static int direction(gnutls_session_t g, unsigned read, uint16_t version,
                     uint8_t cipher, struct tls_rec_keys *d, const char **why)
{
	gnutls_datum_t mac, iv, key;
	unsigned char seq[8];

	if (gnutls_record_get_state(g, read, &mac, &iv, &key, seq) < 0) {
		*why = "GnuTLS gave no record state";
		return -1;
	}
	if (key.size != tls_keys_key_len(cipher) ||
	    iv.size != tls_keys_iv_len(version, cipher)) {
		*why = "GnuTLS's key or IV is not of the cipher's size";
		return -1;
	}
	d->version = version;
	d->cipher = cipher;
	memcpy(d->key, key.data, key.size);
	memcpy(d->iv, iv.data, iv.size);
	d->seq = 0;
	for (int i = 0; i < 8; i++)
		d->seq = d->seq << 8 | seq[i];
	explicit_bzero(seq, sizeof seq);
	return 0;
}

/* A side's keys, if the record layer can take over from GnuTLS: a version
 * and cipher it knows, and nothing decrypted still waiting in GnuTLS. */
static int side_keys(struct tls *t, struct tls_side_keys *k, const char **why)
{
	gnutls_session_t g = t->session;
	uint16_t version = version_of(g);
	uint8_t cipher = cipher_of(g);
	size_t max = gnutls_record_get_max_size(g);

	if (!version || !cipher) {
		*why = !version ? "a TLS version other than 1.2 and 1.3"
		                : "a cipher other than AES-GCM and ChaCha20-Poly1305";
		return -1;
	}
	if (gnutls_record_check_pending(g) > 0) {
		*why = "GnuTLS holds bytes not yet relayed";
		return -1;
	}
	if (direction(g, 1, version, cipher, &k->rx, why) < 0 ||
	    direction(g, 0, version, cipher, &k->tx, why) < 0)
		return -1;
	/* A record_size_limit counts TLS 1.3's inner content type. */
	if (max < 16384 && version == TLS_VERSION_13)
		max--;
	if (max < TLS_KEYS_SEND_MIN) {
		*why = "records smaller than the record layer sends";
		return -1;
	}
	k->max_send = (uint16_t)(max < 16384 ? max : 16384);
	k->on = 1;
	return 0;
}

/* Every TLS side's keys, packed, on a pipe: its read end, or -1 with
 * *why (not worth it, or not possible: the relay stays here). */
static int key_pipe(struct tls *client, struct tls *backend, const char **why)
{
	struct tls_side_keys sides[2];
	uint8_t blob[TLS_KEYS_LEN];
	const char *w = NULL;
	int fd = -1;

	memset(sides, 0, sizeof sides);
	if (client && side_keys(client, &sides[0], &w) < 0)
		*why = "client";
	else if (backend && side_keys(backend, &sides[1], &w) < 0)
		*why = "backend";
	else {
		tls_keys_pack(sides, blob);
		fd = handoff_pipe(blob, sizeof blob, &w);
		explicit_bzero(blob, sizeof blob);
		*why = "pipe";
	}
	explicit_bzero(sides, sizeof sides);
	if (fd < 0)
		logmsg(LOG_INFO, "event=tls_handoff result=no side=%s "
		       "reason=\"%s\"", *why, LOGV(w));
	return fd;
}

/* GnuTLS's copies of the keys go as it frees the sessions (it wipes
 * them); the exec would drop them anyway. */
static void drop_gnutls(struct tls *t)
{
	if (t && t->session) {
		gnutls_deinit(t->session);
		t->session = NULL;
	}
}

/* Hand the records to tls_relay_program. Returns when the relay is to go
 * on here (0: nothing was touched) or the session is over (-1: the fds
 * are moved, GnuTLS is gone). */
static int handoff(struct session *s, struct tls *client, struct tls *backend,
                   const char *guard, const char *keep, size_t kept)
{
	const char *program = s->conf->tls_relay_program, *why = NULL;
	int keys, leftover = -1;
	struct crossing x;

	if (!program || !*program || access(program, X_OK) < 0) {
		logmsg(LOG_INFO, "event=tls_handoff result=no reason=\"%s: %s\"",
		       LOGV(program), strerror(errno));
		return 0;
	}
	keys = key_pipe(client, backend, &why);
	if (keys < 0)
		return 0;
	if (guard && (leftover = handoff_pipe(keep, kept, &why)) < 0) {
		logmsg(LOG_INFO, "event=tls_handoff result=no reason=\"%s\"",
		       LOGV(why));
		close(keys);
		return 0;
	}
	session_crossing(s, &x);
	x.guard = guard;
	logmsg(LOG_INFO, "event=tls_handoff result=ok program=%s client=%s "
	       "backend=%s", program, client ? "tls" : "plain",
	       backend ? "tls" : "plain");
	if (contract_place_fds_keys(s->in.fd, s->backend.fd, leftover, keys,
	                            s->inetd, &why) == 0) {
		drop_gnutls(client);
		drop_gnutls(backend);
		contract_exec(program, &x, &why);
	}
	logmsg(LOG_ERR, "event=relay_failed program=%s reason=\"%s\"",
	       program, LOGV(why));
	contract_log_close(&x, "error", why, NULL);
	return -1;
}

int tls_relay(struct session *s, struct tls *client, struct tls *backend)
{
	/* Leftovers up to a TLS record past the line buffer: not the stack. */
	static char keep[1024 * 1024 + 1];
	struct relay_end ce = { s->in.fd, client ? client->session : NULL,
	                        &gnutls_end_ops };
	struct relay_end be = { s->backend.fd, backend ? backend->session : NULL,
	                        &gnutls_end_ops };
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
		return EXIT_DONE;
	}
	credentials_clear(&s->cred);
	if (s->conf->ssl_handoff &&
	    handoff(s, client, backend, guard, keep, kept) < 0) {
		explicit_bzero(keep, kept);
		return EXIT_TEMPORARY;
	}
	/* Relaying here: what the handshakes and login allocated goes back
	 * to the system, so that an idle session holds only what it still
	 * uses (a hand-off's exec gives back all of it). */
	if (client)
		tls_handshake_over(client);
	if (backend)
		tls_handshake_over(backend);
	malloc_trim(0);
	if (sandbox_relay(&why) < 0)
		logmsg(LOG_WARNING, "event=sandbox_failed reason=\"%s\"", why);
	session_guard_settings(s, &set);
	why = guard_relay(guard, &set, &ce, &be, keep, kept,
	                  s->conf->proxy_timeout_ms > 0 ?
	                  s->conf->proxy_timeout_ms : -1, &counts);
	explicit_bzero(keep, kept);
	session_crossing(s, &x);
	contract_log_close(&x, "relayed", why,
	                   (const uint64_t[2]){ counts.up, counts.down });
	return EXIT_DONE;
}
