/* The live-run journal, STATE_DIR/live.json. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "journal.h"
#include "names.h"

#define JOURNAL_VERSION 1
#define JOURNAL_MAX_BYTES (4u << 20)

static bool add_u64(cJSON *o, const char *k, uint64_t v)
{
	/* A JSON number is exact only up to 2^53: wall-clock ns and counters
	 * go as decimal strings. */
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_AddStringToObject(o, k, buf) != NULL;
}

static cJSON *run_json(const struct run *r, const struct project *p)
{
	cJSON *o = cJSON_CreateObject();
	const struct run_sample *s = &r->last;
	bool ok = o && cJSON_AddStringToObject(o, "project", r->project) &&
		  cJSON_AddStringToObject(o, "run_id", r->run_id) && add_u64(o, "pid", r->pid) &&
		  add_u64(o, "started_ns", (uint64_t)r->started_ns) &&
		  add_u64(o, "ended_ns", (uint64_t)r->ended_ns) && add_u64(o, "slot", r->slot) &&
		  add_u64(o, "gen", r->gen) && cJSON_AddBoolToObject(o, "ended", r->ended) &&
		  cJSON_AddBoolToObject(o, "detached", r->detached) &&
		  cJSON_AddBoolToObject(o, "adopted", r->adopted) &&
		  add_u64(o, "cpu_ns", s->cpu_ns) && add_u64(o, "tasks_started", s->tasks_started) &&
		  add_u64(o, "tasks_exited", s->tasks_exited) &&
		  add_u64(o, "tasks_lost", s->tasks_lost) &&
		  cJSON_AddBoolToObject(o, "root_exited", s->root_exited) &&
		  cJSON_AddBoolToObject(o, "root_left", s->root_left) &&
		  cJSON_AddNumberToObject(o, "exit_status", s->exit_status) &&
		  add_u64(o, "run_delay_ns", s->run_delay_ns) &&
		  add_u64(o, "peak_rss_bytes", r->peak_rss_bytes) &&
		  (!r->have_gpu_seconds || cJSON_AddNumberToObject(o, "gpu_seconds", r->gpu_seconds));

	if (ok && p)
		ok = cJSON_AddBoolToObject(o, "tokens_available", p->tokens_available) &&
		     add_u64(o, "tokens_current", (uint64_t)p->tokens_current) &&
		     add_u64(o, "tokens_total", (uint64_t)p->tokens_total);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *journal_render(const struct runs *rs, const struct projects *ps)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *out = NULL;

	if (!root || !cJSON_AddNumberToObject(root, "version", JOURNAL_VERSION) ||
	    !add_u64(root, "next_gen", rs->next_gen) ||
	    !(arr = cJSON_AddArrayToObject(root, "runs")))
		goto done;
	runs_for_each(rs, r) {
		cJSON *o;

		o = run_json(r, projects_get((struct projects *)ps, r->project));
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto done;
		}
	}
	out = cJSON_PrintUnformatted(root);
done:
	cJSON_Delete(root);
	return out;
}

/* A whole number in [0, max] from o's key (a decimal string, as add_u64
 * writes, or a JSON number), else -1. */
static double num(const cJSON *o, const char *k, double max)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
	double v = cJSON_IsNumber(n) ? n->valuedouble : -1;

	return (isfinite(v) && v >= 0 && v <= max && v == floor(v)) ? v : -1;
}

/* A finite number in [0, max] from o's key, else -1. */
static double real(const cJSON *o, const char *k, double max)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
	double v = cJSON_IsNumber(n) ? n->valuedouble : -1;

	return (isfinite(v) && v >= 0 && v <= max) ? v : -1;
}

/* A decimal string from o's key as a u64, else 0. */
static uint64_t u64(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	unsigned long long v;
	char *end;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno ? 0 : (uint64_t)v;
}

static bool flag(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool str(const cJSON *o, const char *k, char *out, size_t len)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

	if (!s || strlen(s) >= len)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

static bool parse_run(const cJSON *o, struct journal_run *jr)
{
	struct run *r = &jr->run;
	struct run_sample *s = &r->last;
	uint64_t pid = u64(o, "pid"), slot = u64(o, "slot"), gen = u64(o, "gen");
	double st = num(o, "exit_status", 65535);

	memset(jr, 0, sizeof(*jr));
	if (!str(o, "project", r->project, sizeof(r->project)) || !names_project_valid(r->project) ||
	    !str(o, "run_id", r->run_id, sizeof(r->run_id)) || pid < 1 || pid > 4194304 ||
	    slot >= TRACKER_MAX_RUNS || gen < 1 || gen > UINT32_MAX)
		return false;
	r->used = true;
	r->pid = (pid_t)pid;
	r->slot = (uint32_t)slot;
	r->gen = (uint32_t)gen;
	r->started_ns = (int64_t)(u64(o, "started_ns") & INT64_MAX);
	r->ended_ns = (int64_t)(u64(o, "ended_ns") & INT64_MAX);
	r->ended = flag(o, "ended");
	r->detached = flag(o, "detached");
	r->adopted = flag(o, "adopted");
	s->cpu_ns = u64(o, "cpu_ns");
	s->tasks_started = u64(o, "tasks_started");
	s->tasks_exited = u64(o, "tasks_exited");
	s->tasks_lost = u64(o, "tasks_lost");
	s->root_exited = flag(o, "root_exited");
	s->root_left = flag(o, "root_left");
	s->exit_status = st < 0 ? 0 : (int)st;
	s->run_delay_ns = u64(o, "run_delay_ns");
	r->peak_rss_bytes = u64(o, "peak_rss_bytes");
	/* GPU busy time so far: an adopted run's accumulator goes on from it. */
	r->gpu_seconds = real(o, "gpu_seconds", 1e12);
	r->have_gpu_seconds = r->gpu_seconds >= 0;
	if (!r->have_gpu_seconds)
		r->gpu_seconds = 0;
	jr->tokens_available = flag(o, "tokens_available");
	jr->tokens_current = (int64_t)(u64(o, "tokens_current") & INT64_MAX);
	jr->tokens_total = (int64_t)(u64(o, "tokens_total") & INT64_MAX);
	return true;
}

int journal_parse(const char *text, size_t len, struct journal *out)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *it;
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");

	out->n = 0;
	if (!cJSON_IsObject(root) || num(root, "version", 1000) != JOURNAL_VERSION ||
	    !cJSON_IsArray(runs)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	out->next_gen = (uint32_t)(u64(root, "next_gen") & UINT32_MAX);
	cJSON_ArrayForEach(it, runs)
	{
		if (out->n < TRACKER_MAX_RUNS && cJSON_IsObject(it) && parse_run(it, &out->r[out->n]))
			out->n++;
	}
	cJSON_Delete(root);
	return 0;
}


int journal_save(const char *dir, const struct runs *rs, const struct projects *ps)
{
	char path[4096], tmp[4096];
	char *text = journal_render(rs, ps);
	int fd, dfd, err;

	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, JOURNAL_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	err = fd < 0 ? -errno : buf_write_all(fd, text, strlen(text));
	if (!err && fsync(fd))
		err = -errno;
	if (fd >= 0 && close(fd) && !err)
		err = -errno;
	free(text);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename itself must reach the disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int journal_load(const char *dir, struct journal *out)
{
	char path[4096], *buf;
	ssize_t n;
	size_t len = 0;
	int fd, err;

	out->n = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	buf = malloc(JOURNAL_MAX_BYTES);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < JOURNAL_MAX_BYTES && (n = read(fd, buf + len, JOURNAL_MAX_BYTES - len)) > 0)
		len += (size_t)n;
	close(fd);
	err = journal_parse(buf, len, out);
	free(buf);
	return err;
}
