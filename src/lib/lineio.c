#include "lineio.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int lineio_init(struct lineio *io, int fd, size_t size)
{
	io->fd = fd;
	io->t = NULL;
	io->size = size;
	io->start = io->end = 0;
	io->total = 0;
	io->buf = malloc(size + 1);
	return io->buf ? 0 : -1;
}

void lineio_free(struct lineio *io)
{
	free(io->buf);
	io->buf = NULL;
}

const char *io_result_str(enum io_result r)
{
	switch (r) {
	case IO_OK:
		return "ok";
	case IO_EOF:
		return "eof";
	case IO_TIMEOUT:
		return "timeout";
	case IO_TOOLONG:
		return "line too long";
	case IO_ERROR:
		break;
	}
	return "i/o error";
}

enum io_result io_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&pfd, 1, clock_left(deadline));

		if (n > 0)
			return IO_OK;
		if (n == 0)
			return IO_TIMEOUT;
		if (errno != EINTR)
			return IO_ERROR;
	}
}

enum io_result io_write_all(int fd, const void *data, size_t len,
                            int64_t deadline)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return IO_ERROR;
		enum io_result r = io_wait(fd, POLLOUT, deadline);
		if (r != IO_OK)
			return r;
	}
	return IO_OK;
}

static void compact(struct lineio *io)
{
	if (io->start == 0)
		return;
	memmove(io->buf, io->buf + io->start, io->end - io->start);
	io->end -= io->start;
	io->start = 0;
}

enum io_result lineio_fill(struct lineio *io, int64_t deadline)
{
	compact(io);
	if (io->end == io->size)
		return IO_TOOLONG;
	for (;;) {
		ssize_t n = io->t ? io->t->recv(io->t->ctx, io->buf + io->end,
		                                io->size - io->end) :
		            recv(io->fd, io->buf + io->end, io->size - io->end,
		                 MSG_DONTWAIT);

		if (n < 0 && errno == ENOTSOCK)
			n = read(io->fd, io->buf + io->end, io->size - io->end);
		if (n > 0) {
			io->end += (size_t)n;
			io->total += (uint64_t)n;
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return IO_ERROR;
		enum io_result r = io_wait(io->fd, io->t ? io->t->want(io->t->ctx)
		                                         : POLLIN, deadline);
		if (r != IO_OK)
			return r;
	}
}

enum io_result lineio_write_all(struct lineio *io, const void *data,
                                size_t len, int64_t deadline)
{
	const char *p = data;

	if (!io->t)
		return io_write_all(io->fd, data, len, deadline);
	while (len > 0) {
		ssize_t n = io->t->send(io->t->ctx, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return IO_ERROR;
		enum io_result r = io_wait(io->fd, io->t->want(io->t->ctx), deadline);
		if (r != IO_OK)
			return r;
	}
	return IO_OK;
}

enum io_result lineio_getline(struct lineio *io, int64_t deadline,
                              char **line, size_t *len)
{
	for (;;) {
		char *b = io->buf + io->start;
		char *lf = memchr(b, '\n', io->end - io->start);

		if (lf) {
			size_t n = (size_t)(lf - b);

			if (n > 0 && b[n - 1] == '\r')
				n--;
			b[n] = '\0';
			io->start += (size_t)(lf - b) + 1;
			*line = b;
			*len = n;
			return IO_OK;
		}
		enum io_result r = lineio_fill(io, deadline);
		if (r != IO_OK)
			return r;
	}
}

void lineio_drop(struct lineio *io)
{
	io->start = io->end = 0;
}

void lineio_wipe(struct lineio *io)
{
	if (io->buf)
		explicit_bzero(io->buf, io->size + 1);
	lineio_drop(io);
}
