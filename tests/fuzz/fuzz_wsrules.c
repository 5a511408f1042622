/* WebSocket admission: path, Origin (with a Host), a loopback Host, tokens. Input: newline-
 * separated fields "flags\npath\norigin\nhost\nauthorization\nquery\nexpected". */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "names.h"
#include "wsrules.h"

/* The loopback rule spelled out: the authority (up to "/?#") is one of the
 * three names, alone or with a port of 1-5 digits. */
static bool loopback_origin(const char *origin)
{
	static const char *const hosts[] = { "localhost", "127.0.0.1", "[::1]" };
	const char *p = strstr(origin, "://");
	size_t alen;

	if (!p)
		return false;
	p += 3;
	alen = strcspn(p, "/?#");
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t n = strlen(hosts[i]), pn;

		if (alen < n || strncasecmp(p, hosts[i], n))
			continue;
		if (alen == n)
			return true;
		pn = alen - n - 1;
		if (p[n] == ':' && pn >= 1 && pn <= 5 && strspn(p + n + 1, "0123456789") >= pn)
			return true;
	}
	return false;
}

/* The authority of origin equals host, as the --allow-remote rule wants. */
static bool same_host(const char *origin, const char *host)
{
	const char *p = strstr(origin, "://");

	return p && host && strlen(host) == strcspn(p + 3, "/?#") &&
	       !strncasecmp(p + 3, host, strlen(host));
}

/* The loopback Host rule spelled out (RFC 7230 5.4, RFC 3986 3.2.2): the
 * whole header is a host and an optional port of 1-5 digits after the last
 * ':' past any ']'; the host is localhost, an IPv4 address in 127/8, or a
 * bracketed IPv6 literal that is ::1. */
static bool loopback_host(const char *host)
{
	const char *close = strrchr(host, ']');
	const char *colon = strrchr(close ? close : host, ':');
	size_t n = colon ? (size_t)(colon - host) : strlen(host), pn;
	struct in6_addr a6;
	struct in_addr a4;
	char h[64];

	if (colon) {
		pn = strlen(colon + 1);
		if (pn < 1 || pn > 5 || strspn(colon + 1, "0123456789") != pn)
			return false;
	}
	if (n == 0 || n >= sizeof(h))
		return false;
	memcpy(h, host, n);
	h[n] = '\0';
	if (h[0] == '[') {
		if (n < 2 || h[n - 1] != ']')
			return false;
		h[n - 1] = '\0';
		return inet_pton(AF_INET6, h + 1, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	if (!strcasecmp(h, "localhost"))
		return true;
	return inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *f[7], name[NAMES_PROJECT_MAX + 1];
	const char *flags, *path, *origin, *host, *auth, *query, *expected;
	bool remote, allowed, want;
	size_t n_extra;

	fuzz_fields(s, '\n', f, 7);
	flags = f[0] ? f[0] : "";
	path = f[1];
	origin = f[2] && strcmp(f[2], "-") ? f[2] : NULL;
	host = f[3] && strcmp(f[3], "-") ? f[3] : NULL;
	auth = f[4] && strcmp(f[4], "-") ? f[4] : NULL;
	query = f[5] && strcmp(f[5], "-") ? f[5] : NULL;
	expected = f[6] ? f[6] : "";
	remote = strchr(flags, 'r') != NULL;
	n_extra = strchr(flags, 'x') ? 1 : 0;

	if (!wsrules_project_from_path(path, name, sizeof(name))) {
		size_t n = strlen(NAMES_WS_PREFIX);

		FUZZ_ASSERT(!strncmp(path, NAMES_WS_PREFIX, n));
		FUZZ_ASSERT(!strncmp(name, path + n, sizeof(name) - 1));
		names_project_valid(name);
	}

	/* With the last field as the one --allow-origin entry when flags say 'x'. */
	allowed = wsrules_origin_allowed(origin, host, remote, &expected, n_extra);
	if (origin && allowed && !(n_extra && !strcasecmp(origin, expected))) {
		/* A browser's Origin never carries userinfo: its '@' is a trick. */
		const char *p = strstr(origin, "://");

		FUZZ_ASSERT(p && !memchr(p, '@', strcspn(p + 3, "/?#") + 3));
		if (!loopback_origin(origin))
			FUZZ_ASSERT(remote && same_host(origin, host));
	}
	if (origin && !allowed)
		FUZZ_ASSERT(!(n_extra && !strcasecmp(origin, expected)));
	if (host)
		FUZZ_ASSERT(wsrules_host_is_loopback(host) == loopback_host(host));

	FUZZ_ASSERT(wsrules_consttime_eq(query ? query : "", expected) ==
		    !strcmp(query ? query : "", expected));
	if (auth && !strncasecmp(auth, "Bearer ", 7))
		want = !strcmp(auth + 7, expected);
	else
		want = query && !strcmp(query, expected);
	FUZZ_ASSERT(wsrules_token_ok(expected, auth, query) == want);
	free(s);
	return 0;
}
