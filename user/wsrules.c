/* Who may open a WebSocket, and to what: paths, Origins, tokens, listen addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wsrules.h"

int wsrules_project_from_path(const char *path, char *name, size_t len)
{
	size_t n = strlen(WSRULES_PREFIX);

	if (!path || strncmp(path, WSRULES_PREFIX, n))
		return -ENOENT;
	snprintf(name, len, "%s", path + n);
	return 0;
}

/* The authority (host[:port]) of "scheme://authority[/...]", lower-cased. */
static int origin_authority(const char *origin, char *out, size_t len)
{
	const char *p = strstr(origin, "://"), *end;
	size_t n;

	if (!p)
		return -EINVAL;
	p += 3;
	end = p + strcspn(p, "/?#");
	n = (size_t)(end - p);
	if (n == 0 || n >= len)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
	out[n] = '\0';
	return 0;
}

/* The host part of an authority: "[::1]" keeps its brackets; the port goes. */
static void authority_host(const char *auth, char *out, size_t len)
{
	size_t n = auth[0] == '[' ? strcspn(auth, "]") + 1 : strcspn(auth, ":");

	snprintf(out, len, "%.*s", (int)n, auth);
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
	if (origin_authority(origin, auth, sizeof(auth)))
		return false; /* "null" and other opaque origins */
	authority_host(auth, h, sizeof(h));
	if (!strcmp(h, "localhost") || !strcmp(h, "127.0.0.1") || !strcmp(h, "[::1]"))
		return true;
	return allow_remote && host && !strcasecmp(auth, host);
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

int wsrules_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	char *end;
	long p;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* bare IPv6 needs brackets */
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hostlen)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = (int)p;
	return 0;
}

bool wsrules_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}
