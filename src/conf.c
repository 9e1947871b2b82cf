#include "conf.h"
#include "log.h"
#include "proto.h"
#include "sasl.h"
#include "tls_priority.h"
#include "units.h"

#include <confuse.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/libexec"
#endif

/* Each directive once: kind, name, default. Global options carry the
 * defaults; server sections repeat them without defaults, so that an unset
 * one is seen as unset and inherits the global value. */
#define DIRECTIVES(X)                                                   \
	X(STR, server_name, NULL)                                       \
	X(STR, auth_http, NULL)                                         \
	X(TIME, auth_http_timeout, "60s")                               \
	X(LIST, auth_http_header, NULL)                                 \
	X(STR, auth_map, SYSCONFDIR "/postern/users.map")               \
	X(TIME, timeout, "60s")                                         \
	X(TIME, proxy_timeout, "24h")                                   \
	X(LIST, imap_capabilities, "{IMAP4, IMAP4rev1, UIDPLUS}")       \
	X(LIST, imap_auth, "{plain}")                                   \
	X(SIZE, imap_client_buffer, "4k")                               \
	X(LIST, pop3_capabilities, "{TOP, USER, UIDL}")                 \
	X(LIST, pop3_auth, "{plain}")                                   \
	X(SIZE, pop3_client_buffer, "128")                              \
	X(LIST, smtp_capabilities, NULL)                                \
	X(LIST, smtp_auth, "{plain, login}")                            \
	X(SIZE, smtp_client_buffer, "4k")                               \
	X(TIME, smtp_greeting_delay, "0")                               \
	X(BOOL, xclient, cfg_true)                                      \
	X(BOOL, proxy_smtp_auth, cfg_false)                             \
	X(BOOL, ssl, cfg_false)                                         \
	X(STR, starttls, "off")                                         \
	X(LIST, ssl_certificate, NULL)                                  \
	X(LIST, ssl_certificate_key, NULL)                              \
	X(STR, ssl_password_file, NULL)                                 \
	X(LIST, ssl_protocols, "{TLSv1.2, TLSv1.3}")                    \
	X(STR, ssl_ciphers, "HIGH:!aNULL:!MD5")                         \
	X(STR, ssl_priority, NULL)                                      \
	X(STR, ssl_dhparam, NULL)                                       \
	X(STR, ssl_verify_client, "off")                                \
	X(STR, ssl_client_certificate, NULL)                            \
	X(STR, ssl_trusted_certificate, NULL)                           \
	X(STR, ssl_crl, NULL)                                           \
	X(INT, ssl_verify_depth, 1)                                     \
	X(BOOL, ssl_session_tickets, cfg_true)                          \
	X(LIST, ssl_session_ticket_key, NULL)                           \
	X(TIME, ssl_session_timeout, "5m")                              \
	X(BOOL, auth_http_pass_client_cert, cfg_false)                  \
	X(STR, tls_program, LIBEXECDIR "/postern-tls")                  \
	X(STR, proxy_ssl, "off")                                        \
	X(BOOL, proxy_ssl_verify, cfg_false)                            \
	X(STR, proxy_ssl_trusted_certificate, NULL)                     \
	X(STR, proxy_ssl_name, NULL)                                    \
	X(BOOL, proxy_pass_error_message, cfg_false)                    \
	X(INT, max_errors, 5)                                           \
	X(STR, relay_program, LIBEXECDIR "/postern-relay")              \
	X(STR, error_log, "auto")                                       \
	X(STR, log_level, "info")

enum kind { K_STR, K_TIME, K_SIZE, K_BOOL, K_INT, K_LIST };

#define OPT_STR(n, d, f) CFG_STR(n, d, f)
#define OPT_TIME(n, d, f) CFG_STR(n, d, f)
#define OPT_SIZE(n, d, f) CFG_STR(n, d, f)
#define OPT_BOOL(n, d, f) CFG_BOOL(n, d, f)
#define OPT_INT(n, d, f) CFG_INT(n, d, f)
#define OPT_LIST(n, d, f) CFG_STR_LIST(n, d, f)
#define NODEF_STR NULL
#define NODEF_TIME NULL
#define NODEF_SIZE NULL
#define NODEF_BOOL cfg_false
#define NODEF_INT 0
#define NODEF_LIST NULL

#define GLOBAL_OPT(k, n, d) OPT_##k(#n, d, CFGF_NONE),
#define SERVER_OPT(k, n, d) OPT_##k(#n, NODEF_##k, CFGF_NODEFAULT),
#define KIND_ROW(k, n, d) { #n, K_##k },

static const struct {
	const char *name;
	enum kind kind;
} kinds[] = { DIRECTIVES(KIND_ROW) { NULL, K_STR } };

struct errbuf {
	char *buf;
	size_t size;
};
static struct errbuf errbuf;

static void on_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];
	size_t used;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!errbuf.buf || errbuf.buf[0])
		return; /* keep the first error: later ones follow from it */
	used = (size_t)snprintf(errbuf.buf, errbuf.size, "%s:%d: ",
	                        cfg && cfg->filename ? cfg->filename : "?",
	                        cfg ? cfg->line : 0);
	if (used < errbuf.size)
		snprintf(errbuf.buf + used, errbuf.size - used, "%s", msg);
}

static const char *last_str(cfg_opt_t *opt)
{
	return cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
}

static int check_time(cfg_t *cfg, cfg_opt_t *opt)
{
	int64_t ms;

	if (parse_duration_ms(last_str(opt), &ms) < 0) {
		cfg_error(cfg, "%s: invalid duration \"%s\"", opt->name,
		          last_str(opt));
		return -1;
	}
	return 0;
}

static int check_size(cfg_t *cfg, cfg_opt_t *opt)
{
	size_t n;

	if (parse_size(last_str(opt), &n) < 0 || n < 64 || n > 1024 * 1024) {
		cfg_error(cfg, "%s: invalid size \"%s\" (64 to 1m)", opt->name,
		          last_str(opt));
		return -1;
	}
	return 0;
}

/* "pop3_auth" takes what the pop3 protocol allows. */
static int check_auth(cfg_t *cfg, cfg_opt_t *opt)
{
	char name[16];
	const struct protocol *p;

	snprintf(name, sizeof name, "%.*s", (int)strcspn(opt->name, "_"),
	         opt->name);
	p = proto_find(name);
	for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
		const char *m = cfg_opt_getnstr(opt, i);

		if (!p || !(sasl_mech_parse(m) & p->auth_allowed)) {
			cfg_error(cfg, "%s: unsupported method \"%s\"",
			          opt->name, m);
			return -1;
		}
	}
	return 0;
}

static int check_header(cfg_t *cfg, cfg_opt_t *opt)
{
	for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
		const char *h = cfg_opt_getnstr(opt, i);
		size_t name = strcspn(h, ": \t");

		if (name == 0 || h[name] == '\0' || strpbrk(h, "\r\n")) {
			cfg_error(cfg, "%s: want \"Name value\", got \"%s\"",
			          opt->name, h);
			return -1;
		}
	}
	return 0;
}

static int check_int(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v < 1 || v > 1000) {
		cfg_error(cfg, "%s: must be 1 to 1000", opt->name);
		return -1;
	}
	return 0;
}

static int check_level(cfg_t *cfg, cfg_opt_t *opt)
{
	if (log_level_parse(last_str(opt)) < 0) {
		cfg_error(cfg, "%s: unknown level \"%s\"", opt->name,
		          last_str(opt));
		return -1;
	}
	return 0;
}

static int check_protocol(cfg_t *cfg, cfg_opt_t *opt)
{
	if (!proto_find(last_str(opt))) {
		cfg_error(cfg, "protocol: unknown protocol \"%s\"", last_str(opt));
		return -1;
	}
	return 0;
}

/* "[address:]port", optionally followed by " ssl" as in nginx. */
static int listen_port(const char *listen)
{
	const char *p = strrchr(listen, ':');
	char *end;
	long v;

	p = p ? p + 1 : listen;
	v = strtol(p, &end, 10);
	if (*p == '\0' || v < 1 || v > 65535 ||
	    (*end != '\0' && strcmp(end, " ssl") != 0))
		return -1;
	return (int)v;
}

static int listen_ssl(const char *listen)
{
	size_t n = strlen(listen);

	return n > 4 && strcmp(listen + n - 4, " ssl") == 0;
}

static const char *const starttls_modes[] = { "off", "on", "only", NULL };
static const char *const proxy_ssl_modes[] = { "off", "on", "starttls",
                                               NULL };
static const char *const verify_modes[] = { "off", "on", "optional",
                                            "optional_no_ca", NULL };

static int word_index(const char *const *words, const char *w)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(words[i], w) == 0)
			return i;
	return -1;
}

static int check_starttls(cfg_t *cfg, cfg_opt_t *opt)
{
	if (word_index(starttls_modes, last_str(opt)) < 0) {
		cfg_error(cfg, "starttls: want on, off or only, got \"%s\"",
		          last_str(opt));
		return -1;
	}
	return 0;
}

static int check_proxy_ssl(cfg_t *cfg, cfg_opt_t *opt)
{
	if (word_index(proxy_ssl_modes, last_str(opt)) < 0) {
		cfg_error(cfg, "proxy_ssl: want on, off or starttls, got \"%s\"",
		          last_str(opt));
		return -1;
	}
	return 0;
}

static int check_verify(cfg_t *cfg, cfg_opt_t *opt)
{
	if (word_index(verify_modes, last_str(opt)) < 0) {
		cfg_error(cfg, "ssl_verify_client: want on, off, optional or "
		          "optional_no_ca, got \"%s\"", last_str(opt));
		return -1;
	}
	return 0;
}

static int check_listen(cfg_t *cfg, cfg_opt_t *opt)
{
	if (listen_port(last_str(opt)) < 0) {
		cfg_error(cfg, "listen: want [address:]port, got \"%s\"",
		          last_str(opt));
		return -1;
	}
	return 0;
}

static const char *const auth_directives[] = {
	"imap_auth", "pop3_auth", "smtp_auth", NULL,
};

static void set_validators(cfg_t *cfg, const char *prefix)
{
	char path[96];

	for (int i = 0; kinds[i].name; i++) {
		cfg_validate_callback_t fn = NULL;

		if (kinds[i].kind == K_TIME)
			fn = check_time;
		else if (kinds[i].kind == K_SIZE)
			fn = check_size;
		else if (kinds[i].kind == K_INT)
			fn = check_int;
		if (!fn)
			continue;
		snprintf(path, sizeof path, "%s%s", prefix, kinds[i].name);
		cfg_set_validate_func(cfg, path, fn);
	}
	for (const char *const *a = auth_directives; *a; a++) {
		snprintf(path, sizeof path, "%s%s", prefix, *a);
		cfg_set_validate_func(cfg, path, check_auth);
	}
	snprintf(path, sizeof path, "%sauth_http_header", prefix);
	cfg_set_validate_func(cfg, path, check_header);
	snprintf(path, sizeof path, "%slog_level", prefix);
	cfg_set_validate_func(cfg, path, check_level);
	snprintf(path, sizeof path, "%sstarttls", prefix);
	cfg_set_validate_func(cfg, path, check_starttls);
	snprintf(path, sizeof path, "%sssl_verify_client", prefix);
	cfg_set_validate_func(cfg, path, check_verify);
	snprintf(path, sizeof path, "%sproxy_ssl", prefix);
	cfg_set_validate_func(cfg, path, check_proxy_ssl);
}

/* The section's own value if set there, else the global one. */
static cfg_t *owner(cfg_t *sec, cfg_t *top, const char *name)
{
	return cfg_size(sec, name) > 0 ? sec : top;
}

static const char *str_of(cfg_t *sec, cfg_t *top, const char *name)
{
	return cfg_getstr(owner(sec, top, name), name);
}

static int64_t ms_of(cfg_t *sec, cfg_t *top, const char *name)
{
	int64_t ms = 0;

	parse_duration_ms(str_of(sec, top, name), &ms);
	return ms;
}

static int parse_auth_http(const char *url, struct auth_http_target *t,
                           char *err, size_t size)
{
	const char *p = url, *slash;
	char hostport[300];
	size_t n;

	memset(t, 0, sizeof *t);
	if (strncmp(p, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&t->addr.ss;
		const char *colon = strchr(p + 5, ':');

		n = colon ? (size_t)(colon - p - 5) : strlen(p + 5);
		if (n == 0 || n >= sizeof un->sun_path) {
			snprintf(err, size, "auth_http: bad unix path in \"%s\"", url);
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, p + 5, n);
		t->addr.len = sizeof *un;
		snprintf(t->host, sizeof t->host, "localhost");
		snprintf(t->uri, sizeof t->uri, "%s", colon ? colon + 1 : "/");
		return 0;
	}
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof hostport) {
		snprintf(err, size, "auth_http: bad address in \"%s\"", url);
		return -1;
	}
	memcpy(hostport, p, n);
	hostport[n] = '\0';
	snprintf(t->uri, sizeof t->uri, "%s", slash ? slash : "/");
	/* Host: carries the host part alone, as nginx sends it. */
	{
		char *colon = strrchr(hostport, ':');
		int has_port = colon && (hostport[0] != '[' || colon[-1] == ']');

		snprintf(t->host, sizeof t->host, "%.*s",
		         has_port ? (int)(colon - hostport) : (int)n, hostport);
		if (!has_port)
			strncat(hostport, ":80", sizeof hostport - n - 1);
	}
	if (addr_parse(hostport, &t->addr) < 0) {
		snprintf(err, size,
		         "auth_http: \"%s\" needs a numeric address (IPv6 in [])",
		         url);
		return -1;
	}
	return 0;
}

static char *join_headers(cfg_t *from, const char *name)
{
	size_t total = 1, n = cfg_size(from, name);
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		total += strlen(cfg_getnstr(from, name, (unsigned)i)) + 4;
	out = p = malloc(total);
	if (!out)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *h = cfg_getnstr(from, name, (unsigned)i);
		size_t k = strcspn(h, ": \t");
		const char *v = h + k;

		while (*v == ':' || *v == ' ' || *v == '\t')
			v++;
		p += sprintf(p, "%.*s: %s\r\n", (int)k, h, v);
	}
	return out;
}

/* The server's own protocol's directives: <name>_capabilities,
 * <name>_auth, <name>_client_buffer. */
static int resolve_protocol(cfg_t *sec, cfg_t *top, struct server_conf *s,
                            char *err, size_t size)
{
	char caps[48], auth[48], buffer[48];
	cfg_t *o;

	snprintf(caps, sizeof caps, "%s_capabilities", s->protocol->name);
	snprintf(auth, sizeof auth, "%s_auth", s->protocol->name);
	snprintf(buffer, sizeof buffer, "%s_client_buffer", s->protocol->name);
	o = owner(sec, top, caps);
	s->ncapabilities = cfg_size(o, caps);
	if (s->ncapabilities > CAPS_MAX) {
		snprintf(err, size, "%s: server %s: more than %d capabilities",
		         top->filename, s->name, CAPS_MAX);
		return -1;
	}
	for (size_t i = 0; i < s->ncapabilities; i++)
		s->capabilities[i] = cfg_getnstr(o, caps, (unsigned)i);
	o = owner(sec, top, auth);
	s->auth = 0;
	for (unsigned i = 0; i < cfg_size(o, auth); i++)
		s->auth |= sasl_mech_parse(cfg_getnstr(o, auth, i));
	parse_size(str_of(sec, top, buffer), &s->client_buffer);
	return 0;
}

/* The map routes but checks no password: whatever would let a client in
 * without the backend checking its password needs an auth server. */
static int check_lookup(const struct server_conf *s, cfg_t *top, char *err,
                        size_t size)
{
	const char *why = NULL;

	if (s->auth_http)
		return 0;
	if (s->auth & SASL_NEEDS_AUTH_SERVER)
		why = "apop, cram-md5 and external need auth_http (the auth "
		      "server checks the proof and returns the password)";
	else if ((s->auth & ~SASL_NONE) && s->protocol == &proto_smtp &&
	         !s->proxy_smtp_auth)
		why = "smtp logins with auth_map need proxy_smtp_auth = true "
		      "(the map checks no password; the backend must)";
	if (!why)
		return 0;
	snprintf(err, size, "%s: server %s: %s", top->filename, s->name, why);
	return -1;
}

/* A list directive into a fixed array. */
static int take_list(cfg_t *sec, cfg_t *top, const char *name,
                     const char **out, size_t max, size_t *n, char *err,
                     size_t size)
{
	cfg_t *o = owner(sec, top, name);

	*n = cfg_size(o, name);
	if (*n > max) {
		snprintf(err, size, "%s: server %s: at most %zu %s", top->filename,
		         cfg_title(sec), max, name);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		out[i] = cfg_getnstr(o, name, (unsigned)i);
	return 0;
}

/* TLS settings are only read here; the certificates themselves are read
 * by postern-tls, never by the plaintext front. */
static int resolve_tls(cfg_t *sec, cfg_t *top, struct server_conf *s,
                       char *err, size_t size)
{
	const char *protocols[8];
	size_t nprotocols, nkeys;
	char why[256];

	s->ssl = cfg_getbool(owner(sec, top, "ssl"), "ssl") ||
	         (cfg_getstr(sec, "listen") && listen_ssl(cfg_getstr(sec, "listen")));
	s->starttls = word_index(starttls_modes, str_of(sec, top, "starttls"));
	s->ssl_verify_client = word_index(verify_modes,
	                                  str_of(sec, top, "ssl_verify_client"));
	if (take_list(sec, top, "ssl_certificate", s->ssl_certificate,
	              CERTS_MAX, &s->ssl_ncertificates, err, size) < 0 ||
	    take_list(sec, top, "ssl_certificate_key", s->ssl_certificate_key,
	              CERTS_MAX, &nkeys, err, size) < 0 ||
	    take_list(sec, top, "ssl_session_ticket_key",
	              s->ssl_session_ticket_key, CERTS_MAX,
	              &s->ssl_nticket_keys, err, size) < 0 ||
	    take_list(sec, top, "ssl_protocols", protocols, 8, &nprotocols, err,
	              size) < 0)
		return -1;
	s->ssl_password_file = str_of(sec, top, "ssl_password_file");
	s->ssl_dhparam = str_of(sec, top, "ssl_dhparam");
	s->ssl_client_certificate = str_of(sec, top, "ssl_client_certificate");
	s->ssl_trusted_certificate = str_of(sec, top, "ssl_trusted_certificate");
	s->ssl_crl = str_of(sec, top, "ssl_crl");
	s->ssl_verify_depth = (int)cfg_getint(owner(sec, top, "ssl_verify_depth"),
	                                      "ssl_verify_depth");
	s->ssl_session_tickets = cfg_getbool(owner(sec, top, "ssl_session_tickets"),
	                                     "ssl_session_tickets");
	s->ssl_session_timeout_ms = ms_of(sec, top, "ssl_session_timeout");
	s->auth_http_pass_client_cert = cfg_getbool(
		owner(sec, top, "auth_http_pass_client_cert"),
		"auth_http_pass_client_cert");
	s->tls_program = str_of(sec, top, "tls_program");
	s->proxy_ssl = word_index(proxy_ssl_modes, str_of(sec, top, "proxy_ssl"));
	s->proxy_ssl_verify = cfg_getbool(owner(sec, top, "proxy_ssl_verify"),
	                                  "proxy_ssl_verify");
	s->proxy_ssl_trusted_certificate =
		str_of(sec, top, "proxy_ssl_trusted_certificate");
	s->proxy_ssl_name = str_of(sec, top, "proxy_ssl_name");
	if (str_of(sec, top, "ssl_priority"))
		snprintf(s->ssl_priority, sizeof s->ssl_priority, "%s",
		         str_of(sec, top, "ssl_priority"));
	else if (tls_priority(protocols, nprotocols,
	                      str_of(sec, top, "ssl_ciphers"), s->ssl_priority,
	                      sizeof s->ssl_priority, why, sizeof why) < 0) {
		snprintf(err, size, "%s: server %s: %s", top->filename, s->name, why);
		return -1;
	}
	if (!s->ssl && s->starttls == STARTTLS_OFF)
		return 0;
	if (s->ssl_ncertificates == 0 || s->ssl_ncertificates != nkeys) {
		snprintf(err, size, "%s: server %s: TLS needs ssl_certificate and "
		         "ssl_certificate_key, as many of one as of the other",
		         top->filename, s->name);
		return -1;
	}
	if (s->ssl_verify_client != VERIFY_OFF &&
	    s->ssl_verify_client != VERIFY_OPTIONAL_NO_CA &&
	    !s->ssl_client_certificate && !s->ssl_trusted_certificate) {
		snprintf(err, size, "%s: server %s: ssl_verify_client needs "
		         "ssl_client_certificate or ssl_trusted_certificate",
		         top->filename, s->name);
		return -1;
	}
	return 0;
}

static int resolve(cfg_t *sec, cfg_t *top, struct server_conf *s, char *err,
                   size_t size)
{
	static char hostname[256];

	s->name = cfg_title(sec);
	s->listen_port = cfg_getstr(sec, "listen") ?
	                 listen_port(cfg_getstr(sec, "listen")) : 0;
	/* As nginx: without protocol, the listen port's well-known one. */
	s->protocol = cfg_getstr(sec, "protocol") ?
	              proto_find(cfg_getstr(sec, "protocol")) :
	              proto_by_port(s->listen_port);
	if (!s->protocol) {
		snprintf(err, size, "%s: server %s: no protocol, and listen is not "
		         "a well-known mail port", top->filename, s->name);
		return -1;
	}
	s->server_name = str_of(sec, top, "server_name");
	if (!s->server_name) {
		if (!hostname[0] && gethostname(hostname, sizeof hostname - 1) < 0)
			snprintf(hostname, sizeof hostname, "localhost");
		s->server_name = hostname;
	}
	s->auth_http = str_of(sec, top, "auth_http");
	if (s->auth_http && parse_auth_http(s->auth_http, &s->auth_http_target,
	                                    err, size) < 0)
		return -1;
	s->auth_http_headers = join_headers(owner(sec, top, "auth_http_header"),
	                                    "auth_http_header");
	s->auth_map = str_of(sec, top, "auth_map");
	s->auth_http_timeout_ms = ms_of(sec, top, "auth_http_timeout");
	s->timeout_ms = ms_of(sec, top, "timeout");
	s->proxy_timeout_ms = ms_of(sec, top, "proxy_timeout");

	if (resolve_protocol(sec, top, s, err, size) < 0)
		return -1;
	s->proxy_pass_error_message = cfg_getbool(
		owner(sec, top, "proxy_pass_error_message"),
		"proxy_pass_error_message");
	s->max_errors = (int)cfg_getint(owner(sec, top, "max_errors"),
	                                "max_errors");
	s->smtp_greeting_delay_ms = ms_of(sec, top, "smtp_greeting_delay");
	s->xclient = cfg_getbool(owner(sec, top, "xclient"), "xclient");
	s->proxy_smtp_auth = cfg_getbool(owner(sec, top, "proxy_smtp_auth"),
	                                 "proxy_smtp_auth");
	if (check_lookup(s, top, err, size) < 0 ||
	    resolve_tls(sec, top, s, err, size) < 0)
		return -1;
	s->relay_program = str_of(sec, top, "relay_program");
	s->error_log = str_of(sec, top, "error_log");
	s->log_level = log_level_parse(str_of(sec, top, "log_level"));
	return 0;
}

int conf_load(const char *path, struct conf *conf, char *err, size_t size)
{
	static cfg_opt_t server_opts[] = {
		CFG_STR("listen", NULL, CFGF_NODEFAULT),
		CFG_STR("protocol", NULL, CFGF_NODEFAULT),
		DIRECTIVES(SERVER_OPT)
		CFG_END()
	};
	static cfg_opt_t opts[] = {
		DIRECTIVES(GLOBAL_OPT)
		CFG_SEC("server", server_opts,
		        CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	cfg_t *cfg;
	int rc;

	memset(conf, 0, sizeof *conf);
	err[0] = '\0';
	errbuf.buf = err;
	errbuf.size = size;
	cfg = cfg_init(opts, CFGF_NONE);
	if (!cfg) {
		snprintf(err, size, "out of memory");
		return -1;
	}
	cfg_set_error_function(cfg, on_error);
	set_validators(cfg, "");
	set_validators(cfg, "server|");
	cfg_set_validate_func(cfg, "server|protocol", check_protocol);
	cfg_set_validate_func(cfg, "server|listen", check_listen);

	rc = cfg_parse(cfg, path);
	errbuf.buf = NULL;
	if (rc == CFG_FILE_ERROR) {
		snprintf(err, size, "%s: cannot read the file", path);
		cfg_free(cfg);
		return -1;
	}
	if (rc != CFG_SUCCESS) {
		if (!err[0])
			snprintf(err, size, "%s: parse error", path);
		cfg_free(cfg);
		return -1;
	}
	conf->cfg = cfg;
	conf->nservers = cfg_size(cfg, "server");
	if (conf->nservers == 0) {
		snprintf(err, size, "%s: no server section", path);
		conf_free(conf);
		return -1;
	}
	conf->servers = calloc(conf->nservers, sizeof *conf->servers);
	if (!conf->servers) {
		snprintf(err, size, "out of memory");
		conf_free(conf);
		return -1;
	}
	for (size_t i = 0; i < conf->nservers; i++) {
		if (resolve(cfg_getnsec(cfg, "server", (unsigned)i), cfg,
		            &conf->servers[i], err, size) < 0) {
			conf_free(conf);
			return -1;
		}
	}
	return 0;
}

void conf_free(struct conf *conf)
{
	for (size_t i = 0; conf->servers && i < conf->nservers; i++)
		free(conf->servers[i].auth_http_headers);
	free(conf->servers);
	if (conf->cfg)
		cfg_free(conf->cfg);
	memset(conf, 0, sizeof *conf);
}

const struct server_conf *conf_by_name(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (strcmp(c->servers[i].name, name) == 0)
			return &c->servers[i];
	return NULL;
}

/* A section's own listen port first; then, for sections without listen,
 * the well-known ports of their protocol. */
const struct server_conf *conf_by_port(const struct conf *c, int port)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].listen_port == port)
			return &c->servers[i];
	for (size_t i = 0; i < c->nservers; i++) {
		const in_port_t *p = c->servers[i].protocol->ports;

		if (c->servers[i].listen_port)
			continue;
		for (; *p; p++)
			if (*p == port)
				return &c->servers[i];
	}
	return NULL;
}
