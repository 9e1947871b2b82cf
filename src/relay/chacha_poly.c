/* ChaCha20-Poly1305 (chacha_poly.h), RFC 8439.
 *
 * ChaCha20: eight blocks at once, each register holding one word of the
 * state for the eight (so the rounds are the scalar ones, eight wide),
 * then the words put back in block order. Poly1305: the accumulator in
 * three 64-bit words (h0 + h1 2^64 + h2 2^128, h2 small), times r on
 * 64x64 -> 128-bit multiplies; r's clamped high word is a multiple of 4,
 * so its products past 2^128 fold in as 5/4 r1 (2^130 = 5 mod p). Every
 * block the MAC takes is whole: RFC 8439 pads the additional data and the
 * ciphertext to 16 bytes, and only a message's last call may end short. */
#include "chacha_poly.h"

#include <string.h>

#if defined(__x86_64__)

#include "cpu_x86.h"

#include <cpuid.h>

#define WIDE __attribute__((target("avx2")))
#define INLINE inline __attribute__((always_inline))
#define BLOCKS 8
#define CHUNK (BLOCKS * 64)

typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef unsigned __int128 u128;

int chacha_poly_supported(void)
{
	static int known = -1;
	unsigned b, c;

	if (known < 0)
		known = cpu_ymm_features(&b, &c) && (b & bit_AVX2);
	return known;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---------------------------------------------------------- ChaCha20 -- */

static WIDE INLINE u32x8 rotl(u32x8 x, int n)
{
	return x << n | x >> (32 - n);
}

#define QUARTER(a, b, c, d) \
	do { \
		x[a] += x[b]; x[d] ^= x[a]; x[d] = rotl(x[d], 16); \
		x[c] += x[d]; x[b] ^= x[c]; x[b] = rotl(x[b], 12); \
		x[a] += x[b]; x[d] ^= x[a]; x[d] = rotl(x[d], 8); \
		x[c] += x[d]; x[b] ^= x[c]; x[b] = rotl(x[b], 7); \
	} while (0)

/* Blocks counter..counter+7 of the key stream, in block order. */
static WIDE void key_stream(const uint32_t state[16], uint32_t counter,
                            uint8_t out[CHUNK])
{
	u32x8 in[16], x[16];
	uint32_t words[16][BLOCKS];

	for (int i = 0; i < 16; i++)
		in[i] = (u32x8){ 0 } + state[i];
	in[12] = (u32x8){ 0, 1, 2, 3, 4, 5, 6, 7 } + counter;
	for (int i = 0; i < 16; i++)
		x[i] = in[i];
	for (int round = 0; round < 10; round++) {
		QUARTER(0, 4, 8, 12);
		QUARTER(1, 5, 9, 13);
		QUARTER(2, 6, 10, 14);
		QUARTER(3, 7, 11, 15);
		QUARTER(0, 5, 10, 15);
		QUARTER(1, 6, 11, 12);
		QUARTER(2, 7, 8, 13);
		QUARTER(3, 4, 9, 14);
	}
	for (int i = 0; i < 16; i++) {
		x[i] += in[i];
		memcpy(words[i], &x[i], sizeof words[i]);
	}
	/* x86-64 is little-endian: a word's bytes as RFC 8439 serializes. */
	for (int b = 0; b < BLOCKS; b++)
		for (int i = 0; i < 16; i++)
			memcpy(out + 64 * b + 4 * i, &words[i][b], 4);
	explicit_bzero(words, sizeof words);
}

/* n (at most CHUNK) bytes of src xored with the key stream into dst. */
static WIDE void xor_stream(const struct chacha_poly *c, uint8_t *dst,
                            const uint8_t *src, size_t n)
{
	uint8_t ks[CHUNK];
	size_t i = 0;

	key_stream(c->state, c->state[12], ks);
	for (; i + 32 <= n; i += 32) {
		u32x8 a, k;

		memcpy(&a, src + i, 32);
		memcpy(&k, ks + i, 32);
		a ^= k;
		memcpy(dst + i, &a, 32);
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ ks[i];
	explicit_bzero(ks, sizeof ks);
}

/* ---------------------------------------------------------- Poly1305 -- */

/* Whole 16-byte blocks, each with its 2^128 bit. */
static void poly_blocks(struct chacha_poly *c, const uint8_t *p,
                        size_t blocks)
{
	uint64_t h0 = c->h0, h1 = c->h1, h2 = c->h2;
	uint64_t r0 = c->r0, r1 = c->r1, r1x5_4 = r1 + (r1 >> 2);

	for (; blocks > 0; blocks--, p += 16) {
		u128 t = (u128)h0 + le64(p), d0, d1;
		uint64_t d2;

		h0 = (uint64_t)t;
		t = (u128)h1 + le64(p + 8) + (uint64_t)(t >> 64);
		h1 = (uint64_t)t;
		h2 += (uint64_t)(t >> 64) + 1;
		d0 = (u128)h0 * r0 + (u128)h1 * r1x5_4;
		d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * r1x5_4;
		d2 = h2 * r0;
		d1 += d0 >> 64;
		d2 += (uint64_t)(d1 >> 64);
		h0 = (uint64_t)d0;
		h1 = (uint64_t)d1;
		/* d2 2^128 = (d2 >> 2) 2^130 + (d2 & 3) 2^128. */
		h2 = d2 & 3;
		t = (u128)h0 + (d2 >> 2) * 5;
		h0 = (uint64_t)t;
		t = (u128)h1 + (uint64_t)(t >> 64);
		h1 = (uint64_t)t;
		h2 += (uint64_t)(t >> 64);
	}
	c->h0 = h0;
	c->h1 = h1;
	c->h2 = h2;
}

/* A part of the MAC's input: its whole blocks, and a short end padded
 * with zeros (only a message's last call may have one). */
static void poly_part(struct chacha_poly *c, const uint8_t *p, size_t len)
{
	uint8_t pad[16] = { 0 };

	poly_blocks(c, p, len / 16);
	if (len % 16) {
		memcpy(pad, p + len - len % 16, len % 16);
		poly_blocks(c, pad, 1);
		explicit_bzero(pad, sizeof pad);
	}
}

/* ------------------------------------------------------------- AEAD -- */

void chacha_poly_set_key(struct chacha_poly *c,
                         const uint8_t key[CHACHA_POLY_KEY])
{
	static const uint32_t sigma[4] = { 0x61707865, 0x3320646e, 0x79622d32,
	                                   0x6b206574 };

	memset(c, 0, sizeof *c);
	memcpy(c->state, sigma, sizeof sigma);
	for (int i = 0; i < 8; i++)
		c->state[4 + i] = le32(key + 4 * i);
}

/* Block 0's first 32 bytes are the message's Poly1305 key; the text
 * starts at block 1. */
void chacha_poly_set_nonce(struct chacha_poly *c,
                           const uint8_t nonce[CHACHA_POLY_NONCE])
{
	uint8_t ks[CHUNK];

	c->state[12] = 0;
	for (int i = 0; i < 3; i++)
		c->state[13 + i] = le32(nonce + 4 * i);
	key_stream(c->state, 0, ks);
	c->r0 = le64(ks) & 0x0ffffffc0fffffffULL;
	c->r1 = le64(ks + 8) & 0x0ffffffc0ffffffcULL;
	c->s0 = le64(ks + 16);
	c->s1 = le64(ks + 24);
	explicit_bzero(ks, sizeof ks);
	c->h0 = c->h1 = c->h2 = 0;
	c->aad_len = c->len = 0;
	c->state[12] = 1;
}

void chacha_poly_update(struct chacha_poly *c, const uint8_t *aad,
                        size_t len)
{
	poly_part(c, aad, len);
	c->aad_len += len;
}

static void crypt_text(struct chacha_poly *c, int encrypt,
                       uint8_t *dst, const uint8_t *src, size_t len)
{
	c->len += len;
	while (len > 0) {
		size_t n = len < CHUNK ? len : CHUNK;

		if (!encrypt)
			poly_part(c, src, n);
		xor_stream(c, dst, src, n);
		if (encrypt)
			poly_part(c, dst, n);
		c->state[12] += (uint32_t)((n + 63) / 64);
		dst += n;
		src += n;
		len -= n;
	}
}

void chacha_poly_encrypt(struct chacha_poly *c, uint8_t *dst,
                         const uint8_t *src, size_t len)
{
	crypt_text(c, 1, dst, src, len);
}

void chacha_poly_decrypt(struct chacha_poly *c, uint8_t *dst,
                         const uint8_t *src, size_t len)
{
	crypt_text(c, 0, dst, src, len);
}

/* h reduced below p = 2^130 - 5 (h - p chosen by a mask when it does not
 * borrow) and s added modulo 2^128. */
static void poly_finish(struct chacha_poly *c, uint8_t tag[CHACHA_POLY_TAG])
{
	uint64_t g0, g1, g2, mask;
	u128 t;

	/* h2 to at most 3: then h < 2^130 < 2p. */
	t = (u128)c->h0 + (c->h2 >> 2) * 5;
	c->h2 &= 3;
	c->h0 = (uint64_t)t;
	t = (u128)c->h1 + (uint64_t)(t >> 64);
	c->h1 = (uint64_t)t;
	c->h2 += (uint64_t)(t >> 64);
	t = (u128)c->h0 + 5;
	g0 = (uint64_t)t;
	t = (u128)c->h1 + (uint64_t)(t >> 64);
	g1 = (uint64_t)t;
	g2 = c->h2 + (uint64_t)(t >> 64);
	mask = 0 - (g2 >> 2);           /* h + 5 reached 2^130: h >= p */
	c->h0 = (c->h0 & ~mask) | (g0 & mask);
	c->h1 = (c->h1 & ~mask) | (g1 & mask);
	t = (u128)c->h0 + c->s0;
	put_le64(tag, (uint64_t)t);
	put_le64(tag + 8, c->h1 + c->s1 + (uint64_t)(t >> 64));
	c->h0 = c->h1 = c->h2 = 0;
}

void chacha_poly_digest(struct chacha_poly *c, uint8_t tag[CHACHA_POLY_TAG])
{
	uint8_t lens[16];

	put_le64(lens, c->aad_len);
	put_le64(lens + 8, c->len);
	poly_blocks(c, lens, 1);
	poly_finish(c, tag);
}

void chacha_poly_mac16(const uint8_t key[CHACHA_POLY_KEY],
                       const uint8_t *msg, size_t len,
                       uint8_t tag[CHACHA_POLY_TAG])
{
	struct chacha_poly c;

	memset(&c, 0, sizeof c);
	c.r0 = le64(key) & 0x0ffffffc0fffffffULL;
	c.r1 = le64(key + 8) & 0x0ffffffc0ffffffcULL;
	c.s0 = le64(key + 16);
	c.s1 = le64(key + 24);
	poly_blocks(&c, msg, len / 16);
	poly_finish(&c, tag);
	explicit_bzero(&c, sizeof c);
}

#else

/* Not x86-64: the record layer keeps nettle's. */
int chacha_poly_supported(void)
{
	return 0;
}

void chacha_poly_set_key(struct chacha_poly *c,
                         const uint8_t key[CHACHA_POLY_KEY])
{
	(void)key;
	memset(c, 0, sizeof *c);
}

void chacha_poly_set_nonce(struct chacha_poly *c,
                           const uint8_t nonce[CHACHA_POLY_NONCE])
{
	(void)c;
	(void)nonce;
}

void chacha_poly_update(struct chacha_poly *c, const uint8_t *aad,
                        size_t len)
{
	(void)c;
	(void)aad;
	(void)len;
}

void chacha_poly_encrypt(struct chacha_poly *c, uint8_t *dst,
                         const uint8_t *src, size_t len)
{
	(void)c;
	(void)dst;
	(void)src;
	(void)len;
}

void chacha_poly_decrypt(struct chacha_poly *c, uint8_t *dst,
                         const uint8_t *src, size_t len)
{
	(void)c;
	(void)dst;
	(void)src;
	(void)len;
}

void chacha_poly_digest(struct chacha_poly *c, uint8_t tag[CHACHA_POLY_TAG])
{
	(void)c;
	memset(tag, 0, CHACHA_POLY_TAG);
}

void chacha_poly_mac16(const uint8_t key[CHACHA_POLY_KEY],
                       const uint8_t *msg, size_t len,
                       uint8_t tag[CHACHA_POLY_TAG])
{
	(void)key;
	(void)msg;
	(void)len;
	memset(tag, 0, CHACHA_POLY_TAG);
}

#endif
