/* sh FMT...: runs a shell command made from FMT (1 KiB at most) and fails
 * the test unless it exits 0. For the tests that build fake trees on disk;
 * include after <cmocka.h>, <stdarg.h>, <stdio.h> and <stdlib.h>. */
#ifndef AGENTPERF_UNIT_SH_H
#define AGENTPERF_UNIT_SH_H

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

#endif
