/* A fixed-size input buffer over one socket, and deadline-bound reads and
 * writes. The buffer never grows: its size is the protocol's line limit. */
#ifndef POSTERN_LINEIO_H
#define POSTERN_LINEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum io_result {
	IO_OK = 0,
	IO_EOF = -1,
	IO_TIMEOUT = -2,
	IO_ERROR = -3,
	IO_TOOLONG = -4,
};

/* Another way to move bytes over the fd: TLS, in postern-tls. recv and
 * send behave as recv(2) and send(2), failing with errno EAGAIN when the
 * transport must wait; want() says for what (POLLIN or POLLOUT). The
 * plaintext front never sets one. */
struct transport {
	ssize_t (*recv)(void *ctx, void *buf, size_t len);
	ssize_t (*send)(void *ctx, const void *buf, size_t len);
	short (*want)(void *ctx);
	/* The end of the transport's own stream (close_notify). */
	void (*bye)(void *ctx, int64_t deadline);
	/* Bytes the transport holds already decoded and not yet given out,
	 * without reading the socket: up to len into buf, 0 when none. */
	size_t (*take_held)(void *ctx, void *buf, size_t len);
	void *ctx;
};

struct lineio {
	int fd;
	const struct transport *t;  /* NULL: the socket itself */
	char *buf;
	size_t size;   /* capacity, fixed at init */
	size_t start;  /* first unconsumed byte */
	size_t end;    /* one past the last byte read */
	uint64_t total; /* bytes read over the connection's life */
};

int lineio_init(struct lineio *io, int fd, size_t size);
void lineio_free(struct lineio *io);

/* Bytes read but not consumed yet. */
static inline size_t lineio_pending(const struct lineio *io)
{
	return io->end - io->start;
}

/* Read whatever arrives before the deadline (at least one byte). */
enum io_result lineio_fill(struct lineio *io, int64_t deadline);

/* One line without its CRLF (or bare LF), NUL-terminated in place. The
 * pointer is valid until the next call on this lineio. */
enum io_result lineio_getline(struct lineio *io, int64_t deadline,
                              char **line, size_t *len);

/* Write all of data through io's transport (or its fd). */
enum io_result lineio_write_all(struct lineio *io, const void *data,
                                size_t len, int64_t deadline);

/* Forget everything buffered: after STARTTLS, nothing sent in clear counts. */
void lineio_drop(struct lineio *io);
/* The same, and overwrite the whole buffer: what was read may have held a
 * password, and compaction leaves stale copies past the end. */
void lineio_wipe(struct lineio *io);

/* Wait until fd is ready for events, or the deadline passes. */
enum io_result io_wait(int fd, short events, int64_t deadline);
/* Every byte of data to fd: a socket, or a file or pipe (written with
 * write(2)), retried on EINTR. */
enum io_result io_write_all(int fd, const void *data, size_t len,
                            int64_t deadline);
const char *io_result_str(enum io_result r);

#endif
