/* Where does this user live? The lookup table: nginx's auth_http protocol,
 * or the static map file that needs no auth server. A section's lookup is
 * chosen once, when the configuration is read; a new lookup (LDAP, SQL,
 * OAuth introspection) is one new file and one line in lookup.c. */
#ifndef POSTERN_LOOKUP_H
#define POSTERN_LOOKUP_H

#include "addr.h"
#include "sasl.h"

#include <string.h>

struct server_conf;

/* What TLS says about the client, as text for Auth-SSL-* headers. Filled
 * by postern-tls; the lookups never see GnuTLS. */
struct tls_info {
	char protocol[32];         /* "TLSv1.3" */
	char cipher[128];
	char verify[160];          /* "SUCCESS", "FAILED:reason", "NONE" */
	int verify_asked;          /* ssl_verify_client is not off */
	int has_cert;
	char subject[512], issuer[512];
	char serial[80], fingerprint[80];
	const char *cert;          /* PEM, for auth_http_pass_client_cert */
};

struct auth_request {
	unsigned mech;            /* enum sasl_mech */
	const char *method;       /* Auth-Method: "plain", ... */
	const char *user;
	const char *pass;         /* the password, or the OAuth bearer token */
	const char *salt;         /* NULL unless the method has one */
	const char *protocol;     /* Auth-Protocol */
	unsigned attempt;         /* Auth-Login-Attempt, from 1 */
	int64_t deadline;         /* clock_ms(): the lookup ends by then */
	const char *client_ip;
	const char *client_host;  /* NULL: not sent */
	/* What a PROXY header said (Proxy-Protocol-*); NULL without one. */
	const struct addr *proxy_src, *proxy_dst;
	/* smtp_auth none: what the client sent, whole command lines for
	 * MAIL and RCPT; sent as Auth-SMTP-* when mech is SASL_NONE. */
	const char *smtp_helo, *smtp_from, *smtp_to;
	const char *map_key;      /* what auth_map looks up; NULL: user */
	unsigned default_port;    /* for a map backend given without a port */
	const struct tls_info *tls; /* NULL: plaintext client */
	int pass_client_cert;     /* auth_http_pass_client_cert */
	int need_pass;            /* the answer must carry Auth-Pass */
};

enum auth_status {
	AUTH_STATUS_OK,        /* backend and credentials are in the reply */
	AUTH_STATUS_FAIL,      /* refused; error holds the text for the client */
	AUTH_STATUS_WAIT,      /* ask again after wait seconds */
	AUTH_STATUS_TEMPFAIL,  /* the lookup itself failed; why says how */
	AUTH_STATUS_EXPIRED,   /* login_timeout passed meanwhile (login.c) */
};

struct auth_reply {
	enum auth_status status;
	char error[256];
	char error_code[32];
	char error_sasl[512];     /* Auth-Error-SASL: an OAuth failure's JSON */
	char deny[512];           /* Auth-IMAP-Deny: more commands to refuse */
	char server[INET6_ADDRSTRLEN + 2];
	char port[8];
	struct addr backend;
	char user[CRED_MAX];
	char pass[CRED_MAX];
	int has_status, has_user, has_pass;
	int wait;                 /* Auth-Wait seconds; 0 when absent */
	int backend_tls;          /* Auth-Backend-TLS: enum proxy_ssl, or -1 */
	const char *too_long;     /* a header whose value did not fit, or NULL */
	char why[160];
};

static inline void auth_reply_init(struct auth_reply *r)
{
	memset(r, 0, sizeof *r);
	r->status = AUTH_STATUS_TEMPFAIL;
	r->backend_tls = -1;
}

/* The reply may carry a backend password (Auth-Pass). */
static inline void auth_reply_clear(struct auth_reply *r)
{
	explicit_bzero(r->pass, sizeof r->pass);
}

struct lookup {
	/* The directive that chooses it, and names it in logs; its default
	 * (NULL: none, so the lookup is used only where it is set). */
	const char *directive, *default_value;
	/* Take the directive's value into c (and check what the lookup
	 * cannot do with the section); 0, or -1 with err. */
	int (*configure)(struct server_conf *c, const char *value, char *err,
	                 size_t size);
	/* NULL, or a check of the value alone, run while the file is read so
	 * that its error carries file:line; 0, or -1 with why. */
	int (*check)(const char *value, char *why, size_t size);
	/* rep starts as auth_reply_init() leaves it. */
	void (*lookup)(const struct server_conf *c,
	               const struct auth_request *req, struct auth_reply *rep);
	/* The lookup judged the password: as nginx, a refusal without
	 * Auth-Wait ends the session. One that only routes leaves the
	 * password to the backend, and a refusal is a client error. */
	int checks_password;
};

extern const struct lookup lookup_auth_http, lookup_auth_map;

/* The lookups in the order a section looks for their directive (the last
 * one is the default); NULL-terminated. */
extern const struct lookup *const lookups[];

#endif
