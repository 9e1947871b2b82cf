/* The SMTP command guard, after login. Postfix decided once, at connect,
 * that postern may speak XCLIENT and XFORWARD; a client whose bytes were
 * copied blindly could speak them too and relay as any address it names.
 * The guard reads the client's stream as Postfix's smtpd does: command
 * lines up to LF with every CR before it dropped, words split on white
 * space, DATA content up to a line of "." and CRs, BDAT chunks by their
 * size. XCLIENT, XFORWARD and STARTTLS (behind which it could see nothing)
 * are answered by the guard in their turn and never reach the backend, and
 * so is every line Postfix could read otherwise than the guard: a control
 * byte other than tab, a command word beyond 512 bytes, a BDAT line that
 * is not "BDAT size [LAST]". Everything else passes byte for byte. Replies are counted so that the guard's own answers come
 * in order among the backend's, and the backend's EHLO reply loses the
 * lines that offer what the client may not use.
 *
 * Pure: bytes in, bytes out, no I/O, no allocation, every buffer fixed.
 * Used by postern-smtp-relay (plain) and postern-tls's relay (TLS). */
#ifndef POSTERN_SMTP_GUARD_H
#define POSTERN_SMTP_GUARD_H

#include "guard.h"

#include <stddef.h>
#include <stdint.h>

#define SMTP_GUARD_LINE_MAX 8192      /* a command or reply line, CRLF in */
#define SMTP_GUARD_REPLY_MAX 16384    /* an EHLO reply, all its lines */
#define SMTP_GUARD_INFLIGHT_MAX 256   /* commands awaiting their replies */
#define SMTP_GUARD_ANSWER_MAX 64      /* one of the guard's own replies */
/* The most one step can write to the client: the held EHLO reply and a
 * full queue of the guard's answers behind it. */
#define SMTP_GUARD_STEP_MAX (SMTP_GUARD_REPLY_MAX + \
	SMTP_GUARD_INFLIGHT_MAX * SMTP_GUARD_ANSWER_MAX)
/* Outputs must have this much room when the guard is called. */
#define SMTP_GUARD_OUT_MIN (SMTP_GUARD_STEP_MAX + 1024)


struct smtp_guard {
	int client_state;            /* command, waiting for DATA's reply, ... */
	uint64_t chunk_left;         /* BDAT: bytes of the chunk still to come */
	int data_line;               /* DATA: where in a line the stream is */
	char line[SMTP_GUARD_LINE_MAX];
	size_t line_len;
	unsigned char inflight[SMTP_GUARD_INFLIGHT_MAX];
	size_t head, count;
	char reply[SMTP_GUARD_REPLY_MAX];   /* the backend's reply being read */
	size_t reply_len;
	size_t reply_line;           /* where its current line starts */
	struct guard_report report;  /* last_refused: the verb */
};

void smtp_guard_init(struct smtp_guard *g);

/* Bytes from the client. *consumed says how many of in were taken; what
 * goes to the backend is appended to backend, the guard's own replies to
 * client (both need SMTP_GUARD_OUT_MIN free). */
enum guard_result smtp_guard_client(struct smtp_guard *g, const char *in,
                                         size_t len, size_t *consumed,
                                         struct strbuf *backend,
                                         struct strbuf *client);

/* Bytes from the backend; what the client sees is appended to client. */
enum guard_result smtp_guard_backend(struct smtp_guard *g,
                                          const char *in, size_t len,
                                          size_t *consumed,
                                          struct strbuf *client);

#endif
