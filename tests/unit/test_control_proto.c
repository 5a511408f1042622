/* The control protocol: parsing every request shape and refusing bad ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"

static int parse(const char *line, struct control_request *req, char *err)
{
	return control_parse_request(line, strlen(line), req, err, 160);
}

static void test_valid(void **state)
{
	struct control_request req;
	char err[160];

	assert_int_equal(parse("{\"cmd\":\"run\",\"project\":\"demo\",\"pid\":42}", &req, err), 0);
	assert_int_equal(req.cmd, CONTROL_RUN);
	assert_string_equal(req.project, "demo");
	assert_int_equal(req.pid, 42);
	assert_int_equal(parse("{\"cmd\":\"wait\",\"run_id\":\"42-x\",\"all\":true}", &req, err), 0);
	assert_int_equal(req.cmd, CONTROL_WAIT);
	assert_true(req.all);
	assert_string_equal(req.run_id, "42-x");
	assert_string_equal(req.project, "");
	/* `agentperf run` names the run's project too: run ids can repeat. */
	assert_int_equal(parse("{\"cmd\":\"wait\",\"project\":\"demo\",\"run_id\":\"42-x\"}", &req, err),
			 0);
	assert_string_equal(req.project, "demo");
	assert_int_equal(parse("{\"cmd\":\"runs\",\"project\":\"p\",\"limit\":5}", &req, err), 0);
	assert_int_equal(req.limit, 5);
	assert_int_equal(parse("{\"cmd\":\"status\"}", &req, err), 0);
	assert_int_equal(parse("{\"cmd\":\"detach\",\"project\":\"p\"}", &req, err), 0);
	assert_int_equal(parse("{\"cmd\":\"tokens\",\"project\":\"p\",\"add\":5}", &req, err), 0);
	assert_true(req.tokens.add);
	assert_int_equal(req.tokens.add_n, 5);
	assert_int_equal(parse("{\"cmd\":\"tokens\",\"project\":\"p\",\"set_current\":5,"
			       "\"set_total\":9}",
			       &req, err),
			 0);
	assert_true(req.tokens.set_current && req.tokens.set_total);
	assert_int_equal(req.tokens.total, 9);
}

static void test_invalid(void **state)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "", "request is not a JSON object" },
		{ "[1,2]", "request is not a JSON object" },
		{ "{\"cmd\":\"frob\"}", "unknown or missing \"cmd\"" },
		{ "{\"cmd\":7}", "unknown or missing \"cmd\"" },
		{ "{\"cmd\":\"run\",\"pid\":4}", "missing \"project\"" },
		{ "{\"cmd\":\"run\",\"project\":\"a/b\",\"pid\":4}", "invalid project name" },
		{ "{\"cmd\":\"run\",\"project\":\"\",\"pid\":4}", "invalid project name" },
		{ "{\"cmd\":\"run\",\"project\":5,\"pid\":4}", "invalid project name" },
		{ "{\"cmd\":\"attach\",\"project\":\"p\"}", "missing or invalid \"pid\"" },
		{ "{\"cmd\":\"attach\",\"project\":\"p\",\"pid\":0}", "missing or invalid \"pid\"" },
		{ "{\"cmd\":\"attach\",\"project\":\"p\",\"pid\":-1}", "missing or invalid \"pid\"" },
		{ "{\"cmd\":\"attach\",\"project\":\"p\",\"pid\":1.5}", "missing or invalid \"pid\"" },
		{ "{\"cmd\":\"attach\",\"project\":\"p\",\"pid\":1e12}", "missing or invalid \"pid\"" },
		{ "{\"cmd\":\"attach\",\"project\":\"p\",\"pid\":\"7\"}", "missing or invalid \"pid\"" },
		{ "{\"cmd\":\"wait\"}", "missing or invalid \"run_id\"" },
		{ "{\"cmd\":\"wait\",\"run_id\":\"\"}", "missing or invalid \"run_id\"" },
		{ "{\"cmd\":\"wait\",\"run_id\":\"x\",\"all\":1}", "\"all\" must be true or false" },
		{ "{\"cmd\":\"runs\",\"limit\":-1}", "\"limit\" must be" },
		{ "{\"cmd\":\"tokens\",\"add\":1}", "missing \"project\"" },
		{ "{\"cmd\":\"tokens\",\"project\":\"p\"}", "tokens takes" },
		{ "{\"cmd\":\"tokens\",\"project\":\"p\",\"add\":1,\"set_total\":2}", "tokens takes" },
		{ "{\"cmd\":\"tokens\",\"project\":\"p\",\"add\":-1}", "\"add\" must be a whole" },
		{ "{\"cmd\":\"tokens\",\"project\":\"p\",\"add\":1.5}", "\"add\" must be a whole" },
		{ "{\"cmd\":\"tokens\",\"project\":\"p\",\"set_current\":1e16}", "must be a whole" },
	};
	struct control_request req;
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(parse(bad[i].line, &req, err), 0);
		if (!strstr(err, bad[i].why))
			fail_msg("\"%s\": got \"%s\", wanted \"%s\"", bad[i].line, err, bad[i].why);
	}
}

static void test_not_nul_terminated(void **state)
{
	const char buf[] = "{\"cmd\":\"status\"}GARBAGE";
	struct control_request req;
	char err[160];

	assert_int_equal(control_parse_request(buf, 16, &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CONTROL_STATUS);
}

/* A literal and its length, NULs included. */
#define LINE(s) s, sizeof(s) - 1

/* One object and nothing after it but blanks; no NUL, raw or escaped. */
static void test_strict(void **state)
{
	static const struct {
		const char *line;
		size_t len;
		const char *why;
	} bad[] = {
		{ LINE("{\"cmd\":\"status\"}x"), "trailing bytes" },
		{ LINE("{\"cmd\":\"status\"}{\"cmd\":\"run\"}"), "trailing bytes" },
		{ LINE("{\"cmd\":\"status\"} 1"), "trailing bytes" },
		{ LINE("{\"cmd\":\"status\"}\0"), "NUL or control" },
		{ LINE("{\"cmd\":\0\"status\"}"), "NUL or control" },
		{ LINE("{\"cmd\":\"sta\x1btus\"}"), "NUL or control" },
		{ LINE("{\"cmd\":\"run\\u0000x\",\"project\":\"p\",\"pid\":4}"), "\\u0000" },
		{ LINE("{\"cmd\":\"status\",\"pro\\u0000ject\":\"p\"}"), "\\u0000" },
		{ LINE("{\"cmd\":\"wait\",\"run_id\":\"1-x\\u0000y\"}"), "\\u0000" },
	};
	static const char *const good[] = {
		"{\"cmd\":\"status\"}\n",
		"{\"cmd\":\"status\"} \t\r\n",
		" {\"cmd\":\"status\"}",
		/* An escaped backslash before "u0000" is not the escape. */
		"{\"cmd\":\"wait\",\"run_id\":\"1-\\\\u0000\"}",
	};
	struct control_request req;
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(control_parse_request(bad[i].line, bad[i].len, &req, err,
							   sizeof(err)),
				     0);
		if (!strstr(err, bad[i].why))
			fail_msg("line %zu: got \"%s\", wanted \"%s\"", i, err, bad[i].why);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(parse(good[i], &req, err), 0);
	assert_string_equal(req.run_id, "1-\\u0000");
}

static void test_roundtrip(void **state)
{
	struct control_request in = { .cmd = CONTROL_WAIT, .all = true }, out;
	char err[160], *line;

	strcpy(in.run_id, "5-2026-11-24T10:00:00Z");
	line = control_format_request(&in);
	assert_non_null(line);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(control_parse_request(line, strlen(line) - 1, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(line);
}

static void test_replies(void **state)
{
	char *e = control_format_error("no such \"run\"");
	char *ok = control_format_ok("runs", cJSON_CreateArray());
	char *bare = control_format_ok(NULL, NULL);

	assert_string_equal(e, "{\"ok\":false,\"error\":\"no such \\\"run\\\"\"}\n");
	assert_string_equal(ok, "{\"ok\":true,\"runs\":[]}\n");
	assert_string_equal(bare, "{\"ok\":true}\n");
	free(e);
	free(ok);
	free(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
