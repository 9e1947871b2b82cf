/* The pipeline of one connection: greeting, commands, STARTTLS, login,
 * then the relay; or the closing line when it ends before that. */
#include "session.h"
#include "exec_contract.h"
#include "handoff.h"
#include "log.h"
#include "login.h"
#include "session_io.h"

#include <strings.h>

static enum step dispatch(struct session *s, const char *name)
{
	const struct command *c = s->proto->commands;

	while (c->name && strcasecmp(c->name, name) != 0)
		c++;
	return c->handler(s);
}

/* Whatever the client sent behind STARTTLS came in clear: it is dropped,
 * never run inside TLS (CVE-2011-0411, CVE-2014-3556). Then the program
 * starts TLS its own way. */
static enum step start_tls(struct session *s)
{
	if (lineio_pending(&s->in))
		logmsg(LOG_NOTICE, "event=starttls_injection dropped=%zu",
		       lineio_pending(&s->in));
	lineio_drop(&s->in);
	return s->ops->starttls(s);
}

void session_close(struct session *s)
{
	struct crossing x;

	session_set_state(s, ST_CLOSED);
	/* A balancer's health check was never a session: its debug line says
	 * all, or a check every second would fill the log and the stats. */
	if (s->health_check)
		return;
	session_crossing(s, &x);
	contract_log_close(&x, s->result, s->end_why ? s->end_why : "-", NULL);
	session_linger(s);
}

/* 1: logged in, relay; 0: the session is over, answered and logged. */
static int run(struct session *s, int greet)
{
	enum step st = greet ? s->proto->greet(s) : STEP_NEXT;

	if (st == STEP_NEXT)
		session_set_state(s, ST_AUTH);
	while (st != STEP_CLOSE) {
		const char *name = NULL;

		st = s->proto->read_command(s, &name);
		if (st == STEP_NEXT)
			st = dispatch(s, name);
		if (st == STEP_STARTTLS)
			st = start_tls(s);
		if (st == STEP_LOGIN)
			st = login_run(s);
		if (st == STEP_HANDOFF) {
			session_set_state(s, ST_RELAY);
			return 1;
		}
		/* As nginx: the error's own reply was the last word. */
		if (st == STEP_ERROR && ++s->errors >= (unsigned)s->conf->max_errors) {
			logmsg(LOG_NOTICE, "event=too_many_errors errors=%u",
			       s->errors);
			session_end(s, "error", "too many errors");
			st = STEP_CLOSE;
		}
	}
	session_close(s);
	return 0;
}

int session_serve(struct session *s, int greet)
{
	if (s->proto->init(s) < 0) {
		session_internal_error(s);
		logmsg(LOG_ERR, "event=internal_error reason=\"out of memory\"");
		return EXIT_TEMPORARY;
	}
	if (!run(s, greet))
		return EXIT_DONE;
	return s->ops->relay(s);
}
