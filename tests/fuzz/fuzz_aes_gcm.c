/* aes_gcm.c against nettle's gcm_aes128/256 (the oracle), on messages the
 * input chooses; any difference aborts.
 *
 * The input: a control byte (bit 0 AES-256, bits 1-2 seal and open in
 * place, bits 3-4 the number of pieces a message goes in, bit 5 stretch
 * the text, bit 6 the 128-bit path where the wide one could run), two bytes of length for a stretched text (up to 17000, the
 * input's text repeated, each copy xored with its number), the key (32
 * bytes, the first 16 for AES-128), the nonce (12), the additional data's
 * length (1 byte) and bytes, then the text. What the input lacks is zeros.
 *
 * For each: sealed by both, the same ciphertext and tag; ours opens
 * nettle's to the text and the tag; the text taken as a ciphertext opens
 * the same with both; and a bit changed in the ciphertext or the
 * additional data (where the input's last byte says) changes the tag. */
#include "aes_gcm.h"
#include "fuzz.h"

#include <nettle/gcm.h>
#include <string.h>

#define TEXT_MAX 17000
#define HEAD (1 + 2 + 32 + 12 + 1)

struct message {
	int aes256, seal_in_place, open_in_place, pieces, narrow;
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

	if (m->aes256) {
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

/* Ours, the additional data and the text each in m->pieces calls (all but
 * the last a multiple of 16; their sizes from the key's bytes). */
static void own_gcm(const struct message *m, int seal, uint8_t *dst,
                    const uint8_t *src, size_t len, uint8_t tag[16])
{
	static struct aes_gcm g;
	size_t done = 0;
	int k = 0;

	aes_gcm_narrow_only(m->narrow);
	aes_gcm_set_key(&g, m->key, m->aes256 ? 32 : 16);
	aes_gcm_set_iv(&g, m->iv);
	for (int i = 1; i < m->pieces && m->aad_len - done >= 16; i++) {
		size_t n = 16 * (1 + m->key[k++] % ((m->aad_len - done) / 16));

		aes_gcm_update(&g, m->aad + done, n);
		done += n;
	}
	aes_gcm_update(&g, m->aad + done, m->aad_len - done);
	done = 0;
	for (int i = 1; i < m->pieces && len - done >= 16; i++) {
		size_t n = 16 * (1 + ((size_t)m->key[k] << 8 | m->key[k + 1]) %
		                 ((len - done) / 16));

		k += 2;
		(seal ? aes_gcm_encrypt : aes_gcm_decrypt)(&g, dst + done,
		                                           src + done, n);
		done += n;
	}
	(seal ? aes_gcm_encrypt : aes_gcm_decrypt)(&g, dst + done, src + done,
	                                           len - done);
	aes_gcm_digest(&g, tag);
	explicit_bzero(&g, sizeof g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct message m;
	uint8_t want[16], tag[16], flip;
	size_t at;

	if (!aes_gcm_supported())
		return 0;
	parse(&m, data, size);
	nettle_gcm(&m, 1, theirs, text, want);

	/* Sealed the same. */
	if (m.seal_in_place)
		memcpy(ours, text, m.len);
	own_gcm(&m, 1, ours, m.seal_in_place ? ours : text, m.len, tag);
	FUZZ_ASSERT(memcmp(ours, theirs, m.len) == 0);
	FUZZ_ASSERT(memcmp(tag, want, 16) == 0);

	/* nettle's ciphertext opens to the text, with its tag. */
	if (m.open_in_place)
		memcpy(opened, theirs, m.len);
	own_gcm(&m, 0, opened, m.open_in_place ? opened : theirs, m.len, tag);
	FUZZ_ASSERT(memcmp(opened, text, m.len) == 0);
	FUZZ_ASSERT(memcmp(tag, want, 16) == 0);

	/* The text as a ciphertext: the same plaintext and tag from both. */
	nettle_gcm(&m, 0, theirs, text, want);
	own_gcm(&m, 0, ours, text, m.len, tag);
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
	own_gcm(&m, 0, ours, text, m.len, tag);
	FUZZ_ASSERT(memcmp(tag, want, 16) != 0);
	return 0;
}
