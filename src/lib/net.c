#include "net.h"
#include "lineio.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

int net_connect(const struct addr *a, int64_t deadline, const char **why)
{
	int fd, err = 0;
	socklen_t len = sizeof err;
	enum io_result r;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	r = io_wait(fd, POLLOUT, deadline);
	if (r != IO_OK) {
		*why = r == IO_TIMEOUT ? "connect timed out" : "poll failed";
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		*why = strerror(err ? err : errno);
		close(fd);
		return -1;
	}
	return fd;
}

void net_client_options(int fd)
{
	static const struct {
		int level, name, value;
	} opts[] = {
		{ SOL_SOCKET, SO_KEEPALIVE, 1 },
		/* Every write is a whole reply. With Nagle, a reply that follows
		 * another small one (TLS 1.3's session ticket, then the greeting)
		 * waits for the client's delayed ACK: 40 ms. */
		{ IPPROTO_TCP, TCP_NODELAY, 1 },
		{ IPPROTO_TCP, TCP_KEEPIDLE, 300 },
		{ IPPROTO_TCP, TCP_KEEPINTVL, 30 },
		{ IPPROTO_TCP, TCP_KEEPCNT, 4 },
	};

	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (setsockopt(fd, opts[i].level, opts[i].name, &opts[i].value,
		               sizeof opts[i].value) < 0)
			return;
}
