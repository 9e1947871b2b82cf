/* The journal sink: the message as written, plus each key=value field of it
 * as a POSTERN_KEY field, so that journalctl can filter on user or result. */
#include "log_journal.h"
#include "log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>

#define FIELDS_MAX 24

static size_t add(struct iovec *iov, size_t n, char *buf, size_t len)
{
	iov[n].iov_base = buf;
	iov[n].iov_len = len;
	return n + 1;
}

/* Split "k=v k2="v 2"" into POSTERN_K=v entries in store. */
static size_t fields(const char *msg, struct iovec *iov, size_t n,
                     char *store, size_t size)
{
	const char *p = msg;
	size_t used = 0;

	while (*p && n < FIELDS_MAX) {
		const char *k = p, *eq, *v, *e;
		int len;

		while (*p && *p != ' ')
			p++;
		eq = memchr(k, '=', (size_t)(p - k));
		if (eq && *(eq + 1) == '"') {
			v = eq + 2;
			e = strchr(v, '"');
			if (!e)
				break;
			p = e + 1;
		} else {
			v = eq ? eq + 1 : NULL;
			e = p;
		}
		if (eq && eq > k) {
			len = snprintf(store + used, size - used, "POSTERN_%.*s=%.*s",
			               (int)(eq - k), k, (int)(e - v), v);
			if (len < 0 || (size_t)len >= size - used)
				break;
			for (char *c = store + used + 8; *c != '='; c++)
				*c = (char)toupper((unsigned char)*c);
			n = add(iov, n, store + used, (size_t)len);
			used += (size_t)len + 1;
		}
		while (*p == ' ')
			p++;
	}
	return n;
}

static void journal_sink(int prio, const char *ident, const char *session,
                         const char *msg)
{
	char m[1600], pr[16], id[64], ses[64], store[2048];
	struct iovec iov[FIELDS_MAX + 4];
	size_t n = 0;

	n = add(iov, n, m, (size_t)snprintf(m, sizeof m, "MESSAGE=%s%s%s",
	                                    session[0] ? "session=" : "",
	                                    session, session[0] ? " " : ""));
	/* The message itself follows the prefix; cut if too long. */
	snprintf(m + iov[0].iov_len, sizeof m - iov[0].iov_len, "%s", msg);
	iov[0].iov_len = strlen(m);
	n = add(iov, n, pr, (size_t)snprintf(pr, sizeof pr, "PRIORITY=%d", prio));
	n = add(iov, n, id,
	        (size_t)snprintf(id, sizeof id, "SYSLOG_IDENTIFIER=%s", ident));
	if (session[0])
		n = add(iov, n, ses, (size_t)snprintf(ses, sizeof ses,
		                                      "POSTERN_SESSION=%s", session));
	n = fields(msg, iov, n, store, sizeof store);
	sd_journal_sendv(iov, (int)n);
}

void log_journal_enable(void)
{
	log_journal_sink = journal_sink;
}
