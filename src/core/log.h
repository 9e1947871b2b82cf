/* One line per event, "key=value" fields, tagged with the session id.
 * Targets: syslog, the journal (its native protocol: each key=value also
 * becomes a POSTERN_KEY field, in every program, the libc-only relay
 * included), a file, or stderr. Never stderr of an inetd-started process:
 * there fd 2 is the client. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stddef.h>
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

/* Every value that comes from outside (a client, a certificate, the auth
 * server, a backend) goes into a line through this, inside "...": bytes
 * below 0x20 or above 0x7e, '"' and '\\' become \xHH, so a value can
 * neither end its line nor its quotes, and no field name comes from
 * data. Cut to fit size. Returns out. */
const char *log_escape(const char *in, char *out, size_t size);

#define LOG_VALUE_SIZE 1024
/* log_escape into a buffer that lives as long as the call's statement. */
#define LOGV(v) log_escape((v), (char[LOG_VALUE_SIZE]){ 0 }, LOG_VALUE_SIZE)

#endif
