#include "tls.h"
#include "tls_dn.h"
#include "tls_names.h"
#include "clock.h"
#include "hex.h"
#include "log.h"
#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* GnuTLS decrypts each record into a buffer of its own and frees it
 * without wiping; a LOGIN or AUTH line would stay in freed memory for the
 * whole TLS session. So records are taken whole (gnutls_record_recv_packet)
 * and wiped before they go back. */
static size_t give(struct tls *t, void *buf, size_t len)
{
	size_t n = t->packet_data.size - t->packet_off;

	if (n > len)
		n = len;
	memcpy(buf, t->packet_data.data + t->packet_off, n);
	t->packet_off += n;
	if (t->packet_off == t->packet_data.size) {
		explicit_bzero(t->packet_data.data, t->packet_data.size);
		gnutls_packet_deinit(t->packet);
		t->packet = NULL;
	}
	return n;
}

static ssize_t tls_recv(void *ctx, void *buf, size_t len)
{
	struct tls *t = ctx;
	ssize_t n;

	if (!t->packet) {
		n = gnutls_record_recv_packet(t->session, &t->packet);
		if (n <= 0 && t->packet) {
			gnutls_packet_deinit(t->packet);
			t->packet = NULL;
		}
		if (n == 0)
			return 0;
		if (n < 0) {
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				errno = EAGAIN;
			else if (n == GNUTLS_E_PREMATURE_TERMINATION)
				return 0; /* a close without close_notify is a close */
			else
				errno = EPROTO;
			return -1;
		}
		gnutls_packet_get(t->packet, &t->packet_data, NULL);
		t->packet_off = 0;
	}
	return (ssize_t)give(t, buf, len);
}

static size_t tls_take_held(void *ctx, void *buf, size_t len)
{
	struct tls *t = ctx;

	return t->packet ? give(t, buf, len) : 0;
}

static ssize_t tls_send(void *ctx, const void *buf, size_t len)
{
	struct tls *t = ctx;
	ssize_t n = gnutls_record_send(t->session, buf, len);

	if (n >= 0)
		return n;
	errno = n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ? EAGAIN : EPIPE;
	return -1;
}

static short tls_want(void *ctx)
{
	struct tls *t = ctx;

	return gnutls_record_get_direction(t->session) ? POLLOUT : POLLIN;
}

/* "${CREDENTIALS_DIRECTORY}/key.pem": systemd's LoadCredential= puts a
 * root-only key where the unit's dynamic user can read it, under a
 * directory named after the instance, which a config file cannot know. */
static int fail(char *why, size_t size, const char *what, int rc)
{
	snprintf(why, size, "%s: %s", what, gnutls_strerror(rc));
	return -1;
}

/* Does the key's public half equal the certificate's key? */
static int same_public_key(gnutls_privkey_t key, gnutls_pubkey_t cert_key)
{
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	int same;

	same = gnutls_pubkey_init(&pub) == 0 &&
	       gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0 &&
	       gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) == 0 &&
	       gnutls_pubkey_export2(cert_key, GNUTLS_X509_FMT_DER, &b) == 0 &&
	       a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return same;
}

/* A connection's certificate and key, from files: GnuTLS's own loader
 * proves they belong together by signing with the key and verifying
 * with the certificate, 0.2 ms of CPU per connection here; comparing the
 * public keys proves the same at a tenth of it. postern -t (check) keeps
 * GnuTLS's proof. 1 when loaded; 0 when this path does not apply (a
 * PKCS #11 URL, a long chain, a format it does not read): the caller
 * uses GnuTLS's loader, which also words the error. */
static int load_quick(struct tls *t, const char *cert, const char *key,
                      char *why, size_t size)
{
	gnutls_pcert_st chain[16];
	unsigned n = sizeof chain / sizeof chain[0];
	gnutls_datum_t c = { NULL, 0 }, k = { NULL, 0 };
	gnutls_privkey_t pk = NULL;
	int rc = 0;

	if (gnutls_url_is_supported(cert) || gnutls_url_is_supported(key) ||
	    gnutls_load_file(cert, &c) < 0 || gnutls_load_file(key, &k) < 0)
		goto out;
	if (gnutls_pcert_list_import_x509_raw(chain, &n, &c,
	                                      GNUTLS_X509_FMT_PEM, 0) < 0)
		goto out;
	if (gnutls_privkey_init(&pk) < 0 ||
	    gnutls_privkey_import_x509_raw(pk, &k, GNUTLS_X509_FMT_PEM, NULL,
	                                   0) < 0) {
		for (unsigned i = 0; i < n; i++)
			gnutls_pcert_deinit(&chain[i]);
		goto out;
	}
	/* The proof is made here; GnuTLS's own is skipped for this pair
	 * only (the flag also governs its file loader). */
	gnutls_certificate_set_flags(t->cred,
	                             GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	if (!same_public_key(pk, chain[0].pubkey)) {
		snprintf(why, size, "%s and %s: %s", cert, key,
		         gnutls_strerror(GNUTLS_E_CERTIFICATE_KEY_MISMATCH));
		rc = -1;
	} else if (gnutls_certificate_set_key(t->cred, NULL, 0, chain, (int)n,
	                                      pk) < 0) {
		snprintf(why, size, "%s and %s: cannot use them", cert, key);
		rc = -1;
	} else {
		pk = NULL;     /* the credentials own it and the chain now */
		rc = 1;
	}
	gnutls_certificate_set_flags(t->cred, 0);
	if (rc < 0)
		for (unsigned i = 0; i < n; i++)
			gnutls_pcert_deinit(&chain[i]);
out:
	if (pk)
		gnutls_privkey_deinit(pk);
	if (k.data) {
		explicit_bzero(k.data, k.size);
		gnutls_free(k.data);
	}
	gnutls_free(c.data);
	return rc;
}

/* GnuTLS says "Error while reading file." whatever stopped it; a file
 * this user may not open (a root-only key under an unprivileged service
 * user) is said as the system says it, path first. 1 when one of them
 * cannot be opened, with why. */
static int unreadable(const char *const *paths, size_t n, char *why,
                      size_t size)
{
	for (size_t i = 0; i < n; i++) {
		int fd;

		if (!paths[i] || gnutls_url_is_supported(paths[i]))
			continue;
		fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(why, size, "%s: %s", paths[i], strerror(errno));
			return 1;
		}
		close(fd);
	}
	return 0;
}

/* nginx's ssl_password_file: one passphrase per line, tried in turn. */
static int load_key_pair(struct tls *t, const char *cert, const char *key,
                         const char *password_file, int check, char *why,
                         size_t size)
{
	gnutls_datum_t pw = { NULL, 0 };
	char *line, *save = NULL, b1[4096], b2[4096], b3[4096];
	int rc;

	cert = tls_expand_path(cert, b1, sizeof b1);
	key = tls_expand_path(key, b2, sizeof b2);
	password_file = tls_expand_path(password_file, b3, sizeof b3);
	if (!password_file && !check &&
	    (rc = load_quick(t, cert, key, why, size)) != 0)
		return rc < 0 ? -1 : 0;
	if (!password_file) {
		const char *files[] = { cert, key };

		rc = gnutls_certificate_set_x509_key_file2(t->cred, cert, key,
		                                           GNUTLS_X509_FMT_PEM,
		                                           NULL, 0);
		if (rc < 0 && !unreadable(files, 2, why, size))
			snprintf(why, size, "%s and %s: %s", cert, key,
			         gnutls_strerror(rc));
		return rc < 0 ? -1 : 0;
	}
	rc = gnutls_load_file(password_file, &pw);
	if (rc < 0)
		return fail(why, size, password_file, rc);
	rc = GNUTLS_E_DECRYPTION_FAILED;
	for (line = strtok_r((char *)pw.data, "\r\n", &save); line && rc < 0;
	     line = strtok_r(NULL, "\r\n", &save))
		rc = gnutls_certificate_set_x509_key_file2(t->cred, cert, key,
		                                           GNUTLS_X509_FMT_PEM,
		                                           line, 0);
	explicit_bzero(pw.data, pw.size);
	gnutls_free(pw.data);
	return rc < 0 ? fail(why, size, key, rc) : 0;
}

static int load_dhparam(struct tls *t, const char *path, char *why,
                        size_t size)
{
	gnutls_dh_params_t dh;
	gnutls_datum_t pem;
	int rc;

	if (!path)
		return gnutls_certificate_set_known_dh_params(
			t->cred, GNUTLS_SEC_PARAM_MEDIUM) < 0 ? -1 : 0;
	if ((rc = gnutls_load_file(path, &pem)) < 0)
		return fail(why, size, path, rc);
	gnutls_dh_params_init(&dh);
	rc = gnutls_dh_params_import_pkcs3(dh, &pem, GNUTLS_X509_FMT_PEM);
	gnutls_free(pem.data);
	if (rc < 0) {
		gnutls_dh_params_deinit(dh);
		return fail(why, size, path, rc);
	}
	/* The credentials keep a reference for the process's life. */
	gnutls_certificate_set_dh_params(t->cred, dh);
	return 0;
}

static int load_trust(struct tls *t, const struct server_conf *c, char *why,
                      size_t size)
{
	const char *files[] = { c->ssl_client_certificate,
	                        c->ssl_trusted_certificate };
	int rc;

	for (int i = 0; i < 2; i++) {
		if (!files[i])
			continue;
		rc = gnutls_certificate_set_x509_trust_file(t->cred, files[i],
		                                            GNUTLS_X509_FMT_PEM);
		if (rc < 0)
			return fail(why, size, files[i], rc);
	}
	if (c->ssl_crl) {
		rc = gnutls_certificate_set_x509_crl_file(t->cred, c->ssl_crl,
		                                          GNUTLS_X509_FMT_PEM);
		if (rc < 0)
			return fail(why, size, c->ssl_crl, rc);
	}
	/* The depth itself is checked after the handshake (verify()); this
	 * only keeps GnuTLS from walking absurd chains. */
	gnutls_certificate_set_verify_limits(t->cred, 16384,
	                                     (unsigned)c->ssl_verify_depth + 2);
	return 0;
}

static int credentials(struct tls *t, const struct server_conf *c, int check,
                       char *why, size_t size)
{
	int rc = gnutls_certificate_allocate_credentials(&t->cred);

	if (rc < 0)
		return fail(why, size, "credentials", rc);
	for (size_t i = 0; i < c->ssl_ncertificates; i++)
		if (load_key_pair(t, c->ssl_certificate[i],
		                  c->ssl_certificate_key[i], c->ssl_password_file,
		                  check, why, size) < 0)
			return -1;
	if (load_dhparam(t, c->ssl_dhparam, why, size) < 0)
		return -1;
	return c->ssl_verify_client == VERIFY_OFF ? 0 : load_trust(t, c, why, size);
}

static void transport_bye(void *ctx, int64_t deadline)
{
	tls_bye(ctx, deadline);
}

int tls_setup(struct tls *t, const struct server_conf *c, int fd,
              const char *alpn, int check, char *why, size_t size)
{
	gnutls_datum_t proto = { (unsigned char *)alpn, (unsigned)strlen(alpn) };
	const char *err_pos = NULL;
	int rc;

	memset(t, 0, sizeof *t);
	t->fd = fd;
	if (credentials(t, c, check, why, size) < 0)
		return -1;
	rc = gnutls_priority_init(&t->priority, c->ssl_priority, &err_pos);
	if (rc < 0) {
		snprintf(why, size, "ssl priority \"%s\" at \"%s\": %s",
		         c->ssl_priority, err_pos ? err_pos : "?", gnutls_strerror(rc));
		return -1;
	}
	rc = gnutls_init(&t->session, GNUTLS_SERVER |
	                 (c->ssl_session_tickets ? TLS_TICKETS_INIT_FLAGS : 0));
	if (rc < 0)
		return fail(why, size, "session", rc);
	gnutls_priority_set(t->session, t->priority);
	gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (c->ssl_verify_client != VERIFY_OFF) {
		/* Even "on" only requests: a client without a certificate
		 * then hears the protocol's own refusal, as nginx sends it,
		 * instead of a failed handshake. */
		gnutls_certificate_server_set_request(t->session,
		                                      GNUTLS_CERT_REQUEST);
		/* ssl_trusted_certificate verifies but is not announced. */
		if (!c->ssl_client_certificate)
			gnutls_certificate_send_x509_rdn_sequence(t->session, 1);
	}
	/* ALPACA: a client that names another protocol is turned away. */
	rc = gnutls_alpn_set_protocols(t->session, &proto, 1,
	                               GNUTLS_ALPN_MANDATORY);
	if (rc < 0)
		return fail(why, size, "alpn", rc);
	if (c->ssl_session_tickets) {
		gnutls_db_set_cache_expiration(
			t->session, (int)(c->ssl_session_timeout_ms / 1000));
		if (tls_tickets_load(&t->tickets, c, why, size) < 0 ||
		    tls_tickets_enable(&t->tickets, t->session, why, size) < 0)
			return -1;
	}
	gnutls_transport_set_int(t->session, fd);
	t->transport = (struct transport){ tls_recv, tls_send, tls_want,
	                                   transport_bye, tls_take_held, t };
	return 0;
}

/* The subject (or the issuer) as nginx prints it (tls_dn.h). A name
 * OpenSSL could not read (nginx never lets such a certificate in) or
 * whose text does not fit stays empty, and its header is left out:
 * GnuTLS's own text of it, cut to fit, was another name than the
 * certificate's (the start of a long one; "O=A" for a BMPString of
 * three bytes), and an auth script would have trusted it. */
static void name_text(gnutls_x509_crt_t crt, int issuer, char *out,
                      size_t size)
{
	gnutls_datum_t d;
	int ok;

	out[0] = '\0';
	if ((issuer ? gnutls_x509_crt_get_raw_issuer_dn(crt, &d)
	            : gnutls_x509_crt_get_raw_dn(crt, &d)) < 0)
		return;
	ok = tls_dn_openssl(d.data, d.size, out, size) == 0;
	gnutls_free(d.data);
	if (!ok)
		logmsg(LOG_NOTICE, "event=client_cert_name name=%s "
		       "reason=\"not a name OpenSSL prints, more than %d "
		       "attributes or longer than %zu bytes as text: left out\"",
		       issuer ? "issuer" : "subject", TLS_DN_AVAS_MAX, size - 1);
}

/* Subject, issuer, serial, fingerprint and PEM of the client's cert. */
static void describe_cert(struct tls *t)
{
	unsigned n = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(t->session, &n);
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	unsigned char buf[64];
	size_t len;

	if (!der || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &der[0], GNUTLS_X509_FMT_DER) == 0) {
		t->info.has_cert = 1;
		name_text(crt, 0, t->info.subject, sizeof t->info.subject);
		name_text(crt, 1, t->info.issuer, sizeof t->info.issuer);
		/* nginx's forms: the serial in upper case, the fingerprint in
		 * lower, each cut to fit. */
		len = sizeof buf;
		if (gnutls_x509_crt_get_serial(crt, buf, &len) == 0)
			(void)hex_encode(buf, len, t->info.serial,
			                 sizeof t->info.serial, 0);
		len = sizeof buf;
		if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, buf,
		                                    &len) == 0)
			(void)hex_encode(buf, len, t->info.fingerprint,
			                 sizeof t->info.fingerprint, 1);
		if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d) == 0) {
			t->cert_pem = strndup((char *)d.data, d.size);
			gnutls_free(d.data);
			t->info.cert = t->cert_pem;
		}
	}
	gnutls_x509_crt_deinit(crt);
}

/* How many certificates the client's chain has above the trust anchor,
 * as OpenSSL counts depth for nginx: what the client sent, less a root
 * it may have sent along. */
static unsigned chain_depth(struct tls *t)
{
	unsigned n = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(t->session, &n);
	gnutls_x509_crt_t last;

	if (!der || n < 2 || gnutls_x509_crt_init(&last) < 0)
		return n;
	if (gnutls_x509_crt_import(last, &der[n - 1], GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_check_issuer(last, last))
		n--;
	gnutls_x509_crt_deinit(last);
	return n;
}

/* OpenSSL's words for why a chain failed, which nginx puts after
 * FAILED: and auth scripts match; the first that applies, in the order
 * OpenSSL would meet them walking up the chain. */
static const struct {
	unsigned bit;
	const char *text;
} reasons[] = {
	{ GNUTLS_CERT_REVOKED, "certificate revoked" },
	{ GNUTLS_CERT_EXPIRED, "certificate has expired" },
	{ GNUTLS_CERT_NOT_ACTIVATED, "certificate is not yet valid" },
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, "unable to get local issuer certificate" },
	{ GNUTLS_CERT_SIGNER_NOT_CA, "invalid CA certificate" },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, "certificate signature failure" },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, "certificate signature failure" },
	{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "invalid CA certificate" },
	{ GNUTLS_CERT_PURPOSE_MISMATCH, "unsupported certificate purpose" },
};

static const char *openssl_reason(unsigned status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (status & reasons[i].bit)
			return reasons[i].text;
	return "certificate verify failed";
}

/* Auth-SSL-Verify as nginx writes it, and whether the client may stay. */
static void verify(struct tls *t, const struct server_conf *c)
{
	unsigned status = 0;

	t->info.verify_asked = c->ssl_verify_client != VERIFY_OFF;
	if (!t->info.verify_asked)
		return;
	if (!t->info.has_cert) {
		snprintf(t->info.verify, sizeof t->info.verify, "NONE");
		t->cert_refused = c->ssl_verify_client == VERIFY_ON;
		return;
	}
	if (gnutls_certificate_verify_peers2(t->session, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	if (status == 0 && chain_depth(t) > (unsigned)c->ssl_verify_depth) {
		snprintf(t->info.verify, sizeof t->info.verify,
		         "FAILED:certificate chain too long");
		t->cert_refused = c->ssl_verify_client != VERIFY_OPTIONAL_NO_CA;
		return;
	}
	if (status == 0) {
		snprintf(t->info.verify, sizeof t->info.verify, "SUCCESS");
		return;
	}
	snprintf(t->info.verify, sizeof t->info.verify, "FAILED:%s",
	         openssl_reason(status));
	t->cert_refused = c->ssl_verify_client != VERIFY_OPTIONAL_NO_CA;
}

static int handshake(struct tls *t, int64_t deadline, char *why, size_t size)
{
	int rc;

	while ((rc = gnutls_handshake(t->session)) < 0) {
		if (gnutls_error_is_fatal(rc))
			return fail(why, size, "handshake", rc);
		if (io_wait(t->fd, tls_want(t), deadline) != IO_OK) {
			snprintf(why, size, "handshake: timed out");
			return -1;
		}
	}
	tls_openssl_protocol(gnutls_protocol_get_name(
		gnutls_protocol_get_version(t->session)), t->info.protocol,
		sizeof t->info.protocol);
	tls_openssl_cipher(gnutls_ciphersuite_get(t->session) ?
	                   gnutls_ciphersuite_get(t->session) : "",
	                   t->info.cipher, sizeof t->info.cipher);
	return 0;
}

int tls_handshake(struct tls *t, const struct server_conf *c,
                  int64_t deadline, char *why, size_t size)
{
	int rc;

	if (handshake(t, deadline, why, size) < 0)
		return -1;
	while ((rc = tls_tickets_issue(&t->tickets, t->session)) < 0) {
		if (gnutls_error_is_fatal(rc))
			return fail(why, size, "session ticket", rc);
		if (io_wait(t->fd, tls_want(t), deadline) != IO_OK) {
			snprintf(why, size, "session ticket: timed out");
			return -1;
		}
	}
	t->resumed = gnutls_session_is_resumed(t->session);
	describe_cert(t);
	verify(t, c);
	return 0;
}

static int is_ip(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

/* What the backend's certificate is checked against. Without
 * proxy_ssl_verify nothing is: the system's CAs (all of them parsed, 3.9
 * MB of heap here, held for the session's life until the handshake's
 * credentials went back) are not read at all. */
static int client_trust(struct tls *t, int verify, const char *ca)
{
	if (!verify)
		return 0;
	return ca ? gnutls_certificate_set_x509_trust_file(t->cred, ca,
	                                                   GNUTLS_X509_FMT_PEM)
	          : gnutls_certificate_set_x509_system_trust(t->cred);
}

int tls_client(struct tls *t, const struct server_conf *c, int fd,
               const char *name, int64_t deadline, char *why, size_t size)
{
	char host[256];
	const char *ca = tls_expand_path(c->proxy_ssl_trusted_certificate, host,
	                        sizeof host);
	int rc;

	memset(t, 0, sizeof *t);
	t->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		return fail(why, size, "credentials", rc);
	if ((rc = client_trust(t, c->proxy_ssl_verify, ca)) < 0)
		return fail(why, size, ca ? ca : "system trust", rc);
	if ((rc = gnutls_init(&t->session, GNUTLS_CLIENT)) < 0)
		return fail(why, size, "session", rc);
	gnutls_set_default_priority(t->session);
	gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred);
	/* "[2001:db8::1]" names an address; certificates name it bare. */
	snprintf(host, sizeof host, "%.*s",
	         (int)strcspn(name + (name[0] == '['), "]"), name + (name[0] == '['));
	if (!is_ip(host))
		gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, host,
		                       strlen(host));
	if (c->proxy_ssl_verify)
		gnutls_session_set_verify_cert(t->session, host, 0);
	gnutls_transport_set_int(t->session, fd);
	t->transport = (struct transport){ tls_recv, tls_send, tls_want,
	                                   transport_bye, tls_take_held, t };
	return handshake(t, deadline, why, size);
}

int tls_check(const struct server_conf *c, char *why, size_t size)
{
	gnutls_certificate_credentials_t cred;
	struct tls t;
	char buf[4096];
	const char *ca;
	int rc = 0;

	if (c->ssl || c->starttls != STARTTLS_OFF) {
		rc = tls_setup(&t, c, -1, c->protocol->alpn, 1, why, size);
		tls_free(&t);
		if (rc < 0)
			return -1;
	}
	ca = tls_expand_path(c->proxy_ssl_trusted_certificate, buf, sizeof buf);
	if (c->proxy_ssl == PROXY_SSL_OFF || !ca)
		return 0;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return fail(why, size, "credentials", GNUTLS_E_MEMORY_ERROR);
	rc = gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	return rc < 0 ? fail(why, size, ca, rc) : 0;
}

void tls_handshake_over(struct tls *t)
{
	if (!t->session || !t->cred)
		return;
	/* Unhooked first: GnuTLS does not count references to credentials,
	 * and a session left pointing at freed ones would use them should
	 * anything ask (a rehandshake now fails for want of them instead). */
	gnutls_credentials_clear(t->session);
	gnutls_certificate_free_credentials(t->cred);
	t->cred = NULL;
}

void tls_bye(struct tls *t, int64_t deadline)
{
	int rc;

	while ((rc = gnutls_bye(t->session, GNUTLS_SHUT_WR)) < 0 &&
	       !gnutls_error_is_fatal(rc))
		if (io_wait(t->fd, tls_want(t), deadline) != IO_OK)
			return;
}

void tls_free(struct tls *t)
{
	if (t->packet) {
		explicit_bzero(t->packet_data.data, t->packet_data.size);
		gnutls_packet_deinit(t->packet);
		t->packet = NULL;
	}
	if (t->session)
		gnutls_deinit(t->session);
	if (t->priority)
		gnutls_priority_deinit(t->priority);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	tls_tickets_clear(&t->tickets);
	free(t->cert_pem);
}
