/* postern-guard-relay: the relay for sessions whose commands must still be
 * read after login (SMTP: the client may not speak XCLIENT, XFORWARD or
 * STARTTLS to a backend that trusts postern). The client on fd 3, the
 * backend on fd 4, and on fd 5 what the client sent before the exec,
 * guarded first. Like postern-relay it links nothing but libc. */
#include "exec_contract.h"
#include "guard_relay.h"
#include "log.h"
#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

/* What the front read past the login: at most its client buffer (1 MiB). */
#define LEFTOVER_MAX (1024 * 1024)

int main(void)
{
	static char leftover[LEFTOVER_MAX];
	struct relay_end client = { CONTRACT_CLIENT_FD, NULL, &relay_plain_ops };
	struct relay_end backend = { CONTRACT_BACKEND_FD, NULL,
	                             &relay_plain_ops };
	struct relay_counts counts;
	struct crossing x;
	const char *why;
	ssize_t n;

	sandbox_undumpable();
	if (contract_relay_start("postern-guard-relay", &x) < 0)
		return EXIT_USAGE;
	if (!*x.guard) {
		logmsg(LOG_ERR, "event=usage reason=\"POSTERN_GUARD names no "
		                "guard\"");
		return EXIT_USAGE;
	}
	n = contract_read_pipe(CONTRACT_LEFTOVER_FD, leftover,
	                       sizeof leftover);
	if (n < 0) {
		logmsg(LOG_ERR, "event=relay_error reason=\"leftover: %s\"",
		       strerror(errno));
		return EXIT_TEMPORARY;
	}
	if (sandbox_relay(&why) < 0)
		logmsg(LOG_WARNING, "event=sandbox_failed reason=\"%s\"", why);
	why = guard_relay(x.guard,
	                  &(struct guard_settings){ x.deny, x.hide },
	                  &client, &backend, leftover, (size_t)n,
	                  x.proxy_timeout_ms > 0 ? x.proxy_timeout_ms : -1,
	                  &counts);
	explicit_bzero(leftover, (size_t)n);
	contract_log_close(&x, "relayed", why,
	                   (const uint64_t[2]){ counts.up, counts.down });
	return EXIT_DONE;
}
