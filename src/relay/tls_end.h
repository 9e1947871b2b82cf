/* One side of postern-tls-relay: a socket carrying TLS records with the
 * keys handed over (tls_keys.h), as a relay end (guard_relay.h). recv
 * gives application data and 0 at close_notify or the socket's end; send
 * seals at most TLS_END_SEND_RECORDS records per call, written with one
 * send(), and, like GnuTLS, wants the same bytes again after -EAGAIN;
 * close_write sends close_notify. A record or message that must end the
 * session is logged with the side's name, earns its sender the fatal
 * alert for it, and is read as an error. The buffers are fixed: one
 * record in, TLS_END_SEND_RECORDS out. */
#ifndef POSTERN_TLS_END_H
#define POSTERN_TLS_END_H

#include "guard_relay.h"
#include "tls_record.h"

/* Records sealed before one send(): a bulk transfer pays a system call
 * per this many records (the pages past the first are touched only by
 * one). */
#define TLS_END_SEND_RECORDS 4

/* The buffers come last and are never cleared whole: a page of them an
 * idle session has not written stays untouched (the program's bss), and
 * only what was written (rhigh, whigh) is wiped. */
struct tls_end {
	const char *side;              /* "client", "backend": for the log */
	struct tls_rec rx, tx;
	struct tls_inbound in;
	size_t max_send;               /* the peer's record size limit */
	size_t rstart, rend, rhigh;    /* in rbuf */
	uint8_t *plain;                /* opened, not yet given out */
	size_t plain_len;
	size_t woff, wlen, wtaken;     /* wtaken: the caller's bytes in wbuf */
	size_t whigh;
	int eof, failed, closed;
	uint8_t rbuf[TLS_REC_IN_MAX];  /* records read, not yet opened */
	uint8_t wbuf[TLS_END_SEND_RECORDS * TLS_REC_OUT_MAX]; /* sealed
	                                  * records being written */
};

extern const struct relay_end_ops tls_end_ops;

/* The side's keys taken (the caller wipes its copy); tickets_ok when the
 * peer is our backend (a TLS server may send tickets at any time). 0, or
 * -1 with *why. */
int tls_end_init(struct tls_end *t, const char *side,
                 const struct tls_side_keys *k, int tickets_ok,
                 const char **why);
/* Keys and every byte that passed: gone (the buffers as far as they were
 * written). */
void tls_end_wipe(struct tls_end *t);

#endif
