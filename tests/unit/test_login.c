/* nginx's login rules (login.c) against a scripted lookup and a scripted
 * backend: attempts, Auth-Wait, what a refusal means for each kind of
 * lookup, temporary failures, and the password wiped whatever happens. */
#include "backend.h"
#include "conf.h"
#include "login.h"
#include "lookup.h"
#include "session_io.h"
#include "session_state.h"
#include "sasl_exchange.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* What the lookup answers, call by call, and what it was asked. */
static struct {
	enum auth_status status[16];
	int wait[16];
	unsigned calls;
	unsigned attempt[16];
	char pass_seen[16][CRED_MAX];
} script;

static void scripted(const struct server_conf *c,
                     const struct auth_request *req, struct auth_reply *rep)
{
	unsigned i = script.calls++;

	(void)c;
	ck_assert_uint_lt(i, 16);
	script.attempt[i] = req->attempt;
	snprintf(script.pass_seen[i], CRED_MAX, "%s", req->pass);
	rep->status = script.status[i];
	rep->wait = script.wait[i];
	if (rep->status == AUTH_STATUS_FAIL)
		snprintf(rep->error, sizeof rep->error, "Go away");
	if (rep->status == AUTH_STATUS_TEMPFAIL)
		snprintf(rep->why, sizeof rep->why, "stand-in is down");
}

static const struct lookup judge = { .directive = "auth_http",
	                             .lookup = scripted,
	                             .checks_password = 1 };
static const struct lookup router = { .directive = "auth_map",
	                              .lookup = scripted,
	                              .checks_password = 0 };

/* The backend and the protocol's replies, as seen from outside. */
static enum auth_result backend_answer;
static unsigned backend_calls;
static enum auth_result replied[16];
static char replied_text[16][64];
static unsigned nreplies;
static enum session_state states[32];
static unsigned nstates;

enum auth_result backend_open(struct session *s, const struct auth_reply *rep,
                              char *text, size_t size, const char **why)
{
	(void)s;
	(void)rep;
	backend_calls++;
	snprintf(text, size, "backend says no");
	*why = "backend error";
	return backend_answer;
}

void session_set_state(struct session *s, enum session_state st)
{
	s->state = st;
	if (nstates < 32)
		states[nstates++] = st;
}

void session_end(struct session *s, const char *result, const char *why)
{
	if (!s->end_why) {
		s->result = result;
		s->end_why = why;
	}
}

/* login_timeout, as the script says: after this many lookups. */
static unsigned expire_after;

int session_login_expired(const struct session *s)
{
	(void)s;
	return expire_after && script.calls >= expire_after;
}

void session_login_timeout(struct session *s)
{
	session_end(s, "timeout", "login timed out");
}

static void auth_reply(struct session *s, enum auth_result r,
                       const char *text, const char *code)
{
	(void)s;
	(void)code;
	replied[nreplies] = r;
	snprintf(replied_text[nreplies], sizeof replied_text[0], "%s",
	         text ? text : "");
	nreplies++;
}

/* The OAuth failure exchange, as the script sees it: the JSON it carried,
 * and before which reply. */
static char oauth_json[64];
static int oauth_before_reply = -1;

int sasl_oauth_failure(struct session *s, const char *json)
{
	(void)s;
	snprintf(oauth_json, sizeof oauth_json, "%s", json ? json : "");
	oauth_before_reply = (int)nreplies;
	return 0;
}

void session_add_deny(struct session *s, const char *names)
{
	snprintf(s->deny, sizeof s->deny, "%s", names ? names : "");
}

/* The protocol's internal_error line: recorded as a reply of its own. */
static unsigned internal_errors;

void session_internal_error(struct session *s)
{
	(void)s;
	internal_errors++;
}

static const struct protocol stand_in = { .name = "imap",
	                                  .ports = { 143, 0 },
	                                  .auth_reply = auth_reply };

static struct server_conf conf;
static struct session s;

static void setup(void)
{
	memset(&script, 0, sizeof script);
	memset(&conf, 0, sizeof conf);
	memset(&s, 0, sizeof s);
	backend_answer = AUTH_OK;
	backend_calls = nreplies = nstates = expire_after = internal_errors = 0;
	oauth_json[0] = '\0';
	oauth_before_reply = -1;
	conf.lookup = &judge;
	conf.max_errors = 5;
	s.conf = &conf;
	s.proto = &stand_in;
	s.state = ST_AUTH;
	snprintf(s.client_ip, sizeof s.client_ip, "192.0.2.1");
}

static void credentials(const char *user, const char *pass)
{
	snprintf(s.cred.user, sizeof s.cred.user, "%s", user);
	snprintf(s.cred.pass, sizeof s.cred.pass, "%s", pass);
	s.cred.mech = SASL_PLAIN;
}

START_TEST(ok_then_backend_hands_off)
{
	credentials("alice", "secret");
	script.status[0] = AUTH_STATUS_OK;
	ck_assert_int_eq(login_run(&s), STEP_HANDOFF);
	ck_assert_uint_eq(backend_calls, 1);
	ck_assert_uint_eq(script.attempt[0], 1);
	ck_assert_str_eq(script.pass_seen[0], "secret");
	ck_assert_int_eq(states[0], ST_LOOKUP);
	ck_assert_int_eq(states[1], ST_BACKEND);
	ck_assert_str_eq(s.user_shown, "alice");
	ck_assert_uint_eq(nreplies, 0); /* the protocol's backend_login did */
}
END_TEST

START_TEST(attempts_count_across_logins)
{
	script.status[0] = AUTH_STATUS_FAIL;
	script.wait[0] = 0;
	conf.lookup = &router;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_ERROR);
	script.status[1] = AUTH_STATUS_OK;
	credentials("a", "y");
	ck_assert_int_eq(login_run(&s), STEP_HANDOFF);
	ck_assert_uint_eq(script.attempt[0], 1);
	ck_assert_uint_eq(script.attempt[1], 2);
}
END_TEST

START_TEST(wait_asks_again_at_most_ten_times)
{
	for (int i = 0; i < 16; i++)
		script.status[i] = AUTH_STATUS_WAIT;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_CLOSE);
	ck_assert_uint_eq(script.calls, 11);
	ck_assert_uint_eq(nreplies, 1);
	ck_assert_int_eq(replied[0], AUTH_TEMPFAIL);
	ck_assert_str_eq(s.result, "tempfail");
	ck_assert_uint_eq(backend_calls, 0);
}
END_TEST

START_TEST(wait_then_ok)
{
	script.status[0] = AUTH_STATUS_WAIT;
	script.status[1] = AUTH_STATUS_OK;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_HANDOFF);
	ck_assert_uint_eq(script.calls, 2);
	/* nginx asks again within one login: the same attempt number. */
	ck_assert_uint_eq(script.attempt[0], 1);
	ck_assert_uint_eq(script.attempt[1], 1);
}
END_TEST

START_TEST(judge_refusal_without_wait_ends_the_session)
{
	script.status[0] = AUTH_STATUS_FAIL;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_CLOSE);
	ck_assert_int_eq(replied[0], AUTH_FAILED);
	ck_assert_str_eq(replied_text[0], "Go away");
	ck_assert_str_eq(s.end_why, "auth refused");
	ck_assert_str_eq(s.cred.pass, "");
}
END_TEST

START_TEST(judge_refusal_with_wait_lets_the_client_retry)
{
	script.status[0] = AUTH_STATUS_FAIL;
	script.wait[0] = 1;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_NEXT);
	ck_assert_int_eq(s.state, ST_AUTH);
	ck_assert_ptr_null(s.end_why);
	ck_assert_str_eq(s.cred.pass, "");
}
END_TEST

START_TEST(router_refusal_is_a_client_error)
{
	conf.lookup = &router;
	script.status[0] = AUTH_STATUS_FAIL;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_ERROR);
	ck_assert_int_eq(s.state, ST_AUTH);
	ck_assert_int_eq(replied[0], AUTH_FAILED);
}
END_TEST

START_TEST(lookup_down_is_a_temporary_failure)
{
	script.status[0] = AUTH_STATUS_TEMPFAIL;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_CLOSE);
	ck_assert_int_eq(replied[0], AUTH_TEMPFAIL);
	ck_assert_str_eq(s.end_why, "auth lookup failed");
	ck_assert_str_eq(s.cred.pass, "");
}
END_TEST

/* With the map the backend judges the password: a refusal is the
 * client's error, and it may try again. */
START_TEST(backend_refusal_text_only_with_pass_error_message)
{
	conf.lookup = &router;
	script.status[0] = script.status[1] = AUTH_STATUS_OK;
	backend_answer = AUTH_FAILED;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_ERROR);
	ck_assert_str_eq(replied_text[0], "");
	conf.proxy_pass_error_message = 1;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_ERROR);
	ck_assert_str_eq(replied_text[1], "backend says no");
	ck_assert_str_eq(s.cred.pass, "");
}
END_TEST

/* The auth server accepted what the backend refuses, or the backend
 * refused another step: nginx's internal error, or with
 * proxy_pass_error_message the backend's words; the session ends. */
START_TEST(backend_refusal_after_the_judge_said_yes_ends_the_session)
{
	const enum auth_result answers[] = { AUTH_FAILED, AUTH_BACKEND_ERROR };

	for (int i = 0; i < 2; i++) {
		setup();
		script.status[0] = AUTH_STATUS_OK;
		backend_answer = answers[i];
		credentials("a", "x");
		ck_assert_int_eq(login_run(&s), STEP_CLOSE);
		ck_assert_uint_eq(internal_errors, 1);
		ck_assert_uint_eq(nreplies, 0);
		ck_assert_str_eq(s.end_why, "backend refused");
		setup();
		conf.proxy_pass_error_message = 1;
		script.status[0] = AUTH_STATUS_OK;
		backend_answer = answers[i];
		credentials("a", "x");
		ck_assert_int_eq(login_run(&s), STEP_CLOSE);
		ck_assert_uint_eq(internal_errors, 0);
		ck_assert_int_eq(replied[0], AUTH_BACKEND_ERROR);
		ck_assert_str_eq(replied_text[0], "backend says no");
		ck_assert_str_eq(s.cred.pass, "");
	}
}
END_TEST

/* An OAuth refusal is a challenge with the auth server's JSON before the
 * NO; the token, not a password, went to the lookup, and is wiped. */
START_TEST(oauth_refusal_is_a_challenge_first)
{
	script.status[0] = AUTH_STATUS_FAIL;
	script.wait[0] = 1;
	expire_after = 0;
	snprintf(s.cred.user, sizeof s.cred.user, "alice");
	snprintf(s.cred.token, sizeof s.cred.token, "tok.en");
	s.cred.mech = SASL_XOAUTH2;
	ck_assert_int_eq(login_run(&s), STEP_NEXT);
	ck_assert_str_eq(script.pass_seen[0], "tok.en");
	ck_assert_int_eq(oauth_before_reply, 0);
	ck_assert_uint_eq(nreplies, 1);
	ck_assert_int_eq(replied[0], AUTH_FAILED);
	ck_assert_str_eq(s.cred.token, "");
}
END_TEST

START_TEST(backend_trouble_ends_the_session)
{
	script.status[0] = AUTH_STATUS_OK;
	backend_answer = AUTH_TEMPFAIL;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_CLOSE);
	ck_assert_int_eq(replied[0], AUTH_TEMPFAIL);
	ck_assert_str_eq(s.result, "tempfail");
	ck_assert_str_eq(s.end_why, "backend error");
}
END_TEST

START_TEST(user_shown_in_logs_is_tamed)
{
	script.status[0] = AUTH_STATUS_TEMPFAIL;
	credentials("a\"b\\c d\x01", "x");
	login_run(&s);
	ck_assert_str_eq(s.user_shown, "a?b?c?d?");
}
END_TEST

START_TEST(login_timeout_cuts_auth_wait_short)
{
	for (int i = 0; i < 16; i++)
		script.status[i] = AUTH_STATUS_WAIT;
	expire_after = 3;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_CLOSE);
	ck_assert_uint_eq(script.calls, 3);
	ck_assert_str_eq(s.end_why, "login timed out");
	ck_assert_uint_eq(nreplies, 0); /* the goodbye is the protocol's bye */
	ck_assert_str_eq(s.cred.pass, "");
}
END_TEST

START_TEST(login_timeout_at_the_backend)
{
	script.status[0] = AUTH_STATUS_OK;
	backend_answer = AUTH_TEMPFAIL;
	expire_after = 1;
	credentials("a", "x");
	ck_assert_int_eq(login_run(&s), STEP_CLOSE);
	ck_assert_str_eq(s.end_why, "login timed out");
}
END_TEST

int main(void)
{
	Suite *su = suite_create("login");
	TCase *tc = tcase_create("login");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, ok_then_backend_hands_off);
	tcase_add_test(tc, attempts_count_across_logins);
	tcase_add_test(tc, wait_asks_again_at_most_ten_times);
	tcase_add_test(tc, wait_then_ok);
	tcase_add_test(tc, judge_refusal_without_wait_ends_the_session);
	tcase_add_test(tc, judge_refusal_with_wait_lets_the_client_retry);
	tcase_add_test(tc, router_refusal_is_a_client_error);
	tcase_add_test(tc, lookup_down_is_a_temporary_failure);
	tcase_add_test(tc, backend_refusal_text_only_with_pass_error_message);
	tcase_add_test(tc, oauth_refusal_is_a_challenge_first);
	tcase_add_test(tc, backend_refusal_after_the_judge_said_yes_ends_the_session);
	tcase_add_test(tc, backend_trouble_ends_the_session);
	tcase_add_test(tc, user_shown_in_logs_is_tamed);
	tcase_add_test(tc, login_timeout_cuts_auth_wait_short);
	tcase_add_test(tc, login_timeout_at_the_backend);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
