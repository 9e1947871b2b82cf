/* What a relay's guard is: a pure protocol-aware filter between client and
 * backend after login (smtp_guard.c, imap_filter.c). The relay skeleton
 * (guard_relay.c) feeds it bytes and drains what it gives; the guards are
 * a table, so the skeleton never switches on the protocol. */
#ifndef POSTERN_GUARD_H
#define POSTERN_GUARD_H

#include "strbuf.h"

#include <stddef.h>

enum guard_result {
	GUARD_OK,      /* all of the input was consumed */
	GUARD_HOLD,    /* part was; feed the rest once the outputs are drained
	                * (and, for client bytes, once the backend answered) */
	GUARD_REFUSED, /* a command was refused (last_refused): log it, and
	                * feed the rest */
	GUARD_ERROR,   /* the stream breaks a limit: end the session (why) */
};

/* What a guard may be told, from the section and the auth server:
 * space-separated names, "" for none. The SMTP guard takes none. */
struct guard_settings {
	const char *deny;      /* commands refused (IMAP) */
	const char *hide;      /* capabilities hidden (IMAP) */
};

/* What the relay logs of a guard's work; each guard's state holds one,
 * at its kind's report_at, so the skeleton reads it without asking. */
struct guard_report {
	unsigned refused;          /* commands the guard answered itself */
	const char *last_refused;  /* the command last refused */
	const char *why;           /* with GUARD_ERROR, why */
};

struct guard_kind {
	const char *name;      /* POSTERN_GUARD's value */
	size_t state_size;
	size_t report_at;      /* offsetof the state's struct guard_report */
	size_t out_min;        /* free room each output needs at every call */
	/* 0, or -1 with *why when the settings cannot be taken. */
	int (*init)(void *state, const struct guard_settings *set,
	            const char **why);
	/* Bytes from the client: *consumed of in were taken; what goes to
	 * the backend is appended to backend, the guard's own answers to
	 * client. Each output is a strbuf the caller drains, with out_min
	 * bytes of room at every call. */
	enum guard_result (*client)(void *state, const char *in, size_t len,
	                            size_t *consumed, struct strbuf *backend,
	                            struct strbuf *client);
	/* Bytes from the backend; what the client sees goes to client. */
	enum guard_result (*backend)(void *state, const char *in, size_t len,
	                             size_t *consumed, struct strbuf *client);
};

static inline const struct guard_report *
guard_report(const struct guard_kind *kind, const void *state)
{
	return (const struct guard_report *)((const char *)state +
	                                     kind->report_at);
}

extern const struct guard_kind guard_smtp, guard_imap;

#endif
