/* Project name validation: ^[A-Za-z0-9_-]{1,50}$ and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static void test_accepts(void **state)
{
	char fifty[51];

	memset(fifty, 'a', 50);
	fifty[50] = '\0';
	assert_true(names_project_valid("demo"));
	assert_true(names_project_valid("A-z_0-9"));
	assert_true(names_project_valid("x"));
	assert_true(names_project_valid(fifty));
}

static void test_rejects(void **state)
{
	char fiftyone[52];

	memset(fiftyone, 'a', 51);
	fiftyone[51] = '\0';
	assert_false(names_project_valid(NULL));
	assert_false(names_project_valid(""));
	assert_false(names_project_valid(fiftyone));
	assert_false(names_project_valid("../etc"));
	assert_false(names_project_valid("a b"));
	assert_false(names_project_valid("a.b"));
	assert_false(names_project_valid("a%2Fb"));
	assert_false(names_project_valid("caf\xc3\xa9"));
	assert_false(names_project_valid("a\n"));
}

static void test_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "cc1", "cc1" },
		{ "", "" },
		{ "\x1b]0;pwned\x07", "?]0;pwned?" },
		{ "a\tb\nc\rd\x7f", "a?b?c?d?" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
		{ "\xf0\x9f\x90\x8d \xf4\x8f\xbf\xbf", "\xf0\x9f\x90\x8d \xf4\x8f\xbf\xbf" },
		/* C1 controls: U+009B is CSI to some terminals; U+00A0 is printable. */
		{ "\xc2\x9b" "31m\xc2\x80\xc2\xa0", "??31m??\xc2\xa0" },
		/* Malformed: lone continuation, overlong, surrogate, past U+10FFFF, cut short. */
		{ "\x80", "?" },
		{ "\xc0\xaf", "??" },
		{ "\xe0\x80\xaf", "???" },
		{ "\xed\xa0\x80", "???" },
		{ "\xf4\x90\x80\x80", "????" },
		{ "\xf5\x80", "??" },
		{ "x\xe2\x82", "x??" },
		{ "\xe2\x82x", "??x" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		names_sanitize(buf);
		if (strcmp(buf, cases[i].out))
			fail_msg("case %zu: got \"%s\"", i, buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
