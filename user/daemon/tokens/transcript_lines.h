/* A transcript's byte stream split into lines, a partial line kept until its
 * newline comes, within a bound (pure: no I/O). */
#ifndef AGENTPERF_TRANSCRIPT_LINES_H
#define AGENTPERF_TRANSCRIPT_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A transcript line longer than this is dropped, up to its newline. */
#define TRANSCRIPT_LINE_MAX (1 << 20)

/* Splits a byte stream into lines. A partial line is kept (up to
 * TRANSCRIPT_LINE_MAX) until its newline comes. Zeroed: no partial line. */
struct transcript_lines {
	char *buf;
	size_t len, cap;
	bool skipping; /* in a line that was too long: dropped up to its newline */
	uint64_t dropped; /* lines dropped for length */
};

typedef void (*transcript_line_fn)(void *ctx, const char *line, size_t len);

/* Calls fn for each complete line of data (without its newline), including
 * one that began in an earlier call. Returns 0, or -ENOMEM when a partial
 * line could not be kept (it is dropped). */
int transcript_lines_feed(struct transcript_lines *l, const char *data, size_t n,
			  transcript_line_fn fn, void *ctx);
/* Forgets any partial line. */
void transcript_lines_reset(struct transcript_lines *l);
/* Frees the buffer; a partial line it held is dropped (counted in dropped)
 * with what is left of it, up to its newline. */
void transcript_lines_drop(struct transcript_lines *l);
/* Frees the buffer; l becomes empty. */
void transcript_lines_free(struct transcript_lines *l);

#endif
