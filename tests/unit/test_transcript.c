/* The transcript line parsers on fixtures (tests/unit/fixtures/transcripts:
 * Claude Code session and subagent files, a Codex CLI rollout, malformed
 * lines), the per-run message tally, the line splitter and the paths. Run
 * from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "transcript_ids.h"
#include "transcript_lines.h"

struct feed {
	enum transcript_source src;
	struct transcript_ids ids;
	struct transcript_codex last;
	int usage, none, bad, lines;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct feed *f = ctx;
	struct transcript_claude m;
	struct transcript_codex c;
	int ret;

	f->lines++;
	if (f->src == TRANSCRIPT_CLAUDE) {
		ret = transcript_parse_claude(line, len, &m);
		if (ret == 1)
			assert_int_equal(transcript_ids_add(&f->ids, &m), 0);
	} else {
		ret = transcript_parse_codex(line, len, &c);
		if (ret == 1)
			f->last = c;
	}
	f->usage += ret == 1;
	f->none += ret == 0;
	f->bad += ret < 0;
}

/* Feeds a fixture in chunks of chunk bytes, lines split across chunks. */
static void feed_file(struct feed *f, const char *name, size_t chunk)
{
	struct transcript_lines l = { 0 };
	char path[256], buf[16384];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "tests/unit/fixtures/transcripts/%s", name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_true(n < sizeof(buf));
	for (size_t at = 0; at < n; at += chunk)
		assert_int_equal(transcript_lines_feed(&l, buf + at,
						       n - at < chunk ? n - at : chunk, on_line, f),
				 0);
	assert_int_equal(l.len, 0); /* every fixture line ends with a newline */
	transcript_lines_free(&l);
}

/* A message streamed as three lines counts once, with its last usage; a
 * tool result that mentions "usage" in its text, the summary and user lines
 * carry none; the <synthetic> error message is skipped; an old line without
 * cache fields counts its input and output. */
static void test_claude_session(void **state)
{
	struct feed f = { .src = TRANSCRIPT_CLAUDE };

	feed_file(&f, "claude-session.jsonl", 97);
	assert_int_equal(f.lines, 10);
	assert_int_equal(f.usage, 6);
	assert_int_equal(f.none, 4);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.ids.n, 4);
	assert_int_equal(f.ids.sum.input, 4 + 6 + 12 + 30);
	assert_int_equal(f.ids.sum.output, 187 + 95 + 40 + 12);
	assert_int_equal(f.ids.sum.cache_read, 14080 + 15600 + 3000);
	assert_int_equal(f.ids.sum.cache_creation, 1520 + 410);
	assert_int_equal(transcript_usage_total(&f.ids.sum), 34996);

	/* The subagent's own file repeats the message the session file holds
	 * (msg_01SUB1): counted once; its other message adds. */
	feed_file(&f, "claude-subagent.jsonl", 4096);
	assert_int_equal(f.ids.n, 5);
	assert_int_equal(transcript_usage_total(&f.ids.sum), 34996 + 3180);
	assert_int_equal(f.ids.sum.input, 72);
	assert_int_equal(f.ids.sum.output, 394);
	assert_int_equal(f.ids.sum.cache_read, 35680);
	assert_int_equal(f.ids.sum.cache_creation, 2030);
	transcript_ids_free(&f.ids);
}

/* Streaming: the last line of an id wins even when its figures are lower. */
static void test_claude_last_line_wins(void **state)
{
	struct transcript_ids ids = { 0 };
	struct transcript_claude a = { .id_hash = 7, .usage = { 10, 50, 0, 0 } };
	struct transcript_claude b = { .id_hash = 7, .usage = { 10, 20, 5, 0 } };
	struct transcript_claude anon = { .id_hash = 0, .usage = { 1, 1, 0, 0 } };

	assert_int_equal(transcript_ids_add(&ids, &a), 0);
	assert_int_equal(transcript_ids_add(&ids, &b), 0);
	assert_int_equal(transcript_usage_total(&ids.sum), 35);
	/* No id: counted each time, never remembered. */
	assert_int_equal(transcript_ids_add(&ids, &anon), 0);
	assert_int_equal(transcript_ids_add(&ids, &anon), 0);
	assert_int_equal(transcript_usage_total(&ids.sum), 39);
	assert_int_equal(ids.n, 1);
	/* A figure no parser gives is refused. */
	a.usage.output = TRANSCRIPT_MSG_MAX + 1;
	assert_int_equal(transcript_ids_add(&ids, &a), -EINVAL);
	assert_int_equal(transcript_usage_total(&ids.sum), 39);
	transcript_ids_free(&ids);
}

/* Many ids: the table grows, each id stays once; past TRANSCRIPT_IDS_MAX
 * new ids are still counted. */
static void test_claude_many_ids(void **state)
{
	struct transcript_ids ids = { 0 };
	struct transcript_claude m = { .usage = { 1, 0, 0, 0 } };

	for (int round = 0; round < 2; round++)
		for (uint64_t i = 1; i <= TRANSCRIPT_IDS_MAX + 10; i++) {
			m.id_hash = i * UINT64_C(0x9e3779b97f4a7c15) | 1;
			transcript_ids_add(&ids, &m);
		}
	assert_int_equal(ids.n, TRANSCRIPT_IDS_MAX);
	assert_int_equal(ids.unremembered, 20);
	assert_int_equal(ids.sum.input, TRANSCRIPT_IDS_MAX + 20);
	transcript_ids_free(&ids);
}

static int claude(const char *line, struct transcript_claude *m)
{
	return transcript_parse_claude(line, strlen(line), m);
}

/* The unkeyed FNV-1a that placed ids before (issue 16, case 14). */
static uint64_t fnv1a(const char *v, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)v[i];
		h *= UINT64_C(1099511628211);
	}
	return h ? h : 1;
}

/* Hash flooding: 65536 ids whose FNV-1a puts them all in the first 2048 of
 * the full table's 131072 slots (1 id in 64 qualifies), one cluster that
 * every later line walked. Counted in probes, not time. */
static void test_claude_crafted_ids(void **state)
{
	struct transcript_ids raw = { 0 }, keyed = { 0 };
	struct transcript_claude m = { .usage = { 1, 0, 0, 0 } };
	char id[32], line[160];
	uint32_t tries = 0;
	size_t n;

	for (size_t k = 0; k < TRANSCRIPT_IDS_MAX; k++) {
		uint64_t h;

		do {
			n = (size_t)snprintf(id, sizeof(id), "msg_%010u", (unsigned)tries++);
			h = fnv1a(id, n);
		} while ((h & (2 * TRANSCRIPT_IDS_MAX - 1)) >= 2048);
		/* Placed as before: the bound caps the walk, the rest is counted
		 * unremembered. */
		m.id_hash = h;
		assert_int_equal(transcript_ids_add(&raw, &m), 0);
		/* Through the parser: a keyed hash, a few slots each. */
		snprintf(line, sizeof(line),
			 "{\"message\":{\"id\":\"%s\",\"usage\":{\"input_tokens\":1,"
			 "\"output_tokens\":0}}}",
			 id);
		assert_int_equal(claude(line, &m), 1);
		assert_int_equal(transcript_ids_add(&keyed, &m), 0);
	}
	assert_int_equal(raw.probe_max, TRANSCRIPT_IDS_PROBE_MAX);
	assert_true(raw.unremembered > 0);
	assert_int_equal(raw.n + raw.unremembered, TRANSCRIPT_IDS_MAX);
	assert_int_equal(raw.sum.input, TRANSCRIPT_IDS_MAX);
	/* No cluster: each id remembered once, and each lookup short. */
	assert_int_equal(keyed.n, TRANSCRIPT_IDS_MAX);
	assert_int_equal(keyed.unremembered, 0);
	assert_int_equal(keyed.sum.input, TRANSCRIPT_IDS_MAX);
	assert_true(keyed.probe_max < TRANSCRIPT_IDS_PROBE_MAX);
	/* Each line again: found, replaced, not added. */
	for (uint32_t i = 0; i < tries; i++) {
		n = (size_t)snprintf(id, sizeof(id), "msg_%010u", (unsigned)i);
		if ((fnv1a(id, n) & (2 * TRANSCRIPT_IDS_MAX - 1)) >= 2048)
			continue;
		snprintf(line, sizeof(line),
			 "{\"message\":{\"id\":\"%s\",\"usage\":{\"input_tokens\":2,"
			 "\"output_tokens\":0}}}",
			 id);
		assert_int_equal(claude(line, &m), 1);
		assert_int_equal(transcript_ids_add(&keyed, &m), 0);
	}
	assert_int_equal(keyed.n, TRANSCRIPT_IDS_MAX);
	assert_int_equal(keyed.sum.input, 2 * TRANSCRIPT_IDS_MAX);
	transcript_ids_free(&raw);
	transcript_ids_free(&keyed);
}

static void test_claude_malformed(void **state)
{
	struct feed f = { .src = TRANSCRIPT_CLAUDE };
	struct transcript_claude m;
	char deep[5 * (TRANSCRIPT_DEPTH_MAX + 4) + 8];
	size_t n = 0;

	feed_file(&f, "malformed.jsonl", 13);
	assert_int_equal(f.lines, 12);
	assert_int_equal(f.bad, 12);
	assert_int_equal(f.usage, 0);
	assert_int_equal(transcript_usage_total(&f.ids.sum), 0);

	/* Nesting past the limit is refused, not recursed into. */
	deep[n++] = '{';
	for (int i = 0; i < TRANSCRIPT_DEPTH_MAX + 3; i++) {
		memcpy(deep + n, "\"a\":{", 5);
		n += 5;
	}
	assert_true(n < sizeof(deep));
	assert_int_equal(transcript_parse_claude(deep, n, &m), -EINVAL);
	/* Not JSON, empty, blanks. */
	assert_int_equal(transcript_parse_claude("", 0, &m), -EINVAL);
	assert_int_equal(transcript_parse_claude("  \r", 3, &m), -EINVAL);
	assert_int_equal(claude("{}", &m), 0);
	/* A NUL inside the line is not JSON. */
	assert_int_equal(transcript_parse_claude("{\"a\":1}\0", 8, &m), -EINVAL);
	/* Null cache fields are 0 (a CR before the newline is a blank); null
	 * output is not. */
	assert_int_equal(claude("{\"message\":{\"id\":\"x\",\"usage\":{\"input_tokens\":3,"
				"\"output_tokens\":4,\"cache_read_input_tokens\":null}}}\r",
				&m),
			 1);
	assert_int_equal(transcript_usage_total(&m.usage), 7);
	assert_int_equal(claude("{\"message\":{\"usage\":{\"input_tokens\":3,"
				"\"output_tokens\":null}}}",
				&m),
			 -EINVAL);
	/* Usage anywhere but message.usage is not the message's. */
	assert_int_equal(claude("{\"data\":{\"message\":{\"usage\":{\"input_tokens\":3,"
				"\"output_tokens\":4}}}}",
				&m),
			 0);
	/* The largest figure taken (no id: 0). */
	assert_int_equal(claude("{\"message\":{\"usage\":{\"input_tokens\":1000000000,"
				"\"output_tokens\":0}}}",
				&m),
			 1);
	assert_int_equal(m.id_hash, 0);
	assert_int_equal(m.usage.input, TRANSCRIPT_MSG_MAX);
	/* usage that is not an object, figures inside arrays: none. */
	assert_int_equal(claude("{\"message\":{\"usage\":[{\"input_tokens\":3}]}}", &m), 0);
	/* Escaped strings and every literal are well-formed. */
	assert_int_equal(claude("{\"k\":\"\\u00e9\\n\\\"\\\\\",\"t\":true,\"f\":false,\"n\":null,"
				"\"x\":-0.5e+3,\"a\":[],\"o\":{}}",
				&m),
			 0);
	assert_int_equal(claude("{\"k\":\"\\u00g9\"}", &m), -EINVAL);
	assert_int_equal(claude("{\"k\":01}", &m), -EINVAL);
	assert_int_equal(claude("{\"k\":tru}", &m), -EINVAL);
	assert_int_equal(claude("{\"k\" 1}", &m), -EINVAL);
	assert_int_equal(claude("{\"k\":1,}", &m), -EINVAL);
	transcript_ids_free(&f.ids);
}

/* Codex: totals are cumulative, the last event wins; a token_count with
 * null info, and other lines, carry none. */
static void test_codex_rollout(void **state)
{
	struct feed f = { .src = TRANSCRIPT_CODEX };

	feed_file(&f, "codex-rollout.jsonl", 50);
	assert_int_equal(f.lines, 8);
	assert_int_equal(f.usage, 3);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.last.total.input, 19500 - 12800);
	assert_int_equal(f.last.total.cache_read, 12800);
	assert_int_equal(f.last.total.output, 720);
	assert_int_equal(f.last.total.cache_creation, 0);
	assert_int_equal(transcript_usage_total(&f.last.total), 20220);
	assert_true(f.last.have_last);
	assert_int_equal(transcript_usage_total(&f.last.last), 10920);
}

static void test_codex_malformed(void **state)
{
	struct transcript_codex c;
	struct transcript_usage base = { 100, 10, 50, 0 }, total = { 90, 30, 50, 0 }, d;
	static const char *const bad[] = {
		/* totals missing, negative, fractional, huge, a string */
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":{}}}",
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
		"{\"total_token_usage\":{\"input_tokens\":-1,\"output_tokens\":2}}}}",
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
		"{\"total_token_usage\":{\"input_tokens\":1.5,\"output_tokens\":2}}}}",
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
		"{\"total_token_usage\":{\"input_tokens\":1000000000000001,\"output_tokens\":2}}}}",
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
		"{\"total_token_usage\":{\"input_tokens\":\"1\",\"output_tokens\":2}}}}",
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
		"{\"total_token_usage\":{\"input_tokens\":1}}}}",
		"{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
		"{\"total_token_usage\":{\"input_tokens\":1,\"output_tokens\":2}}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(transcript_parse_codex(bad[i], strlen(bad[i]), &c), -EINVAL);
	/* Not a token_count: nothing, whatever its numbers. */
	const char *other = "{\"type\":\"response_item\",\"payload\":{\"type\":\"token_count\","
			    "\"info\":{\"total_token_usage\":-1}}}";
	assert_int_equal(transcript_parse_codex(other, strlen(other), &c), 0);
	/* A malformed last_token_usage only loses the last turn. */
	const char *ok = "{\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":"
			 "{\"total_token_usage\":{\"input_tokens\":5,\"cached_input_tokens\":9,"
			 "\"output_tokens\":2},\"last_token_usage\":{\"input_tokens\":-5}}}}";
	assert_int_equal(transcript_parse_codex(ok, strlen(ok), &c), 1);
	assert_false(c.have_last);
	/* Cached input beyond input is held to it. */
	assert_int_equal(c.total.input, 0);
	assert_int_equal(c.total.cache_read, 5);
	/* Since a baseline: never negative per field. */
	transcript_codex_since(&base, &total, &d);
	assert_int_equal(d.input, 0);
	assert_int_equal(d.output, 20);
	assert_int_equal(d.cache_read, 0);
}

static int n_lines;
static char last_line[64];

static void count_line(void *ctx, const char *line, size_t len)
{
	n_lines++;
	snprintf(last_line, sizeof(last_line), "%.*s", (int)len, line);
}

/* A partial line waits for its newline; a line past TRANSCRIPT_LINE_MAX is
 * dropped whole, and the next one is read. */
static void test_lines(void **state)
{
	struct transcript_lines l = { 0 };
	char *big = malloc(TRANSCRIPT_LINE_MAX + 10);

	assert_non_null(big);
	memset(big, 'x', TRANSCRIPT_LINE_MAX + 10);
	n_lines = 0;
	transcript_lines_feed(&l, "ab", 2, count_line, NULL);
	assert_int_equal(n_lines, 0);
	transcript_lines_feed(&l, "c\nde", 4, count_line, NULL);
	assert_int_equal(n_lines, 1);
	assert_string_equal(last_line, "abc");
	transcript_lines_feed(&l, big, TRANSCRIPT_LINE_MAX, count_line, NULL);
	transcript_lines_feed(&l, big, 10, count_line, NULL);
	assert_true(l.skipping);
	assert_int_equal(l.len, 0);
	transcript_lines_feed(&l, "yy\nok\n", 6, count_line, NULL);
	assert_int_equal(n_lines, 2);
	assert_string_equal(last_line, "ok");
	assert_int_equal(l.dropped, 1);
	/* Exactly the maximum, in one piece or two, is a line. */
	big[TRANSCRIPT_LINE_MAX] = '\n';
	transcript_lines_feed(&l, big, TRANSCRIPT_LINE_MAX + 1, count_line, NULL);
	assert_int_equal(n_lines, 3);
	transcript_lines_feed(&l, big, 100, count_line, NULL);
	transcript_lines_feed(&l, big + 100, TRANSCRIPT_LINE_MAX + 1 - 100, count_line, NULL);
	assert_int_equal(n_lines, 4);
	assert_int_equal(l.dropped, 1);
	/* A complete line past the maximum, in one piece: dropped. */
	big[TRANSCRIPT_LINE_MAX] = 'x';
	big[TRANSCRIPT_LINE_MAX + 1] = '\n';
	transcript_lines_feed(&l, big, TRANSCRIPT_LINE_MAX + 2, count_line, NULL);
	assert_int_equal(n_lines, 4);
	assert_int_equal(l.dropped, 2);
	transcript_lines_feed(&l, "\n", 1, count_line, NULL);
	assert_int_equal(n_lines, 5); /* the empty line after it */
	/* Dropped on purpose (memory): the rest of that line too. */
	transcript_lines_feed(&l, "par", 3, count_line, NULL);
	transcript_lines_drop(&l);
	assert_int_equal(l.cap, 0);
	transcript_lines_feed(&l, "tial\nnext\n", 10, count_line, NULL);
	assert_int_equal(n_lines, 6);
	assert_string_equal(last_line, "next");
	assert_int_equal(l.dropped, 3);
	transcript_lines_reset(&l);
	transcript_lines_free(&l);
	free(big);
}

static void test_env(void **state)
{
	static const char env[] = "PATH=/bin\0HOMEX=/no\0HOME=/home/alice\0CODEX_HOME=\0CUT=abc";
	size_t n;
	const char *v;

	v = transcript_env_get(env, sizeof(env) - 1, "HOME", &n);
	assert_non_null(v);
	assert_int_equal(n, 11);
	assert_memory_equal(v, "/home/alice", 11);
	v = transcript_env_get(env, sizeof(env) - 1, "CODEX_HOME", &n);
	assert_non_null(v);
	assert_int_equal(n, 0);
	assert_null(transcript_env_get(env, sizeof(env) - 1, "CUT", &n)); /* no NUL: cut off */
	assert_null(transcript_env_get(env, sizeof(env) - 1, "HOM", &n));
	assert_null(transcript_env_get(env, 0, "HOME", &n));
}

static void test_claude_dir(void **state)
{
	char out[256];

	assert_int_equal(transcript_claude_dir("/home/alice/.claude", "/home/alice/src/my_app.v2",
					       out, sizeof(out)),
			 0);
	assert_string_equal(out, "/home/alice/.claude/projects/-home-alice-src-my-app-v2");
	/* Trailing slashes of the config do not count; one '-' per UTF-16
	 * unit: é is one, an emoji two. */
	assert_int_equal(transcript_claude_dir("/c//", "/tmp/caf\xc3\xa9/\xf0\x9f\x98\x80x", out,
					       sizeof(out)),
			 0);
	assert_string_equal(out, "/c/projects/-tmp-caf----x");
	assert_int_equal(transcript_claude_dir("/", "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/projects/-");
	assert_int_equal(transcript_claude_dir("rel", "/x", out, sizeof(out)), -EINVAL);
	assert_int_equal(transcript_claude_dir("/c", "x", out, sizeof(out)), -EINVAL);
	assert_int_equal(transcript_claude_dir("/c", "/abcde", out, 18), -ENAMETOOLONG);
	assert_int_equal(transcript_claude_dir("/c", "/abcde", out, 19), 0);
}

static void test_classify(void **state)
{
	char dir[256];

	assert_int_equal(transcript_classify("/h/.codex/sessions/2025/10/20/"
					     "rollout-2025-10-20T10-00-00-0199.jsonl",
					     "/h/.claude", "/h/.codex/", dir, sizeof(dir)),
			 TRANSCRIPT_CODEX);
	assert_int_equal(transcript_classify("/h/.codex/sessions/2025/10/20/other.jsonl", NULL,
					     "/h/.codex", dir, sizeof(dir)),
			 -1);
	assert_int_equal(transcript_classify("/h/.codex/history.jsonl", NULL, "/h/.codex", dir,
					     sizeof(dir)),
			 -1);
	assert_int_equal(transcript_classify("/h/.claude/projects/-src-x/5f1d.jsonl", "/h/.claude",
					     "/h/.codex", dir, sizeof(dir)),
			 TRANSCRIPT_CLAUDE);
	assert_string_equal(dir, "/h/.claude/projects/-src-x");
	assert_int_equal(transcript_classify("/h/.claude/projects/-src-x/5f1d/subagents/a.jsonl",
					     "/h/.claude", NULL, dir, sizeof(dir)),
			 TRANSCRIPT_CLAUDE);
	assert_string_equal(dir, "/h/.claude/projects/-src-x");
	assert_int_equal(transcript_classify("/h/.claude/projects/x.jsonl", "/h/.claude", NULL, dir,
					     sizeof(dir)),
			 -1);
	assert_int_equal(transcript_classify("/h/.claude/projects/-x/a.jsonl (deleted)",
					     "/h/.claude", NULL, dir, sizeof(dir)),
			 -1);
	assert_int_equal(transcript_classify("/h/.claude/projects/../../etc/a.jsonl", "/h/.claude",
					     NULL, dir, sizeof(dir)),
			 -1);
	assert_int_equal(transcript_classify("/h/.claudex/projects/-x/a.jsonl", "/h/.claude", NULL,
					     dir, sizeof(dir)),
			 -1);
	assert_int_equal(transcript_classify("/h/.claude/projects/-x/a.jsonl", "/h/.claude", NULL,
					     dir, 8),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claude_session),
		cmocka_unit_test(test_claude_last_line_wins),
		cmocka_unit_test(test_claude_many_ids),
		cmocka_unit_test(test_claude_crafted_ids),
		cmocka_unit_test(test_claude_malformed),
		cmocka_unit_test(test_codex_rollout),
		cmocka_unit_test(test_codex_malformed),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_claude_dir),
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
