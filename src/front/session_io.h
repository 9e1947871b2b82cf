/* Talking to the client, for the protocols: writes and reads within the
 * session's timeout, one-line replies, the lingering close. A failure
 * here ends the session with a reason the closing line gives. */
#ifndef POSTERN_SESSION_IO_H
#define POSTERN_SESSION_IO_H

#include "lineio.h"
#include "proto.h"

#include <stddef.h>
#include <stdint.h>

struct session;

int64_t session_deadline(const struct session *s);

/* Write to the client within the session's timeout. */
int session_write(struct session *s, const char *data, size_t len);
int session_printf(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One reply line (CRLF added) for POP3 and SMTP; returns next, or
 * STEP_CLOSE when the client is gone. */
enum step session_reply(struct session *s, enum step next, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* The protocol's internal_error line, as is. */
void session_internal_error(struct session *s);

/* login_timeout has passed: say the protocol's goodbye, log, end. */
void session_login_timeout(struct session *s);

/* The client is gone, silent too long, or sent a line over the limit:
 * say what the protocol says, record why, and end. */
enum step session_client_gone(struct session *s, enum io_result r);

/* Read one line from the client; on failure the session is ending and
 * *st says so. */
int session_getline(struct session *s, char **line, size_t *len,
                    enum step *st);

/* Close the client's side so that the last reply arrives. */
void session_linger(struct session *s);

#endif
