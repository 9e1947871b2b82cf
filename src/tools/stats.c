#include "stats.h"

#include "stats_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const stats_refusal_events[STATS_REFUSALS] = {
	"access_denied", "too_many_errors", "login_timeout", "timeout",
	"line_too_long", "command_refused", "invalid_command",
	"client_cert_refused", "early_talker", "starttls_injection",
	"proxy_protocol_untrusted", "backend_down", "auth_error",
	"rejected", "tls_handshake_failed",
};

void stats_init(struct stats *s)
{
	memset(s, 0, sizeof *s);
	strcpy(s->protos[STATS_PROTOS].name, "other");
	strcpy(s->backends[STATS_BACKENDS].name, "other");
}

/* The entry called name, made if there is room, else the last ("other"). */
static struct stats_count *count_of(struct stats_count *t, size_t n,
                                    const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!t[i].name[0]) {
			snprintf(t[i].name, sizeof t[i].name, "%s", name);
			return &t[i];
		}
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	}
	return &t[n];
}

/* "192.0.2.7:40000" and "[2001:db8::1]:40000" without the port. */
static void strip_port(char *addr)
{
	char *colon = strrchr(addr, ':');

	if (addr[0] == '[') {
		char *close = strchr(addr, ']');

		if (close) {
			memmove(addr, addr + 1, (size_t)(close - addr - 1));
			addr[close - addr - 1] = '\0';
		}
	} else if (colon && strchr(addr, ':') == colon) {
		*colon = '\0';
	}
}

static struct stats_client *client_of(struct stats *s, const char *addr)
{
	for (size_t i = 0; i < s->nclients; i++)
		if (strcmp(s->clients[i].addr, addr) == 0)
			return &s->clients[i];
	if (s->nclients == STATS_CLIENTS)
		return NULL;
	snprintf(s->clients[s->nclients].addr, sizeof s->clients[0].addr, "%s",
	         addr);
	return &s->clients[s->nclients++];
}

static uint64_t number(const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);

	return *v >= '0' && *v <= '9' && *end == '\0' ? n : 0;
}

/* field's value as a time, if the line has one. */
static void add_time(struct stats_times *t, const char *msg, size_t len,
                     const char *field)
{
	char ms[24];
	uint64_t v;

	if (!stats_field(msg, len, field, ms, sizeof ms) || ms[0] < '0' ||
	    ms[0] > '9')
		return;
	v = number(ms);
	t->ms[v > STATS_LOOKUP_MS_MAX ? STATS_LOOKUP_MS_MAX : v]++;
	t->count++;
}

static void add_login(struct stats *s, const char *msg, size_t len)
{
	char result[16], proto[32], backend[64], client[64];
	struct stats_count *p, *b;
	struct stats_client *c;
	int ok, fail;

	stats_field(msg, len, "result", result, sizeof result);
	ok = strcmp(result, "ok") == 0;
	fail = strcmp(result, "fail") == 0;
	s->logins_ok += ok;
	s->logins_fail += fail;
	s->logins_error += !ok && !fail;
	if (!stats_field(msg, len, "protocol", proto, sizeof proto))
		strcpy(proto, "unknown");
	p = count_of(s->protos, STATS_PROTOS, proto);
	p->ok += ok;
	p->fail += !ok;
	if (stats_field(msg, len, "backend", backend, sizeof backend) &&
	    strcmp(backend, "-") != 0) {
		b = count_of(s->backends, STATS_BACKENDS, backend);
		b->ok += ok;
		b->fail += !ok;
	}
	if (!ok && stats_field(msg, len, "client", client, sizeof client)) {
		strip_port(client);
		if ((c = client_of(s, client)))
			c->failed_logins++;
	}
	add_time(&s->lookup, msg, len, "lookup_ms");
}

void stats_add(struct stats *s, const char *msg, size_t len)
{
	char event[40], v[64];

	s->lines++;
	if (!stats_field(msg, len, "event", event, sizeof event))
		return;
	s->events++;
	if (strcmp(event, "connect") == 0) {
		struct stats_client *c;

		s->connects++;
		if (stats_field(msg, len, "client", v, sizeof v)) {
			strip_port(v);
			c = client_of(s, v);
			if (c)
				c->connects++;
			else
				s->other_clients++;
		}
	} else if (strcmp(event, "login") == 0) {
		add_login(s, msg, len);
	} else if (strcmp(event, "resolved") == 0 ||
	           strcmp(event, "resolve_failed") == 0) {
		s->resolves++;
		s->resolve_failures += strcmp(event, "resolve_failed") == 0;
		add_time(&s->resolve, msg, len, "resolve_ms");
	} else if (strcmp(event, "close") == 0) {
		s->sessions_closed++;
		if (stats_field(msg, len, "bytes_in", v, sizeof v))
			s->bytes_in += number(v);
		if (stats_field(msg, len, "bytes_out", v, sizeof v))
			s->bytes_out += number(v);
	}
	/* A client that could not or would not finish the TLS handshake (a
	 * certificate it does not trust, a protocol it does not speak):
	 * event=tls_handshake result=fail, counted apart from the close. */
	if (strcmp(event, "tls_handshake") == 0 &&
	    stats_field(msg, len, "result", v, sizeof v) &&
	    strcmp(v, "fail") == 0)
		strcpy(event, "tls_handshake_failed");
	for (size_t i = 0; i < STATS_REFUSALS; i++)
		if (strcmp(event, stats_refusal_events[i]) == 0)
			s->refusals[i]++;
}

int stats_percentile(const struct stats_times *t, unsigned p)
{
	uint64_t want, seen = 0;

	if (!t->count)
		return -1;
	if (p > 100)
		p = 100;
	/* The smallest time with at least p % of the answers at or below. */
	want = (t->count * p + 99) / 100;
	if (want == 0)
		want = 1;
	for (int ms = 0; ms <= STATS_LOOKUP_MS_MAX; ms++) {
		seen += t->ms[ms];
		if (seen >= want)
			return ms;
	}
	return STATS_LOOKUP_MS_MAX;
}

size_t stats_top_clients(const struct stats *s, size_t *top, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < s->nclients; i++) {
		size_t at = used < n ? used++ : n;

		if (at == n) {
			if (!n || s->clients[i].connects <=
			              s->clients[top[n - 1]].connects)
				continue;
			at = n - 1;
		}
		/* Insertion, busiest first; ties keep first-seen order. */
		while (at > 0 && s->clients[top[at - 1]].connects <
		                     s->clients[i].connects) {
			top[at] = top[at - 1];
			at--;
		}
		top[at] = i;
	}
	return used;
}
