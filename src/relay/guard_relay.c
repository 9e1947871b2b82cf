#include "guard_relay.h"
#include "clock.h"
#include "imap_filter.h"
#include "log.h"
#include "smtp_guard.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static ssize_t plain_recv(struct relay_end *e, char *buf, size_t len)
{
	ssize_t n = recv(e->fd, buf, len, MSG_DONTWAIT);

	if (n < 0 && errno == ECONNRESET)
		return 0;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EIO;
	return n;
}

static ssize_t plain_send(struct relay_end *e, const char *buf, size_t len)
{
	ssize_t n = send(e->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EIO;
	return n;
}

static int plain_close_write(struct relay_end *e)
{
	shutdown(e->fd, SHUT_WR);
	return 1;
}

static short plain_events(struct relay_end *e, short wanted)
{
	(void)e;
	return wanted;
}

static int plain_pending(struct relay_end *e)
{
	(void)e;
	return 0;
}

const struct relay_end_ops relay_plain_ops = {
	.recv = plain_recv,
	.send = plain_send,
	.close_write = plain_close_write,
	.events = plain_events,
	.pending = plain_pending,
};

/* The guards, by POSTERN_GUARD's name. */
static const struct guard_kind *const kinds[] = { &guard_smtp, &guard_imap,
	                                          NULL };

/* Bytes read from one side and not yet taken by the guard. */
#define IN_SIZE (256 * 1024)
/* What the guard gave for one side, not yet written: room for the
 * largest guard's minimum, and a window beyond it. */
#define OUT_MIN_MAX (IMAP_FILTER_OUT_MIN > SMTP_GUARD_OUT_MIN ? \
	             IMAP_FILTER_OUT_MIN : SMTP_GUARD_OUT_MIN)
#define OUT_SIZE (OUT_MIN_MAX + 256 * 1024)

struct in {
	char *buf;
	size_t start, end;
	size_t high;          /* the most of buf ever filled: what to wipe */
	int eof;
	const char *before;   /* read before the relay began, not yet taken */
	size_t before_len;
};

struct out {
	struct strbuf o;
	size_t off;       /* written so far */
	int closed;       /* the half-close went through */
	uint64_t bytes;
};

struct guarded {
	const struct guard_kind *kind;   /* NULL: bytes pass as they are */
	void *state;                     /* the kind's */
	size_t out_min;
	struct relay_end *client, *backend;
	struct in from_client, from_backend;
	struct out to_client, to_backend;
	const char *end;
};

/* Make room at the end of an output by dropping what was written. */
static size_t out_room(struct out *o)
{
	if (o->off == o->o.len) {
		o->off = o->o.len = 0;
	} else if (o->off && strbuf_room(&o->o) < OUT_MIN_MAX) {
		memmove(o->o.buf, o->o.buf + o->off, o->o.len - o->off);
		o->o.len -= o->off;
		o->off = 0;
	}
	return strbuf_room(&o->o);
}

static size_t in_pending(const struct in *i)
{
	return i->end - i->start;
}

/* 1 if anything moved, 0 if not, -1 when the relay must end. */
static int fill(struct guarded *r, struct relay_end *e, struct in *i,
                const char *name)
{
	ssize_t n;

	if (i->eof)
		return 0;
	if (i->start == i->end)
		i->start = i->end = 0;
	if (i->end == IN_SIZE)
		return 0;
	if (i->before_len) {
		/* What came before comes first, as room allows. */
		size_t k = i->before_len < IN_SIZE - i->end ? i->before_len :
		           IN_SIZE - i->end;

		memcpy(i->buf + i->end, i->before, k);
		i->end += k;
		if (i->end > i->high)
			i->high = i->end;
		i->before += k;
		i->before_len -= k;
		return 1;
	}
	n = e->ops->recv(e, i->buf + i->end, IN_SIZE - i->end);
	if (n == -EAGAIN)
		return 0;
	if (n < 0) {
		r->end = name;
		return -1;
	}
	if (n == 0)
		i->eof = 1;
	i->end += (size_t)n;
	if (i->end > i->high)
		i->high = i->end;
	return 1;
}

static int drain(struct guarded *r, struct relay_end *e, struct out *o,
                 int eof_behind, const char *name)
{
	int moved = 0;

	while (o->off < o->o.len) {
		ssize_t n = e->ops->send(e, o->o.buf + o->off, o->o.len - o->off);

		if (n == -EAGAIN)
			return moved;
		if (n < 0) {
			r->end = name;
			return -1;
		}
		o->off += (size_t)n;
		o->bytes += (uint64_t)n;
		moved = 1;
	}
	/* Half-close: the other side said all it will, and all of it is out. */
	if (eof_behind && !o->closed && e->ops->close_write(e)) {
		o->closed = 1;
		moved = 1;
	}
	return moved;
}

/* No guard: what was read goes out as it is. */
static int pass(struct in *from, struct out *to)
{
	size_t n = in_pending(from), room = out_room(to);

	if (n > room)
		n = room;
	strbuf_put(&to->o, from->buf + from->start, n);
	from->start += n;
	return n > 0;
}

static int guard_error(struct guarded *r)
{
	r->end = guard_report(r->kind, r->state)->why;
	logmsg(LOG_NOTICE, "event=relay_error reason=\"%s\"", LOGV(r->end));
	return -1;
}

static int guard(struct guarded *r)
{
	enum guard_result g = GUARD_REFUSED;
	size_t used;
	int moved = 0;

	if (!r->kind)
		return pass(&r->from_client, &r->to_backend) |
		       pass(&r->from_backend, &r->to_client);

	while (g == GUARD_REFUSED && in_pending(&r->from_client) &&
	       out_room(&r->to_backend) >= r->out_min &&
	       out_room(&r->to_client) >= r->out_min) {
		g = r->kind->client(r->state, r->from_client.buf +
		                    r->from_client.start,
		                    in_pending(&r->from_client), &used,
		                    &r->to_backend.o, &r->to_client.o);
		r->from_client.start += used;
		moved |= used > 0;
		if (g == GUARD_REFUSED)
			logmsg(LOG_NOTICE, "event=command_refused command=%s",
			       LOGV(guard_report(r->kind, r->state)->last_refused));
		if (g == GUARD_ERROR)
			return guard_error(r);
	}
	if (in_pending(&r->from_backend) &&
	    out_room(&r->to_client) >= r->out_min) {
		if (r->kind->backend(r->state, r->from_backend.buf +
		                     r->from_backend.start,
		                     in_pending(&r->from_backend), &used,
		                     &r->to_client.o) == GUARD_ERROR)
			return guard_error(r);
		r->from_backend.start += used;
		moved |= used > 0;
	}
	return moved;
}

/* One round: read, guard, write; 1 if anything moved. */
static int round_trip(struct guarded *r)
{
	int a, b, c, d, e;

	a = fill(r, r->client, &r->from_client, "client read error");
	b = a < 0 ? -1 : fill(r, r->backend, &r->from_backend,
	                      "backend read error");
	c = b < 0 ? -1 : guard(r);
	d = c < 0 ? -1 : drain(r, r->backend, &r->to_backend,
	                       r->from_client.eof &&
	                       !in_pending(&r->from_client),
	                       "backend write error");
	e = d < 0 ? -1 : drain(r, r->client, &r->to_client,
	                       r->from_backend.eof &&
	                       !in_pending(&r->from_backend),
	                       "client write error");
	if (e < 0)
		return -1;
	return a || b || c || d || e;
}

static short wants(struct relay_end *e, const struct in *i,
                   const struct out *o)
{
	short ev = 0;

	if (!i->eof && i->end < IN_SIZE)
		ev |= POLLIN;
	if (o->off < o->o.len)
		ev |= POLLOUT;
	return e->ops->events(e, ev);
}

/* Bytes wait inside the end (a TLS record opened or whole) where poll
 * cannot see them, and the relay has room to take them. With its input
 * full (the other side not reading), they wait like the socket's do:
 * going round again would only spin. */
static int waiting(struct relay_end *e, const struct in *i)
{
	return !i->eof && (i->end < IN_SIZE || i->start == i->end) &&
	       e->ops->pending(e);
}

/* proxy_timeout counts from the last byte relayed, not from the last
 * wake-up: a peer that trickles pieces of a TLS record (or empty records)
 * wakes poll without moving a byte, and must not keep the session. */
static int quiet_left(int64_t since, int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return clock_left(since + (timeout_ms < INT32_MAX ? timeout_ms
	                                                  : INT32_MAX));
}

static const char *run(struct guarded *r, int64_t timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = r->client->fd },
	                         { .fd = r->backend->fd } };
	int64_t since = clock_ms();
	int hangup = 0;

	for (;;) {
		int moved = round_trip(r), n, left;

		if (moved < 0)
			return r->end;
		if (moved)
			since = clock_ms();
		if (r->to_backend.closed && r->to_client.closed)
			return "both sides closed";
		if (hangup && !moved)
			return "connection lost";
		if (moved || waiting(r->client, &r->from_client) ||
		    waiting(r->backend, &r->from_backend))
			continue;
		pfd[0].events = wants(r->client, &r->from_client,
		                      &r->to_client);
		pfd[1].events = wants(r->backend, &r->from_backend,
		                      &r->to_backend);
		left = quiet_left(since, timeout_ms);
		if (left == 0)
			return "idle timeout";
		n = poll(pfd, 2, left);
		if (n == 0)
			return "idle timeout";
		if (n < 0 && errno != EINTR)
			return "poll error";
		hangup = n > 0 && ((pfd[0].revents | pfd[1].revents) &
		                   (POLLERR | POLLHUP));
	}
}

static const struct guard_kind *kind_named(const char *name)
{
	for (const struct guard_kind *const *k = kinds; *k; k++)
		if (strcmp((*k)->name, name) == 0)
			return *k;
	return NULL;
}

const char *guard_relay(const char *guard, const struct guard_settings *set,
                        struct relay_end *client, struct relay_end *backend,
                        const char *leftover, size_t leftover_len,
                        int64_t timeout_ms, struct relay_counts *counts)
{
	static struct guarded r;
	const struct guard_kind *kind = guard ? kind_named(guard) : NULL;
	const char *why = NULL;
	size_t state = kind ? kind->state_size : 0;
	char *mem;

	memset(counts, 0, sizeof *counts);
	if (guard && !kind)
		return "unknown guard";
	mem = malloc(2 * IN_SIZE + 2 * OUT_SIZE + state);
	if (!mem)
		return "out of memory";
	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.state = mem + 2 * IN_SIZE + 2 * OUT_SIZE;
	r.out_min = kind ? kind->out_min : 0;
	if (kind && kind->init(r.state, set, &why) < 0) {
		free(mem);
		return why;
	}
	r.client = client;
	r.backend = backend;
	r.from_client.buf = mem;
	r.from_backend.buf = mem + IN_SIZE;
	strbuf_init(&r.to_backend.o, mem + 2 * IN_SIZE, OUT_SIZE);
	strbuf_init(&r.to_client.o, mem + 2 * IN_SIZE + OUT_SIZE, OUT_SIZE);
	r.from_client.before = leftover;
	r.from_client.before_len = leftover_len;
	why = run(&r, timeout_ms);
	counts->up = r.to_backend.bytes;
	counts->down = r.to_client.bytes;
	counts->refused = kind ? guard_report(kind, r.state)->refused : 0;
	/* Only what was filled: wiping all 512 KiB would fault in pages a
	 * short session never touched, only to zero them. */
	explicit_bzero(r.from_client.buf, r.from_client.high);
	explicit_bzero(r.from_backend.buf, r.from_backend.high);
	free(mem);
	return why;
}
