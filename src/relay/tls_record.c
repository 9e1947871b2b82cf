/* The TLS record layer (tls_record.h): the nonce and additional data each
 * version asks for, the AEAD (aes_gcm.c, chacha_poly.c or nettle), and
 * the content that may follow a hand-off. */
#include "tls_record.h"

#include <nettle/memops.h>
#include <stdio.h>
#include <string.h>

/* RFC 8446 4.6.1: a ticket<1..2^16-1>, a nonce<0..255>, extensions
 * <0..2^16-2> and 8 bytes of numbers; rounded up. */
#define NST_MAX (132 * 1024)
#define HS_NEW_SESSION_TICKET 4
#define HS_KEY_UPDATE 24

static int nettle_only;

void tls_rec_nettle_aead(int on)
{
	nettle_only = on;
}

static int tls13(const struct tls_rec *r)
{
	return r->version == TLS_VERSION_13;
}

/* TLS 1.2 GCM carries 8 bytes of its nonce in each record. */
static int explicit_nonce(const struct tls_rec *r)
{
	return !tls13(r) && r->cipher != TLS_REC_CHACHA20_POLY1305;
}

static void be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int tls_rec_init(struct tls_rec *r, const struct tls_rec_keys *k,
                 const char **why)
{
	memset(r, 0, sizeof *r);
	if (!tls_keys_iv_len(k->version, k->cipher)) {
		*why = "a TLS version or cipher the record layer does not take";
		return -1;
	}
	r->version = k->version;
	r->cipher = k->cipher;
	r->seq = k->seq;
	memcpy(r->iv, k->iv, sizeof r->iv);
	r->seal_left = tls13(r) && r->cipher != TLS_REC_CHACHA20_POLY1305 ?
	               TLS_REC_AES13_SEAL_MAX : UINT64_MAX;
	r->own_gcm = r->cipher != TLS_REC_CHACHA20_POLY1305 &&
	             !nettle_only && aes_gcm_supported();
	r->own_chacha = r->cipher == TLS_REC_CHACHA20_POLY1305 &&
	                !nettle_only && chacha_poly_supported();
	if (r->own_gcm) {
		aes_gcm_set_key(&r->c.gcm, k->key, tls_keys_key_len(r->cipher));
		return 0;
	}
	if (r->own_chacha) {
		chacha_poly_set_key(&r->c.chacha_poly, k->key);
		return 0;
	}
	switch (r->cipher) {
	case TLS_REC_AES_128_GCM:
		gcm_aes128_set_key(&r->c.aes128, k->key);
		break;
	case TLS_REC_AES_256_GCM:
		gcm_aes256_set_key(&r->c.aes256, k->key);
		break;
	default:
		chacha_poly1305_set_key(&r->c.chacha, k->key);
		break;
	}
	return 0;
}

void tls_rec_wipe(struct tls_rec *r)
{
	explicit_bzero(r, sizeof *r);
}

/* The record's nonce: the salt and the explicit part (1.2 GCM), or the IV
 * xored with the sequence number (1.3, 1.2 ChaCha20-Poly1305). */
static void nonce_of(const struct tls_rec *r, const uint8_t *explicit_part,
                     uint8_t nonce[TLS_IV_MAX])
{
	uint8_t seq[8];

	if (explicit_nonce(r)) {
		memcpy(nonce, r->iv, TLS_SALT_LEN);
		memcpy(nonce + TLS_SALT_LEN, explicit_part, 8);
		return;
	}
	be(seq, r->seq, 8);
	memcpy(nonce, r->iv, TLS_IV_MAX);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= seq[i];
}

static void aead_start(struct tls_rec *r, const uint8_t nonce[TLS_IV_MAX],
                       const uint8_t *aad, size_t aad_len)
{
	if (r->own_gcm) {
		aes_gcm_set_iv(&r->c.gcm, nonce);
		aes_gcm_update(&r->c.gcm, aad, aad_len);
		return;
	}
	if (r->own_chacha) {
		chacha_poly_set_nonce(&r->c.chacha_poly, nonce);
		chacha_poly_update(&r->c.chacha_poly, aad, aad_len);
		return;
	}
	switch (r->cipher) {
	case TLS_REC_AES_128_GCM:
		gcm_aes128_set_iv(&r->c.aes128, TLS_IV_MAX, nonce);
		gcm_aes128_update(&r->c.aes128, aad_len, aad);
		break;
	case TLS_REC_AES_256_GCM:
		gcm_aes256_set_iv(&r->c.aes256, TLS_IV_MAX, nonce);
		gcm_aes256_update(&r->c.aes256, aad_len, aad);
		break;
	default:
		chacha_poly1305_set_nonce(&r->c.chacha, nonce);
		chacha_poly1305_update(&r->c.chacha, aad_len, aad);
		break;
	}
}

/* In place (dst == src) or apart; every call but a message's last a
 * multiple of 64 bytes (ChaCha's block; GCM's is 16). */
static void aead_crypt(struct tls_rec *r, int seal, size_t len, uint8_t *dst,
                       const uint8_t *src)
{
	if (len == 0)
		return;
	if (r->own_gcm) {
		(seal ? aes_gcm_encrypt : aes_gcm_decrypt)(&r->c.gcm, dst, src,
		                                           len);
		return;
	}
	if (r->own_chacha) {
		(seal ? chacha_poly_encrypt : chacha_poly_decrypt)(
			&r->c.chacha_poly, dst, src, len);
		return;
	}
	switch (r->cipher) {
	case TLS_REC_AES_128_GCM:
		(seal ? gcm_aes128_encrypt : gcm_aes128_decrypt)(&r->c.aes128,
		                                                 len, dst, src);
		break;
	case TLS_REC_AES_256_GCM:
		(seal ? gcm_aes256_encrypt : gcm_aes256_decrypt)(&r->c.aes256,
		                                                 len, dst, src);
		break;
	default:
		(seal ? chacha_poly1305_encrypt : chacha_poly1305_decrypt)(
			&r->c.chacha, len, dst, src);
		break;
	}
}

static void aead_tag(struct tls_rec *r, uint8_t tag[TLS_REC_TAG])
{
	if (r->own_gcm) {
		aes_gcm_digest(&r->c.gcm, tag);
		return;
	}
	if (r->own_chacha) {
		chacha_poly_digest(&r->c.chacha_poly, tag);
		return;
	}
	switch (r->cipher) {
	case TLS_REC_AES_128_GCM:
		gcm_aes128_digest(&r->c.aes128, TLS_REC_TAG, tag);
		break;
	case TLS_REC_AES_256_GCM:
		gcm_aes256_digest(&r->c.aes256, TLS_REC_TAG, tag);
		break;
	default:
		chacha_poly1305_digest(&r->c.chacha, TLS_REC_TAG, tag);
		break;
	}
}

/* TLS 1.2's additional data: seq_num, type, version, plaintext length. */
static size_t aad12(const struct tls_rec *r, uint8_t type, size_t len,
                    uint8_t aad[13])
{
	be(aad, r->seq, 8);
	aad[8] = type;
	be(aad + 9, TLS_VERSION_12, 2);
	be(aad + 11, len, 2);
	return 13;
}

/* The sequence number just used is gone for good. */
static void advance(struct tls_rec *r)
{
	if (r->seq == UINT64_MAX)
		r->spent = 1;
	else
		r->seq++;
}

static void header(uint8_t *out, uint8_t type, size_t len)
{
	out[0] = type;
	be(out + 1, TLS_VERSION_12, 2); /* 1.3's legacy_record_version too */
	be(out + 3, len, 2);
}

/* in to body, encrypted on the way: the plaintext is never copied first.
 * Its last bytes (fewer than 64) and TLS 1.3's content type after them
 * are put in place and encrypted there. */
static void seal_body(struct tls_rec *r, const uint8_t *in, size_t len,
                      uint8_t *body, size_t body_len)
{
	size_t head = len & ~(size_t)63;

	aead_crypt(r, 1, head, body, in);
	memcpy(body + head, in + head, len - head);
	aead_crypt(r, 1, body_len - head, body + head, body + head);
}

size_t tls_rec_seal(struct tls_rec *r, uint8_t type, const uint8_t *in,
                    size_t len, uint8_t *out)
{
	uint8_t nonce[TLS_IV_MAX], aad[13], *body = out + TLS_REC_HEADER;
	size_t body_len, aad_len;

	if (r->spent || r->seal_left == 0 || len > TLS_REC_PLAIN_MAX)
		return 0;
	if (tls13(r)) {
		/* The inner plaintext: content, its real type, no padding. */
		body[len] = type;
		body_len = len + 1;
		header(out, TLS_CT_APPLICATION_DATA, body_len + TLS_REC_TAG);
		aad_len = TLS_REC_HEADER;
		memcpy(aad, out, aad_len);
	} else {
		if (explicit_nonce(r)) {
			/* The sequence number: unique per key, as GnuTLS does. */
			be(body, r->seq, TLS_REC_EXPLICIT_NONCE);
			body += TLS_REC_EXPLICIT_NONCE;
		}
		body_len = len;
		header(out, type, (size_t)(body - out - TLS_REC_HEADER) + len +
		       TLS_REC_TAG);
		aad_len = aad12(r, type, len, aad);
	}
	nonce_of(r, out + TLS_REC_HEADER, nonce);
	aead_start(r, nonce, aad, aad_len);
	seal_body(r, in, len, body, body_len);
	aead_tag(r, body + body_len);
	advance(r);
	r->seal_left--;
	return (size_t)(body + body_len + TLS_REC_TAG - out);
}

/* The session ends on this record: why, and the alert its sender gets. */
static enum tls_rec_result refuse(struct tls_rec *r, const char **why,
                                  const char *text, uint8_t alert)
{
	*why = text;
	r->alert = alert;
	return TLS_REC_BAD;
}

/* Header checks that need no key: the length against the protocol's limit
 * and the least a record of this cipher can be. */
static enum tls_rec_result check_header(struct tls_rec *r,
                                        const uint8_t *in, size_t *clen,
                                        const char **why)
{
	size_t least = TLS_REC_TAG + (tls13(r) ? 1 : 0) +
	               (explicit_nonce(r) ? TLS_REC_EXPLICIT_NONCE : 0);

	*clen = (size_t)in[3] << 8 | in[4];
	if (*clen > (tls13(r) ? TLS_REC_CIPHER_MAX_13 : TLS_REC_CIPHER_MAX_12)) {
		return refuse(r, why, "a record longer than the protocol allows",
		              TLS_ALERT_RECORD_OVERFLOW);
	}
	if (tls13(r) && in[0] != TLS_CT_APPLICATION_DATA) {
		return refuse(r, why, "a record in clear after the handshake",
		              TLS_ALERT_UNEXPECTED_MESSAGE);
	}
	if (!tls13(r) && (in[1] != 3 || in[2] != 3)) {
		return refuse(r, why, "a record of another TLS version",
		              TLS_ALERT_PROTOCOL_VERSION);
	}
	if (*clen < least) {
		/* It cannot be opened: as a tag that does not verify. */
		return refuse(r, why, "a record shorter than its cipher's overhead",
		              TLS_ALERT_BAD_RECORD_MAC);
	}
	return TLS_REC_OK;
}

/* TLS 1.3's inner plaintext: content, type, zeros. */
static enum tls_rec_result unpad(struct tls_rec *r, uint8_t *plain,
                                 size_t *len, uint8_t *type, const char **why)
{
	size_t n = *len;

	while (n > 0 && plain[n - 1] == 0)
		n--;
	if (n == 0)
		return refuse(r, why, "a record with no content type (all padding)",
		              TLS_ALERT_UNEXPECTED_MESSAGE);
	*type = plain[n - 1];
	*len = n - 1;
	return TLS_REC_OK;
}

enum tls_rec_result tls_rec_open(struct tls_rec *r, uint8_t *in, size_t len,
                                 size_t *used, uint8_t *type,
                                 uint8_t **plain, size_t *plain_len,
                                 const char **why)
{
	uint8_t nonce[TLS_IV_MAX], aad[13], tag[TLS_REC_TAG], *body;
	size_t clen, body_len, aad_len;

	if (len < TLS_REC_HEADER)
		return TLS_REC_MORE;
	if (check_header(r, in, &clen, why) != TLS_REC_OK)
		return TLS_REC_BAD;
	if (len < TLS_REC_HEADER + clen)
		return TLS_REC_MORE;
	if (r->spent) {
		return refuse(r, why, "the sequence numbers are used up",
		              TLS_ALERT_INTERNAL_ERROR);
	}
	body = in + TLS_REC_HEADER;
	body_len = clen - TLS_REC_TAG;
	*type = in[0];
	if (explicit_nonce(r)) {
		body += TLS_REC_EXPLICIT_NONCE;
		body_len -= TLS_REC_EXPLICIT_NONCE;
	}
	/* 2^14 of content, and in 1.3 its type: RFC 8446 5.4's limit. */
	if (body_len > TLS_REC_PLAIN_MAX + (tls13(r) ? 1 : 0)) {
		return refuse(r, why, "a record whose plaintext is over 2^14 bytes",
		              TLS_ALERT_RECORD_OVERFLOW);
	}
	if (tls13(r)) {
		aad_len = TLS_REC_HEADER;
		memcpy(aad, in, aad_len);
	} else {
		aad_len = aad12(r, in[0], body_len, aad);
	}
	nonce_of(r, in + TLS_REC_HEADER, nonce);
	aead_start(r, nonce, aad, aad_len);
	aead_crypt(r, 0, body_len, body, body);
	aead_tag(r, tag);
	if (!memeql_sec(tag, body + body_len, TLS_REC_TAG)) {
		explicit_bzero(body, body_len);
		return refuse(r, why, "a record whose tag does not verify",
		              TLS_ALERT_BAD_RECORD_MAC);
	}
	advance(r);
	*used = TLS_REC_HEADER + clen;
	*plain = body;
	*plain_len = body_len;
	return tls13(r) ? unpad(r, body, plain_len, type, why) : TLS_REC_OK;
}

void tls_in_init(struct tls_inbound *s, uint16_t version, int tickets_ok)
{
	memset(s, 0, sizeof *s);
	s->version = version;
	s->tickets_ok = tickets_ok && version == TLS_VERSION_13;
}

static int in_handshake_message(const struct tls_inbound *s)
{
	return s->hs_have > 0 || s->hs_left > 0;
}

/* The session ends: why, and the alert the peer gets for it. */
static enum tls_in_result bad(struct tls_inbound *s, const char **why,
                              const char *text, uint8_t alert)
{
	*why = text;
	s->alert = alert;
	return TLS_IN_BAD;
}

/* A reason with a number in it, kept in s. */
static enum tls_in_result bad_n(struct tls_inbound *s, const char **why,
                                const char *what, unsigned n, uint8_t alert)
{
	snprintf(s->why, sizeof s->why, "%s %u", what, n);
	return bad(s, why, s->why, alert);
}

/* One handshake message's header is whole: what may follow. */
static enum tls_in_result message(struct tls_inbound *s, const char **why)
{
	uint8_t t = s->hs_header[0];
	uint32_t len = (uint32_t)s->hs_header[1] << 16 |
	               (uint32_t)s->hs_header[2] << 8 | s->hs_header[3];

	s->hs_have = 0;
	if (t == HS_KEY_UPDATE)
		/* A valid message this relay cannot follow: its failing. */
		return bad(s, why, "the peer updated its keys (KeyUpdate)",
		           TLS_ALERT_INTERNAL_ERROR);
	if (t != HS_NEW_SESSION_TICKET || !s->tickets_ok)
		return bad_n(s, why, "after the hand-off, handshake message", t,
		             TLS_ALERT_UNEXPECTED_MESSAGE);
	if (len > NST_MAX)
		return bad_n(s, why, "a NewSessionTicket over 132 KiB:", len,
		             TLS_ALERT_DECODE_ERROR);
	s->hs_left = len;
	return TLS_IN_NONE;
}

/* Handshake messages by their framing (type, 24-bit length), across
 * records; tickets' bodies are skipped, never kept. */
static enum tls_in_result handshake(struct tls_inbound *s, const uint8_t *p,
                                    size_t n, const char **why)
{
	if (n == 0)
		return bad(s, why, "an empty handshake record",
		           TLS_ALERT_UNEXPECTED_MESSAGE);
	if (s->version != TLS_VERSION_13)
		return bad(s, why, "a handshake message after the hand-off "
		           "(renegotiation)", TLS_ALERT_UNEXPECTED_MESSAGE);
	while (n > 0) {
		if (s->hs_left > 0) {
			size_t k = n < s->hs_left ? n : s->hs_left;

			p += k;
			n -= k;
			s->hs_left -= (uint32_t)k;
			continue;
		}
		s->hs_header[s->hs_have++] = *p++;
		n--;
		if (s->hs_have == sizeof s->hs_header &&
		    message(s, why) == TLS_IN_BAD)
			return TLS_IN_BAD;
	}
	return TLS_IN_NONE;
}

static enum tls_in_result alert(struct tls_inbound *s, const uint8_t *p,
                                size_t n, const char **why)
{
	if (n != 2)
		return bad_n(s, why, "an alert record of length", (unsigned)n,
		             TLS_ALERT_DECODE_ERROR);
	if (p[1] == 0)
		return TLS_IN_EOF;
	return bad_n(s, why, "alert from the peer:", p[1], TLS_ALERT_NONE);
}

enum tls_in_result tls_in_content(struct tls_inbound *s, uint8_t type,
                                  const uint8_t *p, size_t n,
                                  const char **why)
{
	/* RFC 8446 5.1: a message split over records has nothing between. */
	if (type != TLS_CT_HANDSHAKE && in_handshake_message(s))
		return bad_n(s, why, "inside a handshake message, record type",
		             type, TLS_ALERT_UNEXPECTED_MESSAGE);
	switch (type) {
	case TLS_CT_APPLICATION_DATA:
		return TLS_IN_DATA;
	case TLS_CT_ALERT:
		return alert(s, p, n, why);
	case TLS_CT_HANDSHAKE:
		return handshake(s, p, n, why);
	}
	return bad_n(s, why, "after the hand-off, record type", type,
	             TLS_ALERT_UNEXPECTED_MESSAGE);
}
