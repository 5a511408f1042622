/* Project names as the dashboard contract allows them: ^[A-Za-z0-9_-]{1,50}$;
 * other names (commands, run ids) made safe to print. */
#include <string.h>

#include "names.h"

bool names_project_valid(const char *name)
{
	int n = 0;

	if (!name)
		return false;
	for (const char *p = name; *p; p++, n++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';

		if (!ok || n >= NAMES_PROJECT_MAX)
			return false;
	}
	return n > 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0. s is NUL-terminated, and NUL is
 * never a continuation byte, so the walk stops there. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void names_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		/* U+0080..U+009F: C1 controls, which some terminals obey (CSI is U+009B). */
		bool bad = n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
			   (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);

		if (!n)
			n = 1;
		if (bad)
			memset(p, '?', n);
		p += n;
	}
}
