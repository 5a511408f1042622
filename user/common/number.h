/* Whole numbers from the command line and the control protocol, strictly. */
#ifndef AGENTPERF_NUMBER_H
#define AGENTPERF_NUMBER_H

/* Parses all of s as a decimal integer in [lo, hi] (no blanks, no '+').
 * Returns 0, or -EINVAL leaving *out untouched. */
int number_parse(const char *s, long long lo, long long hi, long long *out);

#endif
