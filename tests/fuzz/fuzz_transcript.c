/* Transcript lines as the daemon reads them: the input is split in two
 * chunks at a point its first byte picks (a line cut across reads), and each
 * line goes through both parsers, Claude Code messages into a run's tally.
 * Whatever parses holds figures in range, and the tally never wraps. The
 * input as a C string is also a working directory and an fd's path. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "transcript.h"
#include "transcript_ids.h"
#include "transcript_lines.h"

struct seen {
	struct transcript_ids ids;
	size_t lines, bytes, usage;
};

static void check_usage(const struct transcript_usage *u, uint64_t max)
{
	FUZZ_ASSERT(u->input <= max && u->output <= max && u->cache_read <= max &&
		    u->cache_creation <= max);
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;
	struct transcript_claude m;
	struct transcript_codex c;
	int ret;

	FUZZ_ASSERT(len <= TRANSCRIPT_LINE_MAX && !memchr(line, '\n', len));
	s->lines++;
	s->bytes += len;
	ret = transcript_parse_claude(line, len, &m);
	FUZZ_ASSERT(ret == 1 || ret == 0 || ret == -EINVAL);
	if (ret == 1) {
		check_usage(&m.usage, TRANSCRIPT_MSG_MAX);
		FUZZ_ASSERT(transcript_ids_add(&s->ids, &m) == 0);
		s->usage++;
	}
	ret = transcript_parse_codex(line, len, &c);
	FUZZ_ASSERT(ret == 1 || ret == 0 || ret == -EINVAL);
	if (ret == 1) {
		check_usage(&c.total, TRANSCRIPT_TOTAL_MAX);
		/* Uncached and cached input together are the line's input. */
		FUZZ_ASSERT(c.total.input + c.total.cache_read <= TRANSCRIPT_TOTAL_MAX);
		FUZZ_ASSERT(c.total.cache_creation == 0);
		if (c.have_last)
			check_usage(&c.last, TRANSCRIPT_TOTAL_MAX);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transcript_lines l = { 0 };
	struct seen s = { 0 };
	size_t cut = size ? data[0] % (size + 1) : 0;
	char *str, out[256];

	transcript_lines_feed(&l, (const char *)data, cut, on_line, &s);
	transcript_lines_feed(&l, (const char *)data + cut, size - cut, on_line, &s);
	FUZZ_ASSERT(s.bytes + s.lines <= size);
	FUZZ_ASSERT(l.len <= TRANSCRIPT_LINE_MAX);
	/* Each message counts at most once: the tally is bounded by the lines
	 * that carried usage (a wrap would show as a huge sum). */
	check_usage(&s.ids.sum, (uint64_t)s.usage * TRANSCRIPT_MSG_MAX);
	FUZZ_ASSERT(s.ids.n <= s.usage);
	transcript_ids_free(&s.ids);
	transcript_lines_free(&l);

	str = fuzz_cstr(data, size);
	if (!transcript_claude_dir("/h/.claude", str, out, sizeof(out))) {
		FUZZ_ASSERT(strlen(out) < sizeof(out));
		for (const char *p = out + strlen("/h/.claude/projects/"); *p; p++)
			FUZZ_ASSERT((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || *p == '-');
	}
	if (transcript_classify(str, "/h/.claude", "/h/.codex", out, sizeof(out)) ==
	    TRANSCRIPT_CLAUDE)
		FUZZ_ASSERT(!strncmp(out, "/h/.claude/projects/", 20) && strlen(out) > 20 &&
			    !strchr(out + 20, '/'));
	free(str);
	return 0;
}
