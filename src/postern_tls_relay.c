/* postern-tls-relay: the relay of a TLS session once handshake and login
 * are over, without GnuTLS. postern-tls execs it with the client on fd 3,
 * the backend on fd 4, for a guarded relay the client's leftovers on fd 5,
 * and on fd 6 a pipe with each TLS side's record keys (tls_keys.h). It
 * seals and opens the records itself (tls_record.c, nettle's AEADs, linked
 * statically) and relays through the protocol's guard like
 * postern-guard-relay: half-close both ways (close_notify), proxy_timeout,
 * byte counts, one closing line. libc and nettle only. */
#include "exec_contract.h"
#include "guard_relay.h"
#include "log.h"
#include "sandbox.h"
#include "tls_end.h"
#include "tls_keys.h"

#include <errno.h>
#include <string.h>

/* What the front read past the login: at most its client buffer (1 MiB). */
#define LEFTOVER_MAX (1024 * 1024)

/* The two sides from the key pipe, the pipe's bytes wiped. */
static int take_keys(struct tls_side_keys sides[2], const char **why)
{
	uint8_t blob[TLS_KEYS_LEN + 1];
	ssize_t n = contract_read_pipe(CONTRACT_KEYS_FD, blob, sizeof blob);
	int rc;

	if (n < 0) {
		*why = "reading the keys failed";
		return -1;
	}
	rc = tls_keys_unpack(sides, blob, (size_t)n, why);
	explicit_bzero(blob, sizeof blob);
	return rc;
}

/* An end for each side: TLS records with its keys, or plain. */
static struct tls_end client_tls, backend_tls;

static int make_ends(struct relay_end *client, struct relay_end *backend,
                     const char **why)
{
	struct tls_side_keys sides[2];
	int rc = take_keys(sides, why);

	*client = (struct relay_end){ CONTRACT_CLIENT_FD, NULL,
		                      &relay_plain_ops };
	*backend = (struct relay_end){ CONTRACT_BACKEND_FD, NULL,
		                       &relay_plain_ops };
	if (rc == 0 && sides[0].on) {
		rc = tls_end_init(&client_tls, "client", &sides[0], 0, why);
		*client = (struct relay_end){ CONTRACT_CLIENT_FD, &client_tls,
			                      &tls_end_ops };
	}
	if (rc == 0 && sides[1].on) {
		/* Our backend is a TLS server: it may send tickets. */
		rc = tls_end_init(&backend_tls, "backend", &sides[1], 1, why);
		*backend = (struct relay_end){ CONTRACT_BACKEND_FD,
			                       &backend_tls, &tls_end_ops };
	}
	explicit_bzero(sides, sizeof sides);
	return rc;
}

int main(void)
{
	static char leftover[LEFTOVER_MAX];
	struct relay_end client, backend;
	struct relay_counts counts = { 0, 0, 0 };
	struct crossing x;
	const char *why = NULL;
	ssize_t n = 0;

	/* Before a key is in memory. */
	sandbox_undumpable();
	if (contract_relay_start("postern-tls-relay", &x) < 0)
		return EXIT_USAGE;
	if (make_ends(&client, &backend, &why) < 0) {
		/* The client's keys may be set up when the backend's fail. */
		tls_end_wipe(&client_tls);
		tls_end_wipe(&backend_tls);
		logmsg(LOG_ERR, "event=relay_error reason=\"%s\"", LOGV(why));
		contract_log_close(&x, "error", why, NULL);
		return EXIT_USAGE;
	}
	if (*x.guard)
		n = contract_read_pipe(CONTRACT_LEFTOVER_FD, leftover,
		                       sizeof leftover);
	if (n < 0) {
		logmsg(LOG_ERR, "event=relay_error reason=\"leftover: %s\"",
		       strerror(errno));
		n = 0;
		why = "reading the leftovers failed";
	} else {
		if (sandbox_relay(&why) < 0)
			logmsg(LOG_WARNING, "event=sandbox_failed reason=\"%s\"",
			       why);
		why = guard_relay(*x.guard ? x.guard : NULL,
		                  &(struct guard_settings){ x.deny, x.hide },
		                  &client, &backend, leftover, (size_t)n,
		                  x.proxy_timeout_ms > 0 ? x.proxy_timeout_ms : -1,
		                  &counts);
	}
	explicit_bzero(leftover, (size_t)n);
	tls_end_wipe(&client_tls);
	tls_end_wipe(&backend_tls);
	contract_log_close(&x, "relayed", why,
	                   (const uint64_t[2]){ counts.up, counts.down });
	return EXIT_DONE;
}
