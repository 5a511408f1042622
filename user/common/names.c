/* Project names as the dashboard contract allows them: ^[A-Za-z0-9_-]{1,50}$. */
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
