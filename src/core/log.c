#include "log.h"

#include "hex.h"
#include "strbuf.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static struct {
	enum log_target target;
	const char *ident;
	int level;
	int fd;
	int journal;          /* datagram socket to journald, or -1 */
	char session[32];
} lg = { LOG_TO_SYSLOG, "postern", LOG_INFO, -1, -1, "" };

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "error", LOG_ERR },    { "warn", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO },    { "debug", LOG_DEBUG },  { NULL, 0 },
};

int log_level_parse(const char *name)
{
	for (int i = 0; levels[i].name; i++)
		if (strcmp(levels[i].name, name) == 0)
			return levels[i].level;
	return -1;
}

static enum log_target pick_auto(int inetd)
{
	/* systemd sets JOURNAL_STREAM when stderr goes to the journal. */
	if (!inetd && getenv("JOURNAL_STREAM"))
		return LOG_TO_JOURNAL;
	return LOG_TO_SYSLOG;
}

static int journal_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (lg.journal >= 0)
		return 0;
	lg.journal = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lg.journal < 0)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", JOURNAL_SOCKET);
	if (connect(lg.journal, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(lg.journal);
		lg.journal = -1;
		return -1;
	}
	return 0;
}

int log_open(const char *ident, const char *spec, int level, int inetd)
{
	int rc = 0;

	lg.ident = ident;
	lg.level = level;
	if (lg.fd >= 0) {
		close(lg.fd);
		lg.fd = -1;
	}
	if (strcmp(spec, "auto") == 0) {
		lg.target = pick_auto(inetd);
	} else if (strcmp(spec, "syslog") == 0) {
		lg.target = LOG_TO_SYSLOG;
	} else if (strcmp(spec, "journal") == 0) {
		lg.target = LOG_TO_JOURNAL;
	} else if (strcmp(spec, "stderr") == 0) {
		lg.target = inetd ? LOG_TO_SYSLOG : LOG_TO_STDERR;
	} else if (spec[0] == '/') {
		lg.fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		lg.target = lg.fd >= 0 ? LOG_TO_FILE : LOG_TO_SYSLOG;
		rc = lg.fd >= 0 ? 0 : -1;
	} else {
		lg.target = LOG_TO_SYSLOG;
		rc = -1;
	}
	if (lg.target == LOG_TO_JOURNAL && journal_open() < 0)
		lg.target = LOG_TO_SYSLOG;
	if (lg.target == LOG_TO_SYSLOG)
		/* Connected now: a sandboxed relay may not connect later. */
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	return rc;
}

/* Controls, 8-bit bytes, '"' and '\\' (log.h). */
static const struct hex_escape value_escape = { "\\x", 1, 0x20, 0x7e,
	                                        "\"\\" };

const char *log_escape(const char *in, char *out, size_t size)
{
	/* Cut to fit: a long value is still worth its start. */
	(void)hex_escape(in ? in : "", out, size, &value_escape);
	return out;
}

void log_set_session(const char *id)
{
	snprintf(lg.session, sizeof lg.session, "%s", id);
}

static void write_line(int fd, int prio, const char *msg)
{
	char line[2048], stamp[32], zone[8];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	/* RFC 3339: the zone, so lines from hosts in other zones sort. */
	strftime(zone, sizeof zone, "%z", &tm);
	n = snprintf(line, sizeof line, "%s.%03ld%.3s:%.2s %s[%d]: <%d> %s%s%s%s\n",
	             stamp, (long)tv.tv_usec / 1000, zone, zone + 3, lg.ident,
	             (int)getpid(), prio,
	             lg.session[0] ? "session=" : "", lg.session,
	             lg.session[0] ? " " : "", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	(void)!write(fd, line, (size_t)n);
}

/* One KEY=value line of the native protocol, whole or not at all. A
 * newline inside a value would need the binary form; messages here have
 * none, and any that slipped in becomes a space. */
static void field(struct strbuf *o, const char *key, const char *v,
                  size_t vlen)
{
	size_t klen = strlen(key);
	char *start;

	if (klen + vlen + 2 > strbuf_room(o))
		return;
	strbuf_puts(o, key);
	start = o->buf + o->len;
	strbuf_put(o, v, vlen);
	strbuf_puts(o, "\n");
	for (char *c = start; c < start + vlen; c++)
		if (*c == '\n')
			*c = ' ';
}

/* Field names are ours: lowercase words. */
static int is_key(const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || k[i] == '_' ||
		      (k[i] >= '0' && k[i] <= '9')))
			return 0;
	return 1;
}

/* Each k=v or k="v w" of the message as POSTERN_K=v. */
static void message_fields(struct strbuf *o, const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *k = p, *eq, *v, *e;
		char key[48];
		size_t n;

		while (*p && *p != ' ')
			p++;
		eq = memchr(k, '=', (size_t)(p - k));
		if (eq && eq[1] == '"' && (e = strchr(eq + 2, '"'))) {
			v = eq + 2;
			p = e + 1;
		} else {
			v = eq ? eq + 1 : NULL;
			e = p;
		}
		n = eq ? (size_t)(eq - k) : 0;
		if (n > 0 && n < sizeof key - 9 && is_key(k, n)) {
			snprintf(key, sizeof key, "POSTERN_%.*s=", (int)n, k);
			for (char *c = key + 8; *c != '='; c++)
				*c = (char)toupper((unsigned char)*c);
			field(o, key, v, (size_t)(e - v));
		}
		while (*p == ' ')
			p++;
	}
}

static void journal_send(int prio, const char *msg)
{
	char buf[4096], text[1700], num[8];
	struct strbuf o;
	int n = snprintf(text, sizeof text, "%s%s%s%s",
	                 lg.session[0] ? "session=" : "", lg.session,
	                 lg.session[0] ? " " : "", msg);

	if (n < 0)
		return;
	strbuf_init(&o, buf, sizeof buf);
	field(&o, "MESSAGE=", text, strnlen(text, sizeof text));
	snprintf(num, sizeof num, "%d", prio);
	field(&o, "PRIORITY=", num, strlen(num));
	field(&o, "SYSLOG_IDENTIFIER=", lg.ident, strlen(lg.ident));
	field(&o, "SYSLOG_FACILITY=", "2", 1);   /* mail */
	if (lg.session[0])
		field(&o, "POSTERN_SESSION=", lg.session, strlen(lg.session));
	message_fields(&o, msg);
	(void)!send(lg.journal, buf, o.len, MSG_NOSIGNAL);
}

void logmsg(int prio, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	if (prio > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A value that missed LOGV still cannot start a line of its own. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';

	switch (lg.target) {
	case LOG_TO_JOURNAL:
		journal_send(prio, msg);
		break;
	case LOG_TO_FILE:
		write_line(lg.fd, prio, msg);
		break;
	case LOG_TO_STDERR:
		write_line(2, prio, msg);
		break;
	case LOG_TO_SYSLOG:
		if (lg.session[0])
			syslog(prio, "session=%s %s", lg.session, msg);
		else
			syslog(prio, "%s", msg);
		break;
	}
}
