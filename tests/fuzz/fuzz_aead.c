/* The record layer's own AEADs against nettle's (the oracle), on messages
 * the input chooses; any difference aborts: aes_gcm.c against
 * gcm_aes128/256, chacha_poly.c against chacha_poly1305.
 *
 * The input: a control byte (bit 0 AES-256, bits 1-2 seal and open in
 * place, bits 3-4 the number of pieces a message goes in, bit 5 stretch
 * the text, bit 6 AES-GCM's 128-bit path where the wide one could run,
 * bit 7 ChaCha20-Poly1305 in place of AES-GCM), two bytes of length for
 * a stretched text (up to 17000, the input's text repeated, each copy
 * xored with its number), the key (32 bytes, the first 16 for AES-128),
 * the nonce (12), the additional data's length (1 byte) and bytes, then
 * the text. What the input lacks is zeros. A piece but the last is a
 * multiple of the AEAD's block: 16 bytes for GCM, 64 for ChaCha20.
 *
 * For each: sealed by both, the same ciphertext and tag; ours opens
 * nettle's to the text and the tag; the text taken as a ciphertext opens
 * the same with both; and a bit changed in the ciphertext or the
 * additional data (where the input's last byte says) changes the tag. */
#include "aes_gcm.h"
#include "chacha_poly.h"
#include "fuzz.h"

#include <nettle/chacha-poly1305.h>
#include <nettle/gcm.h>
#include <string.h>

#define TEXT_MAX 17000
#define HEAD (1 + 2 + 32 + 12 + 1)

struct message {
	int aes256, seal_in_place, open_in_place, pieces, narrow, chacha;
	uint8_t key[32], iv[12], aad[255];
	size_t aad_len, len;
};

static uint8_t text[TEXT_MAX], ours[TEXT_MAX], theirs[TEXT_MAX],
	opened[TEXT_MAX];

/* Bytes from the input, zeros past its end. */
static size_t take(uint8_t *dst, size_t n, const uint8_t **p,
                   const uint8_t *end)
{
	size_t have = (size_t)(end - *p) < n ? (size_t)(end - *p) : n;

	memcpy(dst, *p, have);
	memset(dst + have, 0, n - have);
	*p += have;
	return have;
}

static void parse(struct message *m, const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	uint8_t head[3], n;
	size_t given, want;

	take(head, 3, &p, end);
	m->aes256 = head[0] & 1;
	m->seal_in_place = head[0] >> 1 & 1;
	m->open_in_place = head[0] >> 2 & 1;
	m->pieces = 1 + (head[0] >> 3 & 3);
	m->narrow = head[0] >> 6 & 1;
	m->chacha = head[0] >> 7 & 1;
	take(m->key, sizeof m->key, &p, end);
	take(m->iv, sizeof m->iv, &p, end);
	take(&n, 1, &p, end);
	m->aad_len = take(m->aad, n, &p, end);
	given = take(text, (size_t)(end - p) < TEXT_MAX ? (size_t)(end - p)
	                                                : TEXT_MAX, &p, end);
	want = ((size_t)head[1] << 8 | head[2]) % (TEXT_MAX + 1);
	m->len = given;
	if (!(head[0] & 0x20) || given == 0 || want <= given)
		return;
	for (size_t i = given; i < want; i++)
		text[i] = (uint8_t)(text[i % given] ^ (i / given));
	m->len = want;
}

static void nettle_gcm(const struct message *m, int seal, uint8_t *dst,
                       const uint8_t *src, uint8_t tag[16])
{
	static struct gcm_aes128_ctx c128;
	static struct gcm_aes256_ctx c256;
	static struct chacha_poly1305_ctx cc;

	if (m->chacha) {
		chacha_poly1305_set_key(&cc, m->key);
		chacha_poly1305_set_nonce(&cc, m->iv);
		chacha_poly1305_update(&cc, m->aad_len, m->aad);
		(seal ? chacha_poly1305_encrypt : chacha_poly1305_decrypt)(
			&cc, m->len, dst, src);
		chacha_poly1305_digest(&cc, 16, tag);
	} else if (m->aes256) {
		gcm_aes256_set_key(&c256, m->key);
		gcm_aes256_set_iv(&c256, sizeof m->iv, m->iv);
		gcm_aes256_update(&c256, m->aad_len, m->aad);
		(seal ? gcm_aes256_encrypt : gcm_aes256_decrypt)(&c256, m->len,
		                                                 dst, src);
		gcm_aes256_digest(&c256, 16, tag);
	} else {
		gcm_aes128_set_key(&c128, m->key);
		gcm_aes128_set_iv(&c128, sizeof m->iv, m->iv);
		gcm_aes128_update(&c128, m->aad_len, m->aad);
		(seal ? gcm_aes128_encrypt : gcm_aes128_decrypt)(&c128, m->len,
		                                                 dst, src);
		gcm_aes128_digest(&c128, 16, tag);
	}
}

/* The calls ours takes, for either AEAD. */
struct own_ops {
	void (*set_key)(void *, const uint8_t *, const struct message *);
	void (*set_iv)(void *, const uint8_t *);
	void (*update)(void *, const uint8_t *, size_t);
	void (*crypt[2])(void *, uint8_t *, const uint8_t *, size_t);
	void (*digest)(void *, uint8_t *);
	size_t block;           /* what a piece but the last is a multiple of */
};

static void ag_key(void *g, const uint8_t *key, const struct message *m)
{
	aes_gcm_narrow_only(m->narrow);
	aes_gcm_set_key(g, key, m->aes256 ? 32 : 16);
}

static void ag_iv(void *g, const uint8_t *iv)
{
	aes_gcm_set_iv(g, iv);
}

static void ag_update(void *g, const uint8_t *p, size_t n)
{
	aes_gcm_update(g, p, n);
}

static void ag_open(void *g, uint8_t *d, const uint8_t *s, size_t n)
{
	aes_gcm_decrypt(g, d, s, n);
}

static void ag_seal(void *g, uint8_t *d, const uint8_t *s, size_t n)
{
	aes_gcm_encrypt(g, d, s, n);
}

static void ag_digest(void *g, uint8_t *tag)
{
	aes_gcm_digest(g, tag);
}

static void cc_key(void *c, const uint8_t *key, const struct message *m)
{
	(void)m;
	chacha_poly_set_key(c, key);
}

static void cc_iv(void *c, const uint8_t *iv)
{
	chacha_poly_set_nonce(c, iv);
}

static void cc_update(void *c, const uint8_t *p, size_t n)
{
	chacha_poly_update(c, p, n);
}

static void cc_open(void *c, uint8_t *d, const uint8_t *s, size_t n)
{
	chacha_poly_decrypt(c, d, s, n);
}

static void cc_seal(void *c, uint8_t *d, const uint8_t *s, size_t n)
{
	chacha_poly_encrypt(c, d, s, n);
}

static void cc_digest(void *c, uint8_t *tag)
{
	chacha_poly_digest(c, tag);
}

static const struct own_ops ag_ops = {
	ag_key, ag_iv, ag_update, { ag_open, ag_seal }, ag_digest, 16
};
static const struct own_ops chacha_ops = {
	cc_key, cc_iv, cc_update, { cc_open, cc_seal }, cc_digest, 64
};

/* Ours, the additional data and the text each in m->pieces calls (all but
 * the last a multiple of the AEAD's block; their sizes from the key's
 * bytes). */
static void own_aead(const struct message *m, int seal, uint8_t *dst,
                     const uint8_t *src, size_t len, uint8_t tag[16])
{
	static union {
		struct aes_gcm gcm;
		struct chacha_poly chacha;
	} ctx;
	const struct own_ops *o = m->chacha ? &chacha_ops : &ag_ops;
	size_t done = 0, bs = o->block;
	int k = 0;

	o->set_key(&ctx, m->key, m);
	o->set_iv(&ctx, m->iv);
	for (int i = 1; i < m->pieces && m->aad_len - done >= bs; i++) {
		size_t n = bs * (1 + m->key[k++] % ((m->aad_len - done) / bs));

		o->update(&ctx, m->aad + done, n);
		done += n;
	}
	o->update(&ctx, m->aad + done, m->aad_len - done);
	done = 0;
	for (int i = 1; i < m->pieces && len - done >= bs; i++) {
		size_t n = bs * (1 + ((size_t)m->key[k] << 8 | m->key[k + 1]) %
		                 ((len - done) / bs));

		k += 2;
		o->crypt[seal](&ctx, dst + done, src + done, n);
		done += n;
	}
	o->crypt[seal](&ctx, dst + done, src + done, len - done);
	o->digest(&ctx, tag);
	explicit_bzero(&ctx, sizeof ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct message m;
	uint8_t want[16], tag[16], flip;
	size_t at;

	parse(&m, data, size);
	if (m.chacha ? !chacha_poly_supported() : !aes_gcm_supported())
		return 0;
	nettle_gcm(&m, 1, theirs, text, want);

	/* Sealed the same. */
	if (m.seal_in_place)
		memcpy(ours, text, m.len);
	own_aead(&m, 1, ours, m.seal_in_place ? ours : text, m.len, tag);
	FUZZ_ASSERT(memcmp(ours, theirs, m.len) == 0);
	FUZZ_ASSERT(memcmp(tag, want, 16) == 0);

	/* nettle's ciphertext opens to the text, with its tag. */
	if (m.open_in_place)
		memcpy(opened, theirs, m.len);
	own_aead(&m, 0, opened, m.open_in_place ? opened : theirs, m.len, tag);
	FUZZ_ASSERT(memcmp(opened, text, m.len) == 0);
	FUZZ_ASSERT(memcmp(tag, want, 16) == 0);

	/* The text as a ciphertext: the same plaintext and tag from both. */
	nettle_gcm(&m, 0, theirs, text, want);
	own_aead(&m, 0, ours, text, m.len, tag);
	FUZZ_ASSERT(memcmp(ours, theirs, m.len) == 0);
	FUZZ_ASSERT(memcmp(tag, want, 16) == 0);

	/* One bit changed: the tag is not the same. */
	if (m.len + m.aad_len == 0)
		return 0;
	flip = size ? data[size - 1] : 0;
	at = ((size_t)flip * 7919 + size) % (m.len + m.aad_len);
	if (at < m.len)
		text[at] ^= (uint8_t)(1u << (flip & 7));
	else
		m.aad[at - m.len] ^= (uint8_t)(1u << (flip & 7));
	own_aead(&m, 0, ours, text, m.len, tag);
	FUZZ_ASSERT(memcmp(tag, want, 16) != 0);
	return 0;
}
