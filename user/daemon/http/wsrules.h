/* Who may open a WebSocket, and to what (docs/interfaces.md, "HTTP port"): paths,
 * Origins, bearer tokens. Pure functions. */
#ifndef AGENTPERF_WSRULES_H
#define AGENTPERF_WSRULES_H

#include <stdbool.h>
#include <stddef.h>


/* For "/ws/projects/REST" (a path lws has already percent-decoded) copies REST
 * into name (truncated to len-1; validate it with names_project_valid).
 * Returns 0, or -ENOENT for any other path. */
int wsrules_project_from_path(const char *path, char *name, size_t len);
/* The Origin rules. origin NULL: header absent; host: the Host header (may be
 * NULL); extra: the --allow-origin entries. */
bool wsrules_origin_allowed(const char *origin, const char *host, bool allow_remote,
			    const char *const *extra, size_t n_extra);
/* A Host header that names this machine's loopback: localhost, 127.0.0.0/8
 * or [::1] (an IPv6 literal, bracketed), with an optional port of 1-5 digits,
 * and nothing else: no userinfo, path, query or fragment (RFC 7230 5.4, RFC
 * 3986 3.2.2). NULL: false. */
bool wsrules_host_is_loopback(const char *host);
/* Constant-time equality: the time depends on the lengths only. */
bool wsrules_consttime_eq(const char *a, const char *b);
/* The token from "Authorization: Bearer T" or else ?token=T matches expected. */
bool wsrules_token_ok(const char *expected, const char *authorization, const char *query_token);

#endif
