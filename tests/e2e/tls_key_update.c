/* A GnuTLS IMAP client that logs in over implicit TLS, then does what
 * postern-tls-relay must answer by ending the session. "key-update": TLS
 * 1.3, a KeyUpdate, then a NOOP; "renegotiate": TLS 1.2, a new ClientHello
 * (a renegotiation the client starts); "bad-record": a record whose tag
 * cannot verify, written past GnuTLS. Built by test_tls_handoff.py.
 * Prints "closed" when the server ended the session, with ": alert NAME"
 * when it sent a fatal alert first, "answered" if the NOOP got a reply.
 * Usage: tls_key_update PORT key-update|renegotiate|bad-record */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static gnutls_session_t s;
static int last;     /* the last receive's error */

/* One line (or what came), or NULL at the end. */
static const char *get(char *buf, size_t size)
{
	ssize_t n;

	do
		n = gnutls_record_recv(s, buf, size - 1);
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n <= 0) {
		last = (int)n;
		fprintf(stderr, "recv: %s\n", gnutls_strerror((int)n));
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void put(const char *text)
{
	gnutls_record_send(s, text, strlen(text));
}

/* How the server ended the session. */
static void closed(int err)
{
	if (err == GNUTLS_E_FATAL_ALERT_RECEIVED)
		printf("closed: alert %s\n", gnutls_alert_get_name(gnutls_alert_get(s)));
	else
		puts("closed");
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { 10, 0 };
	gnutls_certificate_credentials_t cred;
	char buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	const char *mode = argc == 3 ? argv[2] : "";
	int renegotiate = strcmp(mode, "renegotiate") == 0;

	if (!renegotiate && strcmp(mode, "key-update") != 0 &&
	    strcmp(mode, "bad-record") != 0)
		return 2;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return 3;
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_priority_set_direct(s, renegotiate ? "NORMAL:-VERS-ALL:+VERS-TLS1.2" :
	                           "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0)
		return 4;
	if (!get(buf, sizeof buf))
		return 5;
	put("a LOGIN alice wonderland\r\n");
	if (!get(buf, sizeof buf) || !strstr(buf, "a OK"))
		return 6;
	put("b NOOP\r\n");
	if (!get(buf, sizeof buf) || !strstr(buf, "b OK"))
		return 7;
	if (renegotiate) {
		/* A second handshake on the session: the server that ends the
		 * session makes it fail, one that took it would finish it. */
		int r = gnutls_handshake(s);

		if (r == 0)
			puts("renegotiated");
		else
			closed(r);
		return 0;
	}
	if (strcmp(mode, "bad-record") == 0) {
		/* Application data of 32 bytes none of which is a tag. */
		static const unsigned char junk[5 + 32] = { 23, 3, 3, 0, 32 };

		if (write(fd, junk, sizeof junk) != (ssize_t)sizeof junk)
			return 9;
		if (get(buf, sizeof buf))
			puts("answered");
		else
			closed(last);
		return 0;
	}
	/* Our keys change, and the server is asked to change its own. */
	if (gnutls_session_key_update(s, GNUTLS_KU_PEER) < 0)
		return 8;
	put("c NOOP\r\n");
	if (get(buf, sizeof buf) && strstr(buf, "c OK"))
		puts("answered");
	else
		closed(last);
	return 0;
}
