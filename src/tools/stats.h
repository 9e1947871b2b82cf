/* postern-stats' counters: every event line of a time window, added up.
 * Pure and bounded: fixed tables (what does not fit is counted under
 * "other"), and the times of auth lookups and of the resolver's in
 * histograms of whole milliseconds. */
#ifndef POSTERN_STATS_H
#define POSTERN_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_PROTOS 8
#define STATS_BACKENDS 64
#define STATS_CLIENTS 4096
#define STATS_LOOKUP_MS_MAX 10000   /* slower answers share the last bucket */

struct stats_count {
	char name[64];
	uint64_t ok, fail;
};

/* How long something took, each time: whole ms, slower ones in the last. */
struct stats_times {
	uint32_t ms[STATS_LOOKUP_MS_MAX + 1];
	uint64_t count;
};

struct stats_client {
	char addr[48];
	uint64_t connects, failed_logins;
};

/* The events counted as refusals, by kind. */
extern const char *const stats_refusal_events[];
#define STATS_REFUSALS 15

struct stats {
	uint64_t lines, events, connects, sessions_closed;
	uint64_t logins_ok, logins_fail, logins_error;
	struct stats_count protos[STATS_PROTOS + 1];      /* last: other */
	struct stats_count backends[STATS_BACKENDS + 1];  /* last: other */
	uint64_t refusals[STATS_REFUSALS];
	uint64_t bytes_in, bytes_out;
	struct stats_times lookup;          /* auth lookups: lookup_ms */
	struct stats_times resolve;         /* client names: resolve_ms */
	uint64_t resolves, resolve_failures;  /* event=resolved, _failed */
	struct stats_client clients[STATS_CLIENTS];
	size_t nclients;
	uint64_t other_clients;
};

void stats_init(struct stats *s);

/* One message ("session=... event=..."). */
void stats_add(struct stats *s, const char *msg, size_t len);

/* The p-th percentile (0-100) of the times, in ms; -1 if none. */
int stats_percentile(const struct stats_times *t, unsigned p);

/* The n busiest clients by connections, into top (indexes into
 * s->clients), busiest first; returns how many. */
size_t stats_top_clients(const struct stats *s, size_t *top, size_t n);

#endif
