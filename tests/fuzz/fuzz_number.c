/* number_parse against an independent reading of the same grammar: -?[0-9]+,
 * in [lo, hi], nothing else. Input: lo and hi (8 bytes each), then the text. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long long lo, hi, out = 42;
	__int128 v = 0;
	bool digits = true, neg;
	char *s, *p;
	int ret;

	if (size < 2 * sizeof(long long))
		return 0;
	memcpy(&lo, data, sizeof(lo));
	memcpy(&hi, data + sizeof(lo), sizeof(hi));
	s = fuzz_cstr(data + 2 * sizeof(lo), size - 2 * sizeof(lo));

	neg = s[0] == '-';
	p = s + neg;
	if (!*p)
		digits = false;
	/* Saturate well past the long long range: leading zeros are fine. */
	for (; *p && digits; p++) {
		if (*p < '0' || *p > '9')
			digits = false;
		else if (v < ((__int128)1 << 100))
			v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;

	ret = number_parse(s, lo, hi, &out);
	if (digits && v >= lo && v <= hi) {
		FUZZ_ASSERT(ret == 0 && out == v);
	} else {
		FUZZ_ASSERT(ret != 0 && out == 42);
	}
	free(s);
	return 0;
}
