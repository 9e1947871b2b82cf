/* The relay loop itself (guard_relay.c) with ends made up here: what it
 * does when an end holds bytes poll cannot see (a TLS end's opened
 * record) and the relay has no room to take them. */
#include "guard_relay.h"

#include "run_suite.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Rounds the relay may go without waiting before the test calls it a
 * spin: far more than filling its buffers takes. */
#define ROUNDS_MAX 100000

static unsigned sends;

/* A client that reads nothing: every write must wait, and after
 * ROUNDS_MAX of them the end fails, so that a spinning relay ends. */
static ssize_t stuck_send(struct relay_end *e, const char *buf, size_t len)
{
	(void)e, (void)buf, (void)len;
	return ++sends > ROUNDS_MAX ? -EIO : -EAGAIN;
}

static ssize_t nothing_recv(struct relay_end *e, char *buf, size_t len)
{
	(void)e, (void)buf, (void)len;
	return -EAGAIN;
}

static int done_close(struct relay_end *e)
{
	(void)e;
	return 1;
}

static short same_events(struct relay_end *e, short wanted)
{
	(void)e;
	return wanted;
}

static int none_pending(struct relay_end *e)
{
	(void)e;
	return 0;
}

/* A backend with always more to give, some of it where poll cannot see
 * it (as a TLS end holds a record it has opened). */
static ssize_t endless_recv(struct relay_end *e, char *buf, size_t len)
{
	(void)e;
	memset(buf, 'x', len);
	return (ssize_t)len;
}

static ssize_t unused_send(struct relay_end *e, const char *buf, size_t len)
{
	(void)e, (void)buf, (void)len;
	return -EAGAIN;
}

static int always_pending(struct relay_end *e)
{
	(void)e;
	return 1;
}

static const struct relay_end_ops slow_client = {
	nothing_recv, stuck_send, done_close, same_events, none_pending,
};
static const struct relay_end_ops busy_backend = {
	endless_recv, unused_send, done_close, same_events, always_pending,
};

/* A socket poll says is not writable: its peer reads nothing and its
 * send buffer is full. */
static void fill_socket(int fd)
{
	static char junk[65536];

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (write(fd, junk, sizeof junk) > 0)
		;
}

START_TEST(bytes_held_in_an_end_do_not_spin_a_full_relay)
{
	int a[2], b[2];
	struct relay_counts counts;
	const char *why;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	fill_socket(a[0]);
	fill_socket(b[0]);
	struct relay_end client = { a[0], NULL, &slow_client };
	struct relay_end backend = { b[0], NULL, &busy_backend };

	sends = 0;
	why = guard_relay(NULL, &(struct guard_settings){ NULL, NULL },
	                  &client, &backend, NULL, 0, 200, &counts);
	/* Both buffers full, the client not reading: the relay waits in
	 * poll until proxy_timeout, as it would for bytes in a socket. */
	ck_assert_str_eq(why, "idle timeout");
	ck_assert_uint_lt(sends, ROUNDS_MAX);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}
END_TEST

/* A peer that trickles pieces of records: each wakes poll, none is a
 * byte to relay (a TLS end reads them and says -EAGAIN until the record
 * is whole). */
static unsigned trickled;

static ssize_t swallow_recv(struct relay_end *e, char *buf, size_t len)
{
	char piece[16];

	(void)buf, (void)len;
	if (read(e->fd, piece, sizeof piece) > 0)
		trickled++;
	return -EAGAIN;
}

static const struct relay_end_ops trickling_client = {
	swallow_recv, unused_send, done_close, same_events, none_pending,
};
static const struct relay_end_ops quiet_backend = {
	nothing_recv, unused_send, done_close, same_events, none_pending,
};

START_TEST(a_trickle_that_relays_nothing_does_not_hold_off_the_timeout)
{
	int a[2], b[2];
	struct relay_counts counts;
	const char *why;
	pid_t child;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	/* A byte every 50 ms for 3 s, against a 300 ms proxy_timeout. */
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		for (int i = 0; i < 60; i++) {
			if (write(a[1], "x", 1) != 1)
				break;
			usleep(50 * 1000);
		}
		_exit(0);
	}
	struct relay_end client = { a[0], NULL, &trickling_client };
	struct relay_end backend = { b[0], NULL, &quiet_backend };

	trickled = 0;
	why = guard_relay(NULL, &(struct guard_settings){ NULL, NULL },
	                  &client, &backend, NULL, 0, 300, &counts);
	ck_assert_str_eq(why, "idle timeout");
	/* It ended while the trickle went on, and after it had begun. */
	ck_assert_uint_gt(trickled, 0);
	ck_assert_uint_lt(trickled, 60);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guard_relay");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, bytes_held_in_an_end_do_not_spin_a_full_relay);
	tcase_add_test(tc, a_trickle_that_relays_nothing_does_not_hold_off_the_timeout);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
