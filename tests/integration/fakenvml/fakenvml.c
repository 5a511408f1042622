/* A stand-in for NVIDIA's libnvidia-ml.so.1, for the integration tests:
 * the entry points agentperfd calls (user/daemon/nvml_abi.h), serving what
 * the file named by $FAKENVML_STATE says, read again at every call so that
 * a test changes the devices by rewriting it (write a copy, rename it over).
 * One directive per line; D is a device index, times are microseconds of
 * CLOCK_REALTIME, as NVML's CPU timestamps are:
 *   init CODE                      nvmlInit_v2's answer (default 0)
 *   devices N
 *   name D TEXT...
 *   memory D TOTAL USED            bytes
 *   util D GPU MEM                 nvmlDeviceGetUtilizationRates, percent
 *   error D CODE                   every call on D fails with CODE
 *   accounting D 0|1               accounting mode
 *   proc D compute|graphics PID MEM|na
 *   busy D PID SM FROM TO          PID is SM % busy in each 100 ms sample
 *                                  period ending on the grid of multiples
 *                                  of 100 ms in (FROM, TO] (rows add up)
 *   samples D all|one              what nvmlDeviceGetProcessUtilization
 *                                  answers: every busy period's sample
 *                                  (default), or NVIDIA's one sample per
 *                                  process: stamped with its latest busy
 *                                  period, its mean SM % since lastSeen
 *   acct D PID UTIL START TIME_MS RUNNING
 * Samples are made when asked for, for grid points up to now and at most
 * 10 s back, after the caller's lastSeenTimeStamp, like the driver's ring. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvml_abi.h"

#define MAX_DEV 8
#define MAX_ROWS 256
#define PERIOD_US 100000ULL
#define KEEP_US 10000000ULL

struct row {
	int dev;
	unsigned pid;
	unsigned long long a, b, c, d;
	int graphics;
	int na;
};

static struct {
	int init;
	int devices;
	char name[MAX_DEV][NVML_DEVICE_NAME_BUFFER_SIZE];
	unsigned long long total[MAX_DEV], used[MAX_DEV];
	unsigned util[MAX_DEV];
	int error[MAX_DEV], accounting[MAX_DEV], one[MAX_DEV];
	struct row proc[MAX_ROWS], busy[MAX_ROWS], acct[MAX_ROWS];
	int n_proc, n_busy, n_acct;
} st;

static int load(void)
{
	const char *path = getenv("FAKENVML_STATE");
	char line[512], kind[16];
	FILE *f;

	memset(&st, 0, sizeof(st));
	if (!path || !(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct row r = { 0 };
		int d, n = 0;

		if (sscanf(line, "%15s %d %n", kind, &d, &n) < 2)
			continue;
		if (!strcmp(kind, "init")) {
			st.init = d;
			continue;
		}
		if (!strcmp(kind, "devices")) {
			st.devices = d < MAX_DEV ? d : MAX_DEV;
			continue;
		}
		if (d < 0 || d >= MAX_DEV)
			continue;
		r.dev = d;
		if (!strcmp(kind, "name")) {
			snprintf(st.name[d], sizeof(st.name[d]), "%s", line + n);
			st.name[d][strcspn(st.name[d], "\n")] = '\0';
		} else if (!strcmp(kind, "memory")) {
			sscanf(line + n, "%llu %llu", &st.total[d], &st.used[d]);
		} else if (!strcmp(kind, "util")) {
			sscanf(line + n, "%u", &st.util[d]);
		} else if (!strcmp(kind, "error")) {
			sscanf(line + n, "%d", &st.error[d]);
		} else if (!strcmp(kind, "samples")) {
			st.one[d] = !strncmp(line + n, "one", 3);
		} else if (!strcmp(kind, "accounting")) {
			sscanf(line + n, "%d", &st.accounting[d]);
		} else if (!strcmp(kind, "proc") && st.n_proc < MAX_ROWS) {
			char list[16], mem[32];

			if (sscanf(line + n, "%15s %u %31s", list, &r.pid, mem) != 3)
				continue;
			r.graphics = !strcmp(list, "graphics");
			r.na = !strcmp(mem, "na");
			r.a = r.na ? 0 : strtoull(mem, NULL, 10);
			st.proc[st.n_proc++] = r;
		} else if (!strcmp(kind, "busy") && st.n_busy < MAX_ROWS) {
			if (sscanf(line + n, "%u %llu %llu %llu", &r.pid, &r.a, &r.b, &r.c) == 4)
				st.busy[st.n_busy++] = r;
		} else if (!strcmp(kind, "acct") && st.n_acct < MAX_ROWS) {
			if (sscanf(line + n, "%u %llu %llu %llu %llu", &r.pid, &r.a, &r.b, &r.c,
				   &r.d) == 5)
				st.acct[st.n_acct++] = r;
		}
	}
	fclose(f);
	return 0;
}

static unsigned long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000;
}

/* The device behind a handle, with the state loaded; -1 with *rc set when
 * the call fails. */
static int dev_of(nvmlDevice_t h, nvmlReturn_t *rc)
{
	int d = (int)(uintptr_t)h - 1;

	if (load() || d < 0 || d >= st.devices) {
		*rc = 2; /* NVML_ERROR_INVALID_ARGUMENT */
		return -1;
	}
	if (st.error[d]) {
		*rc = st.error[d];
		return -1;
	}
	return d;
}

nvmlReturn_t nvmlInit_v2(void)
{
	if (load())
		return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
	return st.init;
}

nvmlReturn_t nvmlShutdown(void)
{
	return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t rc)
{
	switch (rc) {
	case NVML_SUCCESS:
		return "Success";
	case NVML_ERROR_NOT_SUPPORTED:
		return "Not Supported";
	case NVML_ERROR_NO_PERMISSION:
		return "Insufficient Permissions";
	case NVML_ERROR_NOT_FOUND:
		return "Not Found";
	case NVML_ERROR_GPU_IS_LOST:
		return "GPU is lost";
	default:
		return "Unknown Error";
	}
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
	if (load())
		return 1; /* NVML_ERROR_UNINITIALIZED */
	*count = (unsigned)st.devices;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	if (load() || index >= (unsigned)st.devices)
		return 2;
	*device = (nvmlDevice_t)(uintptr_t)(index + 1);
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t h, char *name, unsigned int length)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);

	if (d < 0)
		return rc;
	snprintf(name, length, "%s", st.name[d]);
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t h, nvmlMemory_t *m)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);

	if (d < 0)
		return rc;
	m->total = st.total[d];
	m->used = st.used[d];
	m->free = st.total[d] - st.used[d];
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t h, nvmlUtilization_t *u)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);

	if (d < 0)
		return rc;
	u->gpu = st.util[d];
	u->memory = 0;
	return NVML_SUCCESS;
}

static nvmlReturn_t processes(nvmlDevice_t h, int graphics, unsigned int *count,
			      nvmlProcessInfo_t *infos)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);
	unsigned n = 0;

	if (d < 0)
		return rc;
	for (int i = 0; i < st.n_proc; i++)
		n += st.proc[i].dev == d && st.proc[i].graphics == graphics;
	if (*count < n || (n && !infos)) {
		*count = n;
		return NVML_ERROR_INSUFFICIENT_SIZE;
	}
	n = 0;
	for (int i = 0; i < st.n_proc; i++) {
		const struct row *r = &st.proc[i];

		if (r->dev != d || r->graphics != graphics)
			continue;
		infos[n].pid = r->pid;
		infos[n].usedGpuMemory = r->na ? NVML_VALUE_NOT_AVAILABLE_ULL : r->a;
		infos[n].gpuInstanceId = infos[n].computeInstanceId = 0;
		n++;
	}
	*count = n;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t h, unsigned int *count,
						     nvmlProcessInfo_t *infos)
{
	return processes(h, 0, count, infos);
}

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t h, unsigned int *count,
						      nvmlProcessInfo_t *infos)
{
	return processes(h, 1, count, infos);
}

/* PID's SM % on device d in the period ending at grid point g. */
static unsigned busy_at(int d, unsigned pid, unsigned long long g)
{
	unsigned sm = 0;

	for (int i = 0; i < st.n_busy; i++)
		if (st.busy[i].dev == d && st.busy[i].pid == pid && st.busy[i].b < g &&
		    g <= st.busy[i].c)
			sm += (unsigned)st.busy[i].a;
	return sm > 100 ? 100 : sm;
}

/* Whether row i is the first busy row of its pid on its device. */
static int first_row(int i)
{
	for (int j = 0; j < i; j++)
		if (st.busy[j].dev == st.busy[i].dev && st.busy[j].pid == st.busy[i].pid)
			return 0;
	return 1;
}

/* Fills out (when not NULL) with the samples after last; returns how many there are. */
static unsigned make_samples(int d, unsigned long long last, nvmlProcessUtilizationSample_t *out,
			     unsigned cap)
{
	unsigned long long now = now_us(), from = last, g0, g;
	unsigned n = 0;

	if (now > KEEP_US && from < now - KEEP_US)
		from = now - KEEP_US;
	g0 = (from / PERIOD_US + 1) * PERIOD_US;
	for (int i = 0; i < st.n_busy; i++) {
		const struct row *r = &st.busy[i];
		unsigned long long latest = 0, sum = 0, periods = 0, sum_latest = 0, periods_latest = 0;

		if (r->dev != d || !first_row(i))
			continue;
		for (g = g0; g <= now; g += PERIOD_US) {
			unsigned sm = busy_at(d, r->pid, g);

			sum += sm;
			periods++;
			if (sm && !st.one[d]) {
				if (out && n < cap) {
					memset(&out[n], 0, sizeof(out[n]));
					out[n].pid = r->pid;
					out[n].timeStamp = g;
					out[n].smUtil = sm;
				}
				n++;
			} else if (sm) {
				latest = g;
				sum_latest = sum;
				periods_latest = periods;
			}
		}
		if (!latest)
			continue;
		/* One sample: the mean over the periods since last, to the latest busy one. */
		if (out && n < cap) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].pid = r->pid;
			out[n].timeStamp = latest;
			out[n].smUtil = (unsigned)((sum_latest + periods_latest / 2) / periods_latest);
		}
		n++;
	}
	return n;
}

nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t h,
					     nvmlProcessUtilizationSample_t *utilization,
					     unsigned int *count, unsigned long long last)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);
	unsigned n;

	if (d < 0)
		return rc;
	n = make_samples(d, last, NULL, 0);
	if (!n) {
		*count = 0;
		return NVML_ERROR_NOT_FOUND;
	}
	if (!utilization || *count < n) {
		*count = n;
		return NVML_ERROR_INSUFFICIENT_SIZE;
	}
	*count = make_samples(d, last, utilization, *count);
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetAccountingMode(nvmlDevice_t h, int *mode)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);

	if (d < 0)
		return rc;
	*mode = st.accounting[d] ? NVML_FEATURE_ENABLED : 0;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetAccountingStats(nvmlDevice_t h, unsigned int pid,
					  nvmlAccountingStats_t *stats)
{
	nvmlReturn_t rc;
	int d = dev_of(h, &rc);

	if (d < 0)
		return rc;
	for (int i = 0; i < st.n_acct; i++) {
		const struct row *r = &st.acct[i];

		if (r->dev != d || r->pid != pid)
			continue;
		memset(stats, 0, sizeof(*stats));
		stats->gpuUtilization = (unsigned)r->a;
		stats->startTime = r->b;
		stats->time = r->c;
		stats->isRunning = (unsigned)r->d;
		return NVML_SUCCESS;
	}
	return NVML_ERROR_NOT_FOUND;
}
