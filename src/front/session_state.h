/* One client connection: its sockets, limits, counters and state
 * (session_state.c). The pipeline that runs it is session.h's. */
#ifndef POSTERN_SESSION_STATE_H
#define POSTERN_SESSION_STATE_H

#include "addr.h"
#include "conf.h"
#include "guard.h"
#include "lineio.h"
#include "proto.h"
#include "sasl.h"

#include <stdint.h>

struct crossing;
struct session;

enum session_state {
	ST_GREETING,
	ST_AUTH,        /* reading commands before login */
	ST_LOOKUP,      /* asking where the user lives */
	ST_BACKEND,     /* connecting and logging in to the backend */
	ST_RELAY,       /* about to relay */
	ST_CLOSED,
};

/* What the program running the session does where the front and
 * postern-tls differ, as Dovecot's client_vfuncs; ctx is the program's. */
struct session_ops {
	/* The protocol said yes to STARTTLS: go on in TLS, or end. NULL
	 * where TLS cannot start. */
	enum step (*starttls)(struct session *s);
	/* Put TLS on s->backend (mode: enum proxy_ssl; name: for SNI and
	 * verification); 0, or -1 with why. NULL where there is no GnuTLS. */
	int (*backend_handshake)(struct session *s, int mode, const char *name,
	                         char *why, size_t size);
	/* Logged in: move bytes until the end, here or in a relay program.
	 * Returns the exit code. */
	int (*relay)(struct session *s);
};

struct session {
	const struct server_conf *conf;
	const struct protocol *proto;
	const struct session_ops *ops;
	void *ctx;                   /* the ops' own state */
	enum session_state state;
	int inetd;
	char id[20];
	int64_t started_us;          /* wall clock, as it crosses the execs */
	int64_t login_deadline;      /* clock_ms(): login_timeout from connect */

	struct lineio in;            /* client bytes */
	struct lineio backend;       /* backend bytes; fd -1 when none */
	/* Who is there. peer: who connected (a load balancer, with
	 * proxy_protocol). client: the client, the PROXY header's address
	 * when the peer is trusted, else the peer; used everywhere. local:
	 * the address the client reached. proxy_src/dst: what a PROXY
	 * header said, trusted or not (proxied), for Proxy-Protocol-*. */
	struct addr peer, client_addr, local;
	int proxied;
	/* A LOCAL header and a hang-up (front_door.c): no close line. */
	int health_check;
	struct addr proxy_src, proxy_dst;
	char client[ADDR_TEXT_MAX];  /* client_addr as "ip:port" */
	char client_ip[ADDR_TEXT_MAX];
	char local_text[ADDR_TEXT_MAX];
	char proxy_text[2][ADDR_TEXT_MAX];  /* proxy_src, proxy_dst */
	char client_host[256];       /* resolved at login; "" until then */
	int64_t lookup_ms;           /* the last lookup's time, for the log */
	int64_t resolve_ms;          /* the client's name's, once looked up */
	char deny[1536];             /* the section's and the user's refusals */
	char backend_name[ADDR_TEXT_MAX];

	unsigned errors;
	unsigned attempts;
	uint64_t bytes_out;          /* bytes in: in.total */
	struct credentials cred;
	char user_shown[CRED_MAX];   /* the user as it may appear in logs */
	char salt[SALT_MAX];         /* APOP/CRAM-MD5; "" until needed */
	const char *result;          /* for the closing line */
	const char *end_why;

	void *proto_state;           /* owned by the protocol */

	int tls;                     /* the client side is TLS now */
	struct tls_info *tls_info;   /* set with tls */
	int backend_greeted;         /* the greeting was read before TLS */
};

int session_init(struct session *s, const struct server_conf *c, int fd,
                 int inetd, const struct session_ops *ops, void *ctx);
/* The client is at a: the text forms follow. */
void session_set_client(struct session *s, const struct sockaddr *sa,
                        socklen_t len);
void session_set_local(struct session *s, const struct addr *a);
/* A PROXY header said src and dst. */
void session_set_proxied(struct session *s, const struct addr *src,
                         const struct addr *dst);
/* Go on as the session another program began: same id, clock, counters,
 * and the client as the front found it. */
void session_continue(struct session *s, const struct crossing *x);
/* What crosses an exec of this session. */
void session_crossing(const struct session *s, struct crossing *x);
void session_free(struct session *s);
void session_set_state(struct session *s, enum session_state st);
const char *session_state_name(enum session_state st);

/* The user's own refusals (Auth-IMAP-Deny) on top of the section's. */
void session_add_deny(struct session *s, const char *names);
/* The guard the relay runs after login, or NULL: none, splice. */
const char *session_guard(const struct session *s);
/* What the guard is told. */
void session_guard_settings(const struct session *s,
                            struct guard_settings *set);

/* STARTTLS may be offered now: configured, and not on yet. */
int session_can_starttls(const struct session *s);
/* Logins must wait for TLS (starttls only). */
int session_needs_tls(const struct session *s);
/* The SASL mechanisms this section offers now: EXTERNAL only over TLS. */
unsigned session_mechs(const struct session *s);

/* login_timeout has passed since the connection was accepted. */
int session_login_expired(const struct session *s);

/* Record why a session that never reaches the relay ends; the first call
 * wins. */
void session_end(struct session *s, const char *result, const char *why);

#endif
