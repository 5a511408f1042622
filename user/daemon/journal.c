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
#include "control_proto.h"
#include "journal.h"
#include "log.h"
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
		  add_u64(o, "owner", r->owner) &&
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

/* o's key as a whole number in [0, max] into *v: a decimal string, as
 * add_u64 writes. Absent is 0, as an older writer's missing figure; present
 * and anything else (a number, a sign, past max) is false. */
static bool count(const cJSON *o, const char *k, uint64_t max, uint64_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
	const char *s = cJSON_GetStringValue(n);

	*v = 0;
	if (!n)
		return true;
	*v = u64(o, k);
	/* u64 reads what it cannot parse as 0: only "0" itself is 0. */
	return *v <= max && (*v || (s && !strcmp(s, "0")));
}

/* A time of the journal (JOURNAL_NS_MIN..JOURNAL_NS_MAX), or 0 when absent,
 * malformed or outside. */
static int64_t when(const cJSON *o, const char *k)
{
	uint64_t v = u64(o, k);

	return v >= (uint64_t)JOURNAL_NS_MIN && v <= (uint64_t)JOURNAL_NS_MAX ? (int64_t)v : 0;
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

/* Fills jr from o. Returns NULL, or what makes o no sane run (the entry is
 * then refused whole: a damaged figure is not guessed at). */
static const char *parse_run(const cJSON *o, struct journal_run *jr)
{
	struct run *r = &jr->run;
	struct run_sample *s = &r->last;
	uint64_t pid = u64(o, "pid"), slot = u64(o, "slot"), gen = u64(o, "gen");
	uint64_t owner;
	uint64_t cur, total, open_end;
	bool have_id, have_st = cJSON_GetObjectItemCaseSensitive(o, "exit_status") != NULL;
	bool have_gpu = cJSON_GetObjectItemCaseSensitive(o, "gpu_seconds") != NULL;
	double st = num(o, "exit_status", 65535);

	memset(jr, 0, sizeof(*jr));
	have_id = str(o, "run_id", r->run_id, sizeof(r->run_id)); /* first: the refusal names it */
	if (!str(o, "project", r->project, sizeof(r->project)) || !names_project_valid(r->project))
		return "no valid project name";
	if (!have_id)
		return "no run id";
	if (pid < 1 || pid > 4194304 || slot >= TRACKER_MAX_RUNS || gen < 1 || gen > UINT32_MAX)
		return "pid, slot or generation out of range";
	/* A journal from before owners were kept: its runs are root's (only
	 * root changes them). (uid_t)-1 is no one. */
	if (!count(o, "owner", UINT32_MAX - 1, &owner))
		return "owner out of range";
	r->owner = (uid_t)owner;
	r->used = true;
	r->pid = (pid_t)pid;
	r->slot = (uint32_t)slot;
	r->gen = (uint32_t)gen;
	r->ended = flag(o, "ended");
	r->detached = flag(o, "detached");
	r->adopted = flag(o, "adopted");
	r->started_ns = when(o, "started_ns");
	if (!r->started_ns)
		return "started_ns missing or out of range";
	/* Open: no end yet (0, as written). Ended or detached: an end no
	 * earlier than the start, or wall time would go negative or overflow. */
	r->ended_ns = when(o, "ended_ns");
	if ((r->ended || r->detached) ? r->ended_ns < r->started_ns
				      : !count(o, "ended_ns", 0, &open_end))
		return "ended_ns out of range or before started_ns";
	if (!count(o, "cpu_ns", JOURNAL_COUNT_MAX, &s->cpu_ns) ||
	    !count(o, "tasks_started", JOURNAL_COUNT_MAX, &s->tasks_started) ||
	    !count(o, "tasks_exited", JOURNAL_COUNT_MAX, &s->tasks_exited) ||
	    !count(o, "tasks_lost", JOURNAL_COUNT_MAX, &s->tasks_lost) ||
	    !count(o, "run_delay_ns", JOURNAL_COUNT_MAX, &s->run_delay_ns) ||
	    !count(o, "peak_rss_bytes", JOURNAL_COUNT_MAX, &r->peak_rss_bytes))
		return "a counter malformed or out of range";
	s->root_exited = flag(o, "root_exited");
	s->root_left = flag(o, "root_left");
	if (have_st && st < 0)
		return "exit_status malformed or out of range";
	s->exit_status = st < 0 ? 0 : (int)st;
	/* GPU busy time so far: an adopted run's accumulator goes on from it. */
	r->gpu_seconds = real(o, "gpu_seconds", 1e12);
	if (have_gpu && r->gpu_seconds < 0)
		return "gpu_seconds malformed or out of range";
	r->have_gpu_seconds = have_gpu;
	if (!have_gpu)
		r->gpu_seconds = 0;
	if (!count(o, "tokens_current", (uint64_t)CONTROL_TOKENS_MAX, &cur) ||
	    !count(o, "tokens_total", (uint64_t)CONTROL_TOKENS_MAX, &total))
		return "tokens malformed or out of range";
	jr->tokens_available = flag(o, "tokens_available");
	jr->tokens_current = (int64_t)cur;
	jr->tokens_total = (int64_t)total;
	return NULL;
}

int journal_parse(const char *text, size_t len, struct journal *out)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *it;
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");

	out->n = 0;
	out->refused = 0;
	out->refused_why[0] = '\0';
	if (!cJSON_IsObject(root) || num(root, "version", 1000) != JOURNAL_VERSION ||
	    !cJSON_IsArray(runs)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	out->next_gen = (uint32_t)(u64(root, "next_gen") & UINT32_MAX);
	cJSON_ArrayForEach(it, runs)
	{
		const char *why, *id = "";

		if (out->n >= TRACKER_MAX_RUNS) {
			why = "more runs than slots";
		} else if (!cJSON_IsObject(it)) {
			why = "not an object";
		} else {
			why = parse_run(it, &out->r[out->n]);
			id = out->r[out->n].run.run_id;
		}
		if (!why) {
			out->n++;
			continue;
		}
		/* One line for the log, whatever the count: the first names it. */
		if (!out->refused++) {
			snprintf(out->refused_why, sizeof(out->refused_why), "run \"%s\": %s", id,
				 why);
			names_sanitize(out->refused_why);
		}
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
	out->refused = 0;
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
	if (!err && out->refused)
		log_warn("the live-run journal %s: %zu damaged run(s) not taken over (first: %s)",
			 path, out->refused, out->refused_why);
	return err;
}
