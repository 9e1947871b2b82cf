/* AES-GCM with AES-NI and PCLMULQDQ (aes_gcm.h).
 *
 * GHASH's field, as the registers hold it: a block's first byte holds the
 * coefficients of x^0..x^7, x^0 in its top bit. Byte-reversed into a
 * register, the coefficient of x^k is bit 127-k ("reflected"). The
 * carry-less product of two reflected values, read as a reflected 256-bit
 * value, is their product times x; so the key's powers are kept times
 * x^-1 (a one-bit shift left, and for the bit shifted out x^-1 = x^127 +
 * x^6 + x + 1, reflected 0xc2000...0001), and a product needs no shift.
 * The product's low half holds the coefficients of x^128 and up; it is
 * folded twice by 64 bits with x^128 = x^7 + x^2 + x + 1, each fold one
 * carry-less multiply by 0xc200000000000000 (x^-63 + x^-62 + x^-57 in
 * that half's frame) and a swap of halves.
 *
 * Eight blocks go through AES side by side (the rounds' latency hides
 * behind each other) and are hashed with one reduction: X' = (X + C1)H^8
 * + C2 H^7 + ... + C8 H, each product by Karatsuba (three multiplies). A
 * text's encryption hashes the eight blocks before while it encrypts the
 * next eight, so the two run together; a decryption hashes what it is
 * about to decrypt. */
#include "aes_gcm.h"

#include <string.h>

#if defined(__x86_64__)

#include "cpu_x86.h"

#include <cpuid.h>
#include <immintrin.h>

#define FAST __attribute__((target("aes,pclmul,ssse3")))
/* The loops over a group's blocks unrolled, so that the blocks stay in
 * registers and the rounds of eight interleave. */
#define INLINE inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")
#define GROUP 8
#define GROUP_BYTES (GROUP * 16)
/* H^e's index: the powers are kept highest first. */
#define POW(e) (AES_GCM_POWERS - (e))

typedef __m128i v128;

int aes_gcm_supported(void)
{
	static int known = -1;
	unsigned a, b, c, d;

	if (known < 0)
		known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AES) &&
		        (c & bit_PCLMUL) && (c & bit_SSSE3);
	return known;
}

/* The wide path's instructions, with the YMM registers usable. */
int aes_gcm_wide_supported(void)
{
	static int known = -1;
	unsigned b, c;

	if (known < 0)
		known = aes_gcm_supported() && cpu_ymm_features(&b, &c) &&
		        (b & bit_AVX2) && (c & bit_VAES) && (c & bit_VPCLMULQDQ);
	return known;
}

static int narrow;

void aes_gcm_narrow_only(int on)
{
	narrow = on;
}

static FAST INLINE v128 load(const void *p)
{
	return _mm_loadu_si128((const v128 *)p);
}

static FAST INLINE void store(void *p, v128 v)
{
	_mm_storeu_si128((v128 *)p, v);
}

static FAST INLINE v128 reverse(v128 v)
{
	return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	                                        10, 11, 12, 13, 14, 15));
}

/* ------------------------------------------------------------- AES -- */

/* One word of the schedule after another: each of the four new words is
 * the xor of the old ones up to it and t (the SubWord, and for the first
 * of a pair RotWord and rcon, that aeskeygenassist made). */
static FAST INLINE v128 next_words(v128 k, v128 t)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, t);
}

/* rcon must be a constant: the instruction takes it as an immediate. */
#define ROT_SUB(k, rcon) \
	_mm_shuffle_epi32(_mm_aeskeygenassist_si128((k), (rcon)), 0xff)
#define SUB(k) _mm_shuffle_epi32(_mm_aeskeygenassist_si128((k), 0), 0xaa)

static FAST void schedule128(v128 *rk, const uint8_t *key)
{
	rk[0] = load(key);
	rk[1] = next_words(rk[0], ROT_SUB(rk[0], 0x01));
	rk[2] = next_words(rk[1], ROT_SUB(rk[1], 0x02));
	rk[3] = next_words(rk[2], ROT_SUB(rk[2], 0x04));
	rk[4] = next_words(rk[3], ROT_SUB(rk[3], 0x08));
	rk[5] = next_words(rk[4], ROT_SUB(rk[4], 0x10));
	rk[6] = next_words(rk[5], ROT_SUB(rk[5], 0x20));
	rk[7] = next_words(rk[6], ROT_SUB(rk[6], 0x40));
	rk[8] = next_words(rk[7], ROT_SUB(rk[7], 0x80));
	rk[9] = next_words(rk[8], ROT_SUB(rk[8], 0x1b));
	rk[10] = next_words(rk[9], ROT_SUB(rk[9], 0x36));
}

/* AES-256 adds a round key of SubWord alone between those of the rcons. */
#define PAIR256(i, rcon) \
	rk[i] = next_words(rk[(i) - 2], ROT_SUB(rk[(i) - 1], (rcon))); \
	rk[(i) + 1] = next_words(rk[(i) - 1], SUB(rk[i]))

static FAST void schedule256(v128 *rk, const uint8_t *key)
{
	rk[0] = load(key);
	rk[1] = load(key + 16);
	PAIR256(2, 0x01);
	PAIR256(4, 0x02);
	PAIR256(6, 0x04);
	PAIR256(8, 0x08);
	PAIR256(10, 0x10);
	PAIR256(12, 0x20);
	rk[14] = next_words(rk[12], ROT_SUB(rk[13], 0x40));
}

/* n blocks through the cipher side by side; n is a constant where it
 * matters (GROUP), so the loops over blocks unroll. */
static FAST INLINE void aes_blocks(const struct aes_gcm *g, v128 *b, int n)
{
	v128 k = load(g->rk[0]);

	UNROLL
	for (int i = 0; i < n; i++)
		b[i] = _mm_xor_si128(b[i], k);
	for (unsigned r = 1; r < g->rounds; r++) {
		k = load(g->rk[r]);
		UNROLL
		for (int i = 0; i < n; i++)
			b[i] = _mm_aesenc_si128(b[i], k);
	}
	k = load(g->rk[g->rounds]);
	UNROLL
	for (int i = 0; i < n; i++)
		b[i] = _mm_aesenclast_si128(b[i], k);
}

/* ----------------------------------------------------------- GHASH -- */

/* The 256-bit product lo + hi x^128 (reflected: lo holds the high
 * degrees) reduced modulo x^128 + x^7 + x^2 + x + 1. */
static FAST INLINE v128 reduce(v128 lo, v128 hi)
{
	const v128 p = _mm_set_epi64x(0, (long long)0xc200000000000000ULL);
	v128 t = _mm_clmulepi64_si128(lo, p, 0x00);

	lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
	t = _mm_clmulepi64_si128(lo, p, 0x00);
	lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
	return _mm_xor_si128(lo, hi);
}

/* a times the power h (kept times x^-1; hk its halves xored). */
static FAST INLINE v128 mul(v128 a, v128 h, v128 hk)
{
	v128 lo = _mm_clmulepi64_si128(a, h, 0x00);
	v128 hi = _mm_clmulepi64_si128(a, h, 0x11);
	v128 mid = _mm_clmulepi64_si128(
		_mm_xor_si128(a, _mm_shuffle_epi32(a, 0x4e)), hk, 0x00);

	mid = _mm_xor_si128(mid, _mm_xor_si128(lo, hi));
	return reduce(_mm_xor_si128(lo, _mm_slli_si128(mid, 8)),
	              _mm_xor_si128(hi, _mm_srli_si128(mid, 8)));
}

/* v times x^-1: what the multiply takes. The bit shifted out of the top
 * comes back as x^-1's polynomial, chosen by a mask, not a branch. */
static FAST INLINE v128 times_x_inverse(v128 v)
{
	v128 top = _mm_srai_epi32(_mm_shuffle_epi32(v, 0xff), 31);
	v128 carries = _mm_slli_si128(_mm_srli_epi64(v, 63), 8);

	v = _mm_or_si128(_mm_slli_epi64(v, 1), carries);
	return _mm_xor_si128(v, _mm_and_si128(top, _mm_set_epi64x(
		(long long)0xc200000000000000ULL, 1)));
}

static FAST INLINE v128 halves_xored(v128 h)
{
	return _mm_xor_si128(h, _mm_shuffle_epi32(h, 0x4e));
}

/* x folded with the n (1..GROUP) blocks at p: one reduction. */
static FAST INLINE v128 ghash_blocks(const struct aes_gcm *g, v128 x,
                                     const uint8_t *p, int n)
{
	v128 lo = _mm_setzero_si128(), hi = lo, mid = lo;

	UNROLL
	for (int i = 0; i < n; i++) {
		v128 a = reverse(load(p + 16 * i));
		v128 h = load(g->h[POW(n - i)]), hk = load(g->hk[POW(n - i)]);

		if (i == 0)
			a = _mm_xor_si128(a, x);
		lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(a, h, 0x00));
		hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(a, h, 0x11));
		mid = _mm_xor_si128(mid, _mm_clmulepi64_si128(
			halves_xored(a), hk, 0x00));
	}
	mid = _mm_xor_si128(mid, _mm_xor_si128(lo, hi));
	return reduce(_mm_xor_si128(lo, _mm_slli_si128(mid, 8)),
	              _mm_xor_si128(hi, _mm_srli_si128(mid, 8)));
}

/* Whole blocks, GROUP at a time, then the rest; len a multiple of 16. */
static FAST v128 ghash_whole(const struct aes_gcm *g, v128 x,
                             const uint8_t *p, size_t len)
{
	for (; len >= GROUP_BYTES; p += GROUP_BYTES, len -= GROUP_BYTES)
		x = ghash_blocks(g, x, p, GROUP);
	return len ? ghash_blocks(g, x, p, (int)(len / 16)) : x;
}

/* The last block of a part, short: hashed as if padded with zeros. */
static FAST v128 ghash_short(const struct aes_gcm *g, v128 x,
                             const uint8_t *p, size_t len)
{
	uint8_t pad[16] = { 0 };

	memcpy(pad, p, len);
	x = ghash_blocks(g, x, pad, 1);
	explicit_bzero(pad, sizeof pad);
	return x;
}

/* ------------------------------------------------------------- GCM -- */

void FAST aes_gcm_set_key(struct aes_gcm *g, const uint8_t *key,
                          size_t key_len)
{
	v128 rk[AES_GCM_ROUND_KEYS], h, p;

	memset(g, 0, sizeof *g);
	if (key_len == 32) {
		schedule256(rk, key);
		g->rounds = 14;
	} else {
		schedule128(rk, key);
		g->rounds = 10;
	}
	for (unsigned i = 0; i <= g->rounds; i++)
		store(g->rk[i], rk[i]);
	/* H = AES(0); its powers by repeated multiplies. */
	h = _mm_setzero_si128();
	aes_blocks(g, &h, 1);
	p = reverse(h);
	h = times_x_inverse(p);
	store(g->h[POW(1)], h);
	store(g->hk[POW(1)], halves_xored(h));
	for (int e = 2; e <= AES_GCM_POWERS; e++) {
		v128 k;

		p = mul(p, h, halves_xored(h));
		k = times_x_inverse(p);
		store(g->h[POW(e)], k);
		store(g->hk[POW(e)], halves_xored(k));
	}
	g->wide = !narrow && aes_gcm_wide_supported();
	explicit_bzero(rk, sizeof rk);
}

void aes_gcm_set_iv(struct aes_gcm *g, const uint8_t nonce[AES_GCM_NONCE])
{
	memcpy(g->j0, nonce, AES_GCM_NONCE);
	g->j0[12] = g->j0[13] = g->j0[14] = 0;
	g->j0[15] = 1;
	g->ctr = 2;       /* J0 + 1: the text's first block */
	memset(g->x, 0, sizeof g->x);
	g->aad_len = g->len = 0;
}

void FAST aes_gcm_update(struct aes_gcm *g, const uint8_t *aad, size_t len)
{
	size_t whole = len & ~(size_t)15;
	v128 x = ghash_whole(g, load(g->x), aad, whole);

	if (len > whole)
		x = ghash_short(g, x, aad + whole, len - whole);
	store(g->x, x);
	g->aad_len += len;
}

/* The counter blocks, as the nonce with the counter's 32 bits native in
 * the last word; swapped to big-endian per block. */
static FAST INLINE v128 counter_base(const struct aes_gcm *g)
{
	v128 nonce = _mm_and_si128(load(g->j0), _mm_set_epi32(0, -1, -1, -1));

	return _mm_or_si128(nonce, _mm_set_epi32((int)g->ctr, 0, 0, 0));
}

static FAST INLINE v128 counter_block(v128 base, uint32_t i)
{
	v128 c = _mm_add_epi32(base, _mm_set_epi32((int)i, 0, 0, 0));

	return _mm_shuffle_epi8(c, _mm_set_epi8(12, 13, 14, 15, 11, 10, 9, 8,
	                                        7, 6, 5, 4, 3, 2, 1, 0));
}

/* n keystream blocks xored into src to dst. */
static FAST INLINE void ctr_blocks(const struct aes_gcm *g, v128 base,
                                   uint32_t first, uint8_t *dst,
                                   const uint8_t *src, int n)
{
	v128 b[GROUP];

	UNROLL
	for (int i = 0; i < n; i++)
		b[i] = counter_block(base, first + (uint32_t)i);
	aes_blocks(g, b, n);
	UNROLL
	for (int i = 0; i < n; i++)
		store(dst + 16 * i, _mm_xor_si128(b[i], load(src + 16 * i)));
}

/* The text's last bytes, fewer than 16: hashed as the ciphertext padded
 * with zeros. */
static FAST v128 crypt_short(const struct aes_gcm *g, v128 x, v128 base,
                             uint32_t ctr, int encrypt, uint8_t *dst,
                             const uint8_t *src, size_t len)
{
	uint8_t in[16] = { 0 }, out[16];

	memcpy(in, src, len);
	if (!encrypt)
		x = ghash_blocks(g, x, in, 1);
	ctr_blocks(g, base, ctr, out, in, 1);
	memset(out + len, 0, sizeof out - len);
	if (encrypt)
		x = ghash_blocks(g, x, out, 1);
	memcpy(dst, out, len);
	explicit_bzero(in, sizeof in);
	explicit_bzero(out, sizeof out);
	return x;
}

/* Karatsuba's three products of a block and a power, summed in. */
struct sums {
	v128 lo, hi, mid;
};

static FAST INLINE void add_product(struct sums *s, v128 a, v128 h, v128 hk)
{
	s->lo = _mm_xor_si128(s->lo, _mm_clmulepi64_si128(a, h, 0x00));
	s->hi = _mm_xor_si128(s->hi, _mm_clmulepi64_si128(a, h, 0x11));
	s->mid = _mm_xor_si128(s->mid, _mm_clmulepi64_si128(halves_xored(a),
	                                                    hk, 0x00));
}

/* One group, stitched: GROUP counter blocks through AES, and in the same
 * rounds (one block per round, AES having at least GROUP + 1) the GROUP
 * blocks at hashed folded into x with one reduction. hashed may be src
 * (decryption: read before dst, which may be src, is written) or the
 * group before in dst (encryption), or NULL for none. */
static FAST INLINE v128 group(const struct aes_gcm *g, v128 base,
                              uint32_t ctr, uint8_t *dst, const uint8_t *src,
                              const uint8_t *hashed, v128 x)
{
	struct sums s = { _mm_setzero_si128(), _mm_setzero_si128(),
	                  _mm_setzero_si128() };
	v128 b[GROUP], k = load(g->rk[0]);
	unsigned r;

	UNROLL
	for (int i = 0; i < GROUP; i++)
		b[i] = _mm_xor_si128(counter_block(base, ctr + (uint32_t)i), k);
	UNROLL
	for (r = 1; r <= GROUP; r++) {
		k = load(g->rk[r]);
		UNROLL
		for (int i = 0; i < GROUP; i++)
			b[i] = _mm_aesenc_si128(b[i], k);
		if (hashed) {
			v128 a = reverse(load(hashed + 16 * (r - 1)));

			if (r == 1)
				a = _mm_xor_si128(a, x);
			add_product(&s, a, load(g->h[POW(GROUP + 1 - r)]),
			            load(g->hk[POW(GROUP + 1 - r)]));
		}
	}
	for (; r < g->rounds; r++) {
		k = load(g->rk[r]);
		UNROLL
		for (int i = 0; i < GROUP; i++)
			b[i] = _mm_aesenc_si128(b[i], k);
	}
	k = load(g->rk[r]);
	UNROLL
	for (int i = 0; i < GROUP; i++)
		store(dst + 16 * i, _mm_xor_si128(_mm_aesenclast_si128(b[i], k),
		                                  load(src + 16 * i)));
	if (!hashed)
		return x;
	s.mid = _mm_xor_si128(s.mid, _mm_xor_si128(s.lo, s.hi));
	return reduce(_mm_xor_si128(s.lo, _mm_slli_si128(s.mid, 8)),
	              _mm_xor_si128(s.hi, _mm_srli_si128(s.mid, 8)));
}

/* ------------------------------------------- two blocks a register -- */

#define WIDE __attribute__((target("avx2,vaes,vpclmulqdq,aes,pclmul")))
#define WIDE_BLOCKS 16
#define WIDE_BYTES (WIDE_BLOCKS * 16)

typedef __m256i v256;

static WIDE INLINE v256 load2(const void *p)
{
	return _mm256_loadu_si256((const v256 *)p);
}

/* A round key in both halves. */
static WIDE INLINE v256 both(const void *p)
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const v128 *)p));
}

static WIDE INLINE v256 reverse2(v256 v)
{
	return _mm256_shuffle_epi8(v, _mm256_set_epi8(
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* Counter blocks i and i + 1 (base2: the base, and the base plus one). */
static WIDE INLINE v256 counter_pair(v256 base2, uint32_t i)
{
	v256 c = _mm256_add_epi32(base2, _mm256_set_epi32((int)i, 0, 0, 0,
	                                                  (int)i, 0, 0, 0));

	return _mm256_shuffle_epi8(c, _mm256_set_epi8(
		12, 13, 14, 15, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
		12, 13, 14, 15, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}

static WIDE INLINE v128 fold_lanes(v256 v)
{
	return _mm_xor_si128(_mm256_castsi256_si128(v),
	                     _mm256_extracti128_si256(v, 1));
}

/* group() with sixteen blocks, two a register: the pair j of the blocks
 * hashed takes H^(16-2j) and H^(15-2j), which lie side by side. */
static WIDE INLINE v128 wide_group(const struct aes_gcm *g, v256 base2,
                                   uint32_t ctr, uint8_t *dst,
                                   const uint8_t *src, const uint8_t *hashed,
                                   v128 x)
{
	v256 b[WIDE_BLOCKS / 2], k = both(g->rk[0]);
	v256 lo = _mm256_setzero_si256(), hi = lo, mid = lo;
	unsigned r;

	UNROLL
	for (int i = 0; i < WIDE_BLOCKS / 2; i++)
		b[i] = _mm256_xor_si256(counter_pair(base2, ctr + 2 * (uint32_t)i),
		                        k);
	UNROLL
	for (r = 1; r <= WIDE_BLOCKS / 2; r++) {
		k = both(g->rk[r]);
		UNROLL
		for (int i = 0; i < WIDE_BLOCKS / 2; i++)
			b[i] = _mm256_aesenc_epi128(b[i], k);
		if (hashed) {
			v256 a = reverse2(load2(hashed + 32 * (r - 1)));
			v256 h = load2(g->h[2 * (r - 1)]);
			v256 hk = load2(g->hk[2 * (r - 1)]);

			if (r == 1)
				a = _mm256_xor_si256(a, _mm256_zextsi128_si256(x));
			lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(a, h, 0x00));
			hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(a, h, 0x11));
			mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128(
				_mm256_xor_si256(a, _mm256_shuffle_epi32(a, 0x4e)),
				hk, 0x00));
		}
	}
	for (; r < g->rounds; r++) {
		k = both(g->rk[r]);
		UNROLL
		for (int i = 0; i < WIDE_BLOCKS / 2; i++)
			b[i] = _mm256_aesenc_epi128(b[i], k);
	}
	k = both(g->rk[r]);
	UNROLL
	for (int i = 0; i < WIDE_BLOCKS / 2; i++)
		_mm256_storeu_si256((v256 *)(dst + 32 * i), _mm256_xor_si256(
			_mm256_aesenclast_epi128(b[i], k), load2(src + 32 * i)));
	if (!hashed)
		return x;
	{
		v128 l = fold_lanes(lo), h = fold_lanes(hi), m = fold_lanes(mid);

		m = _mm_xor_si128(m, _mm_xor_si128(l, h));
		return reduce(_mm_xor_si128(l, _mm_slli_si128(m, 8)),
		              _mm_xor_si128(h, _mm_srli_si128(m, 8)));
	}
}

/* As many whole groups of sixteen as there are; *done and *ctr say how far
 * it went. */
static WIDE v128 wide_crypt(const struct aes_gcm *g, int encrypt,
                            uint8_t *dst, const uint8_t *src, size_t whole,
                            size_t *done, uint32_t *ctr, v128 x)
{
	v256 base2 = _mm256_add_epi32(
		_mm256_broadcastsi128_si256(counter_base(g)),
		_mm256_set_epi32(1, 0, 0, 0, 0, 0, 0, 0));
	size_t n = 0;
	uint32_t c = 0;

	for (; whole - n >= WIDE_BYTES; n += WIDE_BYTES) {
		const uint8_t *hashed = !encrypt ? src + n :
		                        n ? dst + n - WIDE_BYTES : NULL;

		x = wide_group(g, base2, c, dst + n, src + n, hashed, x);
		c += WIDE_BLOCKS;
	}
	if (encrypt && n) {
		x = ghash_blocks(g, x, dst + n - WIDE_BYTES, GROUP);
		x = ghash_blocks(g, x, dst + n - GROUP_BYTES, GROUP);
	}
	*done = n;
	*ctr = c;
	return x;
}

/* --------------------------------------------------------- the text -- */

static FAST void crypt_text(struct aes_gcm *g, int encrypt, uint8_t *dst,
                            const uint8_t *src, size_t len)
{
	v128 x = load(g->x), base = counter_base(g);
	uint32_t ctr = 0;
	size_t done = 0, start, whole = len & ~(size_t)15;

	g->len += len;
	if (g->wide)
		x = wide_crypt(g, encrypt, dst, src, whole, &done, &ctr, x);
	/* Encryption hashes the group before while it encrypts this one. */
	for (start = done; whole - done >= GROUP_BYTES; done += GROUP_BYTES) {
		const uint8_t *hashed = !encrypt ? src + done :
		                        done > start ? dst + done - GROUP_BYTES :
		                        NULL;

		x = group(g, base, ctr, dst + done, src + done, hashed, x);
		ctr += GROUP;
	}
	if (encrypt && done > start)
		x = ghash_blocks(g, x, dst + done - GROUP_BYTES, GROUP);
	for (; done < whole; done += 16, ctr++) {
		if (!encrypt)
			x = ghash_blocks(g, x, src + done, 1);
		ctr_blocks(g, base, ctr, dst + done, src + done, 1);
		if (encrypt)
			x = ghash_blocks(g, x, dst + done, 1);
	}
	if (len > whole)
		x = crypt_short(g, x, base, ctr++, encrypt, dst + whole,
		                src + whole, len - whole);
	g->ctr += ctr;
	store(g->x, x);
}

void aes_gcm_encrypt(struct aes_gcm *g, uint8_t *dst, const uint8_t *src,
                     size_t len)
{
	crypt_text(g, 1, dst, src, len);
}

void aes_gcm_decrypt(struct aes_gcm *g, uint8_t *dst, const uint8_t *src,
                     size_t len)
{
	crypt_text(g, 0, dst, src, len);
}

/* GHASH of the lengths in bits, then xored with the first counter
 * block's keystream. */
void FAST aes_gcm_digest(struct aes_gcm *g, uint8_t tag[AES_GCM_TAG])
{
	v128 lens = _mm_set_epi64x((long long)(g->aad_len * 8),
	                           (long long)(g->len * 8));
	v128 x = mul(_mm_xor_si128(load(g->x), lens), load(g->h[POW(1)]),
	             load(g->hk[POW(1)]));
	v128 e = load(g->j0);

	aes_blocks(g, &e, 1);
	store(tag, _mm_xor_si128(reverse(x), e));
}

#else

/* Not x86-64: the record layer keeps nettle's gcm, and never calls the
 * rest. */
int aes_gcm_supported(void)
{
	return 0;
}

int aes_gcm_wide_supported(void)
{
	return 0;
}

void aes_gcm_narrow_only(int on)
{
	(void)on;
}

void aes_gcm_set_key(struct aes_gcm *g, const uint8_t *key, size_t key_len)
{
	(void)key;
	(void)key_len;
	memset(g, 0, sizeof *g);
}

void aes_gcm_set_iv(struct aes_gcm *g, const uint8_t nonce[AES_GCM_NONCE])
{
	(void)g;
	(void)nonce;
}

void aes_gcm_update(struct aes_gcm *g, const uint8_t *aad, size_t len)
{
	(void)g;
	(void)aad;
	(void)len;
}

void aes_gcm_encrypt(struct aes_gcm *g, uint8_t *dst, const uint8_t *src,
                     size_t len)
{
	(void)g;
	(void)dst;
	(void)src;
	(void)len;
}

void aes_gcm_decrypt(struct aes_gcm *g, uint8_t *dst, const uint8_t *src,
                     size_t len)
{
	(void)g;
	(void)dst;
	(void)src;
	(void)len;
}

void aes_gcm_digest(struct aes_gcm *g, uint8_t tag[AES_GCM_TAG])
{
	(void)g;
	memset(tag, 0, AES_GCM_TAG);
}

#endif
