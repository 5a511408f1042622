/* Tokens from transcripts through the daemon's middle, without a kernel: a
 * run started by the lifecycle over a fake tracker whose one process (in a
 * fake PROC_ROOT) works in a directory with Claude Code transcripts. The
 * stream's perf_metrics, the run record, /metrics, a second run and
 * `agentperf tokens` reports (which win) are checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "history.h"
#include "lifecycle.h"
#include "sampler.h"
#include "stream.h"
#include "tracker.h"
#include "fake_tracker.h"
#include "fake_http.h"
#include "unit_sh.h"

#define PID 100

/* --- the parts, wired as agentperfd wires them --------------------------- */

static struct {
	char dir[64], proc[96], session[320];
	struct runs *runs;
	struct projects *projects;
	struct sampler *sampler;
	struct exporter *exporter;
	struct stream *stream;
	struct lifecycle *lifecycle;
} w;


/* A line in the session file, or in file (a name beside it) when not NULL. */
static void claude_line_in(const char *file, const char *id, int in, int out, int cr, int cc)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s", w.session);
	if (file)
		snprintf(strrchr(path, '/') + 1, sizeof(path) - (size_t)(strrchr(path, '/') + 1 - path),
			 "%s", file);
	f = fopen(path, "a");

	assert_non_null(f);
	fprintf(f,
		"{\"type\":\"assistant\",\"message\":{\"id\":\"%s\",\"model\":\"claude-x\","
		"\"usage\":{\"input_tokens\":%d,\"cache_creation_input_tokens\":%d,"
		"\"cache_read_input_tokens\":%d,\"output_tokens\":%d}}}\n",
		id, in, cc, cr, out);
	fclose(f);
}

static void claude_line(const char *id, int in, int out, int cr, int cc)
{
	claude_line_in(NULL, id, in, out, cr, cc);
}

static int setup(void **state)
{
	char proj[256], env[512];
	size_t n;
	FILE *f;
	int len;

	fake_pid = PID; /* every open run's one process */

	memset(&w, 0, sizeof(w));
	memset(fake, 0, sizeof(fake));
	memset(fake_open, 0, sizeof(fake_open));
	snprintf(w.dir, sizeof(w.dir), "/tmp/agentperf-tokens.XXXXXX");
	assert_non_null(mkdtemp(w.dir));
	snprintf(w.proc, sizeof(w.proc), "%s/proc", w.dir);
	/* HOME/.claude/projects/<the working directory, escaped>/s.jsonl */
	n = (size_t)snprintf(proj, sizeof(proj), "%s/home/.claude/projects/", w.dir);
	for (const char *p = w.dir; *p; p++)
		proj[n++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
					    (*p >= 'A' && *p <= 'Z')
				    ? *p
				    : '-';
	proj[n] = '\0';
	strcat(proj, "-work");
	snprintf(w.session, sizeof(w.session), "%s/s.jsonl", proj);
	sh("mkdir -p %s %s/work %s/%d/fd", proj, w.dir, w.proc, PID);
	sh("ln -s %s/work %s/%d/cwd", w.dir, w.proc, PID);
	len = snprintf(env, sizeof(env), "HOME=%s/home%cTERM=dumb", w.dir, 0);
	sh("printf 'Tgid:\\t%d\\nPPid:\\t1\\nState:\\tS\\nUid:\\t0\\t0\\t0\\t0\\n' >%s/%d/status",
	   PID, w.proc, PID);
	snprintf(proj, sizeof(proj), "%s/%d/environ", w.proc, PID);
	f = fopen(proj, "w");
	assert_non_null(f);
	fwrite(env, 1, (size_t)len + 1, f);
	fclose(f);
	/* Written before any run: never counted. */
	claude_line("old", 1000, 1000, 0, 0);

	struct sampler_opts so = { .proc_root = w.proc, .sys_root = "/nonexistent" };
	struct exporter_opts xo = { .version = "test", .bpf_variant = "fake" };
	struct stream_opts sto = { .interval_running_ms = 100, .interval_idle_ms = 300 };

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
	return 0;
}

static int teardown(void **state)
{
	lifecycle_free(w.lifecycle);
	stream_free(w.stream);
	exporter_free(w.exporter);
	sampler_free(w.sampler);
	projects_free(w.projects);
	runs_free(w.runs);
	sh("rm -rf %s", w.dir);
	return 0;
}

/* The project's latest perf_metrics "tokens", after a fresh walk. */
static cJSON *tokens_now(struct project *p)
{
	size_t len;
	uint64_t gen;
	const char *msg;
	cJSON *o, *t;

	sampler_sample(w.sampler, 0);
	stream_changed(w.stream, p->name);
	msg = stream_message(w.stream, p, &len, &gen);
	assert_non_null(msg);
	o = cJSON_ParseWithLength(msg, len);
	assert_non_null(o);
	t = cJSON_DetachItemFromObject(o, "tokens");
	cJSON_Delete(o);
	assert_non_null(t);
	return t;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* tokens_now once its key is want (10 s at most): transcripts are read by
 * a worker thread, whose figures a later walk takes. */
static cJSON *tokens_when(struct project *p, const char *key, double want)
{
	cJSON *t = NULL;

	for (int i = 0; i < 5000; i++) {
		const cJSON *v;

		cJSON_Delete(t);
		t = tokens_now(p);
		v = cJSON_GetObjectItemCaseSensitive(t, key);
		if (cJSON_IsNumber(v) && v->valuedouble == want)
			return t;
		usleep(2000);
	}
	return t;
}

/* The run ends, and its record is written once its final read is done. */
static void end_run(struct run *r)
{
	uint32_t slot = r->slot;

	fake[slot].root_exited = true;
	fake[slot].tasks_exited = 1;
	for (int i = 0; i < 5000 && w.runs->run[slot].used; i++) {
		lifecycle_tick(w.lifecycle);
		if (w.runs->run[slot].used)
			usleep(2000);
	}
	assert_false(w.runs->run[slot].used);
}

static void test_two_runs(void **state)
{
	struct project *p = stream_watch(w.stream, "demo");
	char err[160];
	struct run *r;
	cJSON *t, *hist, *rec;
	size_t len;
	char *metrics;

	assert_non_null(p);
	t = tokens_now(p);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(t, "available")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "input")));
	cJSON_Delete(t);

	usleep(80 * 1000); /* the session file is older than the run */
	r = lifecycle_start(w.lifecycle, "demo", PID, true, 0, err, sizeof(err));
	assert_non_null(r);
	/* A session the run makes counts whole: once its line shows, the
	 * worker has looked at the run, the older session's size noted. */
	claude_line_in("new1.jsonl", "n1", 0, 1, 0, 0);
	cJSON_Delete(tokens_when(p, "current_run", 1));
	/* Streamed twice: once, with the last line's figures. */
	claude_line("m1", 10, 5, 100, 20);
	claude_line("m1", 10, 7, 100, 20);
	t = tokens_when(p, "current_run", 138);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(t, "available")));
	assert_int_equal(num(t, "current_run"), 138);
	assert_int_equal(num(t, "total_session"), 138);
	assert_int_equal(num(t, "input"), 10);
	assert_int_equal(num(t, "output"), 8);
	assert_int_equal(num(t, "cache_read"), 100);
	assert_int_equal(num(t, "cache_creation"), 20);
	cJSON_Delete(t);
	metrics = exporter_render(w.exporter, 0, &len);
	assert_non_null(metrics);
	assert_non_null(strstr(metrics, "agentperf_run_tokens_total{project=\"demo\",run_id=\""));
	assert_non_null(strstr(metrics, ",type=\"cache_read\"} 100\n"));
	free(metrics);

	/* Written just before the end: the record has it. */
	claude_line("m2", 1, 2, 0, 0);
	end_run(r);
	hist = history_read(w.dir, "demo", 0, NULL);
	assert_int_equal(cJSON_GetArraySize(hist), 1);
	rec = cJSON_GetObjectItem(cJSON_GetArrayItem(hist, 0), "tokens");
	assert_int_equal(num(rec, "total"), 141);
	assert_string_equal(cJSON_GetObjectItem(rec, "source")->valuestring, "claude-code");
	cJSON_Delete(hist);
	t = tokens_now(p);
	assert_int_equal(num(t, "current_run"), 141);
	assert_int_equal(num(t, "total_session"), 141);
	cJSON_Delete(t);

	/* A second run starts from 0; the session goes on. new1.jsonl must be
	 * older than the run's start by more than the birth-time slack. */
	usleep(80 * 1000);
	r = lifecycle_start(w.lifecycle, "demo", PID, true, 0, err, sizeof(err));
	assert_non_null(r);
	t = tokens_now(p);
	assert_int_equal(num(t, "current_run"), 0);
	assert_int_equal(num(t, "total_session"), 141);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "input")));
	cJSON_Delete(t);
	claude_line_in("new2.jsonl", "n2", 0, 1, 0, 0);
	cJSON_Delete(tokens_when(p, "current_run", 1));
	claude_line("m3", 3, 3, 0, 0);
	t = tokens_when(p, "current_run", 7);
	assert_int_equal(num(t, "current_run"), 7);
	assert_int_equal(num(t, "total_session"), 148);
	cJSON_Delete(t);
	end_run(r);
	stream_unwatch(w.stream, p);
}

/* `agentperf tokens` reports win over transcripts, in the stream and in the
 * record (with no breakdown). */
static void test_reported_wins(void **state)
{
	struct project *p = stream_watch(w.stream, "rep");
	struct tokens_update u = { .add = true, .add_n = 500 };
	char err[160];
	struct run *r;
	cJSON *t, *hist, *rec;

	usleep(80 * 1000);
	r = lifecycle_start(w.lifecycle, "rep", PID, true, 0, err, sizeof(err));
	assert_non_null(r);
	claude_line_in("new.jsonl", "m1", 10, 5, 0, 0); /* made by the run: counted whole */
	t = tokens_when(p, "current_run", 15);
	assert_int_equal(num(t, "current_run"), 15);
	cJSON_Delete(t);
	assert_int_equal(projects_tokens(p, &u), 0);
	t = tokens_now(p);
	assert_int_equal(num(t, "current_run"), 500);
	assert_int_equal(num(t, "total_session"), 500);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "input")));
	cJSON_Delete(t);
	end_run(r);
	hist = history_read(w.dir, "rep", 0, NULL);
	rec = cJSON_GetObjectItem(cJSON_GetArrayItem(hist, 0), "tokens");
	assert_int_equal(num(rec, "total"), 500);
	assert_string_equal(cJSON_GetObjectItem(rec, "source")->valuestring, "reported");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(rec, "output")));
	cJSON_Delete(hist);
	stream_unwatch(w.stream, p);
}

/* A run with no transcript: tokens null in the record, nothing in /metrics. */
static void test_no_transcript(void **state)
{
	char err[160], *metrics;
	struct run *r;
	cJSON *hist;
	size_t len;

	sh("rm -rf %s/home", w.dir);
	r = lifecycle_start(w.lifecycle, "none", PID, true, 0, err, sizeof(err));
	assert_non_null(r);
	metrics = exporter_render(w.exporter, 0, &len);
	assert_null(strstr(metrics, "agentperf_run_tokens_total{"));
	free(metrics);
	end_run(r);
	hist = history_read(w.dir, "none", 0, NULL);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(hist, 0), "tokens")));
	cJSON_Delete(hist);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reported_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_transcript, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
