/* tls_record.c: RFC 8448's TLS 1.3 records opened and sealed byte for
 * byte; every cipher and version round trip; and what must end a session:
 * a flipped tag, header or byte, a wrong sequence number, a length over
 * the limit, all padding, a KeyUpdate, renegotiation, other alerts. Also
 * the hand-off's byte layout (tls_keys.c). */
#include "tls_record.h"

#include "record_check.h"
#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* RFC 8448 section 3: the application traffic keys and IVs. */
#define SERVER_KEY "9f02283b6c9c07efc26bb9f2ac92e356"
#define SERVER_IV "cf782b88dd83549aadf1e984"
#define CLIENT_KEY "17422dda596ed5d9acd890e3c63f5051"
#define CLIENT_IV "5b78923dee08579033e523d9"
/* The server's NewSessionTicket record (seq 0), its application data
 * (seq 1) and close_notify (seq 2); the client's data (seq 0). */
#define NST_RECORD \
	"17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d4" \
	"1d6af8f6b580dcf3d11d63c758db289a015940252f55713e061dc13e078891a3" \
	"8efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0" \
	"9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406" \
	"f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c8651" \
	"9d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74" \
	"bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf159" \
	"85684f"
#define SERVER_DATA_RECORD \
	"17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36" \
	"e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf33254" \
	"0dd032e167c2955d"
#define SERVER_ALERT_RECORD "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9"
#define CLIENT_DATA_RECORD \
	"1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f" \
	"2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6" \
	"3aeebb21694915e4"

static struct tls_rec_keys keys13(const char *key, const char *iv)
{
	struct tls_rec_keys k;

	memset(&k, 0, sizeof k);
	k.version = TLS_VERSION_13;
	k.cipher = TLS_REC_AES_128_GCM;
	unhex(key, k.key);
	unhex(iv, k.iv);
	return k;
}

static void payload(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)i;
}

START_TEST(rfc8448_server_records_open)
{
	struct tls_rec_keys k = keys13(SERVER_KEY, SERVER_IV);
	static uint8_t in[4096];
	uint8_t want[50], type, *plain;
	struct tls_rec r;
	struct tls_inbound s;
	const char *why = NULL;
	size_t n, used, len;

	ck_assert_int_eq(tls_rec_init(&r, &k, &why), 0);
	tls_in_init(&s, TLS_VERSION_13, 1);
	n = unhex(NST_RECORD, in);
	ck_assert_int_eq(tls_rec_open(&r, in, n, &used, &type, &plain, &len,
	                              &why), TLS_REC_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(type, TLS_CT_HANDSHAKE);
	ck_assert_uint_eq(len, 205);
	ck_assert_uint_eq(plain[0], 4);
	ck_assert_int_eq(tls_in_content(&s, type, plain, len, &why), TLS_IN_NONE);

	n = unhex(SERVER_DATA_RECORD, in);
	ck_assert_int_eq(tls_rec_open(&r, in, n, &used, &type, &plain, &len,
	                              &why), TLS_REC_OK);
	payload(want, sizeof want);
	ck_assert_uint_eq(type, TLS_CT_APPLICATION_DATA);
	ck_assert_uint_eq(len, 50);
	ck_assert_mem_eq(plain, want, 50);
	ck_assert_int_eq(tls_in_content(&s, type, plain, len, &why), TLS_IN_DATA);

	n = unhex(SERVER_ALERT_RECORD, in);
	ck_assert_int_eq(tls_rec_open(&r, in, n, &used, &type, &plain, &len,
	                              &why), TLS_REC_OK);
	ck_assert_uint_eq(type, TLS_CT_ALERT);
	ck_assert_int_eq(tls_in_content(&s, type, plain, len, &why), TLS_IN_EOF);
	tls_rec_wipe(&r);
}
END_TEST

START_TEST(rfc8448_client_record_sealed_byte_for_byte)
{
	struct tls_rec_keys k = keys13(CLIENT_KEY, CLIENT_IV);
	static uint8_t out[TLS_REC_OUT_MAX], want[128];
	uint8_t data[50];
	struct tls_rec r;
	const char *why;
	size_t n, w;

	ck_assert_int_eq(tls_rec_init(&r, &k, &why), 0);
	payload(data, sizeof data);
	n = tls_rec_seal(&r, TLS_CT_APPLICATION_DATA, data, sizeof data, out);
	w = unhex(CLIENT_DATA_RECORD, want);
	ck_assert_uint_eq(n, w);
	ck_assert_mem_eq(out, want, w);
	ck_assert_uint_eq(r.seq, 1);
}
END_TEST

/* A sealer and an opener of one direction, for a version and cipher. */
struct pair {
	struct tls_rec tx, rx;
};

static void pair_init(struct pair *p, uint16_t version, uint8_t cipher)
{
	struct tls_rec_keys k;
	const char *why;

	memset(&k, 0, sizeof k);
	k.version = version;
	k.cipher = cipher;
	for (size_t i = 0; i < sizeof k.key; i++)
		k.key[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof k.iv; i++)
		k.iv[i] = (uint8_t)(0x10 + i);
	k.seq = 7;
	ck_assert_int_eq(tls_rec_init(&p->tx, &k, &why), 0);
	ck_assert_int_eq(tls_rec_init(&p->rx, &k, &why), 0);
}

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
#define NKINDS (int)(sizeof kinds / sizeof kinds[0])

static size_t seal(struct pair *p, size_t len, uint8_t *rec)
{
	static uint8_t data[TLS_REC_PLAIN_MAX];

	payload(data, len);
	return tls_rec_seal(&p->tx, TLS_CT_APPLICATION_DATA, data, len, rec);
}

static enum tls_rec_result open_it(struct pair *p, uint8_t *rec, size_t n,
                                   size_t *len, const char **why)
{
	uint8_t type, *plain;
	size_t used;

	return tls_rec_open(&p->rx, rec, n, &used, &type, &plain, len, why);
}

START_TEST(every_kind_round_trips)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	const size_t sizes[] = { 0, 1, 50, 1000, TLS_REC_PLAIN_MAX };
	struct pair p;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = seal(&p, sizes[i], rec), len = 999, used;
		uint8_t type, *plain, want[TLS_REC_PLAIN_MAX];
		const char *why = NULL;

		ck_assert_uint_gt(n, sizes[i]);
		ck_assert_uint_le(n, TLS_REC_OUT_MAX);
		/* Short of its last byte, a record is not whole yet. */
		ck_assert_int_eq(tls_rec_open(&p.rx, rec, n - 1, &used, &type,
		                              &plain, &len, &why), TLS_REC_MORE);
		ck_assert_int_eq(tls_rec_open(&p.rx, rec, n, &used, &type,
		                              &plain, &len, &why), TLS_REC_OK);
		ck_assert_uint_eq(used, n);
		ck_assert_uint_eq(type, TLS_CT_APPLICATION_DATA);
		ck_assert_uint_eq(len, sizes[i]);
		payload(want, len);
		ck_assert_mem_eq(plain, want, len);
	}
	ck_assert_uint_eq(p.tx.seq, p.rx.seq);
}
END_TEST

/* One byte flipped anywhere: the header, the explicit nonce, the body, the
 * tag. The header's length may make it too long or short instead. */
START_TEST(any_flipped_byte_is_refused)
{
	static uint8_t rec[TLS_REC_OUT_MAX], copy[TLS_REC_OUT_MAX];
	struct pair p;
	size_t n;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	n = seal(&p, 40, rec);
	for (size_t at = 0; at < n; at++) {
		struct tls_rec saved = p.rx;
		const char *why = NULL;
		size_t len;
		enum tls_rec_result r;

		memcpy(copy, rec, n);
		copy[at] ^= 0x01;
		r = open_it(&p, copy, n, &len, &why);
		/* A longer length waits for more; nothing else passes. */
		if ((at == 3 || at == 4) && r == TLS_REC_MORE)
			continue;
		ck_assert_msg(r == TLS_REC_BAD, "byte %zu flipped passed", at);
		ck_assert_ptr_nonnull(why);
		p.rx = saved;
	}
	ck_assert_int_eq(open_it(&p, rec, n, &n, &(const char *){ NULL }),
	                 TLS_REC_OK);
}
END_TEST

/* A record whose tag does not verify was decrypted in place before the
 * check: its body is left zeros, not plaintext, in every cipher. */
START_TEST(a_refused_record_leaves_no_plaintext)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	const char *why = NULL;
	struct pair p;
	size_t n, len, body;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	n = seal(&p, 1000, rec);
	body = TLS_REC_HEADER + (kinds[_i].version == TLS_VERSION_12 &&
	                         kinds[_i].cipher != TLS_REC_CHACHA20_POLY1305 ?
	                         TLS_REC_EXPLICIT_NONCE : 0);
	rec[n - 1] ^= 0x80;
	ck_assert_int_eq(open_it(&p, rec, n, &len, &why), TLS_REC_BAD);
	for (size_t i = body; i < n - TLS_REC_TAG; i++)
		ck_assert_msg(rec[i] == 0, "byte %zu of a refused record kept", i);
}
END_TEST

START_TEST(a_wrong_sequence_number_fails)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	const char *why = NULL;
	struct pair p;
	size_t n, len;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	n = seal(&p, 10, rec);
	p.rx.seq++;
	ck_assert_int_eq(open_it(&p, rec, n, &len, &why), TLS_REC_BAD);
	ck_assert_str_eq(why, "a record whose tag does not verify");
	ck_assert_uint_eq(p.rx.alert, TLS_ALERT_BAD_RECORD_MAC);
}
END_TEST

START_TEST(a_replayed_record_fails)
{
	static uint8_t rec[TLS_REC_OUT_MAX], again[TLS_REC_OUT_MAX];
	const char *why = NULL;
	struct pair p;
	size_t n, len;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	n = seal(&p, 10, rec);
	memcpy(again, rec, n);
	ck_assert_int_eq(open_it(&p, rec, n, &len, &why), TLS_REC_OK);
	ck_assert_int_eq(open_it(&p, again, n, &len, &why), TLS_REC_BAD);
}
END_TEST

START_TEST(a_length_over_the_limit_fails_from_the_header)
{
	uint8_t hdr[5] = { TLS_CT_APPLICATION_DATA, 3, 3, 0, 0 };
	size_t over = kinds[_i].version == TLS_VERSION_13 ?
	              TLS_REC_CIPHER_MAX_13 + 1 : TLS_REC_CIPHER_MAX_12 + 1;
	const char *why = NULL;
	struct pair p;
	size_t len;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	hdr[3] = (uint8_t)(over >> 8);
	hdr[4] = (uint8_t)over;
	ck_assert_int_eq(open_it(&p, hdr, sizeof hdr, &len, &why), TLS_REC_BAD);
	ck_assert_str_eq(why, "a record longer than the protocol allows");
	ck_assert_uint_eq(p.rx.alert, TLS_ALERT_RECORD_OVERFLOW);
	/* And shorter than the tag. */
	hdr[3] = 0;
	hdr[4] = 15;
	ck_assert_int_eq(open_it(&p, hdr, sizeof hdr, &len, &why), TLS_REC_BAD);
	ck_assert_str_eq(why, "a record shorter than its cipher's overhead");
	ck_assert_uint_eq(p.rx.alert, TLS_ALERT_BAD_RECORD_MAC);
}
END_TEST

/* A TLS 1.3 record whose inner plaintext has no type, only zeros; and one
 * with padding after a real type, which is fine. */
static size_t seal13_inner(struct tls_rec *r, const uint8_t *inner,
                           size_t n, uint8_t *out)
{
	/* Sealed as content of type inner[n-1] from inner[0..n-1): the same
	 * bytes on the wire as padding would give. */
	return tls_rec_seal(r, inner[n - 1], inner, n - 1, out);
}

START_TEST(tls13_padding)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	uint8_t inner[8] = { 'h', 'i', TLS_CT_APPLICATION_DATA, 0, 0, 0, 0, 0 };
	uint8_t zeros[8] = { 0 }, type, *plain;
	const char *why = NULL;
	struct pair p;
	size_t n, len, used;

	pair_init(&p, TLS_VERSION_13, TLS_REC_AES_128_GCM);
	/* "hi", type 23, four zeros, sealed with a last zero "type". */
	n = seal13_inner(&p.tx, inner, sizeof inner, rec);
	ck_assert_int_eq(tls_rec_open(&p.rx, rec, n, &used, &type, &plain,
	                              &len, &why), TLS_REC_OK);
	ck_assert_uint_eq(type, TLS_CT_APPLICATION_DATA);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(plain, "hi", 2);
	n = seal13_inner(&p.tx, zeros, sizeof zeros, rec);
	ck_assert_int_eq(tls_rec_open(&p.rx, rec, n, &used, &type, &plain,
	                              &len, &why), TLS_REC_BAD);
	ck_assert_str_eq(why, "a record with no content type (all padding)");
}
END_TEST

START_TEST(tls13_rejects_a_clear_record)
{
	uint8_t rec[32] = { TLS_CT_HANDSHAKE, 3, 3, 0, 20 };
	const char *why = NULL;
	struct pair p;
	size_t len;

	pair_init(&p, TLS_VERSION_13, TLS_REC_AES_128_GCM);
	ck_assert_int_eq(open_it(&p, rec, sizeof rec, &len, &why), TLS_REC_BAD);
}
END_TEST

START_TEST(a_spent_direction_seals_and_opens_nothing)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	const char *why = NULL;
	struct pair p;
	size_t n, len;

	pair_init(&p, kinds[_i].version, kinds[_i].cipher);
	p.tx.seq = p.rx.seq = UINT64_MAX;
	n = seal(&p, 5, rec);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(p.tx.spent, 1);
	ck_assert_uint_eq(seal(&p, 5, rec + n), 0);
	ck_assert_int_eq(open_it(&p, rec, n, &len, &why), TLS_REC_OK);
	ck_assert_int_eq(p.rx.spent, 1);
	ck_assert_int_eq(open_it(&p, rec, n, &len, &why), TLS_REC_BAD);
	ck_assert_str_eq(why, "the sequence numbers are used up");
}
END_TEST

START_TEST(tls13_aes_keys_stop_before_their_limit)
{
	static uint8_t rec[TLS_REC_OUT_MAX];
	struct pair p;

	pair_init(&p, TLS_VERSION_13, TLS_REC_AES_256_GCM);
	p.tx.seal_left = 1;
	ck_assert_uint_gt(seal(&p, 5, rec), 0);
	ck_assert_uint_eq(seal(&p, 5, rec), 0);
}
END_TEST

/* Past the record layer: what a peer may send after the hand-off. */
static enum tls_in_result feed(struct tls_inbound *s, uint8_t type,
                               const char *hex, const char **why)
{
	uint8_t b[64];
	size_t n = unhex(hex, b);

	return tls_in_content(s, type, b, n, why);
}

START_TEST(tickets_split_and_joined_are_dropped)
{
	struct tls_inbound s;
	const char *why = NULL;

	tls_in_init(&s, TLS_VERSION_13, 1);
	/* Two tickets of 3 and 2 bytes in one record, then one split over
	 * three records, its header split too. */
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "04000003aabbcc0400000201"
	                      "02", &why), TLS_IN_NONE);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "0400", &why), TLS_IN_NONE);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "0004aabb", &why),
	                 TLS_IN_NONE);
	/* Data inside a message is refused. */
	ck_assert_int_eq(feed(&s, TLS_CT_APPLICATION_DATA, "41", &why),
	                 TLS_IN_BAD);
	tls_in_init(&s, TLS_VERSION_13, 1);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "04000001ff", &why),
	                 TLS_IN_NONE);
	ck_assert_int_eq(feed(&s, TLS_CT_APPLICATION_DATA, "41", &why),
	                 TLS_IN_DATA);
}
END_TEST

START_TEST(what_ends_the_session)
{
	struct tls_inbound s;
	const char *why = NULL;

	tls_in_init(&s, TLS_VERSION_13, 1);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "1800000100", &why),
	                 TLS_IN_BAD);
	ck_assert_str_eq(why, "the peer updated its keys (KeyUpdate)");
	ck_assert_uint_eq(s.alert, TLS_ALERT_INTERNAL_ERROR);
	/* A client sends no tickets. */
	tls_in_init(&s, TLS_VERSION_13, 0);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "04000001ff", &why),
	                 TLS_IN_BAD);
	ck_assert_str_eq(why, "after the hand-off, handshake message 4");
	ck_assert_uint_eq(s.alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	/* A ticket over the limit. */
	tls_in_init(&s, TLS_VERSION_13, 1);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "04ffffff", &why),
	                 TLS_IN_BAD);
	ck_assert_uint_eq(s.alert, TLS_ALERT_DECODE_ERROR);
	/* TLS 1.2: any handshake message is a renegotiation. */
	tls_in_init(&s, TLS_VERSION_12, 1);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "00000000", &why),
	                 TLS_IN_BAD);
	ck_assert_uint_eq(s.alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	ck_assert_int_eq(feed(&s, TLS_CT_HANDSHAKE, "", &why), TLS_IN_BAD);
	ck_assert_int_eq(feed(&s, TLS_CT_ALERT, "0100", &why), TLS_IN_EOF);
	ck_assert_int_eq(feed(&s, TLS_CT_ALERT, "0164", &why), TLS_IN_BAD);
	ck_assert_str_eq(why, "alert from the peer: 100");
	/* An alert is not answered with one. */
	ck_assert_uint_eq(s.alert, TLS_ALERT_NONE);
	ck_assert_int_eq(feed(&s, TLS_CT_ALERT, "010000", &why), TLS_IN_BAD);
	ck_assert_uint_eq(s.alert, TLS_ALERT_DECODE_ERROR);
	ck_assert_int_eq(feed(&s, TLS_CT_CHANGE_CIPHER_SPEC, "01", &why),
	                 TLS_IN_BAD);
	ck_assert_int_eq(feed(&s, 24, "01", &why), TLS_IN_BAD);
	ck_assert_uint_eq(s.alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	ck_assert_int_eq(feed(&s, TLS_CT_APPLICATION_DATA, "", &why),
	                 TLS_IN_DATA);
}
END_TEST

START_TEST(keys_cross_in_their_layout)
{
	struct tls_side_keys in[2], out[2];
	uint8_t blob[TLS_KEYS_LEN];
	const char *why = NULL;

	memset(in, 0, sizeof in);
	in[0].on = 1;
	in[0].max_send = 16384;
	in[0].rx = keys13(SERVER_KEY, SERVER_IV);
	in[0].tx = keys13(CLIENT_KEY, CLIENT_IV);
	in[0].tx.seq = 0x0102030405060708u;
	tls_keys_pack(in, blob);
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob, &why), 0);
	ck_assert_int_eq(memcmp(&out[0].rx, &in[0].rx, sizeof in[0].rx), 0);
	ck_assert_int_eq(memcmp(&out[0].tx, &in[0].tx, sizeof in[0].tx), 0);
	ck_assert_int_eq(out[1].on, 0);
	/* Short, a cipher it does not know, versions that differ, no TLS. */
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob - 1, &why), -1);
	in[0].tx.cipher = 9;
	tls_keys_pack(in, blob);
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob, &why), -1);
	in[0].tx = in[0].rx;
	/* TLS 1.3 under the least record_size_limit (64): 63 bytes a
	 * record, taken; fewer, refused. */
	in[0].max_send = TLS_KEYS_SEND_MIN;
	tls_keys_pack(in, blob);
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob, &why), 0);
	ck_assert_uint_eq(out[0].max_send, 63);
	in[0].max_send = TLS_KEYS_SEND_MIN - 1;
	tls_keys_pack(in, blob);
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob, &why), -1);
	in[0].max_send = 16384;
	in[0].tx.version = TLS_VERSION_12;
	tls_keys_pack(in, blob);
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob, &why), -1);
	in[0].on = 0;
	tls_keys_pack(in, blob);
	ck_assert_int_eq(tls_keys_unpack(out, blob, sizeof blob, &why), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls_record");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, rfc8448_server_records_open);
	tcase_add_test(tc, rfc8448_client_record_sealed_byte_for_byte);
	tcase_add_loop_test(tc, every_kind_round_trips, 0, NKINDS);
	tcase_add_loop_test(tc, any_flipped_byte_is_refused, 0, NKINDS);
	tcase_add_loop_test(tc, a_refused_record_leaves_no_plaintext, 0,
	                    NKINDS);
	tcase_add_loop_test(tc, a_wrong_sequence_number_fails, 0, NKINDS);
	tcase_add_loop_test(tc, a_replayed_record_fails, 0, NKINDS);
	tcase_add_loop_test(tc, a_length_over_the_limit_fails_from_the_header,
	                    0, NKINDS);
	tcase_add_test(tc, tls13_padding);
	tcase_add_test(tc, tls13_rejects_a_clear_record);
	tcase_add_loop_test(tc, a_spent_direction_seals_and_opens_nothing, 0,
	                    NKINDS);
	tcase_add_test(tc, tls13_aes_keys_stop_before_their_limit);
	tcase_add_test(tc, tickets_split_and_joined_are_dropped);
	tcase_add_test(tc, what_ends_the_session);
	tcase_add_test(tc, keys_cross_in_their_layout);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
