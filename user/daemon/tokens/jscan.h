/* A JSON scanner that builds nothing and copies nothing: it checks that a
 * line is one well-formed JSON object and hands each value near the top, with
 * the keys that lead to it, to a callback (pure: no allocation). A transcript
 * line holds prompts, outputs and tool results; only a few numbers matter. */
#ifndef AGENTPERF_JSCAN_H
#define AGENTPERF_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values inside at most this many containers are handed to the callback. */
#define JSCAN_KEYS 5

enum jscan_type {
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_OBJECT,
	JSCAN_ARRAY,
	JSCAN_LITERAL,
	JSCAN_NULL,
};

/* One scan. The caller sets fn, ctx and max_depth; the rest is the scan's. */
struct jscan {
	/* Called for each value at depth (the number of containers around
	 * it) at most JSCAN_KEYS, as it is met: a string's raw contents
	 * (escapes left as they are), a number's or a literal's text, an
	 * object's or an array's opening bracket. A line found malformed
	 * later has had its first values handed on already. */
	void (*fn)(struct jscan *s, int depth, enum jscan_type t, const char *v, size_t n);
	void *ctx;
	int max_depth; /* containers nested deeper are refused */
	const char *p, *end;
	/* The key of each enclosing object member (raw); NULL inside an array. */
	const char *key[JSCAN_KEYS];
	size_t klen[JSCAN_KEYS];
};

/* Scans line (len bytes, need not be NUL-terminated). Returns true when it
 * is one JSON object with nothing but blanks around it, false otherwise. */
bool jscan_line(struct jscan *s, const char *line, size_t len);
/* Whether depth is nkeys and the keys leading to a value there are
 * keys[0..nkeys-1] (nkeys at most JSCAN_KEYS). */
bool jscan_path_is(const struct jscan *s, int depth, const char *const *keys, int nkeys);
/* Whether the raw text v (n bytes) is lit. */
bool jscan_raw_is(const char *v, size_t n, const char *lit);
/* A count: plain digits (no sign, fraction or exponent), at most 16 of them.
 * Returns true with the value in *out when it is at most max, else false. */
bool jscan_count(const char *v, size_t n, uint64_t max, uint64_t *out);

#endif
