#include "conf_load.h"
#include "cidr.h"
#include "conf_text.h"
#include "log.h"
#include "lookup.h"
#include "proto.h"
#include "resolver.h"
#include "sasl.h"
#include "strbuf.h"
#include "tls_priority.h"
#include "quantity.h"

#include <confuse.h>
#include <errno.h>
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
 * one is seen as unset and inherits the global value. The protocols'
 * directives (<name>_capabilities, _auth, _client_buffer) and the
 * lookups' (auth_http, auth_map) come from their tables. allow and deny
 * are written as functions, allow("10.0.0.0/8"), because their order
 * matters and libconfuse keeps order only within one directive: each
 * call appends to access_rules. */
#define DIRECTIVES(X)                                                   \
	X(STR, server_name, NULL)                                       \
	X(TIME, auth_http_timeout, "60s")                               \
	X(LIST, auth_http_header, NULL)                                 \
	X(TIME, timeout, "60s")                                         \
	X(TIME, login_timeout, "3m")                                    \
	X(TIME, proxy_timeout, "24h")                                   \
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
	X(BOOL, ssl_handoff, cfg_true)                                  \
	X(STR, proxy_ssl, "off")                                        \
	X(BOOL, proxy_ssl_verify, cfg_false)                            \
	X(STR, proxy_ssl_trusted_certificate, NULL)                     \
	X(STR, proxy_ssl_name, NULL)                                    \
	X(BOOL, proxy_pass_error_message, cfg_false)                    \
	X(INT, max_errors, 5)                                           \
	X(STR, relay_program, LIBEXECDIR "/postern-relay")              \
	X(STR, guard_relay_program, LIBEXECDIR "/postern-guard-relay")  \
	X(STR, tls_relay_program, LIBEXECDIR "/postern-tls-relay")      \
	X(LIST, imap_deny_commands, NULL)                               \
	X(LIST, imap_hide_capabilities, NULL)                           \
	X(LIST, set_real_ip_from, NULL)                                 \
	X(LIST, access_rules, NULL)                                     \
	X(STR, proxy_protocol, "off")                                   \
	X(BOOL, proxy_forward_client, cfg_true)                         \
	X(LIST, resolver, NULL)                                         \
	X(TIME, resolver_timeout, "30s")                                \
	X(BOOL, resolver_imap_pop3, cfg_false)                          \
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
	const char *path;
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
	                        errbuf.path ? errbuf.path : "?",
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

/* "[address:]port", then nginx's flags in any order: ssl,
 * proxy_protocol. The address is systemd's or inetd's to bind. */
struct listen {
	int port;
	int ssl;
	int proxy_protocol;
};

static int parse_listen(const char *text, struct listen *l)
{
	char word[64];
	const char *p = text, *colon;
	char *end;
	size_t n = strcspn(p, " ");
	long v;

	memset(l, 0, sizeof *l);
	if (n == 0 || n >= sizeof word)
		return -1;
	memcpy(word, p, n);
	word[n] = '\0';
	colon = strrchr(word, ':');
	colon = colon ? colon + 1 : word;
	v = strtol(colon, &end, 10);
	if (*colon == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -1;
	l->port = (int)v;
	for (p += n; *p == ' '; p += n) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 3 && strncmp(p, "ssl", 3) == 0)
			l->ssl = 1;
		else if (n == 14 && strncmp(p, "proxy_protocol", 14) == 0)
			l->proxy_protocol = 1;
		else if (n > 0)
			return -1;
	}
	return 0;
}

static const char *const starttls_modes[] = { "off", "on", "only", NULL };
static const char *const proxy_ssl_modes[] = { "off", "on", "starttls",
                                               NULL };
static const char *const verify_modes[] = { "off", "on", "optional",
                                            "optional_no_ca", NULL };
static const char *const proxy_protocol_modes[] = { "off", "on", "v2",
                                                    "v1", NULL };

/* Directives that take one word of a list: the word's index is the
 * value (enum starttls_mode, proxy_ssl, verify_client; the PROXY
 * version). */
static const struct {
	const char *name;
	const char *const *words;
	const char *want;      /* the words as the error names them */
} word_options[] = {
	{ "starttls", starttls_modes, "on, off or only" },
	{ "proxy_ssl", proxy_ssl_modes, "on, off or starttls" },
	{ "ssl_verify_client", verify_modes,
	  "on, off, optional or optional_no_ca" },
	{ "proxy_protocol", proxy_protocol_modes, "on, off, v1 or v2" },
};
#define NWORD_OPTIONS (sizeof word_options / sizeof word_options[0])

static int word_index(const char *const *words, const char *w)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(words[i], w) == 0)
			return i;
	return -1;
}

static int check_word(cfg_t *cfg, cfg_opt_t *opt)
{
	for (size_t i = 0; i < NWORD_OPTIONS; i++) {
		if (strcmp(cfg_opt_name(opt), word_options[i].name) != 0 ||
		    word_index(word_options[i].words, last_str(opt)) >= 0)
			continue;
		cfg_error(cfg, "%s: want %s, got \"%s\"", word_options[i].name,
		          word_options[i].want, last_str(opt));
		return -1;
	}
	return 0;
}

static int check_listen(cfg_t *cfg, cfg_opt_t *opt)
{
	struct listen l;

	if (parse_listen(last_str(opt), &l) < 0) {
		cfg_error(cfg, "listen: want [address:]port [ssl] "
		          "[proxy_protocol], got \"%s\"",
		          last_str(opt));
		return -1;
	}
	return 0;
}

static int check_cidr(cfg_t *cfg, cfg_opt_t *opt)
{
	struct cidr c;

	if (cidr_parse(last_str(opt), &c) < 0) {
		cfg_error(cfg, "%s: want an address, a network, all or unix:, "
		          "got \"%s\"", cfg_opt_name(opt), last_str(opt));
		return -1;
	}
	return 0;
}

static int check_resolver(cfg_t *cfg, cfg_opt_t *opt)
{
	struct addr a;

	if (resolver_addr(last_str(opt), &a) < 0) {
		cfg_error(cfg, "resolver: want an address, with :port or not, "
		          "got \"%s\"", last_str(opt));
		return -1;
	}
	return 0;
}

/* ssl_protocols and ssl_ciphers, each checked alone while the file is
 * read, so that an error names its line; the section then joins the two
 * it ends up with. */
static int check_tls_words(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const usual[] = { "TLSv1.2", "TLSv1.3" };
	const char *value = last_str(opt);
	char out[TLS_PRIORITY_MAX], why[256];
	int rc = strcmp(opt->name, "ssl_protocols") == 0
	         ? tls_priority(&value, 1, "HIGH", out, sizeof out, why,
	                        sizeof why)
	         : tls_priority(usual, 2, value, out, sizeof out, why,
	                        sizeof why);

	if (rc < 0)
		cfg_error(cfg, "%s", why);
	return rc;
}

/* access_rules written as a list: "allow NET" or "deny NET". */
static int check_rule(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *rule = last_str(opt);
	size_t n = strcspn(rule, " ");
	struct cidr c;

	if ((strncmp(rule, "allow", n) != 0 && strncmp(rule, "deny", n) != 0) ||
	    n == 0 || cidr_parse(rule + n + (rule[n] == ' '), &c) < 0) {
		cfg_error(cfg, "access_rules: want \"allow NET\" or \"deny "
		          "NET\", got \"%s\"", rule);
		return -1;
	}
	return 0;
}

/* A lookup's directive, checked by the lookup while the file is read. */
static int check_lookup(cfg_t *cfg, cfg_opt_t *opt)
{
	char why[256] = "";

	for (const struct lookup *const *l = lookups; *l; l++) {
		if (strcmp((*l)->directive, cfg_opt_name(opt)) != 0 ||
		    !(*l)->check)
			continue;
		if ((*l)->check(last_str(opt), why, sizeof why) < 0) {
			cfg_error(cfg, "%s", why);
			return -1;
		}
	}
	return 0;
}

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
	for (const struct protocol *const *p = protocols; *p; p++) {
		snprintf(path, sizeof path, "%s%s_auth", prefix, (*p)->name);
		cfg_set_validate_func(cfg, path, check_auth);
		snprintf(path, sizeof path, "%s%s_client_buffer", prefix,
		         (*p)->name);
		cfg_set_validate_func(cfg, path, check_size);
	}
	snprintf(path, sizeof path, "%sauth_http_header", prefix);
	cfg_set_validate_func(cfg, path, check_header);
	snprintf(path, sizeof path, "%slog_level", prefix);
	cfg_set_validate_func(cfg, path, check_level);
	for (size_t i = 0; i < NWORD_OPTIONS; i++) {
		snprintf(path, sizeof path, "%s%s", prefix, word_options[i].name);
		cfg_set_validate_func(cfg, path, check_word);
	}
	snprintf(path, sizeof path, "%sset_real_ip_from", prefix);
	cfg_set_validate_func(cfg, path, check_cidr);
	snprintf(path, sizeof path, "%sresolver", prefix);
	cfg_set_validate_func(cfg, path, check_resolver);
	snprintf(path, sizeof path, "%sssl_protocols", prefix);
	cfg_set_validate_func(cfg, path, check_tls_words);
	snprintf(path, sizeof path, "%sssl_ciphers", prefix);
	cfg_set_validate_func(cfg, path, check_tls_words);
	snprintf(path, sizeof path, "%saccess_rules", prefix);
	cfg_set_validate_func(cfg, path, check_rule);
	for (const struct lookup *const *l = lookups; *l; l++) {
		if (!(*l)->check)
			continue;
		snprintf(path, sizeof path, "%s%s", prefix, (*l)->directive);
		cfg_set_validate_func(cfg, path, check_lookup);
	}
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
		snprintf(err, size, "%s:%d: server %s: more than %d capabilities",
		         errbuf.path, sec->line, s->name, CAPS_MAX);
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

/* The first lookup whose directive the section has (the last one has a
 * default); then what it and the protocol cannot do with the section. */
static int choose_lookup(cfg_t *sec, cfg_t *top, struct server_conf *s,
                         char *err, size_t size)
{
	const struct lookup *const *l;
	const char *value = NULL;
	char why[256] = "";

	for (l = lookups; *l; l++)
		if ((value = str_of(sec, top, (*l)->directive)))
			break;
	if (!*l) {
		snprintf(err, size, "%s:%d: server %s: no lookup (auth_http or "
		         "auth_map)", errbuf.path, sec->line, s->name);
		return -1;
	}
	s->lookup = *l;
	if ((*l)->configure(s, value, why, sizeof why) < 0 ||
	    (s->protocol->check_conf &&
	     s->protocol->check_conf(s, why, sizeof why) < 0)) {
		snprintf(err, size, "%s:%d: server %s: %s", errbuf.path, sec->line, s->name, why);
		return -1;
	}
	return 0;
}

/* A list directive into a fixed array. */
static int take_list(cfg_t *sec, cfg_t *top, const char *name,
                     const char **out, size_t max, size_t *n, char *err,
                     size_t size)
{
	cfg_t *o = owner(sec, top, name);

	*n = cfg_size(o, name);
	if (*n > max) {
		snprintf(err, size, "%s:%d: server %s: at most %zu %s", errbuf.path, sec->line,
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
	const char *versions[8];
	size_t nversions, nkeys;
	char why[256];

	s->ssl = s->ssl || cfg_getbool(owner(sec, top, "ssl"), "ssl");
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
	    take_list(sec, top, "ssl_protocols", versions, 8, &nversions, err,
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
	s->ssl_handoff = cfg_getbool(owner(sec, top, "ssl_handoff"),
	                             "ssl_handoff");
	s->proxy_ssl = word_index(proxy_ssl_modes, str_of(sec, top, "proxy_ssl"));
	s->proxy_ssl_verify = cfg_getbool(owner(sec, top, "proxy_ssl_verify"),
	                                  "proxy_ssl_verify");
	s->proxy_ssl_trusted_certificate =
		str_of(sec, top, "proxy_ssl_trusted_certificate");
	s->proxy_ssl_name = str_of(sec, top, "proxy_ssl_name");
	if (str_of(sec, top, "ssl_priority"))
		snprintf(s->ssl_priority, sizeof s->ssl_priority, "%s",
		         str_of(sec, top, "ssl_priority"));
	else if (tls_priority(versions, nversions,
	                      str_of(sec, top, "ssl_ciphers"), s->ssl_priority,
	                      sizeof s->ssl_priority, why, sizeof why) < 0) {
		snprintf(err, size, "%s:%d: server %s: %s", errbuf.path, sec->line, s->name, why);
		return -1;
	}
	if (!s->ssl && s->starttls == STARTTLS_OFF)
		return 0;
	if (s->ssl_ncertificates == 0 || s->ssl_ncertificates != nkeys) {
		snprintf(err, size, "%s:%d: server %s: TLS needs ssl_certificate and "
		         "ssl_certificate_key, as many of one as of the other",
		         errbuf.path, sec->line, s->name);
		return -1;
	}
	if (s->ssl_verify_client != VERIFY_OFF &&
	    s->ssl_verify_client != VERIFY_OPTIONAL_NO_CA &&
	    !s->ssl_client_certificate && !s->ssl_trusted_certificate) {
		snprintf(err, size, "%s:%d: server %s: ssl_verify_client needs "
		         "ssl_client_certificate or ssl_trusted_certificate",
		         errbuf.path, sec->line, s->name);
		return -1;
	}
	return 0;
}

/* A list directive as one space-separated string, as the relays take it. */
static int join_names(cfg_t *sec, cfg_t *top, const char *name, char *out,
                      size_t size)
{
	cfg_t *o = owner(sec, top, name);
	struct strbuf sb;

	out[0] = '\0';
	strbuf_init(&sb, out, size);
	for (unsigned i = 0; i < cfg_size(o, name); i++)
		strbuf_printf(&sb, "%s%s", sb.len ? " " : "",
		              cfg_getnstr(o, name, i));
	return sb.overflow ? -1 : 0;
}

/* allow("...") and deny("..."): one rule each, kept in order. */
static int add_rule(cfg_t *cfg, const char *verb, int argc, const char **argv)
{
	char rule[80];
	struct cidr c;

	if (argc != 1 || cidr_parse(argv[0], &c) < 0 || c.kind == CIDR_UNIX) {
		cfg_error(cfg, "%s: want one address, network or all", verb);
		return -1;
	}
	snprintf(rule, sizeof rule, "%s %s", verb, argv[0]);
	return cfg_addlist(cfg, "access_rules", 1, rule) == CFG_SUCCESS ? 0 : -1;
}

static int func_allow(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	(void)opt;
	return add_rule(cfg, "allow", argc, argv);
}

static int func_deny(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	(void)opt;
	return add_rule(cfg, "deny", argc, argv);
}

/* Where the client really is and who may come: the PROXY header's trust,
 * allow and deny, the resolver; and what backends are told of it. */
static int resolve_origin(cfg_t *sec, cfg_t *top, struct server_conf *s,
                          char *err, size_t size)
{
	const char *names[RESOLVERS_MAX], *rules[ACCESS_MAX];
	const char *from[REAL_IP_FROM_MAX];
	size_t n;

	if (take_list(sec, top, "set_real_ip_from", from, REAL_IP_FROM_MAX,
	              &s->nreal_ip_from, err, size) < 0 ||
	    take_list(sec, top, "access_rules", rules, ACCESS_MAX, &s->naccess,
	              err, size) < 0 ||
	    take_list(sec, top, "resolver", names, RESOLVERS_MAX,
	              &s->nresolvers, err, size) < 0)
		return -1;
	for (size_t i = 0; i < s->nreal_ip_from; i++)
		cidr_parse(from[i], &s->real_ip_from[i]);
	for (size_t i = 0; i < s->naccess; i++) {
		n = strcspn(rules[i], " ");
		s->access[i].allow = strncmp(rules[i], "allow", n) == 0;
		if (cidr_parse(rules[i] + n + (rules[i][n] == ' '),
		               &s->access[i].cidr) < 0) {
			snprintf(err, size, "%s:%d: server %s: bad rule \"%s\"",
			         errbuf.path, sec->line, s->name, rules[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < s->nresolvers; i++)
		resolver_addr(names[i], &s->resolvers[i]);
	s->resolver_timeout_ms = ms_of(sec, top, "resolver_timeout");
	s->resolver_imap_pop3 = cfg_getbool(owner(sec, top, "resolver_imap_pop3"),
	                                    "resolver_imap_pop3");
	switch (word_index(proxy_protocol_modes,
	                   str_of(sec, top, "proxy_protocol"))) {
	case 1: case 3: s->proxy_protocol_out = 1; break;
	case 2: s->proxy_protocol_out = 2; break;
	default: s->proxy_protocol_out = 0;
	}
	s->forward_client = cfg_getbool(owner(sec, top, "proxy_forward_client"),
	                                "proxy_forward_client");
	return 0;
}

static int resolve(cfg_t *sec, cfg_t *top, struct server_conf *s, char *err,
                   size_t size)
{
	static char hostname[256];

	s->name = cfg_title(sec);
	if (cfg_getstr(sec, "listen")) {
		struct listen l;

		parse_listen(cfg_getstr(sec, "listen"), &l);
		s->listen_port = l.port;
		s->ssl = l.ssl;
		s->proxy_protocol_in = l.proxy_protocol;
	}
	/* As nginx: without protocol, the listen port's well-known one. */
	s->protocol = cfg_getstr(sec, "protocol") ?
	              proto_find(cfg_getstr(sec, "protocol")) :
	              proto_by_port(s->listen_port);
	if (!s->protocol) {
		snprintf(err, size, "%s:%d: server %s: no protocol, and listen is not "
		         "a well-known mail port", errbuf.path, sec->line, s->name);
		return -1;
	}
	s->server_name = str_of(sec, top, "server_name");
	if (!s->server_name) {
		if (!hostname[0] && gethostname(hostname, sizeof hostname - 1) < 0)
			snprintf(hostname, sizeof hostname, "localhost");
		s->server_name = hostname;
	}
	s->auth_http_headers = join_headers(owner(sec, top, "auth_http_header"),
	                                    "auth_http_header");
	s->auth_http_timeout_ms = ms_of(sec, top, "auth_http_timeout");
	s->timeout_ms = ms_of(sec, top, "timeout");
	s->login_timeout_ms = ms_of(sec, top, "login_timeout");
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
	if (choose_lookup(sec, top, s, err, size) < 0 ||
	    resolve_tls(sec, top, s, err, size) < 0 ||
	    resolve_origin(sec, top, s, err, size) < 0)
		return -1;
	if (join_names(sec, top, "imap_deny_commands", s->imap_deny,
	               sizeof s->imap_deny) < 0 ||
	    join_names(sec, top, "imap_hide_capabilities", s->imap_hide,
	               sizeof s->imap_hide) < 0) {
		snprintf(err, size, "%s:%d: server %s: imap_deny_commands or "
		         "imap_hide_capabilities too long", errbuf.path, sec->line, s->name);
		return -1;
	}
	s->relay_program = str_of(sec, top, "relay_program");
	s->guard_relay_program = str_of(sec, top, "guard_relay_program");
	s->tls_relay_program = str_of(sec, top, "tls_relay_program");
	s->error_log = str_of(sec, top, "error_log");
	s->log_level = log_level_parse(str_of(sec, top, "log_level"));
	return 0;
}

/* Room for what the tables add: three directives per protocol, one per
 * lookup. */
#define TABLE_OPTS_MAX 32
#define NDIRECTIVES (sizeof kinds / sizeof kinds[0] - 1)

struct schema {
	cfg_opt_t server[NDIRECTIVES + TABLE_OPTS_MAX + 5];
	cfg_opt_t global[NDIRECTIVES + TABLE_OPTS_MAX + 4];
	char names[TABLE_OPTS_MAX][48];
	size_t nserver, nglobal, nnames;
};

static const char *table_name(struct schema *sc, const char *prefix,
                              const char *suffix)
{
	char *n = sc->names[sc->nnames++];

	snprintf(n, sizeof sc->names[0], "%s%s", prefix, suffix);
	return n;
}

/* One table directive: with its default globally, without in sections. */
static void add_table_opt(struct schema *sc, int list, const char *name,
                          const char *def)
{
	if (list) {
		sc->global[sc->nglobal++] =
			(cfg_opt_t)CFG_STR_LIST(name, (char *)def, CFGF_NONE);
		sc->server[sc->nserver++] =
			(cfg_opt_t)CFG_STR_LIST(name, NULL, CFGF_NODEFAULT);
	} else {
		sc->global[sc->nglobal++] =
			(cfg_opt_t)CFG_STR(name, def, CFGF_NONE);
		sc->server[sc->nserver++] =
			(cfg_opt_t)CFG_STR(name, NULL, CFGF_NODEFAULT);
	}
}

static int build_schema(struct schema *sc)
{
	static const cfg_opt_t server_base[] = {
		CFG_STR("listen", NULL, CFGF_NODEFAULT),
		CFG_STR("protocol", NULL, CFGF_NODEFAULT),
		CFG_FUNC("allow", func_allow),
		CFG_FUNC("deny", func_deny),
		DIRECTIVES(SERVER_OPT)
	};
	static const cfg_opt_t global_base[] = {
		CFG_FUNC("allow", func_allow),
		CFG_FUNC("deny", func_deny),
		DIRECTIVES(GLOBAL_OPT)
	};
	size_t extra = 0;

	for (const struct protocol *const *p = protocols; *p; p++)
		extra += 3;
	for (const struct lookup *const *l = lookups; *l; l++)
		extra++;
	if (extra > TABLE_OPTS_MAX)
		return -1;
	memset(sc, 0, sizeof *sc);
	memcpy(sc->server, server_base, sizeof server_base);
	sc->nserver = sizeof server_base / sizeof server_base[0];
	memcpy(sc->global, global_base, sizeof global_base);
	sc->nglobal = sizeof global_base / sizeof global_base[0];
	for (const struct protocol *const *p = protocols; *p; p++) {
		add_table_opt(sc, 1, table_name(sc, (*p)->name, "_capabilities"),
		              (*p)->default_capabilities);
		add_table_opt(sc, 1, table_name(sc, (*p)->name, "_auth"),
		              (*p)->default_auth);
		add_table_opt(sc, 0, table_name(sc, (*p)->name, "_client_buffer"),
		              (*p)->default_client_buffer);
	}
	for (const struct lookup *const *l = lookups; *l; l++)
		add_table_opt(sc, 0, (*l)->directive, (*l)->default_value);
	sc->server[sc->nserver++] = (cfg_opt_t)CFG_END();
	sc->global[sc->nglobal++] = (cfg_opt_t)CFG_SEC("server", sc->server,
		CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	sc->global[sc->nglobal++] = (cfg_opt_t)CFG_END();
	return 0;
}

/* The file, with its comments blanked out (conf_text.h says why) and
 * nothing left for libconfuse to expand. */
static char *read_text(const char *path, char *err, size_t size)
{
	char *text = malloc(CONF_TEXT_MAX + 1);
	char *kept = malloc(2 * (size_t)CONF_TEXT_MAX + 1);
	long len;

	if (!text || !kept) {
		snprintf(err, size, "%s: cannot read the file: %s", path,
		         strerror(ENOMEM));
		free(text);
		free(kept);
		return NULL;
	}
	len = conf_text_read(path, text, err, size);
	if (len >= 0) {
		conf_text_blank_comments(text, (size_t)len);
		conf_text_keep_dollars(text, (size_t)len, kept);
	}
	free(text);
	if (len < 0) {
		free(kept);
		return NULL;
	}
	return kept;
}

static int parse(cfg_t *cfg, const char *path, char *err, size_t size)
{
	char *text = read_text(path, err, size);
	int rc;

	if (!text)
		return -1;
	if ((rc = conf_text_unclosed(text, strlen(text))) > 0) {
		snprintf(err, size, "%s:%d: this \"{\" is never closed", path, rc);
		free(text);
		return -1;
	}
	rc = cfg_parse_buf(cfg, text);
	free(text);
	if (rc != CFG_SUCCESS) {
		if (!err[0])
			snprintf(err, size, "%s: parse error", path);
		return -1;
	}
	return 0;
}

static void release(struct conf *conf)
{
	for (size_t i = 0; conf->servers && i < conf->nservers; i++)
		free(conf->servers[i].auth_http_headers);
	free(conf->servers);
	cfg_free(conf->owner);
}

int conf_load(const char *path, struct conf *conf, char *err, size_t size)
{
	static struct schema schema;
	cfg_t *cfg;
	int rc;

	memset(conf, 0, sizeof *conf);
	err[0] = '\0';
	errbuf.buf = err;
	errbuf.size = size;
	errbuf.path = path;
	if (build_schema(&schema) < 0) {
		snprintf(err, size, "too many protocols and lookups");
		return -1;
	}
	cfg = cfg_init(schema.global, CFGF_NONE);
	if (!cfg) {
		snprintf(err, size, "out of memory");
		return -1;
	}
	cfg_set_error_function(cfg, on_error);
	set_validators(cfg, "");
	set_validators(cfg, "server|");
	cfg_set_validate_func(cfg, "server|protocol", check_protocol);
	cfg_set_validate_func(cfg, "server|listen", check_listen);

	rc = parse(cfg, path, err, size);
	errbuf.buf = NULL;
	if (rc < 0) {
		cfg_free(cfg);
		return -1;
	}
	conf->owner = cfg;
	conf->release = release;
	conf->nservers = cfg_size(cfg, "server");
	if (conf->nservers == 0) {
		snprintf(err, size, "%s: no server section", path);
		goto fail;
	}
	conf->servers = calloc(conf->nservers, sizeof *conf->servers);
	if (!conf->servers) {
		snprintf(err, size, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < conf->nservers; i++)
		if (resolve(cfg_getnsec(cfg, "server", (unsigned)i), cfg,
		            &conf->servers[i], err, size) < 0)
			goto fail;
	return 0;
fail:
	release(conf);
	memset(conf, 0, sizeof *conf);
	return -1;
}
