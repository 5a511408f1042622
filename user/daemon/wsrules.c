/* Who may open a WebSocket, and to what: paths, Origins, tokens. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
