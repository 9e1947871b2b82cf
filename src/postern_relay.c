/* postern-relay: moves bytes between the client (fd 3) and the backend
 * (fd 4) with splice(2) through one pipe per direction, until both sides
 * are done or nothing moves for proxy_timeout. It links nothing but libc:
 * one of these stays in memory for every open mail session. */
#include "exec_contract.h"
#include "log.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_SIZE (256 * 1024)

struct direction {
	int from, to;
	int pipe[2];
	size_t in_pipe, pipe_size;
	int eof;       /* from has nothing more to say */
	int done;      /* and everything reached to, which was shut down */
	uint64_t bytes;
};

struct relay {
	struct direction up;    /* client -> backend */
	struct direction down;  /* backend -> client */
	int timeout_ms;
	const char *end;        /* why the relay stopped */
};

static int open_direction(struct direction *d, int from, int to)
{
	memset(d, 0, sizeof *d);
	d->from = from;
	d->to = to;
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_SIZE);
	d->pipe_size = (size_t)fcntl(d->pipe[1], F_GETPIPE_SZ);
	return 0;
}

/* Move what can move now. 1 if anything moved, 0 if not, -1 on a hard
 * error (with r->end set). */
static int pump(struct relay *r, struct direction *d)
{
	int moved = 0;

	for (;;) {
		int progress = 0;
		ssize_t n;

		if (!d->eof && d->in_pipe < d->pipe_size) {
			n = splice(d->from, NULL, d->pipe[1], NULL,
			           d->pipe_size - d->in_pipe,
			           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->in_pipe += (size_t)n;
				progress = 1;
			} else if (n == 0) {
				d->eof = 1;
				progress = 1;
			} else if (errno == ECONNRESET) {
				d->eof = 1;
			} else if (errno != EAGAIN && errno != EINTR) {
				r->end = "read error";
				return -1;
			}
		}
		if (d->in_pipe > 0) {
			n = splice(d->pipe[0], NULL, d->to, NULL, d->in_pipe,
			           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->in_pipe -= (size_t)n;
				d->bytes += (uint64_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				r->end = "write error";
				return -1;
			}
		}
		if (d->eof && d->in_pipe == 0 && !d->done) {
			/* Half-close: tell the other side, keep the reverse open. */
			shutdown(d->to, SHUT_WR);
			d->done = 1;
			progress = 1;
		}
		if (!progress)
			return moved;
		moved = 1;
	}
}

static short want(const struct direction *d, int fd)
{
	short ev = 0;

	if (d->from == fd && !d->eof && d->in_pipe < d->pipe_size)
		ev |= POLLIN;
	if (d->to == fd && d->in_pipe > 0)
		ev |= POLLOUT;
	return ev;
}

static void run(struct relay *r)
{
	struct pollfd pfd[2] = {
		{ .fd = CONTRACT_CLIENT_FD }, { .fd = CONTRACT_BACKEND_FD },
	};
	int hangup = 0;

	for (;;) {
		int up, down, n;

		up = pump(r, &r->up);
		down = up < 0 ? -1 : pump(r, &r->down);
		if (up < 0 || down < 0)
			return;
		if (r->up.done && r->down.done) {
			r->end = "both sides closed";
			return;
		}
		/* A hung-up socket polls ready for ever: stop once it no
		 * longer lets anything move. */
		if (hangup && !up && !down) {
			r->end = "connection lost";
			return;
		}
		for (int i = 0; i < 2; i++)
			pfd[i].events = want(&r->up, pfd[i].fd) |
			                want(&r->down, pfd[i].fd);
		n = poll(pfd, 2, r->timeout_ms);
		if (n == 0) {
			r->end = "idle timeout";
			return;
		}
		if (n < 0 && errno != EINTR) {
			r->end = "poll error";
			return;
		}
		hangup = n > 0 && ((pfd[0].revents | pfd[1].revents) &
		                   (POLLERR | POLLHUP));
	}
}

int main(void)
{
	struct relay r = { .end = "?" };
	const char *why = NULL;
	struct crossing x;

	sandbox_undumpable();
	if (contract_relay_start("postern-relay", &x) < 0)
		return EXIT_USAGE;
	r.timeout_ms = x.proxy_timeout_ms > 0 && x.proxy_timeout_ms < INT32_MAX ?
	               (int)x.proxy_timeout_ms : -1;
	if (open_direction(&r.up, CONTRACT_CLIENT_FD, CONTRACT_BACKEND_FD) < 0 ||
	    open_direction(&r.down, CONTRACT_BACKEND_FD, CONTRACT_CLIENT_FD) < 0) {
		logmsg(LOG_ERR, "event=relay_error reason=\"pipe: %s\"",
		       strerror(errno));
		return EXIT_TEMPORARY;
	}
	if (sandbox_relay(&why) < 0)
		logmsg(LOG_WARNING, "event=sandbox_failed reason=\"%s\"", why);
	run(&r);
	contract_log_close(&x, "relayed", r.end,
	                   (const uint64_t[2]){ r.up.bytes, r.down.bytes });
	return EXIT_DONE;
}
