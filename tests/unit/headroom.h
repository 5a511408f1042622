/* Shared by the tests of renderers that leave lws headroom before their text. */
#ifndef AGENTPERF_TEST_HEADROOM_H
#define AGENTPERF_TEST_HEADROOM_H

#include <stdlib.h>
#include <string.h>

/* BUF's text after HEADROOM bytes as a string of its own; checks that the
 * renderer's LEN is that text's length, and frees BUF. Include after cmocka.h. */
static inline char *after_headroom(char *buf, size_t headroom, size_t len)
{
	char *text;

	assert_non_null(buf);
	assert_int_equal(strlen(buf + headroom), len);
	text = strdup(buf + headroom);
	assert_non_null(text);
	free(buf);
	return text;
}

#endif
