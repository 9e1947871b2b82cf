/* The TLS record layer of postern-tls-relay (tls_record.c), two ways,
 * chosen by the input's first byte: its low bits pick the version and
 * cipher (six kinds), bit 3 the way.
 *
 * Raw: the rest is the stream a peer sends, opened record by record as
 * postern-tls-relay does (a buffer of one record, consumed as records
 * open). Forged tags fail; what is tested is that no header, length or
 * size makes the layer read or write outside the record, give more than
 * 2^14 bytes, or take more than it was given.
 *
 * Sealed: the rest is chunks, each a control byte, a length byte and that
 * many bytes, sealed with the keys (as content of a type the control byte
 * picks, or for TLS 1.3 as a raw inner plaintext, padding and all) and
 * opened again, a byte flipped first when the control byte says so. An
 * untouched record must open to what was sealed; a flipped one must never
 * open; what opens goes through tls_in_content (tickets, alerts, key
 * updates, split handshake messages) as the relay would take it. */
#include "fuzz.h"
#include "tls_record.h"

#include <string.h>

static const struct {
	uint16_t version;
	uint8_t cipher;
} kinds[] = {
	{ TLS_VERSION_13, TLS_REC_AES_128_GCM },
	{ TLS_VERSION_13, TLS_REC_AES_256_GCM },
	{ TLS_VERSION_13, TLS_REC_CHACHA20_POLY1305 },
	{ TLS_VERSION_12, TLS_REC_AES_128_GCM },
	{ TLS_VERSION_12, TLS_REC_AES_256_GCM },
	{ TLS_VERSION_12, TLS_REC_CHACHA20_POLY1305 },
};

static void keys(struct tls_rec_keys *k, unsigned kind)
{
	memset(k, 0, sizeof *k);
	k->version = kinds[kind].version;
	k->cipher = kinds[kind].cipher;
	for (size_t i = 0; i < sizeof k->key; i++)
		k->key[i] = (uint8_t)(3 * i + 1);
	for (size_t i = 0; i < sizeof k->iv; i++)
		k->iv[i] = (uint8_t)(7 * i + 5);
	k->seq = 1;
}

static void check_open(const uint8_t *buf, size_t have, size_t used,
                       const uint8_t *plain, size_t len)
{
	FUZZ_ASSERT(used >= TLS_REC_HEADER && used <= have);
	FUZZ_ASSERT(len <= TLS_REC_PLAIN_MAX);
	FUZZ_ASSERT(plain >= buf && plain + len <= buf + used);
}

static void raw(struct tls_rec *r, struct tls_inbound *in,
                const uint8_t *data, size_t size)
{
	static uint8_t buf[TLS_REC_IN_MAX];
	size_t have = 0;

	while (size > 0 || have > 0) {
		size_t take = sizeof buf - have < size ? sizeof buf - have : size;
		size_t used, len;
		uint8_t type, *plain;
		const char *why = NULL;
		enum tls_rec_result res;

		memcpy(buf + have, data, take);
		have += take;
		data += take;
		size -= take;
		res = tls_rec_open(r, buf, have, &used, &type, &plain, &len,
		                   &why);
		if (res == TLS_REC_BAD) {
			FUZZ_ASSERT(why != NULL);
			return;
		}
		if (res == TLS_REC_MORE) {
			/* A whole record always fits the buffer. */
			FUZZ_ASSERT(have < sizeof buf);
			if (size == 0)
				return;
			continue;
		}
		check_open(buf, have, used, plain, len);
		if (tls_in_content(in, type, plain, len, &why) == TLS_IN_BAD)
			return;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
}

static const uint8_t types[] = { TLS_CT_APPLICATION_DATA, TLS_CT_ALERT,
	                         TLS_CT_HANDSHAKE, 0 /* raw inner */ };

static int one_chunk(struct tls_rec *tx, struct tls_rec *rx,
                     struct tls_inbound *in, uint8_t ctl,
                     const uint8_t *p, size_t n)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	uint8_t type = types[ctl & 3], got, *plain;
	size_t len, used, w;
	int flip = (ctl & 4) != 0;
	const char *why = NULL;
	enum tls_rec_result res;

	if (type == 0) {
		/* TLS 1.3: the last byte as the "type", zeros and all. */
		if (tx->version != TLS_VERSION_13 || n == 0)
			return 0;
		type = p[n - 1];
		n--;
	}
	w = tls_rec_seal(tx, type, p, n, rec);
	FUZZ_ASSERT(w > n && w <= TLS_REC_OUT_MAX);
	if (flip)
		rec[(size_t)(ctl >> 3) * 7 % w] ^= (uint8_t)(1u << (ctl & 7));
	res = tls_rec_open(rx, rec, w, &used, &got, &plain, &len, &why);
	if (flip) {
		FUZZ_ASSERT(res != TLS_REC_OK);
		return -1;
	}
	if (res != TLS_REC_OK) {
		/* Only a TLS 1.3 inner plaintext of zeros fails untouched. */
		FUZZ_ASSERT(tx->version == TLS_VERSION_13 && type == 0);
		return -1;
	}
	check_open(rec, w, used, plain, len);
	FUZZ_ASSERT(used == w);
	if (type != 0) {
		FUZZ_ASSERT(got == type && len == n);
		FUZZ_ASSERT(memcmp(plain, p, n) == 0);
	}
	return tls_in_content(in, got, plain, len, &why) == TLS_IN_BAD ? -1 : 0;
}

static void sealed(struct tls_rec *tx, struct tls_rec *rx,
                   struct tls_inbound *in, const uint8_t *data, size_t size)
{
	while (size >= 2) {
		uint8_t ctl = data[0];
		size_t n = data[1] < size - 2 ? data[1] : size - 2;

		if (one_chunk(tx, rx, in, ctl, data + 2, n) < 0)
			return;
		data += 2 + n;
		size -= 2 + n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_rec tx, rx;
	struct tls_inbound in;
	struct tls_rec_keys k;
	const char *why;
	unsigned kind;

	if (size < 1)
		return 0;
	kind = (data[0] & 7) % (sizeof kinds / sizeof kinds[0]);
	keys(&k, kind);
	FUZZ_ASSERT(tls_rec_init(&tx, &k, &why) == 0);
	FUZZ_ASSERT(tls_rec_init(&rx, &k, &why) == 0);
	tls_in_init(&in, k.version, (data[0] & 0x10) != 0);
	if (data[0] & 8)
		sealed(&tx, &rx, &in, data + 1, size - 1);
	else
		raw(&rx, &in, data + 1, size - 1);
	return 0;
}
