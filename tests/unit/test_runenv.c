/* OTEL_RESOURCE_ATTRIBUTES of a run's command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runenv.h"

static void test_attributes(void **state)
{
	char out[256];

	assert_int_equal(runenv_otel_attributes(NULL, "42-2026-12-01T10:00:00Z", out, sizeof(out)), 0);
	assert_string_equal(out, "agentperf.run_id=42-2026-12-01T10:00:00Z");
	/* Kept in order, empties dropped, an enclosing run's id replaced. */
	assert_int_equal(runenv_otel_attributes("service.name=x,,agentperf.run_id=1-a, k=v", "2-b",
						out, sizeof(out)),
			 0);
	assert_string_equal(out, "service.name=x, k=v,agentperf.run_id=2-b");
	/* Characters the format reserves are percent-encoded. */
	assert_int_equal(runenv_otel_attributes("", "a,b%c", out, sizeof(out)), 0);
	assert_string_equal(out, "agentperf.run_id=a%2Cb%25c");
	/* Too small: refused, never truncated. */
	assert_int_equal(runenv_otel_attributes("service.name=x", "2-b", out, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
