/* postern-stats' reading of log lines: times with zones, fields with
 * quotes, and the counters: logins by protocol and backend, refusals,
 * bytes, lookup percentiles, busiest clients, bounded tables. */
#include "stats.h"
#include "stats_parse.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static struct stats st;

static void add(const char *line)
{
	struct log_line l;

	stats_split_line(line, strlen(line), &l);
	stats_add(&st, l.msg, l.msg_len);
}

START_TEST(times)
{
	/* 2026-11-29T22:00:55.537Z (date -u -d ... +%s) */
	const int64_t t = 1795989655537LL;

	ck_assert_int_eq(stats_parse_time("2026-11-29T22:00:55.537+00:00", 29), t);
	ck_assert_int_eq(stats_parse_time("2026-11-29T23:00:55.537+01:00", 29), t);
	ck_assert_int_eq(stats_parse_time("2026-11-29T17:00:55.537-05:00", 29), t);
	ck_assert_int_eq(stats_parse_time("2026-11-29 22:00:55", 19), t - 537);
	ck_assert_int_eq(stats_parse_time("2026-11-29T22:00:55Z", 20), t - 537);
	ck_assert_int_eq(stats_parse_time("1970-01-01T00:00:00", 19), 0);
	ck_assert_int_eq(stats_parse_time("2026-13-29T22:00:55", 19), -1);
	ck_assert_int_eq(stats_parse_time("2026-11-29T22:00", 16), -1);
	ck_assert_int_eq(stats_parse_time("2026-11-29T22:00:55.5", 21), -1);
	ck_assert_int_eq(stats_parse_time("2026-11-29T22:00:55+0100", 24), -1);
	ck_assert_int_eq(stats_parse_time("2026-11-29T22:00:55 junk", 24), -1);
}
END_TEST

START_TEST(lines_and_fields)
{
	const char *line = "2026-11-29T22:00:55.537+00:00 postern-tls[9]: <6> "
	                   "session=ab event=close client=192.0.2.1:5 "
	                   "user=\"a b=c\" reason=\"x event=login\" bytes_in=7";
	struct log_line l;
	char v[16];

	stats_split_line(line, strlen(line), &l);
	ck_assert_int_eq(l.time_ms, 1795989655537LL);
	ck_assert(strncmp(l.msg, "session=ab ", 11) == 0);
	ck_assert(stats_field(l.msg, l.msg_len, "event", v, sizeof v));
	ck_assert_str_eq(v, "close");          /* not the one in quotes */
	ck_assert(stats_field(l.msg, l.msg_len, "user", v, sizeof v));
	ck_assert_str_eq(v, "a b=c");
	ck_assert(stats_field(l.msg, l.msg_len, "bytes_in", v, sizeof v));
	ck_assert_str_eq(v, "7");
	ck_assert(!stats_field(l.msg, l.msg_len, "bytes", v, sizeof v));
	ck_assert(!stats_field(l.msg, l.msg_len, "c", v, sizeof v));
	/* Cut to fit. */
	ck_assert(stats_field(l.msg, l.msg_len, "client", v, 4));
	ck_assert_str_eq(v, "192");
	/* A journal MESSAGE is all message. */
	stats_split_line("session=x event=connect", 23, &l);
	ck_assert_int_eq(l.time_ms, -1);
	ck_assert_int_eq(l.msg_len, 23);
}
END_TEST

START_TEST(counters)
{
	size_t top[3], n;

	stats_init(&st);
	add("session=1 event=connect client=192.0.2.1:1 server=imap protocol=imap");
	add("session=1 event=login client=192.0.2.1:1 local=l protocol=imap "
	    "user=\"a\" method=plain backend=10.0.0.1:143 lookup_ms=2 result=ok");
	add("session=1 event=close client=192.0.2.1:1 bytes_in=10 bytes_out=20");
	add("session=2 event=connect client=192.0.2.2:1 protocol=pop3");
	add("session=2 event=login client=192.0.2.2:1 protocol=pop3 backend=- "
	    "lookup_ms=40 result=fail reason=\"bad\"");
	add("session=3 event=connect client=192.0.2.2:2 protocol=pop3");
	add("session=3 event=login client=192.0.2.2:2 protocol=pop3 "
	    "backend=10.0.0.1:110 lookup_ms=99999 result=error");
	add("session=4 event=connect client=[2001:db8::1]:7 protocol=smtp");
	add("session=4 event=access_denied client=[2001:db8::1]:7");
	add("session=5 event=login_timeout state=auth");
	add("session=6 event=tls_handshake result=ok mode=implicit");
	add("session=7 event=tls_handshake result=fail reason=\"unknown CA\"");
	add("garbage without an event");
	ck_assert_int_eq(st.connects, 4);
	ck_assert_int_eq(st.logins_ok, 1);
	ck_assert_int_eq(st.logins_fail, 1);
	ck_assert_int_eq(st.logins_error, 1);
	ck_assert_str_eq(st.protos[0].name, "imap");
	ck_assert_str_eq(st.protos[1].name, "pop3");
	ck_assert_int_eq(st.protos[1].fail, 2);
	ck_assert_str_eq(st.backends[0].name, "10.0.0.1:143");
	ck_assert_str_eq(st.backends[1].name, "10.0.0.1:110");
	ck_assert_int_eq(st.bytes_in, 10);
	ck_assert_int_eq(st.bytes_out, 20);
	ck_assert_int_eq(st.refusals[0], 1);     /* access_denied */
	ck_assert_int_eq(st.refusals[2], 1);     /* login_timeout */
	ck_assert_int_eq(st.refusals[14], 1);    /* tls_handshake_failed */
	ck_assert_int_eq(st.lookup.count, 3);
	ck_assert_int_eq(stats_percentile(&st.lookup, 0), 2);
	ck_assert_int_eq(stats_percentile(&st.lookup, 50), 40);
	ck_assert_int_eq(stats_percentile(&st.lookup, 100), STATS_LOOKUP_MS_MAX);
	n = stats_top_clients(&st, top, 3);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(st.clients[top[0]].addr, "192.0.2.2");
	ck_assert_int_eq(st.clients[top[0]].connects, 2);
	ck_assert_int_eq(st.clients[top[0]].failed_logins, 2);
	ck_assert_str_eq(st.clients[top[2]].addr, "2001:db8::1");
	ck_assert_int_eq(stats_top_clients(&st, top, 1), 1);
	ck_assert_str_eq(st.clients[top[0]].addr, "192.0.2.2");
}
END_TEST

/* The resolver's lookups: counted apart from the auth lookups, failures
 * too, their own times. */
START_TEST(resolver)
{
	stats_init(&st);
	add("session=1 event=resolved client=192.0.2.1 name=a.example "
	    "resolve_ms=3");
	add("session=2 event=resolve_failed client=192.0.2.2 name=[TEMPUNAVAIL] "
	    "resolve_ms=30000 reason=\"no answer\"");
	add("session=3 event=resolve_failed client=192.0.2.3 name=[UNAVAILABLE] "
	    "resolve_ms=12 reason=\"no PTR\"");
	add("session=4 event=resolved client=192.0.2.4 name=b.example");
	add("session=1 event=login protocol=smtp backend=- lookup_ms=5 "
	    "resolve_ms=3 result=ok");
	ck_assert_int_eq(st.resolves, 4);
	ck_assert_int_eq(st.resolve_failures, 2);
	ck_assert_int_eq(st.resolve.count, 3);
	ck_assert_int_eq(stats_percentile(&st.resolve, 0), 3);
	ck_assert_int_eq(stats_percentile(&st.resolve, 50), 12);
	ck_assert_int_eq(stats_percentile(&st.resolve, 100), STATS_LOOKUP_MS_MAX);
	ck_assert_int_eq(st.lookup.count, 1);
	ck_assert_int_eq(stats_percentile(&st.lookup, 100), 5);
}
END_TEST

START_TEST(tables_are_bounded)
{
	char line[128];

	stats_init(&st);
	for (int i = 0; i < STATS_BACKENDS + 5; i++) {
		snprintf(line, sizeof line, "event=login protocol=p%d "
		         "backend=10.0.%d.1:1 result=ok", i, i);
		add(line);
	}
	for (int i = 0; i < STATS_CLIENTS + 3; i++) {
		snprintf(line, sizeof line, "event=connect client=10.%d.%d.1:1",
		         i / 256, i % 256);
		add(line);
	}
	ck_assert_int_eq(st.backends[STATS_BACKENDS].ok, 5);
	ck_assert_str_eq(st.backends[STATS_BACKENDS].name, "other");
	ck_assert_int_eq(st.protos[STATS_PROTOS].ok, STATS_BACKENDS + 5 - STATS_PROTOS);
	ck_assert_int_eq(st.nclients, STATS_CLIENTS);
	ck_assert_int_eq(st.other_clients, 3);
	ck_assert_int_eq(stats_percentile(&st.lookup, 50), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");
	TCase *t = tcase_create("stats");

	tcase_add_test(t, times);
	tcase_add_test(t, lines_and_fields);
	tcase_add_test(t, counters);
	tcase_add_test(t, resolver);
	tcase_add_test(t, tables_are_bounded);
	suite_add_tcase(s, t);
	return run_suite(s);
}
