/* Project names and names_sanitize against independent oracles: the regular
 * expression spelled out, and glibc's own UTF-8 decoder. */
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz.h"
#include "names.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FUZZ_ASSERT(setlocale(LC_CTYPE, "C.UTF-8"));
	return 0;
}

/* Whether s is well-formed UTF-8 with no C0, DEL or C1 control. */
static bool printable_utf8(const char *s)
{
	mbstate_t st;
	size_t n = strlen(s);

	memset(&st, 0, sizeof(st));
	while (n) {
		wchar_t w;
		size_t k = mbrtowc(&w, s, n, &st);

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
			return false;
		if (w < 0x20 || (w >= 0x7f && w < 0xa0) || (w >= 0xd800 && w < 0xe000) ||
		    w > 0x10ffff)
			return false;
		s += k;
		n -= k;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ok_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_-";
	char *s = fuzz_cstr(data, size), *orig;
	size_t n = strlen(s);
	bool want = n >= 1 && n <= NAMES_PROJECT_MAX && strspn(s, ok_chars) == n;

	FUZZ_ASSERT(names_project_valid(s) == want);
	orig = strdup(s);
	FUZZ_ASSERT(orig);
	names_sanitize(s);
	FUZZ_ASSERT(strlen(s) == n);
	FUZZ_ASSERT(printable_utf8(s));
	/* Only bad bytes change, and they become '?'. */
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(s[i] == orig[i] || s[i] == '?');
	if (printable_utf8(orig))
		FUZZ_ASSERT(!strcmp(s, orig));
	names_sanitize(orig);
	names_sanitize(orig);
	FUZZ_ASSERT(!strcmp(s, orig));
	free(orig);
	free(s);
	return 0;
}
