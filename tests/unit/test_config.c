/* agentperfd's command line: defaults, values, and refusals in one line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static int parse(struct config *cfg, const char *const *args)
{
	char *argv[32] = { "agentperfd" };
	int argc = 1;

	while (*args)
		argv[argc++] = (char *)*args++;
	return config_parse(argc, argv, cfg);
}

static void test_defaults(void **state)
{
	struct config cfg;

	assert_int_equal(parse(&cfg, (const char *[]){ NULL }), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8765);
	assert_string_equal(cfg.control_path, "/run/agentperf/agentperf.sock");
	assert_string_equal(cfg.state_dir, "/var/lib/agentperf");
	assert_int_equal(cfg.interval_running_ms, 1000);
	assert_int_equal(cfg.interval_idle_ms, 3000);
	assert_int_equal(cfg.max_clients, 256);
	assert_int_equal(cfg.history_max_mb, 64);
	assert_string_equal(cfg.nvml_lib, "libnvidia-ml.so.1");
	assert_null(cfg.token);
	config_free(&cfg);
}

static void test_values(void **state)
{
	struct config cfg;
	char path[] = "/tmp/agentperf-config-test.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\r\nsecond line\n", 20), 20);
	close(fd);
	assert_int_equal(parse(&cfg, (const char *[]){ "--listen", "[::1]:9000", "-v", "-v",
						       "--interval-running", "250",
						       "--allow-origin", "http://a.test",
						       "--token-file", path, "--history-max-mb",
						       "8", "--nvml-lib", "/opt/nv/libnvidia-ml.so",
						       NULL }),
			 0);
	assert_string_equal(cfg.nvml_lib, "/opt/nv/libnvidia-ml.so");
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 9000);
	assert_int_equal(cfg.verbose, 2);
	assert_int_equal(cfg.interval_running_ms, 250);
	assert_int_equal(cfg.n_allow_origin, 1);
	assert_string_equal(cfg.token, "s3cret");
	assert_int_equal(cfg.history_max_mb, 8);
	config_free(&cfg);
	unlink(path);
}

static void test_refusals(void **state)
{
	struct config cfg;

	assert_int_equal(parse(&cfg, (const char *[]){ "--listen", "8765", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--listen", "0.0.0.0:1", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--listen", "0.0.0.0:1", "--allow-remote",
						       NULL }),
			 -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--interval-idle", "99", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--max-clients", "lots", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--autoforge-registry", "rel.db", NULL }),
			 -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--state-dir", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--nvml-lib", "", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--bogus", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "extra", NULL }), -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--token-file", "/nonexistent", NULL }),
			 -EINVAL);
	assert_int_equal(parse(&cfg, (const char *[]){ "--version", NULL }), CONFIG_EXIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
