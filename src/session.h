/* One client connection: its sockets, limits, counters and state. */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include "addr.h"
#include "conf.h"
#include "lineio.h"
#include "proto.h"
#include "sasl.h"

#include <stdint.h>

struct cmdline;

enum session_state {
	ST_GREETING,
	ST_AUTH,        /* reading commands before login */
	ST_LOOKUP,      /* asking where the user lives */
	ST_BACKEND,     /* connecting and logging in to the backend */
	ST_RELAY,       /* about to exec the relay */
	ST_CLOSED,
};

struct session {
	const struct server_conf *conf;
	const struct protocol *proto;
	enum session_state state;
	int inetd;
	char id[20];
	int64_t started_ms;
	int64_t started_us_wall;

	struct lineio in;            /* client bytes */
	struct lineio backend;       /* backend bytes; fd -1 when none */
	char client[ADDR_TEXT_MAX];  /* "ip:port" */
	char client_ip[ADDR_TEXT_MAX];
	char backend_name[ADDR_TEXT_MAX];

	unsigned errors;
	unsigned attempts;
	uint64_t bytes_out;            /* bytes in: in.total */
	struct credentials cred;
	char user_shown[CRED_MAX];   /* the user as it may appear in logs */
	char salt[SALT_MAX];         /* APOP/CRAM-MD5; "" until needed */
	const char *result;          /* for the closing line */
	const char *end_why;

	void *proto_state;           /* owned by the protocol */

	int tls;                     /* the client side is TLS now */
	struct tls_info *tls_info;   /* set with tls */
	/* What STARTTLS does: the front execs postern-tls; NULL where TLS
	 * cannot start (already on, or not configured). */
	enum step (*starttls)(struct session *s);
	const char *config_path;     /* for postern-tls */
	/* Put TLS on s->backend (postern-tls only; NULL in the front):
	 * mode is enum proxy_ssl, name the backend's name for SNI and
	 * verification. 0, or -1 with why. */
	int (*backend_tls)(struct session *s, int mode, const char *name,
	                   char *why, size_t size);
	int backend_greeted;         /* the greeting was read before TLS */
};

int session_init(struct session *s, const struct server_conf *c, int fd,
                 int inetd);
void session_free(struct session *s);
void session_set_state(struct session *s, enum session_state st);

/* Write to the client within the session's timeout. */
int session_write(struct session *s, const char *data, size_t len);
int session_printf(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int64_t session_deadline(const struct session *s);

/* One reply line (CRLF added) for POP3 and SMTP; returns next, or
 * STEP_CLOSE when the client is gone. */
enum step session_reply(struct session *s, enum step next, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* The protocol's internal_error line, as is. */
void session_internal_error(struct session *s);

/* Read and parse one POP3/SMTP command line; its arguments go into store
 * (client_buffer + 1 bytes). STEP_NEXT when parsed; STEP_ERROR with *why
 * when the line is no command (the protocol answers it); STEP_CLOSE when
 * the session is over. */
enum step session_read_cmdline(struct session *s, struct cmdline *c,
                               char *store, const char **why);
/* Wipe a command's arguments (store, as above) and what was read from the
 * client so far: they may hold a password. */
void session_wipe_cmdline(struct session *s, char *store);

/* The connection's APOP/CRAM-MD5 salt, made on first use; NULL if
 * server_name is too long for it. */
const char *session_salt(struct session *s);

/* The client is gone, silent too long, or sent a line over the limit:
 * say what the protocol says, record why, and end. */
enum step session_client_gone(struct session *s, enum io_result r);

/* Read one line from the client; on failure the session is ending and
 * *st says so. */
int session_getline(struct session *s, char **line, size_t *len,
                    enum step *st);

/* Run greeting (unless greet is 0: TLS started by STARTTLS goes on
 * without one) and login. 1: the backend is logged in, hand off to the
 * relay; 0: the session is over (already logged and answered). */
int session_run(struct session *s, int greet);

/* STARTTLS may be offered now: configured, and not on yet. */
int session_can_starttls(const struct session *s);
/* Logins must wait for TLS (starttls only). */
int session_needs_tls(const struct session *s);

/* Record why a session that never reaches the relay ends; the first call
 * wins. session_run logs it as the closing line. */
void session_end(struct session *s, const char *result, const char *why);

#endif
