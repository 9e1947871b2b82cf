/* ChaCha20-Poly1305 (RFC 8439) for the TLS record layer (tls_record.c):
 * ChaCha20 eight blocks at a time in AVX2 registers, Poly1305 on 64-bit
 * multiplies. nettle 3.8's ChaCha core does one block at a time and made
 * the cipher 0.28 GB/s here (doc/performance.md).
 *
 * The calls follow nettle's chacha_poly1305_*: a 32-byte key, then per
 * message a 12-byte nonce, the additional data, the text, the tag. The
 * additional data and the text may each come in several calls, all but
 * the last a multiple of 64 bytes. dst and src are the same buffer or do
 * not overlap. chacha_poly_supported() says whether this CPU has AVX2 and
 * the system saves its registers; without, the record layer keeps
 * nettle's. No table, no branch on a key or a text. */
#ifndef POSTERN_CHACHA_POLY_H
#define POSTERN_CHACHA_POLY_H

#include <stddef.h>
#include <stdint.h>

#define CHACHA_POLY_KEY 32
#define CHACHA_POLY_NONCE 12
#define CHACHA_POLY_TAG 16

struct chacha_poly {
	uint32_t state[16];     /* constants, key, counter, nonce */
	/* Poly1305: the clamped r, s, the accumulator. */
	uint64_t r0, r1, s0, s1;
	uint64_t h0, h1, h2;
	uint64_t aad_len, len;
};

int chacha_poly_supported(void);

void chacha_poly_set_key(struct chacha_poly *c,
                         const uint8_t key[CHACHA_POLY_KEY]);
void chacha_poly_set_nonce(struct chacha_poly *c,
                           const uint8_t nonce[CHACHA_POLY_NONCE]);
void chacha_poly_update(struct chacha_poly *c, const uint8_t *aad,
                        size_t len);
void chacha_poly_encrypt(struct chacha_poly *c, uint8_t *dst,
                         const uint8_t *src, size_t len);
void chacha_poly_decrypt(struct chacha_poly *c, uint8_t *dst,
                         const uint8_t *src, size_t len);
void chacha_poly_digest(struct chacha_poly *c, uint8_t tag[CHACHA_POLY_TAG]);

/* Poly1305 alone on whole 16-byte blocks (len a multiple of 16), for the
 * tests: RFC 8439's vectors for the carries and the final reduction. */
void chacha_poly_mac16(const uint8_t key[CHACHA_POLY_KEY],
                       const uint8_t *msg, size_t len,
                       uint8_t tag[CHACHA_POLY_TAG]);

#endif
