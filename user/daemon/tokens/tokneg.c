/* Paths found missing lately, not looked for again for a while. */
#include "tokneg.h"
#include "tokdefs.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

bool tokneg_has(const struct tokneg *n, const char *path, int64_t now_ns)
{
	uint64_t h = hash_str(path);

	for (int i = 0; i < TOKNEG_MAX; i++)
		if (n->e[i].hash == h && n->e[i].until_ns > now_ns)
			return true;
	return false;
}

void tokneg_add(struct tokneg *n, const char *path, int64_t now_ns)
{
	n->e[n->next].hash = hash_str(path);
	n->e[n->next].until_ns = now_ns + TOKSCAN_RESCAN_NS;
	n->next = (n->next + 1) % TOKNEG_MAX;
}
