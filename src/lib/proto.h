/* The protocol table: what differs between IMAP, POP3 and SMTP. Shared code
 * decides what happened (enum auth_result); a protocol says how to tell the
 * client. Shared code never switches on the protocol. */
#ifndef POSTERN_PROTO_H
#define POSTERN_PROTO_H

#include <netinet/in.h>
#include <stddef.h>

struct auth_request;
struct session;
struct server_conf;

enum auth_result {
	AUTH_OK,        /* backend logged in; the protocol has replied */
	AUTH_FAILED,    /* wrong credentials: the client may try again */
	AUTH_TEMPFAIL,  /* auth server or backend unusable right now */
	/* The backend refused a step that is not the password check
	 * (EHLO, XCLIENT, MAIL); text holds its reply. nginx's "upstream
	 * sent invalid response". */
	AUTH_BACKEND_ERROR,
};

/* What a command handler asks the session loop to do next. */
enum step {
	STEP_NEXT,    /* read the next command */
	STEP_LOGIN,   /* credentials are in s->cred: look up and log in */
	STEP_CLOSE,   /* the reply was sent; end the session */
	STEP_ERROR,   /* a protocol error was answered; count it */
	STEP_HANDOFF, /* logged in to the backend: exec the relay */
	STEP_STARTTLS,/* the client was told to start TLS: do it */
};

struct command {
	const char *name;               /* NULL for the sentinel */
	enum step (*handler)(struct session *s);
};

/* The client side of a SASL exchange that went wrong. */
enum sasl_trouble {
	SASL_INVALID,    /* undecodable or malformed response */
	SASL_CANCELLED,  /* the client sent "*" */
};

struct protocol {
	/* Auth-Protocol, logs, and the prefix of the protocol's directives:
	 * <name>_auth, <name>_capabilities, <name>_client_buffer. */
	const char *name;
	/* Their defaults, in libconfuse's syntax ("{a, b}"; NULL: empty). */
	const char *default_capabilities, *default_auth, *default_client_buffer;
	const char *alpn;                /* the TLS ALPN id that is ours */
	/* The guard a relay runs after login (guard_relay.h), or NULL: the
	 * client's bytes are spliced as they come. */
	const char *guard;
	/* The guard for a section that filters (imap_deny_commands, ...),
	 * or NULL. */
	const char *filter;
	in_port_t ports[4];              /* well-known ports, 0-terminated */
	const struct command *commands;  /* sentinel handles unknown ones */
	unsigned auth_allowed;           /* enum sasl_mech values <name>_auth takes */
	/* With a resolver, the client's name is looked up (Client-Host,
	 * XCLIENT NAME), as nginx does for SMTP only; other protocols look
	 * it up with resolver_imap_pop3. */
	int resolves_client;
	const char *sasl_prompt;         /* before a challenge: "+ ", "334 " */

	/* Optional: what the protocol cannot do with this section (its
	 * lookup, its methods); 0, or -1 with err. */
	int (*check_conf)(const struct server_conf *c, char *err, size_t size);
	enum step (*greet)(struct session *s);
	/* Read one command; STEP_NEXT with its name for the command table. */
	enum step (*read_command)(struct session *s, const char **name);
	/* Allocate s->proto_state. */
	int (*init)(struct session *s);
	/* Optional: add what the protocol knows to the lookup. */
	void (*fill_request)(struct session *s, struct auth_request *req);
	/* Tell the client the outcome of a login. text (the auth server's
	 * Auth-Status or the backend's refusal) and code (Auth-Error-Code)
	 * may be NULL. */
	void (*auth_reply)(struct session *s, enum auth_result r,
	                   const char *text, const char *code);
	/* Answer a failed SASL exchange; returns the step to take. */
	enum step (*sasl_trouble)(struct session *s, enum sasl_trouble t,
	                          const char *why);
	/* Read the backend's greeting and ask it for TLS (STARTTLS, STLS);
	 * AUTH_OK when the handshake may begin. */
	enum auth_result (*backend_starttls)(struct session *s, char *text,
	                                     size_t size);
	/* Log in to the backend on s->backend.fd with s->cred; skip reading
	 * the greeting when s->backend_greeted. */
	enum auth_result (*backend_login)(struct session *s, char *text,
	                                  size_t size);
	/* Last words before closing: too many errors, timeouts. */
	void (*bye)(struct session *s, const char *why);
	/* A line over <name>_client_buffer; the session ends after it. */
	void (*too_long)(struct session *s);

	const char *internal_error;
	/* Instead of a greeting when ssl_verify_client refuses the client. */
	const char *no_cert, *cert_error;
	/* Instead of a greeting when allow/deny refuses the address. */
	const char *access_denied;
	/* Instead of a greeting when the configuration cannot be read. */
	const char *unavailable;
};

extern const struct protocol proto_imap, proto_pop3, proto_smtp;
/* Every protocol, NULL-terminated: what conf_load.c builds directives from. */
extern const struct protocol *const protocols[];

const struct protocol *proto_find(const char *name);
/* The protocol whose well-known ports include port, or NULL. */
const struct protocol *proto_by_port(int port);

#endif
