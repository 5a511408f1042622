/* What every libFuzzer target here shares: the entry point's prototype, an
 * invariant check that crashes (libFuzzer then keeps the input), and the
 * input as C strings. */
#ifndef AGENTPERF_FUZZ_H
#define AGENTPERF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: a violation is a finding like a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* The input as a malloc'd C string (it ends at the first NUL, as a C caller's
 * would). Aborts on ENOMEM: the fuzzer's rss limit is the real bound. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_ASSERT(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits s in place at each sep into at most n fields; missing ones are NULL.
 * Returns how many there are. */
static inline int fuzz_fields(char *s, char sep, char **f, int n)
{
	int got = 0;

	for (int i = 0; i < n; i++)
		f[i] = NULL;
	while (s && got < n) {
		char *next = strchr(s, sep);

		if (next)
			*next++ = '\0';
		f[got++] = s;
		s = next;
	}
	return got;
}

#endif
