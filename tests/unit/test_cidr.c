/* Address patterns and allow/deny: forms, masks, order, mapped IPv4. */
#include "cidr.h"

#include "run_suite.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

static struct sockaddr_storage ss;

static const struct sockaddr *ip(const char *text)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	else
		((struct sockaddr_un *)&ss)->sun_family = AF_UNIX;
	return (const struct sockaddr *)&ss;
}

static int matches(const char *pattern, const char *addr)
{
	struct cidr c;

	ck_assert_msg(cidr_parse(pattern, &c) == 0, "%s", pattern);
	return cidr_match(&c, ip(addr));
}

START_TEST(forms)
{
	ck_assert(matches("192.0.2.7", "192.0.2.7"));
	ck_assert(!matches("192.0.2.7", "192.0.2.8"));
	ck_assert(matches("10.0.0.0/8", "10.255.1.2"));
	ck_assert(!matches("10.0.0.0/8", "11.0.0.1"));
	ck_assert(matches("10.1.2.3/8", "10.9.9.9"));      /* masked, as nginx */
	ck_assert(matches("0.0.0.0/0", "203.0.113.1"));
	ck_assert(matches("192.168.1.0/25", "192.168.1.127"));
	ck_assert(!matches("192.168.1.0/25", "192.168.1.128"));
	ck_assert(matches("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!matches("2001:db8::/32", "2001:db9::1"));
	ck_assert(matches("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!matches("2001:db8::/33", "2001:db8:8000::1"));
	ck_assert(matches("all", "2001:db8::1"));
	ck_assert(matches("all", "192.0.2.1"));
	ck_assert(matches("unix:", "/run/x.sock"));
	ck_assert(!matches("unix:", "192.0.2.1"));
	ck_assert(!matches("127.0.0.1", "/run/x.sock"));
	ck_assert(!matches("::/0", "192.0.2.1"));
}
END_TEST

START_TEST(mapped_ipv4_matches_ipv4_rules)
{
	ck_assert(matches("192.0.2.0/24", "::ffff:192.0.2.9"));
	ck_assert(!matches("192.0.2.0/24", "::ffff:192.0.3.9"));
}
END_TEST

START_TEST(bad_forms)
{
	static const char *const bad[] = { "", "/8", "10.0.0.0/33", "10.0.0.0/",
		"10.0.0.0/8x", "2001:db8::/129", "host.example", "10.0.0",
		"unix", "ALL", "10.0.0.0/-1", "1.2.3.4 " };
	struct cidr c;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(cidr_parse(bad[i], &c) < 0, "\"%s\"", bad[i]);
}
END_TEST

START_TEST(first_match_wins)
{
	struct access_rule r[3];

	r[0].allow = 1;
	cidr_parse("192.168.1.0/24", &r[0].cidr);
	r[1].allow = 0;
	cidr_parse("192.168.0.0/16", &r[1].cidr);
	r[2].allow = 1;
	cidr_parse("all", &r[2].cidr);
	ck_assert(access_allows(r, 3, ip("192.168.1.5")));
	ck_assert(!access_allows(r, 3, ip("192.168.2.5")));
	ck_assert(access_allows(r, 3, ip("10.0.0.1")));
	r[2].allow = 0;
	ck_assert(!access_allows(r, 3, ip("10.0.0.1")));
	/* No rules, or none that matches: allowed, as nginx. */
	ck_assert(access_allows(r, 0, ip("10.0.0.1")));
	ck_assert(access_allows(r, 2, ip("10.0.0.1")));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("cidr");

	tcase_add_test(tc, forms);
	tcase_add_test(tc, mapped_ipv4_matches_ipv4_rules);
	tcase_add_test(tc, bad_forms);
	tcase_add_test(tc, first_match_wins);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
