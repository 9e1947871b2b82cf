/* What the record layer's unit tests share (test_tls_record.c,
 * test_aes_gcm.c, test_chacha_poly.c): hex from the RFCs' texts, a
 * seeded generator, and the check that a direction of ours and nettle's
 * seal the same records and open each other's. Static inline: each test
 * takes what it uses. */
#ifndef POSTERN_RECORD_CHECK_H
#define POSTERN_RECORD_CHECK_H

#include "tls_record.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>

static inline size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	for (; h[0] && h[1]; h += 2)
		if (sscanf(h, "%2x", &v) == 1)
			out[n++] = (uint8_t)v;
	return n;
}

/* xorshift64: the same inputs every run, so a failure repeats. */
static uint64_t rng = 0x243f6a8885a308d3ULL;

static inline uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline void random_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)next();
}

/* A record with its last tag byte flipped is refused. */
static inline void tag_flipped(struct tls_rec *tx, struct tls_rec *rx,
                               const uint8_t *data, uint8_t *rec)
{
	size_t n = tls_rec_seal(tx, TLS_CT_APPLICATION_DATA, data, 100, rec);
	size_t used, plain_len;
	uint8_t type, *plain;
	const char *why = NULL;

	rec[n - 1] ^= 1;
	ck_assert_int_eq(tls_rec_open(rx, rec, n, &used, &type, &plain,
	                              &plain_len, &why), TLS_REC_BAD);
	ck_assert_str_eq(why, "a record whose tag does not verify");
}

/* 200 records of every length class: ours and nettle's byte for byte the
 * same, each opening the other's; then a flipped tag; then all wiped. */
static inline void records_agree(struct tls_rec *own_tx,
                                 struct tls_rec *own_rx,
                                 struct tls_rec *nettle_tx,
                                 struct tls_rec *nettle_rx)
{
	static uint8_t data[TLS_REC_PLAIN_MAX], a[TLS_REC_OUT_MAX],
		b[TLS_REC_OUT_MAX];
	const char *why = NULL;

	for (int i = 0; i < 200; i++) {
		size_t len = i < 100 ? (size_t)i * 163 % (TLS_REC_PLAIN_MAX + 1)
		                     : next() % (TLS_REC_PLAIN_MAX + 1);
		size_t na, nb, used, plain_len;
		uint8_t type, *plain;

		random_bytes(data, len);
		na = tls_rec_seal(own_tx, TLS_CT_APPLICATION_DATA, data, len, a);
		nb = tls_rec_seal(nettle_tx, TLS_CT_APPLICATION_DATA, data, len,
		                  b);
		ck_assert_uint_eq(na, nb);
		ck_assert_mem_eq(a, b, na);
		ck_assert_int_eq(tls_rec_open(own_rx, b, nb, &used, &type,
		                              &plain, &plain_len, &why),
		                 TLS_REC_OK);
		ck_assert_uint_eq(plain_len, len);
		ck_assert_mem_eq(plain, data, len);
		ck_assert_int_eq(tls_rec_open(nettle_rx, a, na, &used, &type,
		                              &plain, &plain_len, &why),
		                 TLS_REC_OK);
		ck_assert_mem_eq(plain, data, len);
	}
	tag_flipped(own_tx, own_rx, data, a);
	tls_rec_wipe(own_tx);
	tls_rec_wipe(own_rx);
	tls_rec_wipe(nettle_tx);
	tls_rec_wipe(nettle_rx);
}

#endif
