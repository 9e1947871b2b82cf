/* The hand-off's byte layout (tls_keys.h): written by postern-tls, read
 * by postern-tls-relay. Every field is checked on the way in; the reader
 * trusts nothing but the length of what it read. */
#include "tls_keys.h"

#include <string.h>

static const uint8_t magic[4] = { 'P', 'T', 'K', '1' };

size_t tls_keys_key_len(uint8_t cipher)
{
	switch (cipher) {
	case TLS_REC_AES_128_GCM:
		return 16;
	case TLS_REC_AES_256_GCM:
	case TLS_REC_CHACHA20_POLY1305:
		return 32;
	}
	return 0;
}

size_t tls_keys_iv_len(uint16_t version, uint8_t cipher)
{
	if (!tls_keys_key_len(cipher))
		return 0;
	if (version == TLS_VERSION_13)
		return TLS_IV_MAX;
	if (version != TLS_VERSION_12)
		return 0;
	return cipher == TLS_REC_CHACHA20_POLY1305 ? TLS_IV_MAX : TLS_SALT_LEN;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + n;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t *put_dir(uint8_t *p, const struct tls_rec_keys *k)
{
	p = put_be(p, k->version, 2);
	*p++ = k->cipher;
	memcpy(p, k->key, TLS_KEY_MAX);
	p += TLS_KEY_MAX;
	memcpy(p, k->iv, TLS_IV_MAX);
	p += TLS_IV_MAX;
	return put_be(p, k->seq, 8);
}

void tls_keys_pack(const struct tls_side_keys sides[2],
                   uint8_t out[TLS_KEYS_LEN])
{
	uint8_t *p = out;

	memcpy(p, magic, sizeof magic);
	p += sizeof magic;
	for (int i = 0; i < 2; i++) {
		*p++ = sides[i].on ? 1 : 0;
		p = put_be(p, sides[i].max_send, 2);
		p = put_dir(p, &sides[i].rx);
		p = put_dir(p, &sides[i].tx);
	}
}

static const uint8_t *get_dir(const uint8_t *p, struct tls_rec_keys *k)
{
	k->version = (uint16_t)get_be(p, 2);
	k->cipher = p[2];
	p += 3;
	memcpy(k->key, p, TLS_KEY_MAX);
	p += TLS_KEY_MAX;
	memcpy(k->iv, p, TLS_IV_MAX);
	p += TLS_IV_MAX;
	k->seq = get_be(p, 8);
	return p + 8;
}

/* A side with TLS: both directions of one version and cipher the record
 * layer takes, and a record size a peer may set (RFC 8449's least: 64). */
static int side_ok(const struct tls_side_keys *s)
{
	if (!s->on)
		return 1;
	return s->rx.version == s->tx.version && s->rx.cipher == s->tx.cipher &&
	       tls_keys_iv_len(s->rx.version, s->rx.cipher) != 0 &&
	       s->max_send >= TLS_KEYS_SEND_MIN && s->max_send <= 16384;
}

int tls_keys_unpack(struct tls_side_keys sides[2], const uint8_t *in,
                    size_t len, const char **why)
{
	const uint8_t *p = in + sizeof magic;

	memset(sides, 0, 2 * sizeof *sides);
	if (len != TLS_KEYS_LEN || memcmp(in, magic, sizeof magic) != 0) {
		*why = "the key hand-off is not one this program reads";
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (p[0] > 1) {
			*why = "the key hand-off is malformed";
			return -1;
		}
		sides[i].on = p[0];
		sides[i].max_send = (uint16_t)get_be(p + 1, 2);
		p = get_dir(p + 3, &sides[i].rx);
		p = get_dir(p, &sides[i].tx);
		if (!side_ok(&sides[i])) {
			*why = "the key hand-off names a version or cipher "
			       "this program does not take";
			return -1;
		}
	}
	if (!sides[0].on && !sides[1].on) {
		*why = "the key hand-off has TLS on neither side";
		return -1;
	}
	return 0;
}
