/* WebSocket admission: paths, Origins, tokens, listen addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "addr.h"
#include "wsrules.h"

static void test_paths(void **state)
{
	char name[64];

	assert_int_equal(wsrules_project_from_path("/ws/projects/demo", name, sizeof(name)), 0);
	assert_string_equal(name, "demo");
	assert_int_equal(wsrules_project_from_path("/ws/projects/a b", name, sizeof(name)), 0);
	assert_string_equal(name, "a b"); /* validated afterwards, as decoded */
	assert_int_equal(wsrules_project_from_path("/ws/projects/", name, sizeof(name)), 0);
	assert_string_equal(name, "");
	assert_int_not_equal(wsrules_project_from_path("/ws/project/x", name, sizeof(name)), 0);
	assert_int_not_equal(wsrules_project_from_path("/metrics", name, sizeof(name)), 0);
	assert_int_not_equal(wsrules_project_from_path(NULL, name, sizeof(name)), 0);
}

static void test_origins(void **state)
{
	static const char *const extra[] = { "https://dash.example.com" };

	assert_true(wsrules_origin_allowed(NULL, "h", false, NULL, 0));
	assert_true(wsrules_origin_allowed("http://localhost:3000", NULL, false, NULL, 0));
	assert_true(wsrules_origin_allowed("http://LOCALHOST", NULL, false, NULL, 0));
	assert_true(wsrules_origin_allowed("https://127.0.0.1:8443", NULL, false, NULL, 0));
	assert_true(wsrules_origin_allowed("http://[::1]:5173", NULL, false, NULL, 0));
	assert_false(wsrules_origin_allowed("http://localhost.evil.com", NULL, false, NULL, 0));
	assert_false(wsrules_origin_allowed("http://127.0.0.1.evil.com", NULL, false, NULL, 0));
	assert_false(wsrules_origin_allowed("http://evil.com/http://localhost", NULL, false, NULL, 0));
	assert_false(wsrules_origin_allowed("null", NULL, false, NULL, 0));
	assert_false(wsrules_origin_allowed("", NULL, false, NULL, 0));
	/* Same host as the Host header: only with --allow-remote. */
	assert_false(wsrules_origin_allowed("http://build1:8765", "build1:8765", false, NULL, 0));
	assert_true(wsrules_origin_allowed("http://build1:8765", "build1:8765", true, NULL, 0));
	assert_true(wsrules_origin_allowed("http://Build1:8765", "build1:8765", true, NULL, 0));
	assert_false(wsrules_origin_allowed("http://build1:9999", "build1:8765", true, NULL, 0));
	assert_false(wsrules_origin_allowed("http://build1:8765", NULL, true, NULL, 0));
	/* --allow-origin entries. */
	assert_true(wsrules_origin_allowed("https://dash.example.com", NULL, false, extra, 1));
	assert_false(wsrules_origin_allowed("https://dash.example.com.evil", NULL, false, extra, 1));
	assert_false(wsrules_origin_allowed("http://dash.example.com", NULL, false, extra, 1));
}

/* Authorities that a loose reading takes for localhost's, and are not. */
static void test_origin_tricks(void **state)
{
	static const char *const bad[] = {
		"http://localhost:80@evil.com",
		"http://localhost@evil.com",
		"http://user:pw@localhost",
		"http://[::1].evil.com",
		"http://[::1]evil",
		"http://[::1]:80.evil.com",
		"http://[::1",
		"http://[]:80",
		"http://localhost:80x",
		"http://localhost:",
		"http://localhost:123456",
		"http://localhost:-1",
		"http://127.0.0.1:8765:80",
		"http://localhost%2f.evil.com",
		"http://localhost\\.evil.com",
		"http://local host",
		"://localhost",
		"ht tp://localhost",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wsrules_origin_allowed(bad[i], NULL, false, NULL, 0))
			fail_msg("\"%s\" allowed", bad[i]);
	/* Userinfo is refused before the Host comparison too. */
	assert_false(wsrules_origin_allowed("http://a@b1:8765", "a@b1:8765", true, NULL, 0));
	assert_false(wsrules_origin_allowed("http://build1:x", "build1:x", true, NULL, 0));
	/* Still fine: a path, a query, upper case, a bare port. */
	assert_true(wsrules_origin_allowed("http://localhost:3000/x@y", NULL, false, NULL, 0));
	assert_true(wsrules_origin_allowed("http://[::1]?q", NULL, false, NULL, 0));
	assert_true(wsrules_origin_allowed("HTTP://[::1]:65535", NULL, false, NULL, 0));
	assert_true(wsrules_origin_allowed("http://localhost#x", NULL, false, NULL, 0));
}

static void test_tokens(void **state)
{
	assert_true(wsrules_consttime_eq("secret", "secret"));
	assert_false(wsrules_consttime_eq("secreT", "secret"));
	assert_false(wsrules_consttime_eq("secret1", "secret"));
	assert_false(wsrules_consttime_eq("secre", "secret"));
	assert_false(wsrules_consttime_eq("", "secret"));
	assert_true(wsrules_token_ok("s3", "Bearer s3", NULL));
	assert_true(wsrules_token_ok("s3", "bearer s3", NULL));
	assert_true(wsrules_token_ok("s3", NULL, "s3"));
	assert_false(wsrules_token_ok("s3", NULL, NULL));
	assert_false(wsrules_token_ok("s3", "Basic s3", NULL));
	assert_false(wsrules_token_ok("s3", "Bearer x", "s3")); /* a wrong header is not rescued */
	assert_false(wsrules_token_ok("s3", NULL, ""));
}

static void test_listen(void **state)
{
	char host[64];
	int port;

	assert_int_equal(addr_parse_listen("127.0.0.1:8765", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8765);
	assert_int_equal(addr_parse_listen("[::1]:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(addr_parse_listen("localhost:1", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen("::1:80", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen("8765", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen(":8765", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen("h:0", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen("h:65536", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen("h:80x", host, sizeof(host), &port), 0);
	assert_int_not_equal(addr_parse_listen("[::1]80", host, sizeof(host), &port), 0);
	assert_true(addr_is_loopback("127.0.0.1"));
	assert_true(addr_is_loopback("127.8.9.10"));
	assert_true(addr_is_loopback("::1"));
	assert_true(addr_is_loopback("localhost"));
	assert_false(addr_is_loopback("0.0.0.0"));
	assert_false(addr_is_loopback("::"));
	assert_false(addr_is_loopback("10.0.0.1"));
	assert_false(addr_is_loopback("localhost.example"));
}

/* /metrics and /healthz: only a loopback Host (DNS rebinding). */
static void test_host_loopback(void **state)
{
	assert_true(wsrules_host_is_loopback("127.0.0.1:8765"));
	assert_true(wsrules_host_is_loopback("localhost"));
	assert_true(wsrules_host_is_loopback("LOCALHOST:80"));
	assert_true(wsrules_host_is_loopback("[::1]:8765"));
	assert_true(wsrules_host_is_loopback("127.8.9.10"));
	assert_false(wsrules_host_is_loopback("evil.example:8765"));
	assert_false(wsrules_host_is_loopback("127.0.0.1.nip.io"));
	assert_false(wsrules_host_is_loopback("localhost:80@evil.com"));
	assert_false(wsrules_host_is_loopback("[::1].evil.com"));
	assert_false(wsrules_host_is_loopback("localhost:x"));
	assert_false(wsrules_host_is_loopback(""));
}

/* Issue 16, case 15: Host = uri-host [":" port] and nothing more (RFC 7230
 * 5.4); brackets hold an IPv6 literal only (RFC 3986 3.2.2). */
static void test_host_grammar(void **state)
{
	static const char *const good[] = {
		"localhost", "localhost:8765", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8765",
		"127.0.0.2", "127.255.255.254:65535", "[0:0:0:0:0:0:0:1]", "[::0001]:80",
	};
	static const char *const bad[] = {
		/* The issue's five. */
		"[::1]/", "localhost/x", "127.0.0.1?x", "[::1]#f", "[127.0.0.1]",
		/* A path, query or fragment however placed. */
		"localhost/", "localhost:8765/", "127.0.0.1:80?", "[::1]:80#", "localhost#",
		"/localhost", "?localhost", "localhost?x=1#y",
		/* Brackets: IPv6 only, whole, once. */
		"[127.0.0.1]:80", "[localhost]", "[::ffff:127.0.0.1]", "[::1", "::1]", "::1",
		"::1:80", "[[::1]]", "[::1]]", "[]", "[v1.x]", "[::1%25lo]", "[::1]x",
		/* Userinfo, odd ports, odd names. */
		"a@localhost", "localhost@127.0.0.1", "localhost:", ":80", "localhost:+80",
		"localhost: 80", "localhost:123456", "localhost:80:80", " localhost", "localhost ",
		"localhost.", "127.0.0.1.", "127.1", "0x7f.0.0.1", "localhost%2f", "local\thost",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!wsrules_host_is_loopback(good[i]))
			fail_msg("Host \"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wsrules_host_is_loopback(bad[i]))
			fail_msg("Host \"%s\" taken for loopback", bad[i]);
	assert_false(wsrules_host_is_loopback(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_loopback),
		cmocka_unit_test(test_host_grammar),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_origin_tricks),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_listen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
