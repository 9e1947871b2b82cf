/* postern-stats: what postern did in a time window, from its own log
 * lines: the journal (sd-journal) or log files. There is no long-lived
 * process to hold counters; every event is one line, and this adds them
 * up. Text, JSON (--json) or Prometheus's text format (--prometheus, for
 * node_exporter's textfile collector). */
#include "stats.h"
#include "stats_parse.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#define LINE_MAX_BYTES 8192
#define TOP_MAX 100

enum format { TEXT, JSON, PROMETHEUS };

#ifndef SBINDIR
#define SBINDIR "/usr/sbin"
#endif
#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/libexec"
#endif

struct options {
	int64_t since, until;      /* ms since the epoch; -1: open */
	enum format format;
	size_t top;
	const char *directory;     /* journal files there, not the system's */
};

/* postern's entries are those of its programs as journald saw them run:
 * _EXE is journald's own field, from /proc/PID/exe. SYSLOG_IDENTIFIER is
 * whatever the sender says ("logger -t postern"), and _COMM only the
 * name of a program any user can copy to one called postern. */
static const char *const programs[] = { SBINDIR "/postern",
	LIBEXECDIR "/postern-text", LIBEXECDIR "/postern-tls",
	LIBEXECDIR "/postern-relay", LIBEXECDIR "/postern-guard-relay", NULL };

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: postern-stats [--since WHEN] [--until WHEN] [--top N]\n"
	        "                     [--json | --prometheus] [--directory DIR]"
	        " [FILE...]\n"
	        "Adds up postern's log lines: the journal (or the journal files"
	        " in DIR),\nor the log files given.\n"
	        "  WHEN  2026-11-29T10:00:00[+01:00], or 90s, 30m, 2h, 7d ago\n");
}

/* An absolute time, or a duration ago; -1 if neither. */
static int64_t parse_when(const char *s)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 },
		{ 'd', 86400000 },
	};
	int64_t t = stats_parse_time(s, strlen(s));
	struct timespec now;
	char *end;
	long long n;

	if (t >= 0)
		return t;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || n < 0 || end == s || end[0] == '\0' || end[1] != '\0')
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (*end == units[i].unit)
			return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
			       n * units[i].ms;
	return -1;
}

static int in_window(const struct options *o, int64_t t)
{
	if (t < 0)
		return o->since < 0 && o->until < 0;
	return (o->since < 0 || t >= o->since) && (o->until < 0 || t < o->until);
}

static int read_file(const char *path, const struct options *o,
                     struct stats *s)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[LINE_MAX_BYTES];

	if (!f) {
		fprintf(stderr, "postern-stats: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		struct log_line l;

		/* A longer line is cut here, and its rest skipped. */
		if (len && line[len - 1] != '\n' && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		stats_split_line(line, len, &l);
		if (in_window(o, l.time_ms))
			stats_add(s, l.msg, l.msg_len);
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static int read_journal(const struct options *o, struct stats *s)
{
	sd_journal *j = NULL;
	int r = o->directory ? sd_journal_open_directory(&j, o->directory, 0)
	                     : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);

	if (r < 0) {
		fprintf(stderr, "postern-stats: %s: %s\n",
		        o->directory ? o->directory : "the journal", strerror(-r));
		return -1;
	}
	for (const char *const *p = programs; *p; p++) {
		char match[4096];

		snprintf(match, sizeof match, "_EXE=%s", *p);
		if ((r = sd_journal_add_match(j, match, 0)) < 0) {
			fprintf(stderr, "postern-stats: %s: %s\n", match,
			        strerror(-r));
			sd_journal_close(j);
			return -1;
		}
	}
	if (o->since >= 0)
		sd_journal_seek_realtime_usec(j, (uint64_t)o->since * 1000);
	while ((r = sd_journal_next(j)) > 0) {
		uint64_t usec;
		const void *data;
		size_t len;

		if (sd_journal_get_realtime_usec(j, &usec) < 0)
			continue;
		if (o->until >= 0 && (int64_t)(usec / 1000) >= o->until)
			break;
		if (sd_journal_get_data(j, "MESSAGE", &data, &len) < 0 || len < 8)
			continue;
		stats_add(s, (const char *)data + 8, len - 8);  /* "MESSAGE=" */
	}
	sd_journal_close(j);
	return r < 0 ? -1 : 0;
}

/* A label value or JSON string: only what the log lets through is
 * printable, but a quote or backslash is escaped anyway. */
static void put_str(const char *v)
{
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		if ((unsigned char)*v >= 0x20 && (unsigned char)*v < 0x7f)
			putchar(*v);
	}
}

/* "  protocol imap           ok 2, failed 1": the label and name fill
 * 24 columns together. */
static void text_counts(const char *label, const struct stats_count *t,
                        size_t n)
{
	for (size_t i = 0; i <= n; i++)
		if (t[i].ok + t[i].fail)
			printf("  %s %-*s ok %llu, failed %llu\n", label,
			       (int)(23 - strlen(label)), t[i].name,
			       (unsigned long long)t[i].ok,
			       (unsigned long long)t[i].fail);
}

static void text(const struct stats *s, const size_t *top, size_t ntop)
{
	printf("connections      %llu\n", (unsigned long long)s->connects);
	printf("logins           ok %llu, failed %llu, errors %llu\n",
	       (unsigned long long)s->logins_ok,
	       (unsigned long long)s->logins_fail,
	       (unsigned long long)s->logins_error);
	text_counts("protocol", s->protos, STATS_PROTOS);
	text_counts("backend", s->backends, STATS_BACKENDS);
	if (s->lookup.count)
		printf("auth lookup ms   p50 %d, p90 %d, p99 %d, max %d (%llu "
		       "answers)\n", stats_percentile(&s->lookup, 50),
		       stats_percentile(&s->lookup, 90),
		       stats_percentile(&s->lookup, 99),
		       stats_percentile(&s->lookup, 100),
		       (unsigned long long)s->lookup.count);
	if (s->resolves)
		printf("client names     looked up %llu, failed %llu; ms p50 %d, "
		       "p90 %d, p99 %d, max %d\n", (unsigned long long)s->resolves,
		       (unsigned long long)s->resolve_failures,
		       stats_percentile(&s->resolve, 50),
		       stats_percentile(&s->resolve, 90),
		       stats_percentile(&s->resolve, 99),
		       stats_percentile(&s->resolve, 100));
	printf("refusals        ");
	for (size_t i = 0; i < STATS_REFUSALS; i++)
		if (s->refusals[i])
			printf(" %s %llu", stats_refusal_events[i],
			       (unsigned long long)s->refusals[i]);
	printf("\nbytes            from clients %llu, to clients %llu\n",
	       (unsigned long long)s->bytes_in,
	       (unsigned long long)s->bytes_out);
	printf("busiest clients\n");
	for (size_t i = 0; i < ntop; i++)
		printf("  %-40s %llu connections, %llu failed logins\n",
		       s->clients[top[i]].addr,
		       (unsigned long long)s->clients[top[i]].connects,
		       (unsigned long long)s->clients[top[i]].failed_logins);
}

static void json_counts(const char *name, const struct stats_count *t,
                        size_t n)
{
	int first = 1;

	printf("\"%s\":{", name);
	for (size_t i = 0; i <= n; i++) {
		if (!(t[i].ok + t[i].fail))
			continue;
		printf("%s\"", first ? "" : ",");
		put_str(t[i].name);
		printf("\":{\"ok\":%llu,\"failed\":%llu}",
		       (unsigned long long)t[i].ok, (unsigned long long)t[i].fail);
		first = 0;
	}
	printf("}");
}

static void json(const struct stats *s, const size_t *top, size_t ntop)
{
	printf("{\"connections\":%llu,\"logins\":{\"ok\":%llu,\"failed\":%llu,"
	       "\"errors\":%llu},", (unsigned long long)s->connects,
	       (unsigned long long)s->logins_ok,
	       (unsigned long long)s->logins_fail,
	       (unsigned long long)s->logins_error);
	json_counts("protocols", s->protos, STATS_PROTOS);
	printf(",");
	json_counts("backends", s->backends, STATS_BACKENDS);
	printf(",\"lookup_ms\":{\"answers\":%llu,\"p50\":%d,\"p90\":%d,"
	       "\"p99\":%d,\"max\":%d}", (unsigned long long)s->lookup.count,
	       stats_percentile(&s->lookup, 50), stats_percentile(&s->lookup, 90),
	       stats_percentile(&s->lookup, 99),
	       stats_percentile(&s->lookup, 100));
	printf(",\"resolver\":{\"lookups\":%llu,\"failed\":%llu,\"p50_ms\":%d,"
	       "\"p90_ms\":%d,\"p99_ms\":%d,\"max_ms\":%d},\"refusals\":{",
	       (unsigned long long)s->resolves,
	       (unsigned long long)s->resolve_failures,
	       stats_percentile(&s->resolve, 50), stats_percentile(&s->resolve, 90),
	       stats_percentile(&s->resolve, 99),
	       stats_percentile(&s->resolve, 100));
	for (size_t i = 0; i < STATS_REFUSALS; i++)
		printf("%s\"%s\":%llu", i ? "," : "", stats_refusal_events[i],
		       (unsigned long long)s->refusals[i]);
	printf("},\"bytes\":{\"from_clients\":%llu,\"to_clients\":%llu},"
	       "\"busiest_clients\":[", (unsigned long long)s->bytes_in,
	       (unsigned long long)s->bytes_out);
	for (size_t i = 0; i < ntop; i++) {
		printf("%s{\"client\":\"", i ? "," : "");
		put_str(s->clients[top[i]].addr);
		printf("\",\"connections\":%llu,\"failed_logins\":%llu}",
		       (unsigned long long)s->clients[top[i]].connects,
		       (unsigned long long)s->clients[top[i]].failed_logins);
	}
	printf("]}\n");
}

static void prom_counts(const char *metric, const char *label,
                        const struct stats_count *t, size_t n)
{
	for (size_t i = 0; i <= n; i++) {
		static const char *const results[] = { "ok", "failed" };
		const uint64_t v[] = { t[i].ok, t[i].fail };

		if (!(t[i].ok + t[i].fail))
			continue;
		for (int r = 0; r < 2; r++) {
			printf("%s{%s=\"", metric, label);
			put_str(t[i].name);
			printf("\",result=\"%s\"} %llu\n", results[r],
			       (unsigned long long)v[r]);
		}
	}
}

/* A Prometheus summary of times: its quantiles, when there are any, and
 * its count. */
static void summary(const char *name, const char *help,
                    const struct stats_times *t)
{
	static const unsigned quantiles[] = { 50, 90, 99 };

	printf("# HELP %s %s\n# TYPE %s summary\n", name, help, name);
	if (t->count)
		for (size_t i = 0; i < sizeof quantiles / sizeof quantiles[0]; i++)
			printf("%s{quantile=\"0.%02u\"} %d\n", name, quantiles[i],
			       stats_percentile(t, quantiles[i]));
	printf("%s_count %llu\n", name, (unsigned long long)t->count);
}

static void prometheus(const struct stats *s)
{
	printf("# HELP postern_connections_total Connections in the window.\n"
	       "# TYPE postern_connections_total counter\n"
	       "postern_connections_total %llu\n",
	       (unsigned long long)s->connects);
	printf("# HELP postern_logins_total Logins by protocol and result.\n"
	       "# TYPE postern_logins_total counter\n");
	prom_counts("postern_logins_total", "protocol", s->protos, STATS_PROTOS);
	printf("# HELP postern_backend_logins_total Logins by backend and "
	       "result.\n# TYPE postern_backend_logins_total counter\n");
	prom_counts("postern_backend_logins_total", "backend", s->backends,
	            STATS_BACKENDS);
	printf("# HELP postern_refusals_total Refusals by event.\n"
	       "# TYPE postern_refusals_total counter\n");
	for (size_t i = 0; i < STATS_REFUSALS; i++)
		printf("postern_refusals_total{event=\"%s\"} %llu\n",
		       stats_refusal_events[i],
		       (unsigned long long)s->refusals[i]);
	printf("# HELP postern_bytes_total Bytes from and to clients.\n"
	       "# TYPE postern_bytes_total counter\n"
	       "postern_bytes_total{direction=\"from_clients\"} %llu\n"
	       "postern_bytes_total{direction=\"to_clients\"} %llu\n",
	       (unsigned long long)s->bytes_in,
	       (unsigned long long)s->bytes_out);
	summary("postern_auth_lookup_milliseconds", "The lookup's answer time.",
	        &s->lookup);
	printf("# HELP postern_resolver_lookups_total Client names looked up, "
	       "by result.\n# TYPE postern_resolver_lookups_total counter\n"
	       "postern_resolver_lookups_total{result=\"ok\"} %llu\n"
	       "postern_resolver_lookups_total{result=\"failed\"} %llu\n",
	       (unsigned long long)(s->resolves - s->resolve_failures),
	       (unsigned long long)s->resolve_failures);
	summary("postern_resolver_milliseconds", "The client name's lookup "
	        "time.", &s->resolve);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "top", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "directory", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .since = -1, .until = -1, .top = 10 };
	static struct stats s;
	size_t top[TOP_MAX], ntop;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'u': {
			int64_t *when = c == 's' ? &o.since : &o.until;

			if ((*when = parse_when(optarg)) < 0) {
				fprintf(stderr, "postern-stats: %s: not a time\n",
				        optarg);
				return 2;
			}
			break;
		}
		case 'n':
			o.top = (size_t)atoi(optarg);
			if (o.top > TOP_MAX)
				o.top = TOP_MAX;
			break;
		case 'j': o.format = JSON; break;
		case 'p': o.format = PROMETHEUS; break;
		case 'D': o.directory = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	stats_init(&s);
	if (optind == argc || o.directory)
		failed = read_journal(&o, &s) < 0;
	for (int i = optind; i < argc; i++)
		failed |= read_file(argv[i], &o, &s) < 0;
	ntop = stats_top_clients(&s, top, o.top);
	if (o.format == JSON)
		json(&s, top, ntop);
	else if (o.format == PROMETHEUS)
		prometheus(&s);
	else
		text(&s, top, ntop);
	return failed;
}
