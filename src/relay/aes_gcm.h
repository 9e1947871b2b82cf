/* AES-128-GCM and AES-256-GCM for the TLS record layer (tls_record.c),
 * with the x86-64 instructions made for them: AES-NI for the cipher, eight
 * counter blocks in flight, and PCLMULQDQ for GHASH, eight blocks folded
 * per reduction, the two in one pass over the record. nettle 3.8 does the
 * two passes apart and reduces every block, and was most of
 * postern-tls-relay's CPU in a bulk transfer (doc/performance.md).
 *
 * The calls follow nettle's gcm_* so that tls_record.c can take either:
 * a key, then per message a 12-byte nonce, the additional data, the text,
 * the tag. Additional data and text may each come in several calls, all
 * but the last a multiple of 16 bytes. dst and src are the same buffer or
 * do not overlap. aes_gcm_supported() says whether this CPU has the
 * instructions; without them the record layer keeps nettle's gcm. Where
 * the CPU has VAES and VPCLMULQDQ (with AVX2), sixteen blocks go at a
 * time, two an instruction.
 *
 * Constant time: AES-NI and PCLMULQDQ have no tables; nothing here
 * branches on or indexes by a key or a text. libc and the compiler's
 * intrinsics only: each function that uses the instructions is compiled
 * for them alone (target attributes), the rest of the build needs no -m
 * flag. */
#ifndef POSTERN_AES_GCM_H
#define POSTERN_AES_GCM_H

#include <stddef.h>
#include <stdint.h>

#define AES_GCM_NONCE 12
#define AES_GCM_TAG 16
#define AES_GCM_ROUND_KEYS 15     /* AES-256's; AES-128 uses 11 */
#define AES_GCM_POWERS 16         /* blocks per GHASH reduction, at most */

struct aes_gcm {
	/* The key's: the round keys, and H^16..H^1 (highest first, as a
	 * group's blocks take them) in the form the multiply takes them
	 * (byte-reversed, times x^-1), each with its two halves xored for
	 * Karatsuba's middle product. wide: VAES and VPCLMULQDQ do two
	 * blocks an instruction. */
	uint8_t rk[AES_GCM_ROUND_KEYS][16];
	unsigned rounds;
	int wide;
	uint8_t h[AES_GCM_POWERS][16];
	uint8_t hk[AES_GCM_POWERS][16];
	/* The message's: the first counter block (for the tag), the next
	 * counter, the running GHASH (byte-reversed), the lengths. */
	uint8_t j0[16];
	uint32_t ctr;
	uint8_t x[16];
	uint64_t aad_len, len;
};

/* 1 when the CPU has AES-NI, PCLMULQDQ and SSSE3 (asked once, cpuid). */
int aes_gcm_supported(void);
/* 1 when it also has AVX2, VAES and VPCLMULQDQ, and the system saves the
 * YMM registers: keys set then take the wide path. */
int aes_gcm_wide_supported(void);
/* For tests: on, keys set after it take the 128-bit path even where the
 * wide one could run. */
void aes_gcm_narrow_only(int on);

/* key_len 16 or 32. Only when aes_gcm_supported(). */
void aes_gcm_set_key(struct aes_gcm *g, const uint8_t *key, size_t key_len);
void aes_gcm_set_iv(struct aes_gcm *g, const uint8_t nonce[AES_GCM_NONCE]);
void aes_gcm_update(struct aes_gcm *g, const uint8_t *aad, size_t len);
void aes_gcm_encrypt(struct aes_gcm *g, uint8_t *dst, const uint8_t *src,
                     size_t len);
void aes_gcm_decrypt(struct aes_gcm *g, uint8_t *dst, const uint8_t *src,
                     size_t len);
void aes_gcm_digest(struct aes_gcm *g, uint8_t tag[AES_GCM_TAG]);

#endif
