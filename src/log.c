#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

log_journal_fn log_journal_sink;

static struct {
	enum log_target target;
	const char *ident;
	int level;
	int fd;
	char session[32];
} lg = { LOG_TO_SYSLOG, "postern", LOG_INFO, -1, "" };

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
	if (!inetd && getenv("JOURNAL_STREAM") && log_journal_sink)
		return LOG_TO_JOURNAL;
	return LOG_TO_SYSLOG;
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
		lg.target = log_journal_sink ? LOG_TO_JOURNAL : LOG_TO_SYSLOG;
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
	if (lg.target == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID, LOG_MAIL);
	return rc;
}

void log_set_session(const char *id)
{
	snprintf(lg.session, sizeof lg.session, "%s", id);
}

static void write_line(int fd, int prio, const char *msg)
{
	char line[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03ld %s[%d]: <%d> %s%s%s%s\n",
	             stamp, (long)tv.tv_usec / 1000, lg.ident, (int)getpid(), prio,
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

void logmsg(int prio, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	if (prio > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	switch (lg.target) {
	case LOG_TO_JOURNAL:
		log_journal_sink(prio, lg.ident, lg.session, msg);
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
