/* imapload: the benchmark's IMAP client. Each of C threads logs in and
 * out over fresh connections until N sessions are done or D seconds have
 * passed; or one session FETCHes one message and counts its bytes.
 * With -t, every connection does a full TLS handshake (GnuTLS, no
 * resumption, no certificate check: the proxies' cost is what is
 * measured). Every wait has a deadline (SO_RCVTIMEO).
 *
 *   imapload -p PORT [-t] [-c C] [-n N] [-d SECONDS] [-u USER] [-w PASS]
 *   imapload -p PORT [-t] -f MSG [-n TIMES] [-u USER] [-w PASS]
 *   imapload -p PORT [-t] -i K [-I] [-u USER] [-w PASS]   (-I: in IDLE)
 *
 * Prints key=value words on one line. A benchmark tool, not part of
 * postern. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define MAX_SAMPLES 200000
#define LINE_MAX_LEN 65536

struct opts {
	int port, tls, conc, total, fetch, idle, in_idle;
	double seconds;
	const char *user, *pass;
};

struct conn {
	int fd;
	gnutls_session_t tls;
	char buf[LINE_MAX_LEN];
	size_t have;
};

static struct opts o = { .conc = 1, .total = 100, .seconds = 10,
                         .user = "alice", .pass = "wonderland" };
static gnutls_certificate_credentials_t creds;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double *samples;
static int nsamples, started, failed;
static double deadline;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static ssize_t c_read(struct conn *c, void *p, size_t n)
{
	ssize_t r;

	if (!c->tls)
		return recv(c->fd, p, n, 0);
	do
		r = gnutls_record_recv(c->tls, p, n);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	return r < 0 ? -1 : r;
}

static int c_write(struct conn *c, const char *s)
{
	size_t n = strlen(s);
	ssize_t r;

	if (!c->tls)
		return send(c->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
	do
		r = gnutls_record_send(c->tls, s, n);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	return r == (ssize_t)n ? 0 : -1;
}

/* One line into line (NUL-terminated, CRLF kept); -1 on EOF or error. */
static int c_line(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have);
		ssize_t r;

		if (nl) {
			size_t n = nl - c->buf + 1;

			if (n >= size)
				return -1;
			memcpy(line, c->buf, n);
			line[n] = 0;
			memmove(c->buf, c->buf + n, c->have - n);
			c->have -= n;
			return 0;
		}
		if (c->have == sizeof c->buf)
			return -1;
		r = c_read(c, c->buf + c->have, sizeof c->buf - c->have);
		if (r <= 0)
			return -1;
		c->have += r;
	}
}

/* Lines until one starts with tag; 0 if it is "tag OK". */
static int c_tagged(struct conn *c, const char *tag)
{
	char line[LINE_MAX_LEN];
	size_t n = strlen(tag);

	while (c_line(c, line, sizeof line) == 0)
		if (strncmp(line, tag, n) == 0 && line[n] == ' ')
			return strncmp(line + n + 1, "OK", 2) == 0 ? 0 : -1;
	return -1;
}

static int c_open(struct conn *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	                         .sin_port = htons(o.port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 20 };
	int one = 1, r;

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	if (!o.tls)
		return 0;
	if (gnutls_init(&c->tls, GNUTLS_CLIENT) < 0)
		return -1;
	gnutls_set_default_priority(c->tls);
	gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, creds);
	gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_transport_set_int(c->tls, c->fd);
	do
		r = gnutls_handshake(c->tls);
	while (r < 0 && !gnutls_error_is_fatal(r));
	return r < 0 ? -1 : 0;
}

static void c_close(struct conn *c)
{
	if (c->tls)
		gnutls_deinit(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	c->tls = NULL;
	c->fd = -1;
}

static int login(struct conn *c)
{
	char line[LINE_MAX_LEN], cmd[512];

	if (c_line(c, line, sizeof line) < 0 || strncmp(line, "* OK", 4) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "a LOGIN %s %s\r\n", o.user, o.pass);
	if (c_write(c, cmd) < 0)
		return -1;
	return c_tagged(c, "a");
}

/* LOGOUT, then the server's close. */
static int logout(struct conn *c)
{
	char line[LINE_MAX_LEN];

	if (c_write(c, "z LOGOUT\r\n") < 0 || c_tagged(c, "z") < 0)
		return -1;
	while (c_line(c, line, sizeof line) == 0)
		;
	return 0;
}

static int take_turn(void)
{
	int go;

	pthread_mutex_lock(&lock);
	go = started < o.total && now() < deadline;
	if (go)
		started++;
	pthread_mutex_unlock(&lock);
	return go;
}

static void *worker(void *arg)
{
	struct conn *c = malloc(sizeof *c);

	(void)arg;
	while (c && take_turn()) {
		double t0 = now();
		int ok = c_open(c) == 0 && login(c) == 0;
		double took = now() - t0;

		ok = ok && logout(c) == 0;
		c_close(c);
		pthread_mutex_lock(&lock);
		if (!ok)
			failed++;
		else if (nsamples < MAX_SAMPLES)
			samples[nsamples++] = took;
		pthread_mutex_unlock(&lock);
	}
	free(c);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int run_sessions(void)
{
	pthread_t t[MAX_THREADS];
	double t0 = now(), took;

	samples = calloc(MAX_SAMPLES, sizeof *samples);
	deadline = t0 + o.seconds;
	for (int i = 0; i < o.conc; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < o.conc; i++)
		pthread_join(t[i], NULL);
	took = now() - t0;
	qsort(samples, nsamples, sizeof *samples, cmp);
	printf("sessions=%d failed=%d seconds=%.3f rate=%.1f p50_ms=%.3f "
	       "p90_ms=%.3f\n", nsamples, failed, took, nsamples / took,
	       nsamples ? samples[nsamples / 2] * 1e3 : 0,
	       nsamples ? samples[nsamples * 9 / 10] * 1e3 : 0);
	return nsamples && !failed ? 0 : 1;
}

/* FETCH the message once; its literal's size, or -1. */
static long long fetch_once(struct conn *c)
{
	char line[LINE_MAX_LEN], cmd[64];
	long long left, size;
	char *brace;

	snprintf(cmd, sizeof cmd, "f FETCH %d BODY.PEEK[]\r\n", o.fetch);
	if (c_write(c, cmd) < 0 || c_line(c, line, sizeof line) < 0 ||
	    !(brace = strrchr(line, '{')))
		return -1;
	size = left = atoll(brace + 1);
	while (left > 0) {
		size_t n = c->have < (size_t)left ? c->have : (size_t)left;
		ssize_t r;

		memmove(c->buf, c->buf + n, c->have - n);
		c->have -= n;
		left -= n;
		if (!left)
			break;
		r = c_read(c, c->buf, sizeof c->buf);
		if (r <= 0)
			return -1;
		c->have = r;
	}
	return c_tagged(c, "f") < 0 ? -1 : size;
}

/* Log in, SELECT, FETCH the message -n times and count the bytes. */
static int run_fetch(void)
{
	struct conn *c = malloc(sizeof *c);
	long long size = 0;
	double t0, took;

	if (!c || c_open(c) < 0 || login(c) < 0 ||
	    c_write(c, "s SELECT INBOX\r\n") < 0 || c_tagged(c, "s") < 0)
		return 1;
	t0 = now();
	for (int i = 0; i < o.total; i++) {
		long long n = fetch_once(c);

		if (n < 0)
			return 1;
		size += n;
	}
	took = now() - t0;
	logout(c);
	c_close(c);
	printf("bytes=%lld seconds=%.3f mbps=%.1f\n", size, took,
	       size / took / 1e6);
	return 0;
}

/* SELECT INBOX and IDLE, as a mail client waits all day: 0 at "+". */
static int enter_idle(struct conn *c)
{
	char line[LINE_MAX_LEN];

	if (c_write(c, "b SELECT INBOX\r\n") < 0 || c_tagged(c, "b") < 0 ||
	    c_write(c, "c IDLE\r\n") < 0)
		return -1;
	while (c_line(c, line, sizeof line) == 0)
		if (line[0] == '+')
			return 0;
	return -1;
}

/* K sessions logged in and left idle until stdin closes; with -I, in
 * IDLE. */
static int run_idle(void)
{
	struct conn *c = calloc(o.idle, sizeof *c);
	char x;

	for (int i = 0; c && i < o.idle; i++)
		if (c_open(&c[i]) < 0 || login(&c[i]) < 0 ||
		    (o.in_idle && enter_idle(&c[i]) < 0)) {
			printf("idle=%d failed=1\n", i);
			return 1;
		}
	printf("idle=%d failed=0\n", o.idle);
	fflush(stdout);
	while (read(STDIN_FILENO, &x, 1) > 0)
		;
	for (int i = 0; i < o.idle; i++)
		c_close(&c[i]);
	return 0;
}

int main(int argc, char **argv)
{
	int ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "p:tc:n:d:u:w:f:i:I")) != -1) {
		switch (ch) {
		case 'p': o.port = atoi(optarg); break;
		case 't': o.tls = 1; break;
		case 'c': o.conc = atoi(optarg); break;
		case 'n': o.total = atoi(optarg); break;
		case 'd': o.seconds = atof(optarg); break;
		case 'u': o.user = optarg; break;
		case 'w': o.pass = optarg; break;
		case 'f': o.fetch = atoi(optarg); break;
		case 'i': o.idle = atoi(optarg); break;
		case 'I': o.in_idle = 1; break;
		default: return 2;
		}
	}
	if (!o.port || o.conc < 1 || o.conc > MAX_THREADS || o.total < 1)
		return 2;
	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&creds);
	if (o.fetch)
		return run_fetch();
	if (o.idle)
		return run_idle();
	return run_sessions();
}
