/* The transcript follower over a fake PROC_ROOT (environ, cwd and fd links
 * of made-up processes) and real files in a temporary home: what was
 * written before the run does not count, what is appended does, a file made
 * during the run counts whole, subagents' copies count once, a rollout held
 * open is followed, other users' and odd files are never read, and a large
 * transcript already there is not read at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tokengine.h"
#include "unit_sh.h"

static char T[64], proc[128], home[128], proj[256], codex_day[256];
static struct tokengine *ts;

static int64_t real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* One Claude Code assistant line. */
static void claude_line(const char *path, const char *id, int in, int out, int cr, int cc)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "{\"type\":\"assistant\",\"message\":{\"id\":\"%s\",\"model\":\"claude-x\","
		 "\"content\":[{\"type\":\"text\",\"text\":\"secret prompt text\"}],\"usage\":"
		 "{\"input_tokens\":%d,\"cache_creation_input_tokens\":%d,"
		 "\"cache_read_input_tokens\":%d,\"output_tokens\":%d}}}\n",
		 id, in, cc, cr, out);
	append(path, line);
}

static void codex_line(const char *path, int in, int cached, int out, int lin, int lcached,
		       int lout)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "{\"timestamp\":\"2025-10-20T10:00:05.000Z\",\"type\":\"event_msg\",\"payload\":"
		 "{\"type\":\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":%d,"
		 "\"cached_input_tokens\":%d,\"output_tokens\":%d,\"reasoning_output_tokens\":0,"
		 "\"total_tokens\":%d},\"last_token_usage\":{\"input_tokens\":%d,"
		 "\"cached_input_tokens\":%d,\"output_tokens\":%d,\"reasoning_output_tokens\":0,"
		 "\"total_tokens\":%d}},\"rate_limits\":null}}\n",
		 in, cached, out, in + out, lin, lcached, lout, lin + lout);
	append(path, line);
}

/* pid's real, effective and filesystem uids, as /proc/PID/status shows them
 * (fake_proc makes it root's: the tests run as root). */
static void fake_uids(int pid, unsigned ruid, unsigned euid, unsigned fsuid)
{
	sh("printf 'Name:\\tfake\\nState:\\tS (sleeping)\\nTgid:\\t%d\\nPPid:\\t1\\n"
	   "Uid:\\t%u\\t%u\\t%u\\t%u\\n' >%s/%d/status",
	   pid, ruid, euid, euid, fsuid, proc, pid);
}

/* A made-up process: its working directory, its environment (NAME=VALUE
 * entries, NUL-separated as /proc/PID/environ holds them) and an fd dir. */
static void fake_proc(int pid, const char *cwd, const char *fmt, ...)
{
	char path[256], env[1024];
	va_list ap;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%d/fd", proc, pid);
	sh("mkdir -p %s", path);
	sh("ln -sfn %s %s/%d/cwd", cwd, proc, pid);
	fake_uids(pid, 0, 0, 0);
	va_start(ap, fmt);
	n = vsnprintf(env, sizeof(env), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < (int)sizeof(env));
	for (int i = 0; i < n; i++)
		if (env[i] == ';')
			env[i] = '\0';
	snprintf(path, sizeof(path), "%s/%d/environ", proc, pid);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(env, 1, (size_t)n + 1, f);
	fclose(f);
}

static bool use_inotify;

static int setup(void **state)
{
	char cwd[128];
	size_t n;

	snprintf(T, sizeof(T), "/tmp/agentperf-tokengine.XXXXXX");
	assert_non_null(mkdtemp(T));
	snprintf(proc, sizeof(proc), "%s/proc", T);
	snprintf(home, sizeof(home), "%s/home", T);
	snprintf(proj, sizeof(proj), "%s/.claude/projects/%s", home, "");
	/* The escaped working directory: every non-alphanumeric as '-'. */
	n = strlen(proj);
	for (const char *p = T; *p; p++)
		proj[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					    (*p >= '0' && *p <= '9')
				    ? *p
				    : '-';
	proj[n] = '\0';
	strcat(proj, "-src-demo");
	snprintf(codex_day, sizeof(codex_day), "%s/codex/sessions/2025/10/20", T);
	sh("mkdir -p %s %s %s/src/demo %s/src/other", proj, codex_day, T, T);
	snprintf(cwd, sizeof(cwd), "%s/src/demo", T);
	fake_proc(100, cwd, "PATH=/bin;HOME=%s;CODEX_HOME=%s/codex", home, T);
	ts = tokengine_new(proc, use_inotify, NULL, NULL);
	assert_non_null(ts);
	return 0;
}

static int teardown(void **state)
{
	tokengine_free(ts);
	sh("rm -rf %s", T);
	return 0;
}

static struct tokscan_result tick(uint32_t slot, uint32_t gen, int64_t started, const pid_t *pids,
				  size_t n)
{
	struct tokscan_result r;

	tokengine_begin(ts);
	tokengine_run(ts, slot, gen, started, 0, pids, n, mono_ns(), &r);
	return r;
}

/* Only a process wholly the run owner's names transcripts (issue 16, case
 * 1): a setuid helper (effective uid root) in a user's run, or a process
 * that switched its filesystem uid, is no source; the owner's own is. */
static void test_owner_only(void **state)
{
	char sess[320];
	pid_t pid = 100;
	struct tokscan_result r;
	int64_t started = real_ns();

	snprintf(sess, sizeof(sess), "%s/s.jsonl", proj);
	fake_uids(pid, 1000, 0, 0); /* chfn run by uid 1000 */
	tokengine_begin(ts);
	tokengine_run(ts, 1, 1, started, 1000, &pid, 1, mono_ns(), &r);
	fake_uids(pid, 0, 0, 1000); /* root, with uid 1000's filesystem uid */
	tokengine_begin(ts);
	tokengine_run(ts, 2, 2, started, 0, &pid, 1, mono_ns(), &r);
	fake_uids(pid, 0, 0, 0); /* root's own, in root's run */
	tokengine_begin(ts);
	tokengine_run(ts, 3, 3, started, 0, &pid, 1, mono_ns(), &r);
	claude_line(sess, "msg_1", 4242, 1, 0, 0); /* root's file, written during the runs */
	fake_uids(pid, 1000, 0, 0);
	tokengine_begin(ts);
	tokengine_run(ts, 1, 1, started, 1000, &pid, 1, mono_ns(), &r);
	assert_false(r.have);
	fake_uids(pid, 0, 0, 1000);
	tokengine_begin(ts);
	tokengine_run(ts, 2, 2, started, 0, &pid, 1, mono_ns(), &r);
	assert_false(r.have);
	fake_uids(pid, 0, 0, 0);
	tokengine_begin(ts);
	tokengine_run(ts, 3, 3, started, 0, &pid, 1, mono_ns(), &r);
	assert_true(r.have);
	assert_int_equal(transcript_usage_total(&r.usage), 4243);
}

static void test_claude(void **state)
{
	char old[320], fresh[320], sub[320], other[320], link[320], fifo[320], big[320];
	pid_t pid = 100;
	struct tokscan_result r;
	int64_t started;
	uint64_t read0;
	int fd;

	snprintf(old, sizeof(old), "%s/old-session.jsonl", proj);
	snprintf(fresh, sizeof(fresh), "%s/new-session.jsonl", proj);
	snprintf(big, sizeof(big), "%s/big-session.jsonl", proj);
	/* Before the run: a session with usage, and a 200 MB one (sparse). */
	claude_line(old, "msg_old1", 1000, 1000, 0, 0);
	claude_line(old, "msg_old2", 1000, 1000, 0, 0);
	fd = open(big, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 200 << 20), 0);
	assert_int_equal(pwrite(fd, "\n", 1, (200 << 20) - 1), 1);
	close(fd);
	sleep_ms(120); /* past the birth slack */
	started = real_ns();

	r = tick(3, 7, started, &pid, 1);
	assert_false(r.have);
	read0 = tokengine_stats(ts)->bytes_read;
	assert_int_equal(read0, 0);

	/* Appended during the run: counted, streaming repeats once. */
	claude_line(old, "msg_a", 10, 1, 100, 5);
	claude_line(old, "msg_a", 10, 20, 100, 5);
	claude_line(big, "msg_b", 1, 2, 3, 4);
	r = tick(3, 7, started, &pid, 1);
	assert_true(r.have);
	assert_int_equal(r.source, TRANSCRIPT_CLAUDE);
	assert_int_equal(transcript_usage_total(&r.usage), 135 + 10);
	/* The 200 MB file cost the appended line only. */
	assert_true(tokengine_stats(ts)->bytes_read - read0 < 4096);

	/* A session made during the run counts whole; its subagent's file
	 * repeats msg_c: once. */
	claude_line(fresh, "msg_c", 7, 8, 0, 0);
	r = tick(3, 7, started, &pid, 1);
	assert_int_equal(transcript_usage_total(&r.usage), 145 + 15);
	sh("mkdir -p %s/new-session/subagents", proj);
	snprintf(sub, sizeof(sub), "%s/new-session/subagents/agent-1.jsonl", proj);
	claude_line(sub, "msg_c", 7, 8, 0, 0);
	claude_line(sub, "msg_d", 1, 1, 1, 1);
	tick(3, 7, started, &pid, 1); /* the new directory is watched */
	claude_line(sub, "msg_e", 2, 0, 0, 0);
	r = tick(3, 7, started, &pid, 1);
	assert_int_equal(transcript_usage_total(&r.usage), 160 + 4 + 2);
	assert_int_equal(r.usage.input, 10 + 1 + 7 + 1 + 2);
	assert_int_equal(r.usage.output, 20 + 2 + 8 + 1);
	assert_int_equal(r.usage.cache_read, 100 + 3 + 1);
	assert_int_equal(r.usage.cache_creation, 5 + 4 + 1);

	/* Never read: a link, a FIFO (no hang), another user's file. */
	snprintf(link, sizeof(link), "%s/link.jsonl", proj);
	sh("ln -s %s %s", old, link);
	snprintf(fifo, sizeof(fifo), "%s/fifo.jsonl", proj);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	fd = open(fifo, O_RDWR | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	if (geteuid() == 0) {
		snprintf(other, sizeof(other), "%s/someone-else.jsonl", proj);
		claude_line(other, "msg_z", 500, 500, 0, 0);
		assert_int_equal(chown(other, 65534, 65534), 0);
		append(other, "\n");
	}
	r = tick(3, 7, started, &pid, 1);
	close(fd);
	assert_int_equal(transcript_usage_total(&r.usage), 166);

	/* The end reads what came after the last tick. */
	claude_line(old, "msg_f", 0, 4, 0, 0);
	assert_true(tokengine_end(ts, 3, 7, &r));
	assert_int_equal(transcript_usage_total(&r.usage), 170);
	assert_false(tokengine_end(ts, 3, 7, &r));

	/* A new run in the slot starts from nothing, from where files stand. */
	sleep_ms(120);
	started = real_ns();
	r = tick(3, 8, started, &pid, 1);
	assert_false(r.have);
	claude_line(old, "msg_g", 1, 1, 0, 0);
	r = tick(3, 8, started, &pid, 1);
	assert_int_equal(transcript_usage_total(&r.usage), 2);
}

/* Two runs of one user in one working directory (issue 16, case 9) share
 * its project directory: each session goes to the run whose processes
 * claim it (Claude Code gives its tools CLAUDE_CODE_SESSION_ID); one no run
 * claims waits while the directory is shared and, once a run that shared
 * it has ended, is counted by none (it could be either's). */
static void test_two_runs_one_directory(void **state)
{
	char sa[320], sb[320], sc[320], cwd[128];
	pid_t a_pid = 100, b_pid = 101;
	struct tokscan_result a, b;
	int64_t started = real_ns();

	snprintf(cwd, sizeof(cwd), "%s/src/demo", T);
	fake_proc(100, cwd, "HOME=%s;CLAUDE_CODE_SESSION_ID=sess-a", home);
	fake_proc(101, cwd, "HOME=%s;CLAUDE_CODE_SESSION_ID=sess-b", home);
	snprintf(sa, sizeof(sa), "%s/sess-a.jsonl", proj);
	snprintf(sb, sizeof(sb), "%s/sess-b.jsonl", proj);
	snprintf(sc, sizeof(sc), "%s/sess-c.jsonl", proj);
	tick(1, 1, started, &a_pid, 1);
	tick(2, 2, started, &b_pid, 1);
	claude_line(sa, "a1", 5, 5, 0, 0);
	claude_line(sb, "b1", 7, 7, 0, 0);
	claude_line(sc, "c1", 1, 1, 0, 0);
	for (int i = 0; i < 2; i++) {
		tokengine_begin(ts);
		tokengine_run(ts, 1, 1, started, 0, &a_pid, 1, mono_ns(), &a);
		tokengine_run(ts, 2, 2, started, 0, &b_pid, 1, mono_ns(), &b);
	}
	assert_int_equal(transcript_usage_total(&a.usage), 10);
	assert_int_equal(transcript_usage_total(&b.usage), 14);
	assert_true(tokengine_end(ts, 2, 2, &b));
	assert_int_equal(transcript_usage_total(&b.usage), 14);
	/* The session no run claimed could have been either's: no run's. A
	 * session after that, with run 1 alone, is its. */
	a = tick(1, 1, started, &a_pid, 1);
	assert_int_equal(transcript_usage_total(&a.usage), 10);
	snprintf(sc, sizeof(sc), "%s/sess-d.jsonl", proj);
	claude_line(sc, "d1", 1, 1, 0, 0);
	a = tick(1, 1, started, &a_pid, 1);
	a = tick(1, 1, started, &a_pid, 1);
	assert_int_equal(transcript_usage_total(&a.usage), 12);
}

/* One run's files spend only its own budgets (issue 16, cases 2 and 3):
 * another run's six sparse 200 GB transcripts and 64 files of one 600 KB
 * unterminated line each leave a victim's line, written in two halves,
 * and its final read whole. */
static void test_budgets_per_run(void **state)
{
	char v[320], other[256], path[320], half[160];
	pid_t attacker = 100, victim = 101;
	struct tokscan_result a, b;
	int64_t started = real_ns();
	char *junk = malloc(600 * 1024);
	size_t n;
	int fd;

	assert_non_null(junk);
	memset(junk, 'x', 600 * 1024);
	snprintf(other, sizeof(other), "%s", proj);
	n = strlen(other);
	assert_true(n > 5 && !strcmp(other + n - 5, "-demo"));
	snprintf(other + n - 5, sizeof(other) - (n - 5), "-other");
	sh("mkdir -p %s", other);
	snprintf(path, sizeof(path), "%s/src/other", T);
	fake_proc(victim, path, "PATH=/bin;HOME=%s", home);
	snprintf(v, sizeof(v), "%s/victim.jsonl", other);
	tick(1, 1, started, &attacker, 1);
	tick(2, 2, started, &victim, 1);
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/sparse-%d.jsonl", proj, i);
		sh("truncate -s 200G %s", path);
	}
	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "%s/partial-%d.jsonl", proj, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, junk, 600 * 1024), 600 * 1024);
		close(fd);
	}
	snprintf(half, sizeof(half), "{\"type\":\"assistant\",\"message\":{\"id\":\"v1\",");
	append(v, half);
	for (int k = 0; k < 2; k++) {
		tokengine_begin(ts);
		tokengine_run(ts, 1, 1, started, 0, &attacker, 1, mono_ns(), &a);
		tokengine_run(ts, 2, 2, started, 0, &victim, 1, mono_ns(), &b);
	}
	append(v, "\"usage\":{\"input_tokens\":100,\"output_tokens\":50}}}\n");
	tokengine_begin(ts);
	tokengine_run(ts, 1, 1, started, 0, &attacker, 1, mono_ns(), &a);
	assert_true(tokengine_end(ts, 2, 2, &b));
	assert_true(b.have);
	assert_int_equal(transcript_usage_total(&b.usage), 150);
	free(junk);
}

/* A short run whose agent makes its project directory (issue 16, case 10):
 * found missing at the first look, made and written a moment later, the
 * run ends well within the 2 s a missing path is taken as such: its final
 * read looks again and counts the line. */
static void test_short_run_new_directory(void **state)
{
	char s[320];
	pid_t pid = 100;
	struct tokscan_result r;
	int64_t started = real_ns();

	sh("rm -rf %s", proj);
	r = tick(4, 4, started, &pid, 1);
	assert_false(r.have);
	sh("mkdir -p %s", proj);
	snprintf(s, sizeof(s), "%s/short.jsonl", proj);
	claude_line(s, "m_short", 100, 50, 0, 0);
	r = tick(4, 4, started, &pid, 1); /* within 2 s: the path is not looked at again */
	assert_true(tokengine_end(ts, 4, 4, &r));
	assert_true(r.have);
	assert_int_equal(transcript_usage_total(&r.usage), 150);
}

/* Codex: a rollout already written and held open counts from its totals
 * at the start; one made during the run counts whole. */
static void test_codex(void **state)
{
	char roll[320], roll2[320];
	pid_t pids[2] = { 100, 101 };
	struct tokscan_result r;
	int64_t started;

	snprintf(roll, sizeof(roll), "%s/rollout-2025-10-20T10-00-00-a.jsonl", codex_day);
	append(roll, "{\"type\":\"session_meta\",\"payload\":{\"id\":\"a\"}}\n");
	codex_line(roll, 9000, 4000, 300, 9000, 4000, 300);
	sh("ln -sfn %s %s/100/fd/3", roll, proc);
	sleep_ms(120);
	started = real_ns();
	r = tick(5, 1, started, pids, 1);
	assert_false(r.have);
	codex_line(roll, 19500, 12800, 720, 10500, 8800, 420);
	r = tick(5, 1, started, pids, 1);
	assert_true(r.have);
	assert_int_equal(r.source, TRANSCRIPT_CODEX);
	/* 20220 - 9300: the run's turn only. */
	assert_int_equal(transcript_usage_total(&r.usage), 10920);
	assert_int_equal(r.usage.cache_read, 8800);
	assert_int_equal(r.usage.input, 10500 - 8800);

	/* A second agent, a new process, starts a rollout during the run. */
	snprintf(roll2, sizeof(roll2), "%s/rollout-2025-10-20T10-05-00-b.jsonl", codex_day);
	codex_line(roll2, 100, 0, 10, 100, 0, 10);
	fake_proc(101, "/", "CODEX_HOME=%s/codex;HOME=/nonexistent", T);
	sh("ln -sfn %s %s/101/fd/7", roll2, proc);
	r = tick(5, 1, started, pids, 2);
	assert_int_equal(transcript_usage_total(&r.usage), 10920 + 110);
	/* The last event wins: a repeated one adds nothing. */
	codex_line(roll2, 100, 0, 10, 100, 0, 10);
	r = tick(5, 1, started, pids, 2);
	assert_int_equal(transcript_usage_total(&r.usage), 10920 + 110);
	assert_true(tokengine_end(ts, 5, 1, &r));
}

static int with_inotify(void **state)
{
	use_inotify = true;
	return setup(state);
}

/* Without inotify (refused, or out of instances): directories are listed
 * each tick, with the same results. */
static int listing(void **state)
{
	use_inotify = false;
	return setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner_only, with_inotify, teardown),
		cmocka_unit_test_setup_teardown(test_owner_only, listing, teardown),
		cmocka_unit_test_setup_teardown(test_budgets_per_run, with_inotify, teardown),
		cmocka_unit_test_setup_teardown(test_short_run_new_directory, with_inotify, teardown),
		cmocka_unit_test_setup_teardown(test_short_run_new_directory, listing, teardown),
		cmocka_unit_test_setup_teardown(test_claude, with_inotify, teardown),
		cmocka_unit_test_setup_teardown(test_two_runs_one_directory, with_inotify, teardown),
		cmocka_unit_test_setup_teardown(test_codex, with_inotify, teardown),
		cmocka_unit_test_setup_teardown(test_claude, listing, teardown),
		cmocka_unit_test_setup_teardown(test_two_runs_one_directory, listing, teardown),
		cmocka_unit_test_setup_teardown(test_codex, listing, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
