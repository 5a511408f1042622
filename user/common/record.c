/* The run record's human renderings (docs/interfaces.md "The run record"). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "names.h"
#include "record.h"
#include "timefmt.h"

/* The largest exit code and signal number a wait status can carry. */
#define RECORD_EXIT_MAX 255
#define RECORD_SIGNAL_MAX 127

static const char *str_or(const cJSON *rec, const char *key, const char *dflt)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, key));

	return s ? s : dflt;
}

static double num_or(const cJSON *rec, const char *key, double dflt)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, key);

	return cJSON_IsNumber(n) ? n->valuedouble : dflt;
}

/* The run's wall time, or -1 while the run is open. */
static double wall_seconds(const cJSON *rec)
{
	return num_or(rec, "wall_seconds", -1);
}

/* A whole number from 0 to max, else -1: null, absent, or a corrupted record's
 * 1e10, which must never reach an int cast. */
static int small_int(const cJSON *rec, const char *key, int max)
{
	double v = num_or(rec, key, -1);

	return v >= 0 && v <= max && v == floor(v) ? (int)v : -1;
}

static void describe_end(const cJSON *rec, char *buf, size_t len)
{
	int code = small_int(rec, "exit_code", RECORD_EXIT_MAX);
	int sig = small_int(rec, "signal", RECORD_SIGNAL_MAX);

	if (sig >= 0)
		snprintf(buf, len, "%s (killed by signal %d)", str_or(rec, "status", "?"), sig);
	else if (code >= 0)
		snprintf(buf, len, "%s (exit %d)", str_or(rec, "status", "?"), code);
	else
		snprintf(buf, len, "%s", str_or(rec, "status", "?"));
}

char *record_bytes_human(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4)
		b /= 1024, u++;
	snprintf(buf, len, u && b < 10 ? "%.1f%s" : "%.0f%s", b, unit[u]);
	return buf;
}

/* "cc1 68%, node 20%": each top command's share of the run's CPU. */
static void top_human(const cJSON *rec, int max, char *buf, size_t len)
{
	double cpu = num_or(rec, "cpu_seconds", 0);
	const cJSON *e;
	size_t n = 0;
	int i = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rec, "top"))
	{
		const char *comm = str_or(e, "comm", "?");
		double secs = num_or(e, "cpu_seconds", 0);
		int k;

		if (i++ == max || n >= len)
			break;
		if (cpu > 0)
			k = snprintf(buf + n, len - n, "%s%s %.0f%%", n ? ", " : "", comm,
				     secs < cpu ? 100 * secs / cpu : 100);
		else
			k = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", comm);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (!n)
		snprintf(buf, len, "-");
}

/* The costliest tool call (tools[0]): "exec_command 1.50s" (its name, or
 * "?" when the transcript gave none); "-" when the run has none with CPU. */
static void costliest_tool(const cJSON *rec, char *buf, size_t len, const char **id,
			   const char **tname, double *cpu)
{
	const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rec, "tools"), 0);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *tid = cJSON_GetObjectItemCaseSensitive(t, "id");
	double c = num_or(t, "cpu_seconds", 0);
	char dur[32];

	*id = cJSON_IsString(tid) ? tid->valuestring : "?";
	*tname = cJSON_IsString(name) ? name->valuestring : "?";
	*cpu = c > 0 && c < TIMEFMT_DURATION_MAX ? c : 0;
	if (*cpu > 0)
		snprintf(buf, len, "%s %s", *tname, timefmt_duration(*cpu, dur, sizeof(dur)));
	else
		snprintf(buf, len, "-");
}

void record_summary(const cJSON *rec, char *buf, size_t len)
{
	double cpu = num_or(rec, "cpu_seconds", 0), wall = wall_seconds(rec);
	double alive = num_or(rec, "tasks_alive", 0), lost = num_or(rec, "tasks_lost", 0);
	double peak = num_or(rec, "peak_rss_bytes", -1), delay = num_or(rec, "run_delay_seconds", -1);
	char end[96], dur[32], cores[64] = "", tail[160] = "", diag[512] = "", top[160], sz[16];
	char tool[128];
	const char *tool_id, *tool_name;
	double tool_cpu;
	size_t m = 0;
	int n;

	describe_end(rec, end, sizeof(end));
	if (wall > 0)
		snprintf(cores, sizeof(cores), " (%.2f cores on average over %s)", cpu / wall,
			 timefmt_duration(wall, dur, sizeof(dur)));
	if (alive > 0)
		snprintf(tail, sizeof(tail),
			 " %.0f task%s still alive and tracked until %s exit (--wait-all waits for "
			 "them).",
			 alive, alive == 1 ? " is" : "s are", alive == 1 ? "its" : "their");
	top_human(rec, 3, top, sizeof(top));
	if (strcmp(top, "-"))
		m += (size_t)snprintf(diag + m, sizeof(diag) - m, " Top commands: %s.", top);
	costliest_tool(rec, tool, sizeof(tool), &tool_id, &tool_name, &tool_cpu);
	if (strcmp(tool, "-") && m < sizeof(diag))
		m += (size_t)snprintf(diag + m, sizeof(diag) - m,
				      " Costliest tool call: %.64s (%.64s), %.3f CPU-seconds.",
				      tool_name, tool_id, tool_cpu);
	if (peak > 0 && m < sizeof(diag))
		m += (size_t)snprintf(diag + m, sizeof(diag) - m, " Peak RSS %s.",
				      record_bytes_human(peak, sz, sizeof(sz)));
	if (delay > 0 && m < sizeof(diag))
		snprintf(diag + m, sizeof(diag) - m, " Waited %s for a CPU.",
			 timefmt_duration(delay, dur, sizeof(dur)));
	n = snprintf(buf, len,
		     "agentperf: run %s of project %s %s: %.3f CPU-seconds%s in %.0f task%s.%s%s",
		     str_or(rec, "run_id", "?"), str_or(rec, "project", "?"), end, cpu, cores,
		     num_or(rec, "tasks_started", 0), num_or(rec, "tasks_started", 0) == 1 ? "" : "s",
		     diag, tail);
	if (lost > 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
			 " %.0f task%s could not be tracked (kernel memory): figures are low.", lost,
			 lost == 1 ? "" : "s");
	/* A process may name itself "\e]0;..." : never let it reach the terminal. */
	if (len)
		names_sanitize(buf);
}

void record_table_header(char *buf, size_t len)
{
	snprintf(buf, len, "%-20s %-32s %-8s %-6s %9s %12s %7s %6s %9s %9s %-24s %s", "PROJECT",
		 "RUN_ID", "STATUS", "EXIT", "WALL", "CPU_SECONDS", "TASKS", "ALIVE", "PEAK_RSS",
		 "CPU_WAIT", "COSTLIEST_TOOL", "TOP");
}

void record_table_row(const cJSON *rec, char *buf, size_t len)
{
	int code = small_int(rec, "exit_code", RECORD_EXIT_MAX);
	int sig = small_int(rec, "signal", RECORD_SIGNAL_MAX);
	double wall = wall_seconds(rec), peak = num_or(rec, "peak_rss_bytes", -1);
	double delay = num_or(rec, "run_delay_seconds", -1);
	char exit_s[16] = "-", wall_s[32] = "-", peak_s[16] = "-", delay_s[32] = "-", top[160];
	char tool[128];
	const char *tool_id, *tool_name;
	double tool_cpu;

	if (sig >= 0)
		snprintf(exit_s, sizeof(exit_s), "sig%d", sig);
	else if (code >= 0)
		snprintf(exit_s, sizeof(exit_s), "%d", code);
	if (wall >= 0)
		timefmt_duration(wall, wall_s, sizeof(wall_s));
	if (peak >= 0)
		record_bytes_human(peak, peak_s, sizeof(peak_s));
	if (delay >= 0)
		timefmt_duration(delay, delay_s, sizeof(delay_s));
	top_human(rec, 3, top, sizeof(top));
	costliest_tool(rec, tool, sizeof(tool), &tool_id, &tool_name, &tool_cpu);
	snprintf(buf, len, "%-20s %-32s %-8s %-6s %9s %12.3f %7.0f %6.0f %9s %9s %-24.24s %s",
		 str_or(rec, "project", "?"), str_or(rec, "run_id", "?"),
		 str_or(rec, "status", "?"), exit_s, wall_s, num_or(rec, "cpu_seconds", 0),
		 num_or(rec, "tasks_started", 0), num_or(rec, "tasks_alive", 0), peak_s, delay_s, tool,
		 top);
	if (len)
		names_sanitize(buf);
}
