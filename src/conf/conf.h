/* The configuration, validated into plain structs. Directive names and
 * meanings follow nginx's mail modules. Every server section inherits
 * the global value of any directive it does not set. */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H

#include "addr.h"
#include "cidr.h"
#include "resolver.h"
#include "tls_priority.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

struct lookup;
struct protocol;

#define CAPS_MAX 32
#define CERTS_MAX 4
#define ACCESS_MAX 64
#define REAL_IP_FROM_MAX 32

enum starttls_mode { STARTTLS_OFF, STARTTLS_ON, STARTTLS_ONLY };
enum proxy_ssl { PROXY_SSL_OFF, PROXY_SSL_ON, PROXY_SSL_STARTTLS };
enum verify_client { VERIFY_OFF, VERIFY_ON, VERIFY_OPTIONAL,
                     VERIFY_OPTIONAL_NO_CA };

struct auth_http_target {
	struct addr addr;       /* TCP or AF_UNIX */
	char host[256];         /* Host: header */
	char uri[512];
};

struct server_conf {
	const char *name;
	int listen_port;                 /* 0: not given */
	int proxy_protocol_in;           /* listen ... proxy_protocol */
	const struct protocol *protocol;

	const char *server_name;
	const struct lookup *lookup;     /* auth_http or auth_map, ... */
	const char *auth_http;           /* set with lookup_auth_http */
	struct auth_http_target auth_http_target;
	char *auth_http_headers;         /* "Name: value\r\n"..., may be "" */
	const char *auth_map;            /* set with lookup_auth_map */
	int64_t auth_http_timeout_ms;
	int64_t timeout_ms;              /* idle, before login */
	int64_t login_timeout_ms;        /* in all, from connect to login */
	int64_t proxy_timeout_ms;
	/* From the directives of the section's protocol (imap_auth, ...). */
	const char *capabilities[CAPS_MAX];
	size_t ncapabilities;
	unsigned auth;                   /* enum sasl_mech bits */
	size_t client_buffer;
	int64_t smtp_greeting_delay_ms;
	int xclient;
	int proxy_smtp_auth;

	/* TLS (ngx_mail_ssl_module's directives). */
	int ssl;                         /* implicit TLS on connect */
	int starttls;                    /* enum starttls_mode */
	const char *ssl_certificate[CERTS_MAX];
	const char *ssl_certificate_key[CERTS_MAX];
	size_t ssl_ncertificates;
	const char *ssl_password_file;
	char ssl_priority[TLS_PRIORITY_MAX];   /* GnuTLS priority string */
	const char *ssl_dhparam;
	int ssl_verify_client;           /* enum verify_client */
	const char *ssl_client_certificate;
	const char *ssl_trusted_certificate;
	const char *ssl_crl;
	int ssl_verify_depth;
	int ssl_session_tickets;
	const char *ssl_session_ticket_key[CERTS_MAX];
	size_t ssl_nticket_keys;
	int64_t ssl_session_timeout_ms;
	int auth_http_pass_client_cert;
	const char *tls_program;
	int proxy_ssl;                   /* enum proxy_ssl, towards backends */
	int proxy_ssl_verify;
	const char *proxy_ssl_trusted_certificate;
	const char *proxy_ssl_name;
	int proxy_pass_error_message;
	int max_errors;
	/* The client's real address (realip.c, resolver.c) and what
	 * backends are told of it. */
	struct cidr real_ip_from[REAL_IP_FROM_MAX];
	size_t nreal_ip_from;
	struct access_rule access[ACCESS_MAX];
	size_t naccess;
	struct addr resolvers[RESOLVERS_MAX];
	size_t nresolvers;
	int64_t resolver_timeout_ms;
	int proxy_protocol_out;          /* 0, or the PROXY version to send */
	int forward_client;              /* proxy_forward_client */

	/* After login, IMAP: the filter relay runs when either is set. */
	char imap_deny[1024];            /* imap_deny_commands, space-separated */
	char imap_hide[1024];            /* imap_hide_capabilities */

	const char *relay_program;
	const char *guard_relay_program; /* after login, for SMTP */
	const char *error_log;
	int log_level;
};

struct conf {
	struct server_conf *servers;
	size_t nservers;
	void *owner;                     /* keeps the strings alive */
	void (*release)(struct conf *);  /* how its reader frees it */
	const char *source;              /* "text" or "image", for the log */
};

/* Its readers: the text (conf_load.h), or its image (conf_image.h). */

/* Frees it, as whichever reader made it. */
void conf_free(struct conf *conf);

/* The section for a socket name, or NULL. */
const struct server_conf *conf_by_name(const struct conf *c, const char *name);
const struct server_conf *conf_by_port(const struct conf *c, int port);

#endif
