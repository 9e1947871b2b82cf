/* splice-floor: the least a per-connection proxy can do. Started by
 * systemd-socket-activate with the client on fd 3, it connects to
 * 127.0.0.1:PORT and splices both ways until both sides are done. No
 * protocol, no config, no log: what it costs is the floor of the shape
 * (fork, exec of a static program, connect, splice), which the benchmark
 * sets beside postern's figures. Built -static by bench/compare.
 *
 *   splice-floor PORT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_FD 3
#define CHUNK (1 << 16)

struct way {
	int from, to, pipe[2];
	size_t queued;
	int eof;
};

/* Moves what it can; -1 when the way is finished. */
static int pump(struct way *w)
{
	ssize_t n;

	if (!w->eof) {
		n = splice(w->from, NULL, w->pipe[1], NULL, CHUNK,
		           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0)
			w->eof = 1;
		else if (n > 0)
			w->queued += n;
	}
	while (w->queued) {
		n = splice(w->pipe[0], NULL, w->to, NULL, w->queued,
		           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n <= 0)
			break;
		w->queued -= n;
	}
	if (w->eof && !w->queued) {
		shutdown(w->to, SHUT_WR);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct way ways[2] = { { .from = CLIENT_FD }, { .to = CLIENT_FD } };
	int backend, done = 0;

	if (argc != 2)
		return 2;
	a.sin_port = htons(atoi(argv[1]));
	backend = socket(AF_INET, SOCK_STREAM, 0);
	if (backend < 0 || connect(backend, (struct sockaddr *)&a, sizeof a) < 0)
		return 1;
	ways[0].to = ways[1].from = backend;
	for (int i = 0; i < 2; i++)
		if (pipe2(ways[i].pipe, O_NONBLOCK) < 0)
			return 1;
	fcntl(CLIENT_FD, F_SETFL, O_NONBLOCK);
	fcntl(backend, F_SETFL, O_NONBLOCK);
	while (done != 3) {
		struct pollfd p[2];
		int n = 0;

		for (int i = 0; i < 2; i++) {
			if (done & (1 << i))
				continue;
			p[n].fd = ways[i].queued ? ways[i].to : ways[i].from;
			p[n].events = ways[i].queued ? POLLOUT : POLLIN;
			n++;
		}
		/* An hour: a bound, not a policy. */
		if (poll(p, n, 3600 * 1000) <= 0)
			return 1;
		for (int i = 0; i < 2; i++)
			if (!(done & (1 << i)) && pump(&ways[i]) < 0)
				done |= 1 << i;
	}
	return 0;
}
