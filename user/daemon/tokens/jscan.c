/* An allocation-free JSON scanner: a line's values near the top, with their keys, to a callback. */
#include <string.h>

#include "jscan.h"

static void skip_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At '"': the raw contents (escapes left as they are) in *v, *n. */
static bool scan_string(struct jscan *s, const char **v, size_t *n)
{
	const char *p = ++s->p;

	while (p < s->end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*v = s->p;
			*n = (size_t)(p - s->p);
			s->p = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			p++;
			continue;
		}
		if (++p >= s->end)
			return false;
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			if (s->end - p < 5 || !is_hex(p[1]) || !is_hex(p[2]) || !is_hex(p[3]) ||
			    !is_hex(p[4]))
				return false;
			p += 5;
			break;
		default:
			return false;
		}
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct jscan *s)
{
	const char *p = s->p, *e = s->end;

	if (p < e && *p == '-')
		p++;
	if (p >= e || !is_digit(*p))
		return false;
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.') {
		if (++p >= e || !is_digit(*p))
			return false;
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p))
			return false;
		while (p < e && is_digit(*p))
			p++;
	}
	s->p = p;
	return true;
}

static bool scan_literal(struct jscan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return false;
	s->p += n;
	return true;
}

static void emit(struct jscan *s, int depth, enum jscan_type t, const char *v, size_t n)
{
	if (depth <= JSCAN_KEYS)
		s->fn(s, depth, t, v, n);
}

/* One value at depth (the number of containers around it). */
static bool scan_value(struct jscan *s, int depth)
{
	const char *start = s->p, *v;
	size_t n;

	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"':
		if (!scan_string(s, &v, &n))
			return false;
		emit(s, depth, JSCAN_STRING, v, n);
		return true;
	case '{':
	case '[': {
		bool obj = *s->p == '{';
		char close = obj ? '}' : ']';

		if (depth >= s->max_depth)
			return false;
		emit(s, depth, obj ? JSCAN_OBJECT : JSCAN_ARRAY, start, 1);
		s->p++;
		skip_ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return true;
		}
		for (;;) {
			if (obj) {
				if (s->p >= s->end || *s->p != '"' || !scan_string(s, &v, &n))
					return false;
				skip_ws(s);
				if (s->p >= s->end || *s->p != ':')
					return false;
				s->p++;
				skip_ws(s);
			} else {
				v = NULL;
				n = 0;
			}
			if (depth < JSCAN_KEYS) {
				s->key[depth] = v;
				s->klen[depth] = n;
			}
			if (!scan_value(s, depth + 1))
				return false;
			skip_ws(s);
			if (s->p >= s->end)
				return false;
			if (*s->p == close) {
				s->p++;
				return true;
			}
			if (*s->p != ',')
				return false;
			s->p++;
			skip_ws(s);
		}
	}
	case 't':
		if (!scan_literal(s, "true"))
			return false;
		emit(s, depth, JSCAN_LITERAL, start, 4);
		return true;
	case 'f':
		if (!scan_literal(s, "false"))
			return false;
		emit(s, depth, JSCAN_LITERAL, start, 5);
		return true;
	case 'n':
		if (!scan_literal(s, "null"))
			return false;
		emit(s, depth, JSCAN_NULL, start, 4);
		return true;
	default:
		if (!scan_number(s))
			return false;
		emit(s, depth, JSCAN_NUMBER, start, (size_t)(s->p - start));
		return true;
	}
}

bool jscan_line(struct jscan *s, const char *line, size_t len)
{
	s->p = line;
	s->end = line + len;
	skip_ws(s);
	if (s->p >= s->end || *s->p != '{' || !scan_value(s, 0))
		return false;
	skip_ws(s);
	return s->p == s->end;
}

bool jscan_raw_is(const char *v, size_t n, const char *lit)
{
	return n == strlen(lit) && !memcmp(v, lit, n);
}

bool jscan_path_is(const struct jscan *s, int depth, const char *const *keys, int nkeys)
{
	if (depth != nkeys)
		return false;
	for (int i = 0; i < nkeys; i++)
		if (!s->key[i] || !jscan_raw_is(s->key[i], s->klen[i], keys[i]))
			return false;
	return true;
}

bool jscan_count(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (!n || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}
