/* Project name validation: ^[A-Za-z0-9_-]{1,50}$ and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
