/* chacha_poly.c: RFC 8439's AEAD test vector (2.8.2) sealed and opened,
 * and its Poly1305 vectors for the carries and the final reduction (A.3
 * #5-#11, which random inputs almost never reach);
 * against nettle's chacha_poly1305 on pseudo-random keys, nonces,
 * additional data and every text length from 0 to 1100 and from 16100
 * to 17000 (every length mod 64 and mod 512), with some between: in place
 * and apart, in one call and in pieces, and a changed byte anywhere
 * always changing the tag. Last, tls_record.c's ChaCha20-Poly1305 records
 * with chacha_poly.c and with nettle (the fallback) byte for byte the
 * same, each opening the other's. */
#include "chacha_poly.h"
#include "tls_record.h"

#include "record_check.h"
#include "run_suite.h"

#include <check.h>
#include <nettle/chacha-poly1305.h>
#include <stdio.h>
#include <string.h>

#define TEXT_MAX 17000
#define AAD_MAX 300

static uint8_t text[TEXT_MAX], mine[TEXT_MAX], theirs[TEXT_MAX],
	back[TEXT_MAX];

START_TEST(rfc8439_vector)
{
	static const char plain[] = "Ladies and Gentlemen of the class of "
		"'99: If I could offer you only one tip for the future, "
		"sunscreen would be it.";
	uint8_t key[32], nonce[12], aad[12], tag[16], want_tag[16];
	size_t len = sizeof plain - 1;
	static struct chacha_poly c;

	if (!chacha_poly_supported())
		return;     /* no AVX2 here: nettle's is used */
	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	      key);
	unhex("070000004041424344454647", nonce);
	unhex("50515253c0c1c2c3c4c5c6c7", aad);
	unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	      "3ff4def08e4b7a9de576d26586cec64b6116", theirs);
	unhex("1ae10b594f09e26a7e902ecbd0600691", want_tag);
	chacha_poly_set_key(&c, key);
	chacha_poly_set_nonce(&c, nonce);
	chacha_poly_update(&c, aad, sizeof aad);
	chacha_poly_encrypt(&c, mine, (const uint8_t *)plain, len);
	chacha_poly_digest(&c, tag);
	ck_assert_mem_eq(mine, theirs, len);
	ck_assert_mem_eq(tag, want_tag, 16);
	chacha_poly_set_nonce(&c, nonce);
	chacha_poly_update(&c, aad, sizeof aad);
	chacha_poly_decrypt(&c, mine, mine, len);
	chacha_poly_digest(&c, tag);
	ck_assert_mem_eq(mine, plain, len);
	ck_assert_mem_eq(tag, want_tag, 16);
}
END_TEST

/* RFC 8439 A.3 #5-#11: key (r, s), message, tag. */
static const struct {
	const char *key, *msg, *tag;
} macs[] = {
	{ "02000000000000000000000000000000" "00000000000000000000000000000000",
	  "ffffffffffffffffffffffffffffffff",
	  "03000000000000000000000000000000" },
	{ "02000000000000000000000000000000" "ffffffffffffffffffffffffffffffff",
	  "02000000000000000000000000000000",
	  "03000000000000000000000000000000" },
	{ "01000000000000000000000000000000" "00000000000000000000000000000000",
	  "ffffffffffffffffffffffffffffffff" "f0ffffffffffffffffffffffffffffff"
	  "11000000000000000000000000000000",
	  "05000000000000000000000000000000" },
	{ "01000000000000000000000000000000" "00000000000000000000000000000000",
	  "ffffffffffffffffffffffffffffffff" "fbfefefefefefefefefefefefefefefe"
	  "01010101010101010101010101010101",
	  "00000000000000000000000000000000" },
	{ "02000000000000000000000000000000" "00000000000000000000000000000000",
	  "fdffffffffffffffffffffffffffffff",
	  "faffffffffffffffffffffffffffffff" },
	{ "01000000000000000400000000000000" "00000000000000000000000000000000",
	  "e33594d7505e43b90000000000000000" "3394d7505e4379cd0100000000000000"
	  "00000000000000000000000000000000" "01000000000000000000000000000000",
	  "14000000000000005500000000000000" },
	{ "01000000000000000400000000000000" "00000000000000000000000000000000",
	  "e33594d7505e43b90000000000000000" "3394d7505e4379cd0100000000000000"
	  "00000000000000000000000000000000",
	  "13000000000000000000000000000000" },
};

START_TEST(rfc8439_poly1305_edges)
{
	uint8_t key[32], msg[64], want[16], tag[16];
	size_t len;

	if (!chacha_poly_supported())
		return;
	unhex(macs[_i].key, key);
	len = unhex(macs[_i].msg, msg);
	unhex(macs[_i].tag, want);
	chacha_poly_mac16(key, msg, len, tag);
	ck_assert_mem_eq(tag, want, 16);
}
END_TEST

static void nettle_seal(const uint8_t *key, const uint8_t *nonce,
                        const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out,
                        uint8_t tag[16])
{
	static struct chacha_poly1305_ctx n;

	chacha_poly1305_set_key(&n, key);
	chacha_poly1305_set_nonce(&n, nonce);
	chacha_poly1305_update(&n, aad_len, aad);
	chacha_poly1305_encrypt(&n, len, out, in);
	chacha_poly1305_digest(&n, 16, tag);
}

typedef void (*crypt_fn)(struct chacha_poly *, uint8_t *, const uint8_t *,
                         size_t);

/* The text in pieces: all but the last a multiple of 64 bytes. */
static void in_pieces(struct chacha_poly *c, crypt_fn fn, uint8_t *dst,
                      const uint8_t *src, size_t len, int pieces)
{
	size_t done = 0;

	while (--pieces > 0 && len - done >= 64) {
		size_t n = 64 * (1 + next() % ((len - done) / 64));

		fn(c, dst + done, src + done, n);
		done += n;
	}
	fn(c, dst + done, src + done, len - done);
}

static void aad_in_pieces(struct chacha_poly *c, const uint8_t *aad,
                          size_t len, int pieces)
{
	size_t done = 0;

	while (--pieces > 0 && len - done >= 64) {
		size_t n = 64 * (1 + next() % ((len - done) / 64));

		chacha_poly_update(c, aad + done, n);
		done += n;
	}
	chacha_poly_update(c, aad + done, len - done);
}

/* A byte changed in the ciphertext or the additional data: the tag
 * computed on opening is not the one sealed. */
static void changed_byte(struct chacha_poly *c, const uint8_t *nonce,
                         uint8_t *aad, size_t aad_len, size_t len,
                         const uint8_t *want)
{
	size_t at = next() % (len + aad_len);
	uint8_t flip = (uint8_t)(1u << (next() % 8)), again[16];

	memcpy(back, theirs, len);
	if (at < len)
		back[at] ^= flip;
	else
		aad[at - len] ^= flip;
	chacha_poly_set_nonce(c, nonce);
	chacha_poly_update(c, aad, aad_len);
	chacha_poly_decrypt(c, back, back, len);
	chacha_poly_digest(c, again);
	ck_assert_msg(memcmp(again, want, 16) != 0,
	              "a changed byte kept the tag: len %zu at %zu", len, at);
}

static void against_nettle(size_t len)
{
	static struct chacha_poly c;
	uint8_t key[32], nonce[12], aad[AAD_MAX], tag[16], want[16], again[16];
	size_t aad_len = next() % 3 ? next() % 20 : next() % AAD_MAX;
	int apart = (int)(next() & 1), pieces = 1 + (int)(next() % 3);
	uint8_t *out = apart ? mine : back;

	random_bytes(key, sizeof key);
	random_bytes(nonce, sizeof nonce);
	random_bytes(aad, aad_len);
	random_bytes(text, len);
	nettle_seal(key, nonce, aad, aad_len, text, len, theirs, want);

	chacha_poly_set_key(&c, key);
	chacha_poly_set_nonce(&c, nonce);
	aad_in_pieces(&c, aad, aad_len, pieces);
	if (!apart)
		memcpy(back, text, len);
	in_pieces(&c, chacha_poly_encrypt, out, apart ? text : back, len,
	          pieces);
	chacha_poly_digest(&c, tag);
	ck_assert_msg(memcmp(out, theirs, len) == 0 && memcmp(tag, want, 16) == 0,
	              "sealed differently from nettle: len %zu aad %zu", len,
	              aad_len);

	chacha_poly_set_nonce(&c, nonce);
	aad_in_pieces(&c, aad, aad_len, pieces);
	in_pieces(&c, chacha_poly_decrypt, back, out, len, pieces);
	chacha_poly_digest(&c, again);
	ck_assert_msg(memcmp(back, text, len) == 0 && memcmp(again, want, 16) == 0,
	              "opened wrong: len %zu aad %zu", len, aad_len);
	if (len + aad_len > 0)
		changed_byte(&c, nonce, aad, aad_len, len, want);
}

START_TEST(short_lengths_against_nettle)
{
	if (!chacha_poly_supported())
		return;
	for (size_t len = 0; len <= 1100; len++)
		against_nettle(len);
}
END_TEST

START_TEST(record_lengths_against_nettle)
{
	if (!chacha_poly_supported())
		return;
	for (size_t len = 16100; len <= TEXT_MAX; len++)
		against_nettle(len);
	for (int i = 0; i < 300; i++)
		against_nettle(1100 + next() % (16100 - 1100));
}
END_TEST

static const uint16_t versions[] = { TLS_VERSION_13, TLS_VERSION_12 };

START_TEST(records_same_with_nettle)
{
	static struct tls_rec own_tx, own_rx, nettle_tx, nettle_rx;
	struct tls_rec_keys k;
	const char *why = NULL;

	memset(&k, 0, sizeof k);
	k.version = versions[_i];
	k.cipher = TLS_REC_CHACHA20_POLY1305;
	random_bytes(k.key, sizeof k.key);
	random_bytes(k.iv, sizeof k.iv);
	k.seq = next() % 1000;
	ck_assert_int_eq(tls_rec_init(&own_tx, &k, &why), 0);
	ck_assert_int_eq(tls_rec_init(&own_rx, &k, &why), 0);
	ck_assert_int_eq(own_tx.own_chacha, chacha_poly_supported());
	tls_rec_nettle_aead(1);
	ck_assert_int_eq(tls_rec_init(&nettle_tx, &k, &why), 0);
	ck_assert_int_eq(tls_rec_init(&nettle_rx, &k, &why), 0);
	tls_rec_nettle_aead(0);
	ck_assert(!nettle_tx.own_chacha);
	records_agree(&own_tx, &own_rx, &nettle_tx, &nettle_rx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("chacha_poly");
	TCase *t = tcase_create("chacha_poly");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, rfc8439_vector);
	tcase_add_loop_test(t, rfc8439_poly1305_edges, 0,
	                    (int)(sizeof macs / sizeof macs[0]));
	tcase_add_test(t, short_lengths_against_nettle);
	tcase_add_test(t, record_lengths_against_nettle);
	tcase_add_loop_test(t, records_same_with_nettle, 0,
	                    (int)(sizeof versions / sizeof versions[0]));
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(suite());
}
