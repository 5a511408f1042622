/* `agentperf timeline`'s chart. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "names.h"
#include "timefmt.h"
#include "timeview.h"

#define LABEL 6 /* "cores " and the axis */
#define COLS (TIMEVIEW_WIDTH - LABEL)

/* A figure of the timeline, def unless a number from 0 to 1e9 (no run
 * has more CPU-seconds or cores: wider is a corrupted reply). */
static double num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e9 ? v->valuedouble
										    : def;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An ISO time of the timeline as seconds since t0 (NAN when absent). */
static double at(const cJSON *o, const char *key, int64_t t0)
{
	const char *s = str(o, key);
	int64_t ns;

	if (!s || timefmt_parse_iso_ns(s, strlen(s), &ns))
		return NAN;
	return (double)(ns - t0) / 1e9;
}

struct out {
	char *buf;
	size_t len, cap;
	bool nomem;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->nomem)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->nomem = true;
			return;
		}
		if (o->buf && (size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		char *b = buf_grow(o->buf, &o->cap, o->len + (size_t)n + 1, 1);

		if (!b) {
			o->nomem = true;
			return;
		}
		o->buf = b;
	}
}

/* Mean cores of each column from the samples (each: its start, its length
 * and its mean cores over it). */
static void columns(const cJSON *samples, int64_t t0, double wall, double cores[COLS])
{
	const cJSON *s;
	double w = wall / COLS;

	memset(cores, 0, COLS * sizeof(cores[0]));
	cJSON_ArrayForEach(s, samples)
	{
		double a = at(s, "at", t0), len = num(s, "seconds", 0), c = fmin(num(s, "cores", 0), 9999);

		if (isnan(a) || len <= 0)
			continue;
		/* Times come from the run's own transcript: clamped before any cast. */
		for (int k = (int)fmin(COLS, fmax(0, floor(a / w))); k < COLS && k * w < a + len; k++) {
			double lo = fmax(a, k * w), hi = fmin(a + len, (k + 1) * w);

			if (hi > lo)
				cores[k] += c * (hi - lo) / w;
		}
	}
}

static void chart(struct out *o, const double cores[COLS])
{
	static const char *const eighth[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	double top = 0;

	for (int k = 0; k < COLS; k++)
		top = fmax(top, cores[k]);
	top = top <= 0 ? 1 : ceil(fmin(top, 9999) * 2) / 2; /* a half core's step */
	for (int row = TIMEVIEW_ROWS - 1; row >= 0; row--) {
		double lo = top * row / TIMEVIEW_ROWS, step = top / TIMEVIEW_ROWS;

		/* The label is 4 columns: 99.5 cores, then whole cores up to 9999. */
		if (row == TIMEVIEW_ROWS - 1 || row == 0)
			put(o, row && top >= 99.95 ? "%4.0f ┤" : "%4.1f ┤", row ? top : 0.0);
		else
			put(o, "     │");
		for (int k = 0; k < COLS; k++) {
			double f = (cores[k] - lo) / step;

			put(o, "%s", eighth[f >= 1 ? 8 : f <= 0 ? 0 : (int)lround(f * 8)]);
		}
		put(o, "\n");
	}
}

/* The tool calls' rows: each call on the first of two rows free where it
 * begins, its number there and '=' while it runs; '+' where a third overlaps. */
static void tool_rows(struct out *o, const cJSON *tools, int64_t t0, double wall)
{
	char row[2][COLS + 1];
	double w = wall / COLS;
	const cJSON *t;
	int n = 0;

	memset(row, ' ', sizeof(row));
	row[0][COLS] = row[1][COLS] = '\0';
	cJSON_ArrayForEach(t, tools)
	{
		double a = at(t, "started_at", t0), b = at(t, "ended_at", t0);
		int k0, k1, r;

		n++;
		if (isnan(a))
			continue;
		if (isnan(b))
			b = wall;
		k0 = (int)fmin(COLS - 1, fmax(0, floor(a / w)));
		k1 = (int)fmin(COLS - 1, fmax(k0, floor(b / w)));
		for (r = 0; r < 2 && row[r][k0] != ' '; r++)
			;
		if (r == 2) {
			row[1][k0] = '+';
			continue;
		}
		for (int k = k0; k <= k1; k++)
			row[r][k] = '=';
		row[r][k0] = n <= 9 ? (char)('0' + n) : '#';
	}
	put(o, "tools %s\n", row[0]);
	if (strspn(row[1], " ") != COLS)
		put(o, "      %s\n", row[1]);
}

static void model_row(struct out *o, const cJSON *model, int64_t t0, double wall)
{
	char row[COLS + 1];
	double w = wall / COLS;
	const cJSON *m;

	memset(row, ' ', COLS);
	row[COLS] = '\0';
	cJSON_ArrayForEach(m, model)
	{
		double a = at(m, "started_at", t0), b = at(m, "ended_at", t0);

		if (isnan(a))
			continue;
		if (isnan(b))
			b = wall;
		for (int k = (int)fmin(COLS, fmax(0, floor(a / w))); k < COLS && k * w <= b; k++)
			row[k] = '~';
	}
	put(o, "model %s\n", row);
}

static void key(struct out *o, const cJSON *tools, int64_t t0)
{
	char a[32], b[32], when[80], line[256], name[TIMEVIEW_WIDTH];
	const cJSON *t;
	int n = 0, room;

	cJSON_ArrayForEach(t, tools)
	{
		double s = at(t, "started_at", t0), e = at(t, "ended_at", t0);
		const char *nm = str(t, "name"), *id = str(t, "id");

		if (++n > TIMEVIEW_KEY_MAX)
			continue;
		snprintf(when, sizeof(when), "%7s-%-7s", isnan(s) ? "?" : timefmt_duration(s, a, sizeof(a)),
			 isnan(e) ? "…" : timefmt_duration(e, b, sizeof(b)));
		snprintf(name, sizeof(name), "%.20s %.28s", nm ? nm : "?", id ? id : "?");
		/* "NNN name when CPU CPU-s": the name gives way to long times. */
		room = TIMEVIEW_WIDTH - 4 - 1 - (int)strlen(when) - 1 - 16;
		snprintf(line, sizeof(line), "%3d %-*.*s %s %10.3f CPU-s", n, room, room, name, when,
			 num(t, "cpu_seconds", 0));
		names_sanitize(line);
		put(o, "%.*s\n", TIMEVIEW_WIDTH, line);
	}
	if (n > TIMEVIEW_KEY_MAX)
		put(o, "    (%d more tool calls: --json has them all)\n", n - TIMEVIEW_KEY_MAX);
	if (!n)
		put(o, "    no tool calls\n");
}

char *timeview_render(const cJSON *tl)
{
	const char *started = str(tl, "started_at"), *ended = str(tl, "ended_at");
	const cJSON *samples = cJSON_GetObjectItemCaseSensitive(tl, "samples");
	const cJSON *tools = cJSON_GetObjectItemCaseSensitive(tl, "tools");
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(tl, "model");
	const cJSON *ph = cJSON_GetObjectItemCaseSensitive(tl, "phases"), *s;
	char head[256], d1[32], d2[32], d3[32], d4[32];
	double cores[COLS], wall = 0;
	struct out o = { 0 };
	int64_t t0 = 0, t1;

	if (!started || timefmt_parse_iso_ns(started, strlen(started), &t0))
		t0 = 0;
	if (ended && !timefmt_parse_iso_ns(ended, strlen(ended), &t1))
		wall = (double)(t1 - t0) / 1e9;
	/* A live run: as far as its samples go. */
	cJSON_ArrayForEach(s, samples) wall = fmax(wall, at(s, "at", t0) + num(s, "seconds", 0));
	if (!(wall > 0))
		wall = 1;
	snprintf(head, sizeof(head), "run %.40s of project %.50s: %s%s, %.3f CPU-seconds",
		 str(tl, "run_id") ? str(tl, "run_id") : "?",
		 str(tl, "project") ? str(tl, "project") : "?",
		 timefmt_duration(wall, d1, sizeof(d1)), ended ? "" : " so far",
		 num(tl, "cpu_seconds", 0));
	names_sanitize(head);
	put(&o, "%.*s\n", TIMEVIEW_WIDTH, head); /* long names give way */
	if (cJSON_IsObject(ph))
		put(&o, "model %s, tools %s, idle %s\n",
		    timefmt_duration(num(ph, "model_seconds", 0), d1, sizeof(d1)),
		    timefmt_duration(num(ph, "tool_seconds", 0), d2, sizeof(d2)),
		    timefmt_duration(num(ph, "idle_seconds", 0), d3, sizeof(d3)));
	put(&o, "cores\n");
	columns(samples, t0, wall, cores);
	chart(&o, cores);
	put(&o, "     └");
	for (int k = 0; k < COLS; k++)
		put(&o, "─");
	put(&o, "\n");
	tool_rows(&o, tools, t0, wall);
	model_row(&o, model, t0, wall);
	timefmt_duration(0, d1, sizeof(d1));
	timefmt_duration(wall / 2, d2, sizeof(d2));
	timefmt_duration(wall, d4, sizeof(d4));
	put(&o, "%6s%-*s%-*s%*s\n", "", COLS / 2 - (int)strlen(d2) / 2, d1,
	    COLS - (COLS / 2 - (int)strlen(d2) / 2) - (int)strlen(d4), d2, (int)strlen(d4), d4);
	key(&o, tools, t0);
	if (o.nomem) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
