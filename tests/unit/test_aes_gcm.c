/* aes_gcm.c, each test on both its paths (the 128-bit one, and the wide
 * one where the CPU has VAES): the GCM specification's test cases (McGrew
 * and Viega, the 96-bit IV ones for AES-128 and AES-256) sealed and
 * opened; then against
 * nettle's gcm_aes128/256 on pseudo-random keys, nonces, additional data
 * and every text length from 0 to 1100 and from 16100 to 17000 (every
 * length mod 16 and mod 128, one and several groups of eight blocks),
 * with some between: in place and apart, in one call and in pieces, sealed
 * and opened, and a changed byte anywhere always changing the tag; the
 * counter wrapping in its 32 bits (inc32), set by hand. Last,
 * tls_record.c's records with aes_gcm.c and with nettle (the fallback)
 * byte for byte the same, each opening the other's. */
#include "aes_gcm.h"
#include "tls_record.h"

#include "record_check.h"
#include "run_suite.h"

#include <check.h>
#include <nettle/aes.h>
#include <nettle/gcm.h>
#include <stdio.h>
#include <string.h>

#define TEXT_MAX 17000
#define AAD_MAX 300

/* The specification's test cases 1-4 and 13-16. */
#define K128 "feffe9928665731c6d6a8f9467308308"
#define IV "cafebabefacedbaddecaf888"
#define AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define P60 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define P64 P60 "1aafd255"
#define C3_60 \
	"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" \
	"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
#define C15_60 \
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
#define Z12 "000000000000000000000000"
#define Z16 "00000000000000000000000000000000"

static const struct vector {
	const char *key, *iv, *aad, *plain, *cipher, *tag;
} vectors[] = {
	{ Z16, Z12, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
	{ Z16, Z12, "", Z16, "0388dace60b6a392f328c2b971b2fe78",
	  "ab6e47d42cec13bdf53a67b21257bddf" },
	{ K128, IV, "", P64, C3_60 "473f5985", "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ K128, IV, AAD, P60, C3_60, "5bc94fbc3221a5db94fae95ae7121a47" },
	{ Z16 Z16, Z12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ Z16 Z16, Z12, "", Z16, "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ K128 K128, IV, "", P64, C15_60 "898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ K128 K128, IV, AAD, P60, C15_60, "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static uint8_t text[TEXT_MAX], mine[TEXT_MAX], theirs[TEXT_MAX],
	back[TEXT_MAX];

START_TEST(specification_vectors)
{
	const struct vector *v = &vectors[_i / 2];
	uint8_t key[32], iv[12], aad[20], want_tag[16], tag[16];
	size_t key_len = unhex(v->key, key), aad_len = unhex(v->aad, aad);
	size_t len = unhex(v->plain, text);
	static struct aes_gcm g;

	if (!aes_gcm_supported())
		return;     /* no AES-NI here: nettle's gcm is used */
	aes_gcm_narrow_only(_i % 2);
	unhex(v->iv, iv);
	unhex(v->cipher, theirs);
	unhex(v->tag, want_tag);
	aes_gcm_set_key(&g, key, key_len);
	aes_gcm_set_iv(&g, iv);
	aes_gcm_update(&g, aad, aad_len);
	aes_gcm_encrypt(&g, mine, text, len);
	aes_gcm_digest(&g, tag);
	ck_assert_mem_eq(mine, theirs, len);
	ck_assert_mem_eq(tag, want_tag, 16);
	/* Opened in place: the text and the same tag. */
	aes_gcm_set_iv(&g, iv);
	aes_gcm_update(&g, aad, aad_len);
	aes_gcm_decrypt(&g, mine, mine, len);
	aes_gcm_digest(&g, tag);
	ck_assert_mem_eq(mine, text, len);
	ck_assert_mem_eq(tag, want_tag, 16);
}
END_TEST

/* nettle's seal of one message. */
static void nettle_seal(const uint8_t *key, size_t key_len,
                        const uint8_t *iv, const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t len,
                        uint8_t *out, uint8_t tag[16])
{
	static struct gcm_aes128_ctx c128;
	static struct gcm_aes256_ctx c256;

	if (key_len == 32) {
		gcm_aes256_set_key(&c256, key);
		gcm_aes256_set_iv(&c256, 12, iv);
		gcm_aes256_update(&c256, aad_len, aad);
		gcm_aes256_encrypt(&c256, len, out, in);
		gcm_aes256_digest(&c256, 16, tag);
	} else {
		gcm_aes128_set_key(&c128, key);
		gcm_aes128_set_iv(&c128, 12, iv);
		gcm_aes128_update(&c128, aad_len, aad);
		gcm_aes128_encrypt(&c128, len, out, in);
		gcm_aes128_digest(&c128, 16, tag);
	}
}

/* Additional data or text in pieces: all but the last a multiple of 16
 * bytes, their sizes from the generator. */
typedef void (*crypt_fn)(struct aes_gcm *, uint8_t *, const uint8_t *,
                         size_t);

static void in_pieces(struct aes_gcm *g, crypt_fn fn, uint8_t *dst,
                      const uint8_t *src, size_t len, int pieces)
{
	size_t done = 0;

	while (--pieces > 0 && len - done >= 16) {
		size_t n = 16 * (1 + next() % ((len - done) / 16));

		fn(g, dst + done, src + done, n);
		done += n;
	}
	fn(g, dst + done, src + done, len - done);
}

static void aad_in_pieces(struct aes_gcm *g, const uint8_t *aad, size_t len,
                          int pieces)
{
	size_t done = 0;

	while (--pieces > 0 && len - done >= 16) {
		size_t n = 16 * (1 + next() % ((len - done) / 16));

		aes_gcm_update(g, aad + done, n);
		done += n;
	}
	aes_gcm_update(g, aad + done, len - done);
}

static void changed_byte(struct aes_gcm *g, const uint8_t *iv, uint8_t *aad,
                         size_t aad_len, size_t len, const uint8_t *want);

/* One message both ways against nettle; changed bytes change the tag. */
static void against_nettle(size_t len)
{
	static struct aes_gcm g;
	uint8_t key[32], iv[12], aad[AAD_MAX], tag[16], want[16], again[16];
	size_t key_len = next() & 1 ? 32 : 16, aad_len = next() % 3 ?
	                 next() % 20 : next() % AAD_MAX;
	int apart = (int)(next() & 1), pieces = 1 + (int)(next() % 3);
	uint8_t *out = apart ? mine : back;

	random_bytes(key, sizeof key);
	random_bytes(iv, sizeof iv);
	random_bytes(aad, aad_len);
	random_bytes(text, len);
	aes_gcm_narrow_only((int)(next() & 1));
	nettle_seal(key, key_len, iv, aad, aad_len, text, len, theirs, want);

	aes_gcm_set_key(&g, key, key_len);
	aes_gcm_set_iv(&g, iv);
	aad_in_pieces(&g, aad, aad_len, pieces);
	if (!apart)
		memcpy(back, text, len);
	in_pieces(&g, aes_gcm_encrypt, out, apart ? text : back, len, pieces);
	aes_gcm_digest(&g, tag);
	ck_assert_msg(memcmp(out, theirs, len) == 0 && memcmp(tag, want, 16) == 0,
	              "sealed differently from nettle: len %zu aad %zu key %zu",
	              len, aad_len, key_len);

	/* Opened (in place or apart): the text, the tag again. */
	aes_gcm_set_iv(&g, iv);
	aad_in_pieces(&g, aad, aad_len, pieces);
	in_pieces(&g, aes_gcm_decrypt, back, out, len, pieces);
	aes_gcm_digest(&g, again);
	ck_assert_msg(memcmp(back, text, len) == 0 && memcmp(again, want, 16) == 0,
	              "opened wrong: len %zu aad %zu", len, aad_len);

	if (len + aad_len > 0)
		changed_byte(&g, iv, aad, aad_len, len, want);
}

/* A byte changed in the ciphertext or the additional data: the tag
 * computed on opening is not the one sealed. */
static void changed_byte(struct aes_gcm *g, const uint8_t *iv, uint8_t *aad,
                         size_t aad_len, size_t len, const uint8_t *want)
{
	size_t at = next() % (len + aad_len);
	uint8_t flip = (uint8_t)(1u << (next() % 8)), again[16];

	memcpy(back, theirs, len);
	if (at < len)
		back[at] ^= flip;
	else
		aad[at - len] ^= flip;
	aes_gcm_set_iv(g, iv);
	aes_gcm_update(g, aad, aad_len);
	aes_gcm_decrypt(g, back, back, len);
	aes_gcm_digest(g, again);
	ck_assert_msg(memcmp(again, want, 16) != 0,
	              "a changed byte kept the tag: len %zu at %zu", len, at);
}

START_TEST(short_lengths_against_nettle)
{
	if (!aes_gcm_supported())
		return;
	for (size_t len = 0; len <= 1100; len++)
		against_nettle(len);
}
END_TEST

START_TEST(record_lengths_against_nettle)
{
	if (!aes_gcm_supported())
		return;
	for (size_t len = 16100; len <= TEXT_MAX; len++)
		against_nettle(len);
	for (int i = 0; i < 300; i++)
		against_nettle(1100 + next() % (16100 - 1100));
}
END_TEST

/* GCM's counter is the block's last 32 bits alone (inc32, SP 800-38D
 * 6.2): past 2^32 - 1 it wraps to 0, the nonce's 96 bits untouched. A
 * record never gets there (its counter starts at 2), so the counter is set
 * by hand, on each path, across a wrap inside a group of eight and of
 * sixteen, with a short end; the key stream is nettle's AES on the blocks
 * counted by hand. */
static void key_stream_by_hand(const uint8_t *key, size_t key_len,
                               const uint8_t *iv, uint32_t ctr, size_t len,
                               uint8_t *out)
{
	static struct aes128_ctx a128;
	static struct aes256_ctx a256;
	uint8_t block[16], ks[16];

	if (key_len == 32)
		aes256_set_encrypt_key(&a256, key);
	else
		aes128_set_encrypt_key(&a128, key);
	for (size_t at = 0; at < len; at += 16, ctr++) {
		memcpy(block, iv, 12);
		for (int i = 0; i < 4; i++)
			block[12 + i] = (uint8_t)(ctr >> (24 - 8 * i));
		if (key_len == 32)
			aes256_encrypt(&a256, 16, ks, block);
		else
			aes128_encrypt(&a128, 16, ks, block);
		memcpy(out + at, ks, len - at < 16 ? len - at : 16);
	}
}

START_TEST(the_counter_wraps_in_32_bits)
{
	static struct aes_gcm g;
	static const uint32_t starts[] = { 0xfffffff0u, 0xfffffff9u,
	                                   0xffffffffu, 0xffffff80u };
	uint8_t key[32], iv[12], zeros[600] = { 0 }, mine_ks[600], want[600];
	size_t key_len = _i & 1 ? 32 : 16;

	if (!aes_gcm_supported())
		return;
	random_bytes(key, sizeof key);
	random_bytes(iv, sizeof iv);
	aes_gcm_narrow_only(_i >> 1);
	aes_gcm_set_key(&g, key, key_len);
	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		aes_gcm_set_iv(&g, iv);
		g.ctr = starts[i];
		aes_gcm_encrypt(&g, mine_ks, zeros, sizeof zeros);
		key_stream_by_hand(key, key_len, iv, starts[i], sizeof zeros,
		                   want);
		ck_assert_msg(memcmp(mine_ks, want, sizeof want) == 0,
		              "the counter from %08x: not inc32", starts[i]);
	}
	aes_gcm_narrow_only(0);
}
END_TEST

/* ----------------------------------------- records: ours and nettle's -- */

static void record_keys(struct tls_rec_keys *k, uint16_t version,
                        uint8_t cipher)
{
	memset(k, 0, sizeof *k);
	k->version = version;
	k->cipher = cipher;
	random_bytes(k->key, sizeof k->key);
	random_bytes(k->iv, sizeof k->iv);
	k->seq = next() % 1000;
}

static const struct {
	uint16_t version;
	uint8_t cipher;
} gcm_kinds[] = {
	{ TLS_VERSION_13, TLS_REC_AES_128_GCM },
	{ TLS_VERSION_13, TLS_REC_AES_256_GCM },
	{ TLS_VERSION_12, TLS_REC_AES_128_GCM },
	{ TLS_VERSION_12, TLS_REC_AES_256_GCM },
};

START_TEST(records_same_with_nettle)
{
	static struct tls_rec own_tx, own_rx, nettle_tx, nettle_rx;
	struct tls_rec_keys k;
	const char *why = NULL;

	record_keys(&k, gcm_kinds[_i / 2].version, gcm_kinds[_i / 2].cipher);
	aes_gcm_narrow_only(_i % 2);
	ck_assert_int_eq(tls_rec_init(&own_tx, &k, &why), 0);
	ck_assert_int_eq(tls_rec_init(&own_rx, &k, &why), 0);
	ck_assert_int_eq(own_tx.own_gcm, aes_gcm_supported());
	ck_assert_int_eq(own_tx.c.gcm.wide,
	                 aes_gcm_supported() && !(_i % 2) &&
	                 aes_gcm_wide_supported());
	tls_rec_nettle_aead(1);
	ck_assert_int_eq(tls_rec_init(&nettle_tx, &k, &why), 0);
	ck_assert_int_eq(tls_rec_init(&nettle_rx, &k, &why), 0);
	tls_rec_nettle_aead(0);
	ck_assert(!nettle_tx.own_gcm);
	records_agree(&own_tx, &own_rx, &nettle_tx, &nettle_rx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("aes_gcm");
	TCase *t = tcase_create("aes_gcm");

	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, specification_vectors, 0,
	                    2 * (int)(sizeof vectors / sizeof vectors[0]));
	tcase_add_test(t, short_lengths_against_nettle);
	tcase_add_test(t, record_lengths_against_nettle);
	tcase_add_loop_test(t, the_counter_wraps_in_32_bits, 0, 4);
	tcase_add_loop_test(t, records_same_with_nettle, 0,
	                    2 * (int)(sizeof gcm_kinds / sizeof gcm_kinds[0]));
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(suite());
}
