/* Reading postern's own log lines back, for postern-stats. Pure: a line
 * is split into its time and its "key=value ..." message, and fields are
 * read from the message. Values inside quotes never hold a quote or a
 * backslash (log_escape), so a field ends at the next quote or space. */
#ifndef POSTERN_STATS_PARSE_H
#define POSTERN_STATS_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct log_line {
	int64_t time_ms;       /* from a file line's stamp; -1: none */
	const char *msg;       /* "session=... event=..." */
	size_t msg_len;
};

/* A file line ("2026-11-29T22:00:55.537+00:00 postern[42]: <6> msg") or
 * a journal MESSAGE (the message alone). Never fails: what is not a
 * file line is all message. */
void stats_split_line(const char *line, size_t len, struct log_line *out);

/* "2026-11-29T22:00:55.537+00:00", "2026-11-29T22:00:55", or with a
 * space for the T; the zone, when given, is applied (UTC otherwise).
 * Milliseconds since the epoch, or -1. Consumes exactly len bytes. */
int64_t stats_parse_time(const char *s, size_t len);

/* The value of key in msg, unquoted, into out (NUL-terminated). 1 when
 * found, 0 when not; a value longer than out is cut. */
int stats_field(const char *msg, size_t len, const char *key, char *out,
                size_t size);

#endif
