/* Whole numbers from the command line and the control protocol, strictly. */
#include <errno.h>
#include <stdlib.h>

#include "number.h"

int number_parse(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	/* strtoll would skip blanks and take a '+'; a flag's value may not. */
	if (!s || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}
