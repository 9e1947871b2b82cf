#include "tls_tickets.h"
#include "tls_path.h"
#include "tls_hello.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_NAME_SIZE 16
/* As many as GnuTLS sends by itself. */
#define TICKETS_SENT 2


static int load_one(unsigned char key[64], const char *path, char *why,
                    size_t size)
{
	gnutls_datum_t file;
	char buf[4096];
	int rc = gnutls_load_file(tls_expand_path(path, buf, sizeof buf), &file);

	if (rc < 0) {
		snprintf(why, size, "%s: %s", path, gnutls_strerror(rc));
		return -1;
	}
	if (file.size < 32) {
		snprintf(why, size, "%s: a ticket key needs at least 32 bytes", path);
		rc = -1;
	} else {
		rc = gnutls_hash_fast(GNUTLS_DIG_SHA512, file.data, file.size, key);
		if (rc < 0)
			snprintf(why, size, "%s: %s", path, gnutls_strerror(rc));
	}
	explicit_bzero(file.data, file.size);
	gnutls_free(file.data);
	return rc < 0 ? -1 : 0;
}

int tls_tickets_load(struct tls_tickets *tk, const struct server_conf *c,
                     char *why, size_t size)
{
	gnutls_datum_t k;

	memset(tk, 0, sizeof *tk);
	tk->chosen = -1;
	/* GnuTLS rotates its key every three ticket lifetimes. */
	tk->period = (long)(c->ssl_session_timeout_ms / 1000) * 3;
	for (size_t i = 0; i < c->ssl_nticket_keys; i++)
		if (load_one(tk->keys[i], c->ssl_session_ticket_key[i], why,
		             size) < 0)
			return -1;
	tk->nkeys = c->ssl_nticket_keys;
	if (tk->nkeys > 0)
		return 0;
	/* No file: a key of this process's own; nothing will resume. */
	if (gnutls_session_ticket_key_generate(&k) < 0) {
		snprintf(why, size, "cannot make a ticket key");
		return -1;
	}
	memcpy(tk->keys[0], k.data, 64);
	explicit_bzero(k.data, k.size);
	gnutls_free(k.data);
	tk->nkeys = 1;
	return 0;
}

/* The key names GnuTLS gives a key now: it derives the working key as
 * SHA3-512(period number || key) and still opens tickets of the previous
 * period; older GnuTLS used the key as given. Its first 16 bytes name it. */
static int names_match(const unsigned char key[64], long period,
                       const unsigned char *name)
{
	unsigned char in[8 + 64], out[64];
	unsigned long long t = period > 0 ? (unsigned long long)time(NULL) /
	                                    (unsigned long long)period : 0;

	if (memcmp(key, name, KEY_NAME_SIZE) == 0)
		return 1;
	for (int back = 0; back < 2 && t > (unsigned long long)back; back++) {
		unsigned long long n = t - (unsigned long long)back;

		for (int i = 0; i < 8; i++)
			in[i] = (unsigned char)(n >> (56 - 8 * i));
		memcpy(in + 8, key, 64);
		if (gnutls_hash_fast(GNUTLS_DIG_SHA3_512, in, sizeof in, out) == 0 &&
		    memcmp(out, name, KEY_NAME_SIZE) == 0) {
			explicit_bzero(in, sizeof in);
			return 1;
		}
	}
	explicit_bzero(in, sizeof in);
	return 0;
}

static int choose(struct tls_tickets *tk, const gnutls_datum_t *msg)
{
	const unsigned char *ticket;
	size_t len;

	if (tls_hello_ticket(msg->data, msg->size, &ticket, &len) < 0 ||
	    len < KEY_NAME_SIZE)
		return 0;
	for (size_t i = 0; i < tk->nkeys; i++)
		if (names_match(tk->keys[i], tk->period, ticket))
			return (int)i;
	return 0;
}

static int on_client_hello(struct tls_tickets *tk, gnutls_session_t session,
                           const gnutls_datum_t *msg)
{
	gnutls_datum_t key;

	/* A second ClientHello (after HelloRetryRequest) keeps the key. */
	if (tk->chosen >= 0)
		return 0;
	tk->chosen = choose(tk, msg);
	key.data = tk->keys[tk->chosen];
	key.size = 64;
	gnutls_session_ticket_enable_server(session, &key);
	return 0;
}

/* GnuTLS encrypts with the key it opened the ticket with, and cannot be
 * given another once it has used one. A TLS 1.2 ticket (sent only when
 * the client's ticket would not open) under any but the first key would
 * keep that key alive; the handshake stops instead. TLS 1.3 tickets are
 * sent by tls_tickets_issue, which knows better than to. */
static int on_hello(gnutls_session_t session, unsigned htype, unsigned when,
                    unsigned incoming, const gnutls_datum_t *msg)
{
	struct tls_tickets *tk = gnutls_session_get_ptr(session);

	(void)when;
	if (!tk)
		return 0;
	if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && incoming)
		return on_client_hello(tk, session, msg);
	if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && !incoming &&
	    tk->chosen != 0)
		return GNUTLS_E_INTERNAL_ERROR;
	return 0;
}

int tls_tickets_enable(struct tls_tickets *tk, gnutls_session_t session,
                       char *why, size_t size)
{
	gnutls_datum_t key = { tk->keys[0], 64 };
	int rc;

	gnutls_session_set_ptr(session, tk);
	gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_ANY,
	                                   GNUTLS_HOOK_PRE, on_hello);
	if (tk->nkeys > 1)
		return 0;
	tk->chosen = 0;
	rc = gnutls_session_ticket_enable_server(session, &key);
	if (rc < 0)
		snprintf(why, size, "tickets: %s", gnutls_strerror(rc));
	return rc < 0 ? -1 : 0;
}

int tls_tickets_issue(const struct tls_tickets *tk, gnutls_session_t session)
{
	if (tk->nkeys == 0 || tk->chosen != 0 ||
	    gnutls_protocol_get_version(session) != GNUTLS_TLS1_3)
		return 0;
	return gnutls_session_ticket_send(session, TICKETS_SENT, 0);
}

void tls_tickets_clear(struct tls_tickets *tk)
{
	explicit_bzero(tk, sizeof *tk);
}
