/* A byte stream split into lines, a partial one kept (bounded) until its newline. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transcript_lines.h"

/* A kept partial line's buffer beyond this is let go once the line is done. */
#define LINES_KEEP (64 * 1024)

static int keep(struct transcript_lines *l, const char *p, size_t k)
{
	if (l->len + k > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *b;

		while (cap < l->len + k)
			cap *= 2;
		if (cap > TRANSCRIPT_LINE_MAX)
			cap = TRANSCRIPT_LINE_MAX;
		b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, k);
	l->len += k;
	return 0;
}

static void done_with_buffer(struct transcript_lines *l)
{
	l->len = 0;
	if (l->cap > LINES_KEEP) {
		free(l->buf);
		l->buf = NULL;
		l->cap = 0;
	}
}

int transcript_lines_feed(struct transcript_lines *l, const char *data, size_t n,
			  transcript_line_fn fn, void *ctx)
{
	const char *p = data, *end = data + n;
	int err = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = (size_t)((nl ? nl : end) - p);

		if (l->skipping) {
			l->skipping = !nl;
		} else if (!nl) {
			/* A partial line: kept until its newline, if it may still fit. */
			if (l->len + k > TRANSCRIPT_LINE_MAX) {
				done_with_buffer(l);
				l->skipping = true;
				l->dropped++;
			} else if (keep(l, p, k)) {
				done_with_buffer(l);
				l->skipping = true;
				err = -ENOMEM;
			}
		} else if (l->len) {
			if (l->len + k > TRANSCRIPT_LINE_MAX) {
				l->dropped++;
			} else if (keep(l, p, k)) {
				err = -ENOMEM;
			} else {
				fn(ctx, l->buf, l->len);
			}
			done_with_buffer(l);
		} else if (k > TRANSCRIPT_LINE_MAX) {
			l->dropped++;
		} else {
			fn(ctx, p, k);
		}
		p = nl ? nl + 1 : end;
	}
	return err;
}

void transcript_lines_reset(struct transcript_lines *l)
{
	done_with_buffer(l);
	l->skipping = false;
}

void transcript_lines_drop(struct transcript_lines *l)
{
	if (l->len) {
		l->skipping = true;
		l->dropped++;
	}
	free(l->buf);
	l->buf = NULL;
	l->cap = l->len = 0;
}

void transcript_lines_free(struct transcript_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}
