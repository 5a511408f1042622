/* The screen of `agentperf top`: every run of the host, busiest first, fitted
 * to a terminal's size. Pure: status records in, text out. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "topview.h"

#define PROJECT_W 20

struct out {
	char *buf;
	size_t len, used;
	int cols, lines;
};

static double num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(n) ? n->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "?";
}

/* One line, cut to the width; bytes a terminal would not print become '?'. */
static void line(struct out *o, const char *text)
{
	size_t n = strlen(text), w = o->cols > 0 && (size_t)o->cols < n ? (size_t)o->cols : n;

	if (o->used + w + 2 > o->len)
		return;
	for (size_t i = 0; i < w; i++) {
		unsigned char c = (unsigned char)text[i];

		o->buf[o->used++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	/* No trailing blanks: a cut line ends where its text does. */
	while (w && o->used && o->buf[o->used - 1] == ' ')
		o->used--, w--;
	o->buf[o->used++] = '\n';
	o->buf[o->used] = '\0';
	o->lines++;
}

static int busier(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	double cx = num(x, "cores", 0), cy = num(y, "cores", 0);

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return strcmp(str(x, "project"), str(y, "project"));
}

static void row(struct out *o, const cJSON *r)
{
	const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "top"), 0);
	double gpu = num(r, "gpu_percent", -1), cpu = num(r, "cpu_seconds", 0);
	char rss[16], gpu_s[16] = "-", top_s[64] = "-", text[512];

	record_bytes_human(num(r, "rss_bytes", 0), rss, sizeof(rss));
	if (gpu >= 0)
		snprintf(gpu_s, sizeof(gpu_s), "%.0f", gpu);
	/* Records round the two differently: a share is never above 100 %. */
	if (top && cpu > 0)
		snprintf(top_s, sizeof(top_s), "%s %.0f%%", str(top, "comm"),
			 num(top, "cpu_seconds", 0) < cpu ? 100 * num(top, "cpu_seconds", 0) / cpu
							  : 100);
	snprintf(text, sizeof(text), "%-*.*s %-8s %6.1f %6.2f %8s %5s %6.0f  %s", PROJECT_W,
		 PROJECT_W, str(r, "project"), str(r, "status"), num(r, "cpu_percent", 0),
		 num(r, "cores", 0), rss, gpu_s, num(r, "tasks_alive", 0), top_s);
	line(o, text);
}

int topview_render(const cJSON *runs, int cols, int rows, const char *clock, char *buf,
		   size_t len)
{
	struct out o = { .buf = buf, .len = len, .cols = cols };
	int n = cJSON_GetArraySize(runs), shown;
	const cJSON **v = n ? calloc((size_t)n, sizeof(*v)) : NULL;
	char text[512];
	int i = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	snprintf(text, sizeof(text), "agentperf top - %s - %d run%s - q quits", clock, n,
		 n == 1 ? "" : "s");
	line(&o, text);
	snprintf(text, sizeof(text), "%-*s %-8s %6s %6s %8s %5s %6s  %s", PROJECT_W, "PROJECT",
		 "STATUS", "CPU%", "CORES", "RSS", "GPU%", "TASKS", "TOP COMMAND");
	line(&o, text);
	if (!n) {
		line(&o, "no live runs");
		return o.lines;
	}
	if (!v)
		return o.lines;
	for (const cJSON *r = runs->child; r && i < n; r = r->next)
		v[i++] = r;
	qsort(v, (size_t)n, sizeof(*v), busier);
	/* Rows left for runs; the last says how many did not fit. */
	shown = rows > 0 ? rows - o.lines : n;
	if (shown < n && shown > 0)
		shown--;
	for (i = 0; i < n && i < shown; i++)
		row(&o, v[i]);
	if (i < n && (rows <= 0 || o.lines < rows)) {
		snprintf(text, sizeof(text), "... and %d more (a taller terminal shows them)", n - i);
		line(&o, text);
	}
	free(v);
	return o.lines;
}
