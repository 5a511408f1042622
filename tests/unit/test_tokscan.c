/* The tokens facade over a fake PROC_ROOT: each run's transcripts are read
 * by its owner's worker thread, the caller never waits for one; a run's end
 * waits for its final read, and gives up on a worker stuck on a hung path
 * after TOKSCAN_END_WAIT_NS with the figures read before; a user whose
 * worker is stuck (here: blocked opening a FIFO standing for a hung FUSE
 * file) stalls no other user's figures. (The engine itself is
 * test_tokengine.c's.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tokscan.h"
#include "unit_sh.h"

static char T[64], proc[128], proj[320];
static struct tokscan *ts;

static int64_t clock_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void claude_line(const char *path, const char *id, int in, int out)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fprintf(f,
		"{\"type\":\"assistant\",\"message\":{\"id\":\"%s\",\"model\":\"claude-x\","
		"\"usage\":{\"input_tokens\":%d,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":0,\"output_tokens\":%d}}}\n",
		id, in, out);
	fclose(f);
}

/* A made-up process of uid's whose working directory is T/src/demo and
 * whose HOME is T/home; its environ a FIFO when hung (opening it blocks
 * until a writer comes, as a lookup on a hung FUSE mount would). */
static void fake_proc(int pid, unsigned uid, bool hung)
{
	sh("mkdir -p %s/%d/fd && ln -sfn %s/src/demo %s/%d/cwd", proc, pid, T, proc, pid);
	sh("printf 'Name:\\tfake\\nState:\\tS (sleeping)\\nTgid:\\t%d\\nPPid:\\t1\\n"
	   "Uid:\\t%u\\t%u\\t%u\\t%u\\n' >%s/%d/status",
	   pid, uid, uid, uid, uid, proc, pid);
	if (hung)
		sh("mkfifo %s/%d/environ", proc, pid);
	else
		sh("printf 'HOME=%s/home\\0' >%s/%d/environ", T, proc, pid);
}

static int setup(void **state)
{
	size_t n;

	snprintf(T, sizeof(T), "/tmp/agentperf-tokscan.XXXXXX");
	assert_non_null(mkdtemp(T));
	snprintf(proc, sizeof(proc), "%s/proc", T);
	n = (size_t)snprintf(proj, sizeof(proj), "%s/home/.claude/projects/", T);
	for (const char *p = T; *p; p++)
		proj[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					    (*p >= '0' && *p <= '9')
				    ? *p
				    : '-';
	proj[n] = '\0';
	strcat(proj, "-src-demo");
	sh("mkdir -p %s %s/src/demo", proj, T);
	fake_proc(100, 0, false);
	assert_non_null(ts = tokscan_new(proc, false));
	return 0;
}

static int teardown(void **state)
{
	tokscan_free(ts);
	sh("rm -rf %s", T);
	return 0;
}

/* Ticks of the run in slot until its figures total want (10 s at most, a
 * busy host's worker may be slow): the figures come from the worker. */
static struct tokscan_result until_total(uint32_t slot, uint32_t gen, int64_t started, uid_t owner,
					 pid_t pid, uint64_t want)
{
	int64_t end = clock_ns(CLOCK_MONOTONIC) + 10000000000LL;
	struct tokscan_result r;

	do {
		tokscan_begin(ts);
		tokscan_run(ts, slot, gen, started, owner, &pid, 1, clock_ns(CLOCK_MONOTONIC), &r);
		if (r.have && transcript_usage_total(&r.usage) == want)
			return r;
		usleep(2000);
	} while (clock_ns(CLOCK_MONOTONIC) < end);
	fail_msg("slot %u: %llu tokens, wanted %llu", slot,
		 (unsigned long long)(r.have ? transcript_usage_total(&r.usage) : 0),
		 (unsigned long long)want);
	return r;
}

/* The final read: pending until the worker has done it (10 s at most). */
static enum tokscan_end until_end(uint32_t slot, uint32_t gen, struct tokscan_result *r)
{
	int64_t end = clock_ns(CLOCK_MONOTONIC) + 10000000000LL;
	enum tokscan_end e;

	while ((e = tokscan_end(ts, slot, gen, clock_ns(CLOCK_MONOTONIC), r)) ==
		       TOKSCAN_END_PENDING &&
	       clock_ns(CLOCK_MONOTONIC) < end)
		usleep(2000);
	return e;
}

/* Figures come from the worker; the end reads what was written last. */
static void test_figures_and_final_read(void **state)
{
	char sess[400];
	int64_t started = clock_ns(CLOCK_REALTIME);
	struct tokscan_result r;

	snprintf(sess, sizeof(sess), "%s/s1.jsonl", proj);
	claude_line(sess, "m1", 100, 10);
	until_total(1, 1, started, 0, 100, 110);
	claude_line(sess, "m2", 20, 5);
	memset(&r, 0, sizeof(r));
	assert_int_equal(until_end(1, 1, &r), TOKSCAN_END_DONE);
	assert_true(r.have);
	assert_int_equal(transcript_usage_total(&r.usage), 135);
	/* Let go: nothing more of that run. */
	assert_int_equal(tokscan_end(ts, 1, 1, clock_ns(CLOCK_MONOTONIC), &r), TOKSCAN_END_NONE);
}

/* A run so short that its first tick and its end reach the worker together
 * still has its transcripts found and read. */
static void test_end_right_after_start(void **state)
{
	char sess[400];
	int64_t started = clock_ns(CLOCK_REALTIME);
	struct tokscan_result r;

	snprintf(sess, sizeof(sess), "%s/s2.jsonl", proj);
	claude_line(sess, "q1", 7, 3);
	tokscan_begin(ts);
	tokscan_start(ts, 3, 1, started, 0, 100, clock_ns(CLOCK_MONOTONIC), &r);
	memset(&r, 0, sizeof(r));
	assert_int_equal(until_end(3, 1, &r), TOKSCAN_END_DONE);
	assert_int_equal(transcript_usage_total(&r.usage), 10);
}

/* Whether a thread of this process waits in a FIFO's open (for a writer):
 * the hung worker, seen from the kernel's side. */
static bool thread_in_fifo_open(void)
{
	char path[300], wchan[64];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/proc/self/task");

	assert_non_null(d);
	while (!found && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/wchan", de->d_name);
		if ((f = fopen(path, "r"))) {
			found = fgets(wchan, sizeof(wchan), f) && !strcmp(wchan, "wait_for_partner");
			fclose(f);
		}
	}
	closedir(d);
	return found;
}

/* uid 4242's worker is stuck on its process's environ: the loop's calls
 * return at once, uid 0's run is read meanwhile, 4242's end gives up after
 * TOKSCAN_END_WAIT_NS; once the path answers, the idle worker ends. */
static void test_hung_user_stalls_only_itself(void **state)
{
	char sess[400], fifo[256];
	int64_t started = clock_ns(CLOCK_REALTIME), t0, mono;
	struct tokscan_result r;
	pid_t hung = 200;
	int fd;

	fake_proc(200, 4242, true);
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 20; i++) {
		tokscan_begin(ts);
		tokscan_run(ts, 2, 1, started, 4242, &hung, 1, clock_ns(CLOCK_MONOTONIC), &r);
		assert_false(r.have);
	}
	/* 20 ticks in well under a second, whatever the worker does (a busy
	 * host's scheduler may still delay this thread). */
	assert_true(clock_ns(CLOCK_MONOTONIC) - t0 < 2000000000LL);
	/* The worker is stuck in the FIFO's open (10 s at most to get there). */
	for (int i = 0; i < 5000 && !thread_in_fifo_open(); i++)
		usleep(2000);
	assert_true(thread_in_fifo_open());

	snprintf(sess, sizeof(sess), "%s/s3.jsonl", proj);
	claude_line(sess, "h1", 40, 2);
	until_total(1, 1, started, 0, 100, 42);
	assert_int_equal(until_end(1, 1, &r), TOKSCAN_END_DONE);

	mono = clock_ns(CLOCK_MONOTONIC);
	assert_int_equal(tokscan_end(ts, 2, 1, mono, &r), TOKSCAN_END_PENDING);
	assert_int_equal(tokscan_end(ts, 2, 1, mono + TOKSCAN_END_WAIT_NS / 2, &r),
			 TOKSCAN_END_PENDING);
	/* Given up: it had no figures. */
	assert_int_equal(tokscan_end(ts, 2, 1, mono + TOKSCAN_END_WAIT_NS, &r), TOKSCAN_END_NONE);

	/* The path answers: the worker finishes its job, has no run left and
	 * ends at a tick (teardown's free would wait for it otherwise). */
	snprintf(fifo, sizeof(fifo), "%s/200/environ", proc);
	fd = open(fifo, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "HOME=/nonexistent", 18), 18);
	close(fd);
	tokscan_begin(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_figures_and_final_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_right_after_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hung_user_stalls_only_itself, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
