/* --listen and --server addresses: never a crash, and what parses formats back
 * to the same host and port. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), host[64], again[64], *fmt;
	size_t hostlen = size ? (size_t)data[0] % sizeof(host) + 1 : sizeof(host);
	int port, port2;

	if (!addr_parse_listen(s, host, hostlen, &port)) {
		FUZZ_ASSERT(port >= 1 && port <= 65535);
		FUZZ_ASSERT(host[0] && strlen(host) < hostlen);
		addr_is_loopback(host);
		if (asprintf(&fmt, strchr(host, ':') || host[0] == '[' ? "[%s]:%d" : "%s:%d", host,
			     port) >= 0) {
			FUZZ_ASSERT(!addr_parse_listen(fmt, again, sizeof(again), &port2));
			FUZZ_ASSERT(!strcmp(host, again) && port == port2);
			free(fmt);
		}
	}
	addr_is_loopback(s);
	free(s);
	return 0;
}
