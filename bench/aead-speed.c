/* aead-speed: the record layer's AEADs alone, GB/s of 16 KiB records
 * (each with its own nonce and 13 bytes of additional data, in place, as
 * postern-tls-relay seals and opens them): aes_gcm.c's 128-bit and wide
 * paths against nettle's gcm_aes128/256, and chacha_poly.c against
 * nettle's ChaCha20-Poly1305.
 * Each figure is the best of 9 trials of 0.15 s (the machine is shared).
 * A benchmark, not part of postern:
 *
 *   gcc -O2 -Isrc/relay -o aead-speed bench/aead-speed.c \
 *       src/relay/aes_gcm.c src/relay/chacha_poly.c -l:libnettle.a &&
 *   ./aead-speed */
#include "aes_gcm.h"
#include "chacha_poly.h"

#include <nettle/chacha-poly1305.h>
#include <nettle/gcm.h>
#include <stdio.h>
#include <time.h>

#define RECORD 16384
#define TRIALS 9

static uint8_t key[32], nonce[12], aad[13], buf[RECORD], tag[16];
static struct aes_gcm own;
static struct gcm_aes128_ctx c128;
static struct gcm_aes256_ctx c256;
static struct chacha_poly1305_ctx cc;
static struct chacha_poly own_cc;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum way { OWN, NETTLE_GCM, NETTLE_CHACHA, OWN_CHACHA };

static void set_keys(size_t key_len)
{
	if (aes_gcm_supported())
		aes_gcm_set_key(&own, key, key_len);
	gcm_aes128_set_key(&c128, key);
	gcm_aes256_set_key(&c256, key);
	chacha_poly1305_set_key(&cc, key);
	if (chacha_poly_supported())
		chacha_poly_set_key(&own_cc, key);
}

/* One record sealed or opened in place. */
static void one(enum way w, size_t key_len, int seal)
{
	switch (w) {
	case OWN:
		aes_gcm_set_iv(&own, nonce);
		aes_gcm_update(&own, aad, sizeof aad);
		(seal ? aes_gcm_encrypt : aes_gcm_decrypt)(&own, buf, buf,
		                                           RECORD);
		aes_gcm_digest(&own, tag);
		break;
	case NETTLE_GCM:
		if (key_len == 32) {
			gcm_aes256_set_iv(&c256, sizeof nonce, nonce);
			gcm_aes256_update(&c256, sizeof aad, aad);
			(seal ? gcm_aes256_encrypt : gcm_aes256_decrypt)(
				&c256, RECORD, buf, buf);
			gcm_aes256_digest(&c256, 16, tag);
		} else {
			gcm_aes128_set_iv(&c128, sizeof nonce, nonce);
			gcm_aes128_update(&c128, sizeof aad, aad);
			(seal ? gcm_aes128_encrypt : gcm_aes128_decrypt)(
				&c128, RECORD, buf, buf);
			gcm_aes128_digest(&c128, 16, tag);
		}
		break;
	case NETTLE_CHACHA:
		chacha_poly1305_set_nonce(&cc, nonce);
		chacha_poly1305_update(&cc, sizeof aad, aad);
		(seal ? chacha_poly1305_encrypt : chacha_poly1305_decrypt)(
			&cc, RECORD, buf, buf);
		chacha_poly1305_digest(&cc, 16, tag);
		break;
	case OWN_CHACHA:
		chacha_poly_set_nonce(&own_cc, nonce);
		chacha_poly_update(&own_cc, aad, sizeof aad);
		(seal ? chacha_poly_encrypt : chacha_poly_decrypt)(
			&own_cc, buf, buf, RECORD);
		chacha_poly_digest(&own_cc, tag);
		break;
	}
}

static double rate(enum way w, size_t key_len, int seal)
{
	double best = 0;

	for (int t = 0; t < TRIALS; t++) {
		double start = now(), r;
		size_t bytes = 0;

		while (now() - start < 0.15) {
			for (int i = 0; i < 32; i++)
				one(w, key_len, seal);
			bytes += 32 * RECORD;
		}
		r = (double)bytes / (now() - start) / 1e9;
		if (r > best)
			best = r;
	}
	return best;
}

int main(void)
{
	printf("AES-NI/PCLMULQDQ: %s, VAES/VPCLMULQDQ: %s\n",
	       aes_gcm_supported() ? "yes" : "no",
	       aes_gcm_wide_supported() ? "yes" : "no");
	for (size_t kl = 16; kl <= 32; kl += 16) {
		set_keys(kl);
		printf("AES-%zu-GCM, GB/s (seal, open): nettle %.2f %.2f", kl * 8,
		       rate(NETTLE_GCM, kl, 1), rate(NETTLE_GCM, kl, 0));
		for (int narrow = 1; aes_gcm_supported() && narrow >= 0;
		     narrow--) {
			aes_gcm_narrow_only(narrow);
			set_keys(kl);
			printf("; aes_gcm %s %.2f %.2f",
			       narrow ? "128-bit" : "wide",
			       rate(OWN, kl, 1), rate(OWN, kl, 0));
		}
		printf("\n");
	}
	printf("ChaCha20-Poly1305, GB/s (seal, open): nettle %.2f %.2f",
	       rate(NETTLE_CHACHA, 32, 1), rate(NETTLE_CHACHA, 32, 0));
	if (chacha_poly_supported())
		printf("; chacha_poly %.2f %.2f", rate(OWN_CHACHA, 32, 1),
		       rate(OWN_CHACHA, 32, 0));
	printf("\n");
	return 0;
}
