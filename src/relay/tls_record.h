/* The TLS record layer after the handshake, for postern-tls-relay: one
 * direction's records sealed or opened with the keys GnuTLS negotiated
 * (tls_keys.h), and what a peer may still send besides application data.
 * AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, TLS 1.2 (RFC 5288, RFC
 * 7905) and TLS 1.3 (RFC 8446 5.2-5.3). AES-GCM is aes_gcm.c's where
 * the CPU has AES-NI and PCLMULQDQ, ChaCha20-Poly1305 chacha_poly.c's
 * where it has AVX2; else each is nettle's.
 *
 * Pure: bytes in, bytes out, no I/O, no allocation, every limit explicit.
 * A record over the protocol's length, a tag that does not verify, a
 * content type that has no business here: the caller is told why and ends
 * the session. A sequence number is never used twice: a direction that
 * has used its last one is spent. */
#ifndef POSTERN_TLS_RECORD_H
#define POSTERN_TLS_RECORD_H

#include "aes_gcm.h"
#include "chacha_poly.h"
#include "tls_keys.h"

#include <nettle/chacha-poly1305.h>
#include <nettle/gcm.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_CT_CHANGE_CIPHER_SPEC 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPLICATION_DATA 23

/* The fatal alert a peer is sent when what it sent ends the session
 * (RFC 8446 6.2, RFC 5246 7.2.2); none when it sent an alert itself. */
#define TLS_ALERT_UNEXPECTED_MESSAGE 10
#define TLS_ALERT_BAD_RECORD_MAC 20
#define TLS_ALERT_RECORD_OVERFLOW 22
#define TLS_ALERT_DECODE_ERROR 50
#define TLS_ALERT_PROTOCOL_VERSION 70
#define TLS_ALERT_INTERNAL_ERROR 80
#define TLS_ALERT_NONE 255

#define TLS_REC_HEADER 5
#define TLS_REC_PLAIN_MAX 16384
#define TLS_REC_TAG 16
#define TLS_REC_EXPLICIT_NONCE 8        /* TLS 1.2 GCM */
/* The longest ciphertext a peer may send (RFC 5246 6.2.3, RFC 8446 5.2). */
#define TLS_REC_CIPHER_MAX_12 (TLS_REC_PLAIN_MAX + 2048)
#define TLS_REC_CIPHER_MAX_13 (TLS_REC_PLAIN_MAX + 256)
/* Room for the longest record a peer may send, header included. */
#define TLS_REC_IN_MAX (TLS_REC_HEADER + TLS_REC_CIPHER_MAX_12)
/* The longest record this layer writes: header, explicit nonce (1.2 GCM),
 * at most 2^14 bytes, the inner content type (1.3), the tag. */
#define TLS_REC_OUT_MAX (TLS_REC_HEADER + TLS_REC_EXPLICIT_NONCE + \
	                 TLS_REC_PLAIN_MAX + 1 + TLS_REC_TAG)
/* TLS 1.3's AES-GCM keys may seal about 2^24.5 full records in safety
 * (RFC 8446 5.5); a key update would renew them, and this layer makes
 * none: the session ends first. */
#define TLS_REC_AES13_SEAL_MAX (UINT64_C(1) << 24)

struct tls_rec {
	uint16_t version;
	uint8_t cipher;
	uint8_t iv[TLS_IV_MAX];
	uint64_t seq;           /* the next record's */
	uint64_t seal_left;     /* records this key may still seal */
	int spent;              /* the last sequence number is used */
	int own_gcm;            /* AES-GCM by aes_gcm.c, not nettle */
	int own_chacha;         /* ChaCha20-Poly1305 by chacha_poly.c */
	uint8_t alert;          /* after TLS_REC_BAD: the peer's TLS_ALERT_* */
	union {
		struct aes_gcm gcm;
		struct chacha_poly chacha_poly;
		struct gcm_aes128_ctx aes128;
		struct gcm_aes256_ctx aes256;
		struct chacha_poly1305_ctx chacha;
	} c;
};

/* The direction's keys, taken; the caller wipes its copy. 0, or -1 with
 * *why for a version or cipher this layer does not take. */
int tls_rec_init(struct tls_rec *r, const struct tls_rec_keys *k,
                 const char **why);
void tls_rec_wipe(struct tls_rec *r);

/* For tests and measurements: on, the directions set up after it take
 * nettle's AEADs even where aes_gcm.c or chacha_poly.c could run. */
void tls_rec_nettle_aead(int on);

/* len bytes (at most TLS_REC_PLAIN_MAX) of content type as one record in
 * out (TLS_REC_OUT_MAX bytes of room), encrypted from in to out without a
 * copy first: in must not overlap out. Returns the record's length, or 0
 * when the direction is spent. */
size_t tls_rec_seal(struct tls_rec *r, uint8_t type, const uint8_t *in,
                    size_t len, uint8_t *out);

enum tls_rec_result {
	TLS_REC_MORE,   /* the record at in is not whole yet */
	TLS_REC_OK,     /* opened */
	TLS_REC_BAD,    /* the session must end: *why, and r->alert */
};

/* The record at the start of in (len bytes there), opened in place: its
 * content type, and its plaintext, which lies within in. *used: the
 * record's whole length. A header whose length is over the limit is BAD
 * at once, before the rest of it has come. */
enum tls_rec_result tls_rec_open(struct tls_rec *r, uint8_t *in, size_t len,
                                 size_t *used, uint8_t *type,
                                 uint8_t **plain, size_t *plain_len,
                                 const char **why);

/* What a peer sends after the hand-off, past the record layer: application
 * data; close_notify, the end of its stream; from a TLS 1.3 server (our
 * backend), NewSessionTickets, which are read by their framing (split over
 * records or several in one) and dropped. Anything else ends the session:
 * another alert, a KeyUpdate (this relay cannot follow new keys), any
 * other handshake message (TLS 1.2 renegotiation), another record type. */
struct tls_inbound {
	uint16_t version;
	int tickets_ok;            /* the peer is a TLS 1.3 server */
	unsigned hs_have;          /* handshake header bytes read, 0-4 */
	uint8_t hs_header[4];
	uint32_t hs_left;          /* the message body still to skip */
	char why[64];              /* a reason with a number in it */
	uint8_t alert;             /* after TLS_IN_BAD: the peer's TLS_ALERT_* */
};

enum tls_in_result {
	TLS_IN_DATA,     /* application data: deliver it */
	TLS_IN_NONE,     /* taken, nothing to deliver */
	TLS_IN_EOF,      /* close_notify */
	TLS_IN_BAD,      /* end the session: *why, and s->alert */
};

void tls_in_init(struct tls_inbound *s, uint16_t version, int tickets_ok);
enum tls_in_result tls_in_content(struct tls_inbound *s, uint8_t type,
                                  const uint8_t *p, size_t n,
                                  const char **why);

#endif
