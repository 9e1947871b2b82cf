/* One line per event, "key=value" fields, tagged with the session id.
 * Targets: syslog, the journal (its native protocol: each key=value also
 * becomes a POSTERN_KEY field, in every program, the libc-only relay
 * included), a file, or stderr. Never stderr of an inetd-started process:
 * there fd 2 is the client. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <syslog.h>

enum log_target {
	LOG_TO_SYSLOG,
	LOG_TO_JOURNAL,
	LOG_TO_STDERR,
	LOG_TO_FILE,
};

/* spec: "auto", "syslog", "journal", "stderr" or an absolute file path.
 * Returns 0, or -1 if the spec is unknown (logging then goes to syslog). */
int log_open(const char *ident, const char *spec, int level, int inetd);
void log_set_session(const char *id);
/* Parse "error", "warn", "notice", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);

void logmsg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
