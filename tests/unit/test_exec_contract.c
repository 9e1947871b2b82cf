/* The exec contract, round trip: what contract_exec() hands the next
 * program is what contract_read() gives it back, field by field, and
 * nothing else of the caller's environment crosses but the few variables
 * the contract names. The test execs itself: run with POSTERN_SESSION set,
 * it is the next program, and prints what it read. */
#include "exec_contract.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every field, in one line: the same format on both sides. */
static void describe(const struct crossing *x, char *out, size_t size)
{
	snprintf(out, size,
	         "session=%s started=%lld in=%llu out=%llu errors=%u "
	         "client=%s local=%s proxy=%s>%s user=%s backend=%s log=%s "
	         "level=%d inetd=%d timeout=%lld guard=%s deny=%s hide=%s "
	         "tls=%s server=%s config=%s",
	         x->session, (long long)x->started_us,
	         (unsigned long long)x->bytes_in,
	         (unsigned long long)x->bytes_out, x->errors, x->client,
	         x->local, x->proxy_src, x->proxy_dst, x->user, x->backend,
	         x->log, x->log_level, x->inetd,
	         (long long)x->proxy_timeout_ms, x->guard, x->deny, x->hide,
	         x->tls_mode, x->server, x->config);
}

static int the_next_program(void)
{
	struct crossing x;
	char line[4096];

	contract_read(&x);
	describe(&x, line, sizeof line);
	printf("%s\nsecret=%s asan=%s\n", line,
	       getenv("SECRET") ? getenv("SECRET") : "(none)",
	       getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "(none)");
	return 0;
}

/* Exec this program under the contract; what it printed. */
static void cross(const struct crossing *x, char *out, size_t size,
                  const char **why)
{
	int p[2];
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		contract_exec("/proc/self/exe", x, why);
		printf("exec failed: %s\n", *why);
		_exit(1);
	}
	close(p[1]);
	while (n + 1 < size && (r = read(p[0], out + n, size - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
}

START_TEST(every_field_crosses_as_it_was)
{
	struct crossing x = {
		.session = "0123456789abcdef", .started_us = 1733400000123456LL,
		.bytes_in = 18446744073709551615ULL, .bytes_out = 42,
		.errors = 3, .client = "192.0.2.7:51000",
		.local = "[2001:db8::1]:143", .proxy_src = "198.51.100.2:4000",
		.proxy_dst = "203.0.113.9:143", .user = "alice@example.org",
		.backend = "127.0.0.1:10143", .log = "/var/log/postern.log",
		.log_level = 7, .inetd = 1, .proxy_timeout_ms = 86400000,
		.guard = "imap", .deny = "DELETE RENAME", .hide = "MOVE",
		.tls_mode = "starttls", .server = "imap",
		.config = "/var/lib/postern/postern.conf",
	};
	char want[4096], got[8192];
	const char *why = NULL;

	describe(&x, want, sizeof want);
	setenv("SECRET", "a password in the caller's environment", 1);
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	cross(&x, got, sizeof got, &why);
	ck_assert_msg(strncmp(got, want, strlen(want)) == 0 &&
	              got[strlen(want)] == '\n', "sent %s\ngot  %s", want, got);
	/* Only the contract's variables and the few it names pass. */
	ck_assert_ptr_nonnull(strstr(got, "secret=(none)"));
	ck_assert_ptr_nonnull(strstr(got, "asan=detect_leaks=0"));
}
END_TEST

START_TEST(empty_fields_read_as_empty)
{
	struct crossing x = { .session = "s" };
	char want[4096], got[8192];
	const char *why = NULL;

	describe(&(struct crossing){ .session = "s", .client = "",
	                             .local = "", .proxy_src = "",
	                             .proxy_dst = "", .user = "", .backend = "",
	                             .log = "", .guard = "", .deny = "",
	                             .hide = "", .tls_mode = "", .server = "",
	                             .config = "" }, want, sizeof want);
	cross(&x, got, sizeof got, &why);
	ck_assert_msg(strncmp(got, want, strlen(want)) == 0, "got %s", got);
}
END_TEST

START_TEST(an_environment_too_large_is_refused_before_exec)
{
	static char huge[10000];
	struct crossing x = { .session = "s", .config = huge };
	const char *why = NULL;

	memset(huge, 'x', sizeof huge - 1);
	ck_assert_int_eq(contract_exec("/proc/self/exe", &x, &why), -1);
	ck_assert_str_eq(why, "environment too large");
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	if (getenv("POSTERN_SESSION"))
		return the_next_program();
	s = suite_create("exec_contract");
	tc = tcase_create("exec_contract");
	tcase_add_test(tc, every_field_crosses_as_it_was);
	tcase_add_test(tc, empty_fields_read_as_empty);
	tcase_add_test(tc, an_environment_too_large_is_refused_before_exec);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
