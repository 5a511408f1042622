/* fnvids N: N Claude Code transcript lines (1 input token each) whose
 * message ids all hash, under the unkeyed FNV-1a the daemon once used, into
 * the first 16384 slots of a table of up to 2^20: the hash flood of issue
 * 16, case 14 (one id in 64 qualifies). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t fnv1a(const char *s, int n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (int i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

int main(int argc, char **argv)
{
	long want = argc > 1 ? atol(argv[1]) : 0;
	char id[32];

	if (want <= 0) {
		fprintf(stderr, "usage: fnvids N\n");
		return 2;
	}
	for (uint64_t k = 0; want > 0; k++) {
		int n = snprintf(id, sizeof(id), "msg_%016llx", (unsigned long long)k);

		if ((fnv1a(id, n) & 0xfffff) >= 16384)
			continue;
		printf("{\"type\":\"assistant\",\"message\":{\"id\":\"%s\",\"model\":\"claude-x\","
		       "\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n",
		       id);
		want--;
	}
	return 0;
}
