#include "auth_map.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char map[] =
	"# comment\n"
	"\n"
	"alice@example.org   192.0.2.10:143   # alice has her own\n"
	"@example.org        192.0.2.11:143\n"
	"*                   [2001:db8::1]:143\n"
	"@EXAMPLE.NET        192.0.2.12:143\n";

static int find(const char *text, const char *user, char *out, size_t size)
{
	char why[128];
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r = auth_map_find(f, user, out, size, why, sizeof why);

	fclose(f);
	return r;
}

START_TEST(most_specific_wins)
{
	char b[128];

	ck_assert_int_eq(find(map, "alice@example.org", b, sizeof b), 1);
	ck_assert_str_eq(b, "192.0.2.10:143");
	ck_assert_int_eq(find(map, "bob@example.org", b, sizeof b), 1);
	ck_assert_str_eq(b, "192.0.2.11:143");
	ck_assert_int_eq(find(map, "carol", b, sizeof b), 1);
	ck_assert_str_eq(b, "[2001:db8::1]:143");
	ck_assert_int_eq(find(map, "dave@example.net", b, sizeof b), 1);
	ck_assert_str_eq(b, "192.0.2.12:143");
}
END_TEST

START_TEST(no_match)
{
	char b[128];

	ck_assert_int_eq(find("@example.org 192.0.2.1:143\n", "x@other.org", b,
	                      sizeof b), 0);
	ck_assert_int_eq(find("", "x", b, sizeof b), 0);
}
END_TEST

START_TEST(malformed)
{
	char b[128], big[2100];

	ck_assert_int_eq(find("alice\n", "alice", b, sizeof b), -1);
	ck_assert_int_eq(find("alice 1.2.3.4:1 extra\n", "alice", b, sizeof b), -1);
	memset(big, 'a', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(find(big, "alice", b, sizeof b), -1);
}
END_TEST

static int check_map(const char *text, char *why, size_t size)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r = auth_map_check(f, 143, why, size);

	fclose(f);
	return r;
}

/* postern -t reads every line as a login would, and names the line. */
START_TEST(the_check_names_the_bad_line)
{
	char why[256];

	ck_assert_int_eq(check_map(map, why, sizeof why), 0);
	ck_assert_int_eq(check_map("a@b 192.0.2.1\n* [2001:db8::1]\n", why,
	                           sizeof why), 0);
	ck_assert_int_eq(check_map("# x\n\n* 127.0.0.1:23143x\n", why,
	                           sizeof why), -1);
	ck_assert_msg(strstr(why, "3: \"127.0.0.1:23143x\" is not an address")
	              == why, "%s", why);
	ck_assert_int_eq(check_map("a 1.2.3.4:1\nb\n", why, sizeof why), -1);
	ck_assert_str_eq(why, "2: want \"KEY HOST:PORT\"");
	ck_assert_int_eq(check_map("a 1.2.3.4:99999\n", why, sizeof why), -1);
	ck_assert_int_eq(check_map("a 1.2.3.4:1 extra\n", why, sizeof why), -1);
}
END_TEST

START_TEST(query_parses_backend)
{
	char path[] = "/tmp/postern-map-XXXXXX";
	int fd = mkstemp(path);
	struct auth_request req = { .user = "u@example.org" };
	struct auth_reply rep = { 0 };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, map, strlen(map)), (ssize_t)strlen(map));
	close(fd);
	auth_map_query(path, &req, &rep);
	ck_assert_int_eq(rep.status, AUTH_STATUS_OK);
	ck_assert_str_eq(rep.server, "192.0.2.11");
	ck_assert_str_eq(rep.port, "143");
	unlink(path);
	auth_map_query(path, &req, &rep);
	ck_assert_int_eq(rep.status, AUTH_STATUS_TEMPFAIL);
}
END_TEST

static struct auth_reply query_line(const char *line, const char *key,
                                    unsigned port)
{
	char path[] = "/tmp/postern-map-XXXXXX";
	int fd = mkstemp(path);
	struct auth_request req = { .user = "", .map_key = key,
	                            .default_port = port };
	struct auth_reply rep = { 0 };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	auth_map_query(path, &req, &rep);
	unlink(path);
	return rep;
}

START_TEST(backend_without_port_takes_the_protocols)
{
	struct auth_reply rep = query_line("* 192.0.2.5\n", "x", 110);

	ck_assert_int_eq(rep.status, AUTH_STATUS_OK);
	ck_assert_str_eq(rep.port, "110");
	rep = query_line("* [2001:db8::5]\n", "x", 25);
	ck_assert_int_eq(rep.status, AUTH_STATUS_OK);
	ck_assert_str_eq(rep.server, "[2001:db8::5]");
	ck_assert_str_eq(rep.port, "25");
	rep = query_line("* [2001:db8::5]:2525\n", "x", 25);
	ck_assert_str_eq(rep.port, "2525");
	/* map_key (the SMTP recipient) is what is looked up. */
	rep = query_line("bob@example.org 192.0.2.6:24\n", "bob@example.org", 25);
	ck_assert_int_eq(rep.status, AUTH_STATUS_OK);
	ck_assert_str_eq(rep.port, "24");
}
END_TEST

/* The map the package installs: postern takes the standard ports, so any
 * route it gave before the operator wrote one ("* 127.0.0.1") would lead
 * back to postern. */
START_TEST(the_shipped_map_routes_nobody)
{
	const char *src = getenv("POSTERN_SRCDIR");
	char path[4096], b[128], why[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/conf/users.map", src ? src : ".");
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(auth_map_find(f, "alice@example.org", b, sizeof b, why,
	                               sizeof why), 0);
	fclose(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auth_map");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, most_specific_wins);
	tcase_add_test(tc, no_match);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, query_parses_backend);
	tcase_add_test(tc, the_check_names_the_bad_line);
	tcase_add_test(tc, backend_without_port_takes_the_protocols);
	tcase_add_test(tc, the_shipped_map_routes_nobody);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
