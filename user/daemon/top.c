/* A run's "top": CPU by command name, merged from exited and live tasks. */
#include <errno.h>
#include <string.h>

#include "top.h"

int top_add(struct top_acc *a, const char *comm, uint64_t ns)
{
	char name[TRACKER_COMM_LEN + 1];
	size_t len = strnlen(comm, TRACKER_COMM_LEN);

	if (!len)
		comm = "?", len = 1;
	memcpy(name, comm, len);
	name[len] = '\0';
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->e[i].comm, name)) {
			a->e[i].ns += ns;
			return 0;
		}
	if (a->n == TOP_NAMES_MAX)
		return -ENOSPC;
	memcpy(a->e[a->n].comm, name, len + 1);
	a->e[a->n++].ns = ns;
	return 0;
}

static int before(const struct top_entry *x, const struct top_entry *y)
{
	if (x->ns != y->ns)
		return x->ns > y->ns;
	return strcmp(x->comm, y->comm) < 0;
}

void top_result(const struct top_acc *a, struct top *out)
{
	out->n = 0;
	/* Insertion into a short sorted list: TOP_SHOWN is small. */
	for (size_t i = 0; i < a->n; i++) {
		const struct top_entry *x = &a->e[i];
		size_t at = out->n;

		if (!x->ns)
			continue;
		while (at > 0 && before(x, &out->e[at - 1]))
			at--;
		if (at == TOP_SHOWN)
			continue;
		if (out->n < TOP_SHOWN)
			out->n++;
		memmove(&out->e[at + 1], &out->e[at], (out->n - 1 - at) * sizeof(out->e[0]));
		out->e[at] = *x;
	}
}
