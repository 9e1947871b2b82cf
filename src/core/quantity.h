/* nginx-style quantities: durations ("60s", "1h 30m", "500ms") and sizes ("4k", "1m"). */
#ifndef POSTERN_QUANTITY_H
#define POSTERN_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

/* A bare number means seconds, as in nginx. Returns 0, or -1 if malformed. */
int parse_duration_ms(const char *text, int64_t *ms);
/* A bare number means bytes. Returns 0, or -1 if malformed. */
int parse_size(const char *text, size_t *bytes);

#endif
