/* The daemon's middle without a kernel: the run lifecycle (finalize, runs
 * settling for the waits, records that wait for the disk) and the stream's shared walks, over a fake
 * tracker that this file provides in place of the BPF one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "history.h"
#include "names.h"
#include "lifecycle.h"
#include "sampler.h"
#include "stream.h"
#include "tracker.h"
#include "waiters.h"
#include "fake_tracker.h"
#include "fake_http.h"

/* --- the parts, wired as agentperfd wires them --------------------------- */

static struct {
	char dir[64];
	struct runs *runs;
	struct projects *projects;
	struct sampler *sampler;
	struct exporter *exporter;
	struct stream *stream;
	struct lifecycle *lifecycle;
	struct waiters waiters; /* as the commands keep them */
	uint64_t answered[8];
	int n_answered;
	int settled;
} w;

/* What the commands do when a run settles: answer the waits it answers;
 * connection 666 has closed and gets nothing. */
static void on_settled(void *ctx, struct run *r)
{
	uint64_t ids[WAITERS_MAX];
	size_t n = waiters_take(&w.waiters, r, ids, WAITERS_MAX);

	w.settled++;
	if (n)
		lifecycle_prepare_record(w.lifecycle, r);
	for (size_t i = 0; i < n; i++)
		if (ids[i] != 666)
			w.answered[w.n_answered++ % 8] = ids[i];
}

/* Ticks until cond holds (10 s at most): a run's end waits for its final
 * token read, done by a worker thread. */
#define TICK_UNTIL(cond)                                                                   \
	do {                                                                               \
		for (int i_ = 0; i_ < 5000 && !(cond); i_++) {                            \
			lifecycle_tick(w.lifecycle);                                       \
			if (!(cond))                                                       \
				usleep(2000);                                              \
		}                                                                          \
		assert_true(cond);                                                         \
	} while (0)

/* A client's wait, as the commands take it. */
static int wait_for(uint64_t conn_id, struct run *r, bool all)
{
	int err = waiters_add(&w.waiters, conn_id, r, all);

	if (err)
		return err;
	lifecycle_settle(w.lifecycle, r);
	if (waiters_has(&w.waiters, conn_id))
		on_settled(NULL, r);
	return 0;
}


static int setup(void **state)
{
	struct sampler_opts so = { .proc_root = "/nonexistent", .sys_root = "/nonexistent" };
	struct exporter_opts xo = { .version = "test", .bpf_variant = "fake" };
	struct stream_opts sto = { .interval_running_ms = 100, .interval_idle_ms = 300 };

	memset(&w, 0, sizeof(w));
	memset(fake, 0, sizeof(fake));
	fake_walks = 0;
	snprintf(w.dir, sizeof(w.dir), "/tmp/agentperf-lifecycle.XXXXXX");
	assert_non_null(mkdtemp(w.dir));
	w.runs = runs_new();
	w.projects = projects_new();
	w.sampler = sampler_new(NULL, w.runs, &so);
	w.exporter = exporter_new(w.sampler, w.runs, &xo);
	w.stream = stream_new(w.sampler, w.projects, w.runs, &sto);
	fake_n_timers = 0;
	assert_int_equal(stream_serve(w.stream, fake_http), 0);
	struct lifecycle_parts lp = { .runs = w.runs, .projects = w.projects,
				      .sampler = w.sampler, .stream = w.stream,
				      .exporter = w.exporter, .state_dir = w.dir };
	w.lifecycle = lifecycle_new(&lp);
	assert_non_null(w.lifecycle);
	lifecycle_listen(w.lifecycle, on_settled, NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	lifecycle_free(w.lifecycle);
	stream_free(w.stream);
	exporter_free(w.exporter);
	sampler_free(w.sampler);
	projects_free(w.projects);
	runs_free(w.runs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w.dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static unsigned history_count(const char *project)
{
	cJSON *arr = history_read(w.dir, project, 0, NULL);
	unsigned n = (unsigned)cJSON_GetArraySize(arr);

	cJSON_Delete(arr);
	return n;
}

/* A run whose root exits answers a plain wait at once and a wait for all
 * at its end; the end is recorded once, the slot closed, the project keeps
 * showing it, and a closed connection's wait is dropped. */
static void test_end_record_waiters(void **state)
{
	char err[160];
	struct run *r = lifecycle_start(w.lifecycle, "demo", 4242, false, 0, err, sizeof(err));
	uint32_t slot;
	struct project *p;

	assert_non_null(r);
	slot = r->slot;
	assert_int_equal(wait_for(1, r, false), 0);
	assert_int_equal(wait_for(2, r, true), 0);
	assert_int_equal(wait_for(666, r, true), 0);
	assert_int_equal(wait_for(2, r, true), -EBUSY);
	lifecycle_tick(w.lifecycle);
	assert_true(waiters_any(&w.waiters));
	assert_int_equal(w.n_answered, 0);

	fake[slot].root_exited = true;
	fake[slot].exit_status = 3 << 8; /* exit(3) */
	fake[slot].tasks_exited = 0; /* a daemonized child lives on */
	lifecycle_tick(w.lifecycle);
	assert_int_equal(w.n_answered, 1);
	assert_int_equal(w.answered[0], 1);
	assert_int_equal(history_count("demo"), 0);

	fake[slot].tasks_exited = 1;
	fake[slot].cpu_ns = 5000000000ULL;
	TICK_UNTIL(!w.runs->run[slot].used);
	assert_false(waiters_any(&w.waiters));
	assert_int_equal(w.n_answered, 2); /* 666 had closed: nothing sent */
	assert_int_equal(w.answered[1], 2);
	assert_int_equal(history_count("demo"), 1);
	assert_int_equal(fake_ended[slot], 1);
	assert_false(w.runs->run[slot].used);
	p = projects_get(w.projects, "demo");
	assert_true(p->has_last);
	assert_int_equal(p->last.last.cpu_ns, 5000000000ULL);
	/* Recorded once, however many ticks follow. */
	lifecycle_tick(w.lifecycle);
	assert_int_equal(history_count("demo"), 1);
}

/* A record the disk refuses is kept and written at a later tick; a detach
 * stops crediting at once all the same. */
static void test_record_waits_for_the_disk(void **state)
{
	char err[160], hist[128];
	struct run *r = lifecycle_start(w.lifecycle, "disk", 77, true, 0, err, sizeof(err));
	struct run final;
	uint32_t slot = r->slot;
	int settled;

	snprintf(hist, sizeof(hist), "%s/runs.jsonl", w.dir);
	assert_int_equal(mkdir(hist, 0755), 0); /* runs.jsonl cannot be opened */
	settled = w.settled;
	assert_int_not_equal(lifecycle_detach(w.lifecycle, r, &final), 0);
	assert_true(final.detached);
	assert_int_equal(fake_ended[slot], 1);
	assert_true(w.runs->run[slot].used);
	/* Settled (its tokens read): the record was tried, and refused. */
	TICK_UNTIL(w.settled > settled);
	lifecycle_tick(w.lifecycle);
	assert_true(w.runs->run[slot].used);
	assert_int_equal(rmdir(hist), 0);
	lifecycle_tick(w.lifecycle);
	assert_false(w.runs->run[slot].used);
	assert_int_equal(history_count("disk"), 1);
}

/* SIGTERM leaves open runs to the next start (journaled); --cleanup records
 * every run as detached. */
static void test_shutdown_and_cleanup(void **state)
{
	char err[160];

	assert_non_null(lifecycle_start(w.lifecycle, "a", 10, true, 0, err, sizeof(err)));
	assert_non_null(lifecycle_start(w.lifecycle, "b", 11, true, 0, err, sizeof(err)));
	assert_int_equal(lifecycle_shutdown(w.lifecycle), 0);
	assert_int_equal(history_count(NULL), 0);
	assert_int_equal(lifecycle_cleanup(w.lifecycle), 0);
	assert_int_equal(history_count(NULL), 2);
}

/* A restarted daemon takes over the journal's runs whose slots the pinned
 * maps still hold (same run id, adopted), records as detached those whose
 * slots moved on, closes pinned runs the journal does not name, and records
 * a run that ended meanwhile with its exit status. */
static void test_take_over(void **state)
{
	char err[160];
	struct run *a = lifecycle_start(w.lifecycle, "keep", 20, true, 0, err, sizeof(err));
	struct run *b = lifecycle_start(w.lifecycle, "gone", 21, true, 0, err, sizeof(err));
	uint32_t sa = a->slot, ga = a->gen, sb = b->slot;
	char id[NAMES_RUN_ID_MAX];

	snprintf(id, sizeof(id), "%s", a->run_id);
	assert_int_equal(lifecycle_shutdown(w.lifecycle), 0);
	/* A new daemon: an empty runs table over the same state dir. */
	lifecycle_free(w.lifecycle);
	memset(w.runs->run, 0, sizeof(w.runs->run));
	w.runs->next_gen = 1;
	struct lifecycle_parts lp = { .runs = w.runs, .projects = w.projects,
				      .sampler = w.sampler, .stream = w.stream,
				      .exporter = w.exporter, .state_dir = w.dir };
	w.lifecycle = lifecycle_new(&lp);
	lifecycle_listen(w.lifecycle, on_settled, NULL);
	fake_start = TRACKER_TAKEN_OVER;
	memset(fake_gen, 0, sizeof(fake_gen));
	fake_gen[sa] = ga; /* still pinned */
	fake_gen[200] = 99; /* pinned, in no journal */
	fake[sa].root_exited = true;
	fake[sa].exit_status = 5 << 8;
	fake[sa].tasks_exited = 1;
	assert_int_equal(lifecycle_take_over(w.lifecycle), 0);
	fake_start = TRACKER_FRESH;
	assert_int_equal(fake_ended[200], 1);
	/* The ended run's record waits for its final token read (the sampler
	 * is the old daemon's here, and still holds the run). */
	TICK_UNTIL(!w.runs->run[sa].used);
	cJSON *arr = history_read(w.dir, "keep", 0, NULL), *rec = cJSON_GetArrayItem(arr, 0);

	assert_non_null(rec);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "run_id")), id);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "adopted")));
	assert_int_equal(cJSON_GetObjectItem(rec, "exit_code")->valueint, 5);
	cJSON_Delete(arr);
	arr = history_read(w.dir, "gone", 0, NULL);
	rec = cJSON_GetArrayItem(arr, 0);
	assert_non_null(rec);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "detached")));
	cJSON_Delete(arr);
	assert_false(w.runs->run[sb].used);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Three projects watched, each with its first message at once, share one
 * walk; when the stream is next due, one walk serves them all again. */
static void test_watchers_share_walks(void **state)
{
	struct project *a = stream_watch(w.stream, "a"), *b, *c;
	size_t len;
	uint64_t gen;

	assert_non_null(a);
	b = stream_watch(w.stream, "b");
	c = stream_watch(w.stream, "c");
	assert_non_null(c);
	assert_int_equal(fake_walks, 1);
	assert_non_null(stream_message(w.stream, a, &len, &gen));
	assert_int_equal(gen, 1);
	assert_non_null(strstr(stream_message(w.stream, c, &len, &gen), "\"project\":\"c\""));
	/* No run: the idle period. */
	assert_true(fake_armed_ns > 200 * 1000000LL && fake_armed_ns <= 300 * 1000000LL);
	for (int i = 1; i <= 5; i++) {
		sleep_ms(fake_armed_ns / 1000000 + 1);
		stream_due(w.stream);
		assert_int_equal(fake_walks, 1 + i);
		stream_message(w.stream, b, &len, &gen);
		assert_int_equal(gen, 1 + i);
	}
	/* A second watcher of a project gets its latest message, no walk. */
	assert_ptr_equal(stream_watch(w.stream, "a"), a);
	assert_int_equal(fake_walks, 6);
	stream_unwatch(w.stream, a);
	stream_unwatch(w.stream, a);
	stream_unwatch(w.stream, b);
	stream_unwatch(w.stream, c);
	assert_null(stream_message(w.stream, a, &len, &gen));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_end_record_waiters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_waits_for_the_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_and_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchers_share_walks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
