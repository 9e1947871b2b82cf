/* A TLS session's record state as postern-tls hands it to
 * postern-tls-relay after handshake and login: per side (client, backend)
 * and per direction, the version, the AEAD cipher, its key and IV, and the
 * next record's sequence number. It crosses the exec on a pipe (fd
 * CONTRACT_KEYS_FD, never argv or the environment) in the fixed byte
 * layout below, and every copy is wiped once used. libc only: the writer
 * links GnuTLS, the reader nettle, and neither needs the other's. */
#ifndef POSTERN_TLS_KEYS_H
#define POSTERN_TLS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_VERSION_12 0x0303
#define TLS_VERSION_13 0x0304

/* The AEAD ciphers the record layer (tls_record.h) knows. */
enum tls_rec_cipher {
	TLS_REC_AES_128_GCM = 1,
	TLS_REC_AES_256_GCM = 2,
	TLS_REC_CHACHA20_POLY1305 = 3,
};

#define TLS_KEY_MAX 32
#define TLS_IV_MAX 12
/* TLS 1.2 GCM's implicit part of the nonce (RFC 5288's salt). */
#define TLS_SALT_LEN 4

/* One direction. iv: TLS 1.2 AES-GCM's 4-byte salt; otherwise the 12-byte
 * IV that the sequence number is xored into (TLS 1.3, RFC 7905). */
struct tls_rec_keys {
	uint16_t version;
	uint8_t cipher;               /* enum tls_rec_cipher */
	uint8_t key[TLS_KEY_MAX];     /* 16 or 32 bytes used */
	uint8_t iv[TLS_IV_MAX];
	uint64_t seq;                 /* the next record's */
};

/* The least a peer may ask records to hold: RFC 8449's least
 * record_size_limit (64), less TLS 1.3's inner content type. */
#define TLS_KEYS_SEND_MIN 63

/* One side of the session: its TLS (on: 0 for a plain side), the largest
 * record plaintext its peer takes (record_size_limit, max_fragment_length;
 * at most 2^14), and the two directions. */
struct tls_side_keys {
	int on;
	uint16_t max_send;     /* TLS_KEYS_SEND_MIN..16384 */
	struct tls_rec_keys rx, tx;
};

/* The layout: "PTK1", then client and backend, each as on(1)
 * max_send(2), then rx and tx, each as version(2) cipher(1) key(32)
 * iv(12) seq(8); numbers big-endian. */
#define TLS_KEYS_DIR_LEN (2 + 1 + TLS_KEY_MAX + TLS_IV_MAX + 8)
#define TLS_KEYS_LEN (4 + 2 * (1 + 2 + 2 * TLS_KEYS_DIR_LEN))

/* Length of the key and the IV for a version and cipher; 0 for a pair the
 * record layer does not take. */
size_t tls_keys_key_len(uint8_t cipher);
size_t tls_keys_iv_len(uint16_t version, uint8_t cipher);

/* sides[0] the client, sides[1] the backend. */
void tls_keys_pack(const struct tls_side_keys sides[2],
                   uint8_t out[TLS_KEYS_LEN]);
/* 0, or -1 with *why when the bytes are not a hand-off this program can
 * use (a version or cipher it does not know, a side with no TLS on both
 * ends...). */
int tls_keys_unpack(struct tls_side_keys sides[2], const uint8_t *in,
                    size_t len, const char **why);

#endif
