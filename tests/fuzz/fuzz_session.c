/* One protocol's whole pre-login session (FUZZ_PROTO): greeting, command
 * parsing, SASL exchanges, the login rules, and the backend login, fed by
 * the fuzz input. The parsers' bugs that matter live where they meet the
 * session (issue 9: the IMAP argument store), so this is where to look.
 *
 * Input: byte 0 picks the section's settings and what the lookup
 * answers; bytes 1-2 are the length of the backend's script (what a
 * hostile backend says during the login); then that script; then the
 * client's bytes. The client is a socketpair fed up front and closed for
 * writing; the lookup and the backend connection are replaced in-process
 * (lookup below, backend_open below), nothing leaves the process. */
#include "backend.h"
#include "conf.h"
#include "exec_contract.h"
#include "fuzz.h"
#include "lineio.h"
#include "log.h"
#include "lookup.h"
#include "proto.h"
#include "sasl.h"
#include "session.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef FUZZ_PROTO
#define FUZZ_PROTO proto_imap
#endif

static unsigned char settings;

static void scripted_lookup(const struct server_conf *c,
                            const struct auth_request *req,
                            struct auth_reply *rep)
{
	static const enum auth_status answers[] = {
		AUTH_STATUS_OK, AUTH_STATUS_FAIL, AUTH_STATUS_WAIT,
		AUTH_STATUS_TEMPFAIL,
	};

	(void)c;
	FUZZ_ASSERT(req->user && req->pass && req->protocol);
	FUZZ_ASSERT(strlen(req->user) < CRED_MAX && strlen(req->pass) < CRED_MAX);
	rep->status = answers[(settings >> 4) & 3];
	rep->wait = 0;
	snprintf(rep->error, sizeof rep->error, "No");
	if (rep->status == AUTH_STATUS_OK) {
		snprintf(rep->server, sizeof rep->server, "127.0.0.1");
		snprintf(rep->port, sizeof rep->port, "1");
		addr_from_parts(rep->server, rep->port, &rep->backend);
		if (settings & 0x40) {
			snprintf(rep->pass, sizeof rep->pass, "secret");
			rep->has_pass = 1;
		}
	}
}

static const struct lookup judge = { .directive = "auth_http",
	                             .lookup = scripted_lookup,
	                             .checks_password = 1 };
static const struct lookup router = { .directive = "auth_map",
	                              .lookup = scripted_lookup,
	                              .checks_password = 0 };

/* What the backend says, from the input; its end of a socketpair. */
static const uint8_t *backend_script;
static size_t backend_script_len;

enum auth_result backend_open(struct session *s, const struct auth_reply *rep,
                              char *text, size_t size, const char **why)
{
	int sv[2];
	enum auth_result r;

	addr_format((const struct sockaddr *)&rep->backend.ss, s->backend_name,
	            sizeof s->backend_name);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		*why = "socketpair";
		return AUTH_TEMPFAIL;
	}
	FUZZ_ASSERT(write(sv[0], backend_script, backend_script_len) ==
	            (ssize_t)backend_script_len);
	shutdown(sv[0], SHUT_WR);
	if (!s->backend.buf)
		FUZZ_ASSERT(lineio_init(&s->backend, sv[1], 16384) == 0);
	s->backend.fd = sv[1];
	s->backend.t = NULL;
	s->backend_greeted = 0;
	lineio_drop(&s->backend);
	r = s->proto->backend_login(s, text, size);
	FUZZ_ASSERT(strlen(text) < size);
	close(sv[0]);
	if (r != AUTH_OK) {
		close(sv[1]);
		s->backend.fd = -1;
		*why = "backend error";
	}
	return r;
}

static int relay(struct session *s)
{
	FUZZ_ASSERT(s->state == ST_RELAY && s->backend.fd >= 0);
	if (s->backend.fd >= 0)
		close(s->backend.fd);
	s->backend.fd = -1;
	return EXIT_DONE;
}

static const struct session_ops ops = { .relay = relay };

static void configure(struct server_conf *c, const struct protocol *p)
{
	static const char *caps[] = { "IMAP4rev1", "TOP", "PIPELINING" };

	memset(c, 0, sizeof *c);
	c->name = "fuzz";
	c->protocol = p;
	c->server_name = "fuzz.test";
	c->lookup = settings & 0x80 ? &judge : &router;
	c->capabilities[0] = caps[0];
	c->capabilities[1] = caps[1];
	c->capabilities[2] = caps[2];
	c->ncapabilities = 3;
	c->auth = p->auth_allowed & ((settings & 1) ? ~0u : ~(unsigned)SASL_NONE);
	c->client_buffer = (settings & 2) ? 256 : 4096;
	c->timeout_ms = 50;
	c->login_timeout_ms = 10000;
	c->proxy_timeout_ms = 1000;
	c->max_errors = 5;
	c->xclient = 1;
	c->proxy_smtp_auth = (settings >> 2) & 1;
	c->proxy_pass_error_message = (settings >> 3) & 1;
	c->starttls = (settings & 0x0c) == 0x0c ? STARTTLS_ONLY : STARTTLS_OFF;
	c->error_log = "/dev/null";
	c->log_level = LOG_DEBUG;
	c->relay_program = "/nonexistent";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct server_conf conf;
	static int ready;
	struct session s;
	size_t script;
	int sv[2], big = 1 << 20;

	if (size < 3)
		return 0;
	if (!ready) {
		signal(SIGPIPE, SIG_IGN);
		log_open("fuzz", "/dev/null", LOG_DEBUG, 0);
		ready = 1;
	}
	settings = data[0];
	script = (size_t)data[1] << 8 | data[2];
	if (script > size - 3)
		script = size - 3;
	backend_script = data + 3;
	backend_script_len = script;
	data += 3 + script;
	size -= 3 + script;
	if (size > 65536)
		return 0;
	configure(&conf, &FUZZ_PROTO);
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	FUZZ_ASSERT(write(sv[0], data, size) == (ssize_t)size || size == 0);
	shutdown(sv[0], SHUT_WR);
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	FUZZ_ASSERT(session_init(&s, &conf, sv[1], 0, &ops, NULL) == 0);
	session_serve(&s, 1);
	FUZZ_ASSERT(s.in.start <= s.in.end && s.in.end <= s.in.size);
	session_free(&s);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
