#include "login.h"
#include "backend.h"
#include "log.h"
#include "lookup.h"
#include "resolver.h"
#include "sasl_exchange.h"
#include "session_state.h"
#include "session_io.h"
#include "clock.h"

#include <stdio.h>
#include <time.h>

/* Auth-Wait is honoured this many times; then the lookup has failed. */
#define LOOKUP_WAITS_MAX 10

/* Shown in logs: printable, no quotes, bounded. Not a secret. */
static void show_user(char *dst, size_t size, const char *user)
{
	size_t i;

	for (i = 0; user[i] && i + 1 < size && i < 64; i++) {
		unsigned char c = (unsigned char)user[i];

		dst[i] = c > 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c
		                                                        : '?';
	}
	dst[i] = '\0';
}

/* Auth-Wait, but never past login_timeout. */
static void wait_seconds(const struct session *s, int seconds)
{
	int64_t ms = (int64_t)(seconds > 60 ? 60 : seconds) * 1000;
	int64_t left = s->login_deadline - clock_ms();
	struct timespec ts;

	if (left < ms)
		ms = left > 0 ? left : 0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Client-Host, and XCLIENT NAME later: once per session, when the section
 * names a resolver and the protocol looks names up (nginx's SMTP; IMAP
 * and POP3 only with resolver_imap_pop3: every login would wait for it).
 * A failure is no reason to refuse a login; the name says what happened,
 * as nginx's does. The wait is logged on its own (resolve_ms), apart
 * from the auth lookup's. */
static void resolve_client(struct session *s)
{
	int64_t started = clock_ms();
	int64_t deadline = started + s->conf->resolver_timeout_ms;
	enum resolve_result r;
	char why[128];

	if (s->conf->nresolvers == 0 || s->client_host[0] ||
	    !(s->proto->resolves_client || s->conf->resolver_imap_pop3))
		return;
	if (deadline > s->login_deadline)
		deadline = s->login_deadline;
	r = resolver_name(s->conf->resolvers, s->conf->nresolvers,
	                  (const struct sockaddr *)&s->client_addr.ss, deadline,
	                  s->client_host, sizeof s->client_host, why, sizeof why);
	s->resolve_ms = clock_ms() - started;
	if (r == RESOLVE_OK)
		logmsg(LOG_INFO, "event=resolved client=%s name=%s resolve_ms=%lld",
		       s->client_ip, s->client_host, (long long)s->resolve_ms);
	else
		logmsg(LOG_NOTICE, "event=resolve_failed client=%s name=%s "
		       "resolve_ms=%lld reason=\"%s\"", s->client_ip,
		       s->client_host, (long long)s->resolve_ms, LOGV(why));
}

static void ask(struct session *s, struct auth_reply *rep)
{
	struct auth_request req = {
		.mech = s->cred.mech,
		.user = s->cred.user,
		.pass = s->cred.mech & SASL_OAUTH ? s->cred.token : s->cred.pass,
		.protocol = s->proto->name,
		.attempt = ++s->attempts,
		.deadline = s->login_deadline,
		.client_ip = s->client_ip,
		.proxy_src = s->proxied ? &s->proxy_src : NULL,
		.proxy_dst = s->proxied ? &s->proxy_dst : NULL,
		.salt = s->cred.mech & SASL_SALTED ? s->salt : NULL,
		.default_port = s->proto->ports[0],
		.tls = s->tls ? s->tls_info : NULL,
		.pass_client_cert = s->conf->auth_http_pass_client_cert,
		.need_pass = (s->cred.mech & SASL_NEEDS_AUTH_SERVER) != 0,
	};

	resolve_client(s);
	req.client_host = s->client_host[0] ? s->client_host : NULL;
	if (s->proto->fill_request)
		s->proto->fill_request(s, &req);
	for (unsigned waits = 0;; waits++) {
		int64_t asked = clock_ms();

		auth_reply_init(rep);
		s->conf->lookup->lookup(s->conf, &req, rep);
		/* The last answer's time: postern-stats' auth latency. */
		s->lookup_ms = clock_ms() - asked;
		if (rep->status != AUTH_STATUS_WAIT || waits >= LOOKUP_WAITS_MAX ||
		    session_login_expired(s))
			break;
		wait_seconds(s, rep->wait);
	}
}

static enum step timed_out(struct session *s)
{
	session_login_timeout(s);
	return STEP_CLOSE;
}

/* One line per outcome: who, from where to where, how, and what came of
 * it. reason and reply may be NULL. resolve_ms only when the client's
 * name was looked up. */
static void log_login(const struct session *s, int prio, const char *result,
                      const char *reason, const char *reply)
{
	char resolved[40] = "";

	if (s->client_host[0])
		snprintf(resolved, sizeof resolved, " resolve_ms=%lld",
		         (long long)s->resolve_ms);
	logmsg(prio, "event=login client=%s local=%s protocol=%s user=\"%s\" "
	       "method=%s backend=%s lookup_ms=%lld%s result=%s%s%s%s%s%s",
	       s->client, s->local_text, s->proto->name,
	       s->user_shown, sasl_auth_method(s->cred.mech),
	       s->backend_name[0] ? s->backend_name : "-",
	       (long long)s->lookup_ms, resolved, result,
	       reason ? " reason=\"" : "", reason ? LOGV(reason) : "",
	       reason ? "\"" : "", reply ? " reply=\"" : "",
	       reply ? LOGV(reply) : "");
}

/* nginx's "upstream sent invalid response": the backend's own words with
 * proxy_pass_error_message, else the internal error; then the end. */
static enum step backend_refused(struct session *s, const char *text)
{
	log_login(s, LOG_ERR, "error", "backend refused", text);
	if (s->conf->proxy_pass_error_message && text[0])
		s->proto->auth_reply(s, AUTH_BACKEND_ERROR, text, NULL);
	else
		session_internal_error(s);
	session_end(s, "error", "backend refused");
	return STEP_CLOSE;
}

static enum step at_backend(struct session *s, const struct auth_reply *rep)
{
	char text[512] = "";
	const char *why = "backend error";
	enum auth_result r;

	session_set_state(s, ST_BACKEND);
	/* Before the backend's OK: its capabilities pass the filter. */
	session_add_deny(s, rep->deny);
	r = backend_open(s, rep, text, sizeof text, &why);
	if (r != AUTH_OK && session_login_expired(s))
		return timed_out(s);
	switch (r) {
	case AUTH_OK:
		log_login(s, LOG_INFO, "ok", NULL, NULL);
		return STEP_HANDOFF;
	case AUTH_FAILED:
		/* With the map the backend is the password's judge. */
		if (!s->conf->lookup->checks_password) {
			log_login(s, LOG_NOTICE, "fail", "backend refused", NULL);
			if ((s->cred.mech & SASL_OAUTH) &&
			    sasl_oauth_failure(s, NULL) < 0) {
				session_end(s, "closed", "client went away");
				return STEP_CLOSE;
			}
			s->proto->auth_reply(s, AUTH_FAILED,
			                     s->conf->proxy_pass_error_message ?
			                     text : NULL, NULL);
			return STEP_ERROR;
		}
		/* The auth server accepted what the backend refuses. */
		/* fallthrough */
	case AUTH_BACKEND_ERROR:
		return backend_refused(s, text);
	case AUTH_TEMPFAIL:
		break;
	}
	s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
	session_end(s, "tempfail", why);
	return STEP_CLOSE;
}

static enum step refused(struct session *s, const struct auth_reply *rep)
{
	int final = s->conf->lookup->checks_password;

	log_login(s, LOG_NOTICE, "fail", rep->error[0] ? rep->error : rep->why,
	          NULL);
	wait_seconds(s, rep->wait);
	if (session_login_expired(s))
		return timed_out(s);
	/* RFC 7628: an OAuth refusal is a challenge first. */
	if ((s->cred.mech & SASL_OAUTH) &&
	    sasl_oauth_failure(s, rep->error_sasl) < 0) {
		session_end(s, "closed", "client went away");
		return STEP_CLOSE;
	}
	s->proto->auth_reply(s, AUTH_FAILED, rep->error[0] ? rep->error : NULL,
	                     rep->error_code[0] ? rep->error_code : NULL);
	/* nginx: a refusal by the password's judge without Auth-Wait ends
	 * the session; with it, the client may try again. */
	if (final && rep->wait == 0) {
		session_end(s, "fail", "auth refused");
		return STEP_CLOSE;
	}
	return final ? STEP_NEXT : STEP_ERROR;
}

enum step login_run(struct session *s)
{
	struct auth_reply rep;
	enum step st;

	show_user(s->user_shown, sizeof s->user_shown, s->cred.user);
	session_set_state(s, ST_LOOKUP);
	ask(s, &rep);
	switch (session_login_expired(s) ? AUTH_STATUS_EXPIRED : rep.status) {
	case AUTH_STATUS_OK:
		st = at_backend(s, &rep);
		break;
	case AUTH_STATUS_FAIL:
		st = refused(s, &rep);
		break;
	case AUTH_STATUS_EXPIRED:
		st = timed_out(s);
		break;
	default:
		logmsg(LOG_ERR, "event=auth_error reason=\"%s\"",
		       LOGV(rep.why[0] ? rep.why :
		            "auth server sent WAIT too often"));
		s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
		session_end(s, "tempfail", "auth lookup failed");
		st = STEP_CLOSE;
		break;
	}
	auth_reply_clear(&rep);
	if (st != STEP_HANDOFF)
		credentials_clear(&s->cred);
	if (st == STEP_NEXT || st == STEP_ERROR)
		session_set_state(s, ST_AUTH);
	return st;
}
