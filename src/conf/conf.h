/* The configuration, validated into plain structs. Directive names and
 * meanings follow nginx's mail modules. Every server section inherits
 * the global value of any directive it does not set. */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H

#include "addr.h"
#include "cidr.h"
#include "resolver.h"
#include "tls_priority.h"

#include <limits.h>
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

/* Every field of a server section, once: the struct below and the
 * image's table (conf_image.c) are both made from this list, so that they
 * cannot disagree, and the image's fingerprint covers each field's name,
 * place, kind and limits. Each entry is one of
 *   S(kind, type, name, lo, hi)    a value; lo..hi bound numbers
 *   B(name, size)                  a char[size] string
 *   V(kind, type, name, max, n)    type name[max], then size_t n, its count
 *   W(kind, type, name, max, n)    type name[max], counted by an earlier n
 * with the kinds the image knows (CONF_F_*). */
#define SERVER_CONF_FIELDS(S, B, V, W)                                       \
	S(STR, const char *, name, 0, 0)                                     \
	S(INT, int, listen_port, 0, 65535)        /* 0: not given */         \
	S(INT, int, proxy_protocol_in, 0, 1)      /* listen ... proxy_protocol */ \
	S(PROTO, const struct protocol *, protocol, 0, 0)                    \
	S(STR, const char *, server_name, 0, 0)                              \
	S(LOOKUP, const struct lookup *, lookup, 0, 0) /* auth_http, ... */  \
	S(STR, const char *, auth_http, 0, 0)     /* with lookup_auth_http */ \
	S(TARGET, struct auth_http_target, auth_http_target, 0, 0)           \
	S(STR, char *, auth_http_headers, 0, 0)   /* "Name: value\r\n"..., or "" */ \
	S(STR, const char *, auth_map, 0, 0)      /* with lookup_auth_map */ \
	S(I64, int64_t, auth_http_timeout_ms, 0, INT64_MAX)                  \
	S(I64, int64_t, timeout_ms, 0, INT64_MAX) /* idle, before login */   \
	S(I64, int64_t, login_timeout_ms, 0, INT64_MAX) /* connect to login */ \
	S(I64, int64_t, proxy_timeout_ms, 0, INT64_MAX)                      \
	/* From the directives of the section's protocol (imap_auth, ...). */ \
	V(STRV, const char *, capabilities, CAPS_MAX, ncapabilities)         \
	S(UINT, unsigned, auth, 0, UINT_MAX)      /* enum sasl_mech bits */  \
	S(SIZE, size_t, client_buffer, 0, INT64_MAX)                         \
	S(I64, int64_t, smtp_greeting_delay_ms, 0, INT64_MAX)                \
	S(INT, int, xclient, 0, 1)                                           \
	S(INT, int, proxy_smtp_auth, 0, 1)                                   \
	/* TLS (ngx_mail_ssl_module's directives). */                        \
	S(INT, int, ssl, 0, 1)                    /* implicit TLS on connect */ \
	S(INT, int, starttls, STARTTLS_OFF, STARTTLS_ONLY)                   \
	V(STRV, const char *, ssl_certificate, CERTS_MAX, ssl_ncertificates) \
	W(STRV_SAME, const char *, ssl_certificate_key, CERTS_MAX,           \
	  ssl_ncertificates)                                                 \
	S(STR, const char *, ssl_password_file, 0, 0)                        \
	B(ssl_priority, TLS_PRIORITY_MAX)         /* GnuTLS priority string */ \
	S(STR, const char *, ssl_dhparam, 0, 0)                              \
	S(INT, int, ssl_verify_client, VERIFY_OFF, VERIFY_OPTIONAL_NO_CA)    \
	S(STR, const char *, ssl_client_certificate, 0, 0)                   \
	S(STR, const char *, ssl_trusted_certificate, 0, 0)                  \
	S(STR, const char *, ssl_crl, 0, 0)                                  \
	S(INT, int, ssl_verify_depth, 0, INT_MAX)                            \
	S(INT, int, ssl_session_tickets, 0, 1)                               \
	V(STRV, const char *, ssl_session_ticket_key, CERTS_MAX,             \
	  ssl_nticket_keys)                                                  \
	S(I64, int64_t, ssl_session_timeout_ms, 0, INT64_MAX)                \
	S(INT, int, auth_http_pass_client_cert, 0, 1)                        \
	S(STR, const char *, tls_program, 0, 0)                              \
	S(INT, int, ssl_handoff, 0, 1)            /* records to tls_relay_program */ \
	S(INT, int, proxy_ssl, PROXY_SSL_OFF, PROXY_SSL_STARTTLS) /* to backends */ \
	S(INT, int, proxy_ssl_verify, 0, 1)                                  \
	S(STR, const char *, proxy_ssl_trusted_certificate, 0, 0)            \
	S(STR, const char *, proxy_ssl_name, 0, 0)                           \
	S(INT, int, proxy_pass_error_message, 0, 1)                          \
	S(INT, int, max_errors, 0, INT_MAX)                                  \
	/* The client's real address (realip, resolver) and what backends    \
	 * are told of it. */                                                \
	V(CIDRV, struct cidr, real_ip_from, REAL_IP_FROM_MAX, nreal_ip_from) \
	V(ACCESSV, struct access_rule, access, ACCESS_MAX, naccess)          \
	V(ADDRV, struct addr, resolvers, RESOLVERS_MAX, nresolvers)          \
	S(I64, int64_t, resolver_timeout_ms, 0, INT64_MAX)                   \
	S(INT, int, resolver_imap_pop3, 0, 1)     /* names for IMAP, POP3 too */ \
	S(INT, int, proxy_protocol_out, 0, 2)     /* 0, or the version sent */ \
	S(INT, int, forward_client, 0, 1)         /* proxy_forward_client */ \
	/* After login, IMAP: the filter relay runs when either is set. */   \
	B(imap_deny, 1024)                        /* space-separated */      \
	B(imap_hide, 1024)                        /* imap_hide_capabilities */ \
	S(STR, const char *, relay_program, 0, 0)                            \
	S(STR, const char *, guard_relay_program, 0, 0) /* SMTP, after login */ \
	S(STR, const char *, tls_relay_program, 0, 0) /* TLS, after login */ \
	S(STR, const char *, error_log, 0, 0)                                \
	S(INT, int, log_level, 0, 7)

#define CONF_DECLARE_S(kind, type, name, lo, hi) type name;
#define CONF_DECLARE_B(name, size) char name[size];
#define CONF_DECLARE_V(kind, type, name, max, n) type name[max]; size_t n;
#define CONF_DECLARE_W(kind, type, name, max, n) type name[max];

struct server_conf {
	SERVER_CONF_FIELDS(CONF_DECLARE_S, CONF_DECLARE_B, CONF_DECLARE_V,
	                   CONF_DECLARE_W)
};

struct conf {
	struct server_conf *servers;
	size_t nservers;
	void *owner;                     /* keeps the strings alive */
	void (*release)(struct conf *);  /* how its reader frees it */
};

/* Its readers: the text (conf_load.h), or its image (conf_image.h). */

/* Frees it, as whichever reader made it. */
void conf_free(struct conf *conf);

/* The section for a socket name, or NULL. */
const struct server_conf *conf_by_name(const struct conf *c, const char *name);
const struct server_conf *conf_by_port(const struct conf *c, int port);

#endif
