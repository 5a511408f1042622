/* agentlock: the harness's PID:CREATE_TIME lock text, and start-time matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "agentlock.h"

static int parse(const char *s, struct agentlock *l)
{
	return agentlock_parse(s, strlen(s), l);
}

static void test_valid(void **state)
{
	struct agentlock l;

	assert_int_equal(parse("4242:1795514400.123456", &l), 0);
	assert_int_equal(l.pid, 4242);
	assert_true(l.create_time > 1795514400.12 && l.create_time < 1795514400.13);
	assert_int_equal(parse("  17:1795514400\n", &l), 0);
	assert_int_equal(l.pid, 17);
	assert_int_equal(parse("17:1795514400.5\r\n", &l), 0);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"", "\n", "4242", "4242:", ":1795514400.1", "0:1795514400.1", "-5:1795514400.1",
		"4242:-1", "4242:0", "4242:nan", "4242:inf", "4242:1e999", "4242:17x",
		"4242 : 1795514400", "99999999999:1795514400", "4242:1795514400 extra", "abc:1.0",
		"4242:1795514400.1:9",
	};
	struct agentlock l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &l), -EINVAL);
	/* A NUL inside, and an over-long file. */
	assert_int_equal(agentlock_parse("42:1.5\0junk", 11, &l), -EINVAL);
	char big[AGENTLOCK_MAX + 2];
	memset(big, '1', sizeof(big));
	big[1] = ':';
	assert_int_equal(agentlock_parse(big, sizeof(big), &l), -EINVAL);
}

static void test_matches(void **state)
{
	struct agentlock l = { .pid = 1, .create_time = 1795514400.25 };

	assert_true(agentlock_matches(&l, 1795514400.25));
	assert_true(agentlock_matches(&l, 1795514401.0)); /* btime's whole seconds */
	assert_false(agentlock_matches(&l, 1795514402.0)); /* a reused PID */
	assert_false(agentlock_matches(&l, 1795514300.0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
