/* Who may open a WebSocket, and to what: paths, Origins, tokens. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "names.h"
#include "wsrules.h"

int wsrules_project_from_path(const char *path, char *name, size_t len)
{
	size_t n = strlen(NAMES_WS_PREFIX);

	if (!path || strncmp(path, NAMES_WS_PREFIX, n))
		return -ENOENT;
	snprintf(name, len, "%s", path + n);
	return 0;
}

/* Splits the authority of "scheme://host[:port][/...]", lower-cased, into
 * auth (host[:port], for the Host comparison) and host ("[v6]" keeps its
 * brackets). Strict where a loose reading would let another host pass for
 * localhost: no userinfo ("http://localhost:80@evil.com"), nothing after a
 * bracketed host but a port ("http://[::1].evil.com"), host names of
 * [a-z0-9.-_] only, and a port of 1-5 digits. Returns 0 or -EINVAL. */
static int origin_split(const char *origin, char *auth, size_t alen, char *host, size_t hlen)
{
	static const char scheme_chars[] = "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.";
	const char *p = strstr(origin, "://");
	size_t n, hn, pn;

	if (!p || p == origin || strspn(origin, scheme_chars) != (size_t)(p - origin))
		return -EINVAL;
	p += 3;
	n = strcspn(p, "/?#");
	if (n == 0 || n >= alen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		auth[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
	auth[n] = '\0';
	if (auth[0] == '[') {
		hn = 1 + strspn(auth + 1, "0123456789abcdef:.");
		if (auth[hn] != ']' || hn == 1)
			return -EINVAL;
		hn++;
	} else {
		hn = strspn(auth, "abcdefghijklmnopqrstuvwxyz0123456789.-_");
		if (hn == 0)
			return -EINVAL;
	}
	if (auth[hn]) {
		pn = strlen(auth + hn + 1);
		if (auth[hn] != ':' || pn == 0 || pn > 5 ||
		    strspn(auth + hn + 1, "0123456789") != pn)
			return -EINVAL;
	}
	if (hn >= hlen)
		return -EINVAL;
	memcpy(host, auth, hn);
	host[hn] = '\0';
	return 0;
}

bool wsrules_origin_allowed(const char *origin, const char *host, bool allow_remote,
			    const char *const *extra, size_t n_extra)
{
	char auth[256], h[256];

	if (!origin)
		return true; /* not a browser */
	for (size_t i = 0; i < n_extra; i++)
		if (!strcasecmp(origin, extra[i]))
			return true;
	if (origin_split(origin, auth, sizeof(auth), h, sizeof(h)))
		return false; /* "null" and other opaque origins */
	if (!strcmp(h, "localhost") || !strcmp(h, "127.0.0.1") || !strcmp(h, "[::1]"))
		return true;
	return allow_remote && host && !strcasecmp(auth, host);
}

bool wsrules_host_is_loopback(const char *host)
{
	char url[300], auth[256], h[256];
	struct in6_addr a6;
	size_t n;

	/* RFC 7230 5.4: Host = uri-host [ ":" port ], the whole header. The
	 * authority grammar is an Origin's, but origin_split stops at a path,
	 * a query or a fragment, which a Host may not have at all. */
	if (!host || host[strcspn(host, "/?#")] ||
	    (size_t)snprintf(url, sizeof(url), "http://%s", host) >= sizeof(url) ||
	    origin_split(url, auth, sizeof(auth), h, sizeof(h)))
		return false;
	n = strlen(h);
	if (h[0] != '[')
		return addr_is_loopback(h);
	/* Brackets hold an IPv6 literal only (RFC 3986 3.2.2): not "[127.0.0.1]". */
	h[n - 1] = '\0';
	return inet_pton(AF_INET6, h + 1, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool wsrules_consttime_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	/* Walk the expected length whatever the input, never past either. */
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}

bool wsrules_token_ok(const char *expected, const char *authorization, const char *query_token)
{
	if (authorization && !strncasecmp(authorization, "Bearer ", 7))
		return wsrules_consttime_eq(authorization + 7, expected);
	if (query_token)
		return wsrules_consttime_eq(query_token, expected);
	return false;
}
