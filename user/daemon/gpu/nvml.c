/* NVIDIA GPUs through NVML, loaded at run time: devices read once per walk,
 * a run's figures from its own processes. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "nvml.h"
#include "nvml_abi.h"

/* One device and its latest reading. */
struct nvml_dev {
	nvmlDevice_t h;
	char name[NVML_DEVICE_NAME_BUFFER_SIZE];
	bool accounting; /* accounting mode on at open */
	bool have_total;
	uint64_t total_bytes; /* at open */
	bool have_mem, have_util;
	nvmlMemory_t mem;
	unsigned util;
	bool read_once;
	uint64_t last_ts; /* newest sample timestamp kept: the next read's lastSeenTimeStamp */
	uint64_t seen_us; /* the lastSeenTimeStamp the latest read passed */
	bool util_lost; /* the latest read of its samples failed */
	uint64_t period_us; /* the driver's sample period, as the samples show it */
	uint64_t prev_us; /* when it was read last */
	nvmlReturn_t err, logged_err; /* this read's first failure; the last one logged */
	struct nvmlmath_proc *procs;
	size_t cap_procs;
	struct nvmlmath_sample *samples;
	size_t cap_samples;
};

struct nvml {
	void *lib;
	struct {
		nvmlShutdown_fn shutdown;
		nvmlErrorString_fn error_string; /* optional */
		nvmlDeviceGetMemoryInfo_fn memory;
		nvmlDeviceGetUtilizationRates_fn utilization; /* optional */
		nvmlDeviceGetRunningProcesses_fn compute, graphics;
		nvmlDeviceGetProcessUtilization_fn samples; /* optional */
		nvmlDeviceGetAccountingStats_fn accounting; /* optional */
	} api;
	int n;
	struct nvml_dev dev[GPUDEVS_MAX];
	struct nvmlmath_dev rd[GPUDEVS_MAX]; /* the latest readings, for nvmlmath_run */
	/* Scratch, grown as needed. */
	nvmlProcessInfo_t *info;
	unsigned cap_info;
	nvmlProcessUtilizationSample_t *usamples;
	unsigned cap_usamples;
	uint32_t *members;
	size_t cap_members;
	struct nvmlmath_acct acct[NVML_RUN_PIDS * GPUDEVS_MAX];
};

static const char *err_name(const struct nvml *n, nvmlReturn_t rc)
{
	static char buf[32];

	if (n->api.error_string)
		return n->api.error_string(rc);
	snprintf(buf, sizeof(buf), "NVML error %d", rc);
	return buf;
}

/* Grows *p (a void * object: the callers' arrays are passed as such) to
 * hold want elements of sz bytes. Returns 0 or -ENOMEM. */
static int grow(void **p, size_t *cap, size_t want, size_t sz)
{
	void *q = buf_grow(*p, cap, want, sz);

	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

static int grow_u(void **buf, unsigned *cap, size_t want, size_t sz)
{
	size_t c = *cap;
	int err = grow(buf, &c, want, sz);

	*cap = (unsigned)c;
	return err;
}

void nvml_free(struct nvml *n)
{
	if (!n)
		return;
	if (n->api.shutdown)
		n->api.shutdown();
	for (int i = 0; i < n->n; i++) {
		free(n->dev[i].procs);
		free(n->dev[i].samples);
	}
	free(n->info);
	free(n->usamples);
	free(n->members);
	if (n->lib)
		dlclose(n->lib);
	free(n);
}

/* The entry point name, or NULL after the one info line when required. */
static void *sym(struct nvml *n, const char *lib, const char *name, bool required)
{
	void *p = dlsym(n->lib, name);

	if (!p && required)
		log_info("NVML: %s has no %s: NVIDIA GPUs are not read", lib, name);
	return p;
}

/* Opens device i. Returns 0, or the NVML error after its info line. */
static nvmlReturn_t open_dev(struct nvml *n, unsigned i,
			     nvmlDeviceGetHandleByIndex_v2_fn by_index, nvmlDeviceGetName_fn name,
			     nvmlDeviceGetAccountingMode_fn acct_mode)
{
	struct nvml_dev *d = &n->dev[i];
	nvmlMemory_t mem;
	nvmlReturn_t rc;
	int mode;

	rc = by_index(i, &d->h);
	if (rc != NVML_SUCCESS) {
		log_info("NVML: device %u cannot be opened: %s: NVIDIA GPUs are not read", i,
			 err_name(n, rc));
		return rc;
	}
	if (name(d->h, d->name, sizeof(d->name)) != NVML_SUCCESS)
		snprintf(d->name, sizeof(d->name), "NVIDIA GPU %u", i);
	d->name[sizeof(d->name) - 1] = '\0';
	if (n->api.memory(d->h, &mem) == NVML_SUCCESS) {
		d->have_total = true;
		d->total_bytes = mem.total;
	}
	d->accounting = acct_mode && n->api.accounting && acct_mode(d->h, &mode) == NVML_SUCCESS &&
			mode == NVML_FEATURE_ENABLED;
	return NVML_SUCCESS;
}

struct nvml *nvml_open(const char *lib)
{
	struct nvml *n = calloc(1, sizeof(*n));
	nvmlDeviceGetHandleByIndex_v2_fn by_index;
	nvmlDeviceGetAccountingMode_fn acct_mode;
	nvmlDeviceGetCount_v2_fn count;
	nvmlDeviceGetName_fn name;
	nvmlInit_v2_fn init;
	nvmlReturn_t rc;
	unsigned nd = 0;

	if (!n)
		return NULL;
	n->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!n->lib) {
		log_info("NVML: %s not loaded (%s): NVIDIA GPUs are not read", lib, dlerror());
		goto fail;
	}
	if (!(init = sym(n, lib, "nvmlInit_v2", true)) ||
	    !(n->api.shutdown = sym(n, lib, "nvmlShutdown", true)) ||
	    !(count = sym(n, lib, "nvmlDeviceGetCount_v2", true)) ||
	    !(by_index = sym(n, lib, "nvmlDeviceGetHandleByIndex_v2", true)) ||
	    !(name = sym(n, lib, "nvmlDeviceGetName", true)) ||
	    !(n->api.memory = sym(n, lib, "nvmlDeviceGetMemoryInfo", true)))
		goto fail;
	/* The _v3 process lists where the driver has them (r510 on), else
	 * _v2: both fill the same nvmlProcessInfo_t. */
	n->api.compute = sym(n, lib, "nvmlDeviceGetComputeRunningProcesses_v3", false);
	if (!n->api.compute &&
	    !(n->api.compute = sym(n, lib, "nvmlDeviceGetComputeRunningProcesses_v2", true)))
		goto fail;
	n->api.graphics = sym(n, lib, "nvmlDeviceGetGraphicsRunningProcesses_v3", false);
	if (!n->api.graphics &&
	    !(n->api.graphics = sym(n, lib, "nvmlDeviceGetGraphicsRunningProcesses_v2", true)))
		goto fail;
	n->api.error_string = sym(n, lib, "nvmlErrorString", false);
	n->api.utilization = sym(n, lib, "nvmlDeviceGetUtilizationRates", false);
	n->api.samples = sym(n, lib, "nvmlDeviceGetProcessUtilization", false);
	n->api.accounting = sym(n, lib, "nvmlDeviceGetAccountingStats", false);
	rc = init();
	if (rc != NVML_SUCCESS) {
		log_info("NVML: %s: init failed: %s: NVIDIA GPUs are not read", lib,
			 err_name(n, rc));
		n->api.shutdown = NULL; /* nothing to shut down */
		goto fail;
	}
	rc = count(&nd);
	if (rc != NVML_SUCCESS || nd == 0) {
		log_info("NVML: %s: %s: NVIDIA GPUs are not read", lib,
			 rc != NVML_SUCCESS ? err_name(n, rc) : "no device");
		goto fail;
	}
	if (nd > GPUDEVS_MAX) {
		log_warn("NVML: %u devices: only the first %d are read", nd, GPUDEVS_MAX);
		nd = GPUDEVS_MAX;
	}
	acct_mode = sym(n, lib, "nvmlDeviceGetAccountingMode", false);
	for (unsigned i = 0; i < nd; i++)
		if (open_dev(n, i, by_index, name, acct_mode))
			goto fail;
	n->n = (int)nd;
	log_info("NVML: %s: %u device(s)%s", lib, nd,
		 n->api.samples ? "" : " (no per-process utilization: GPU percent unknown)");
	return n;
fail:
	nvml_free(n);
	return NULL;
}

void nvml_list(const struct nvml *n, struct gpu_devices *d)
{
	for (int i = 0; i < n->n; i++) {
		struct gpu_device *x = gpudevs_add(d);

		if (!x)
			return;
		snprintf(x->id, sizeof(x->id), "nvidia%d", i);
		snprintf(x->name, sizeof(x->name), "%s", n->dev[i].name);
		snprintf(x->backend, sizeof(x->backend), "nvml");
		snprintf(x->method, sizeof(x->method), "%s",
			 n->api.samples ? (n->dev[i].accounting ? "samples+accounting" : "samples")
					: (n->dev[i].accounting ? "accounting" : "none"));
		x->index = i;
		x->have_mem_total = n->dev[i].have_total;
		x->mem_total_bytes = n->dev[i].total_bytes;
	}
}

bool nvml_vram_total(const struct nvml *n, uint64_t *bytes)
{
	*bytes = 0;
	for (int i = 0; i < n->n; i++) {
		if (!n->dev[i].have_total)
			return false;
		*bytes += n->dev[i].total_bytes;
	}
	return true;
}

/* Notes the read's first failure. */
static void failed(struct nvml_dev *d, nvmlReturn_t rc)
{
	if (!d->err)
		d->err = rc;
}

/* A process list (compute or graphics) merged into d->procs. Returns
 * whether it was read. */
static bool read_list(struct nvml *n, struct nvml_dev *d, nvmlDeviceGetRunningProcesses_fn fn,
		      size_t *np)
{
	unsigned count = 0;
	nvmlReturn_t rc = NVML_ERROR_INSUFFICIENT_SIZE;

	/* The first call may only ask the size; the list can grow between
	 * the calls: one more try at the size asked for. */
	for (int tries = 0; tries < 3 && rc == NVML_ERROR_INSUFFICIENT_SIZE; tries++) {
		if (tries && grow_u((void **)&n->info, &n->cap_info, count, sizeof(*n->info)))
			break;
		count = n->cap_info;
		rc = fn(d->h, &count, n->info);
	}
	if (rc != NVML_SUCCESS) {
		failed(d, rc);
		return false;
	}
	for (unsigned i = 0; i < count; i++) {
		const nvmlProcessInfo_t *pi = &n->info[i];
		bool have = pi->usedGpuMemory != NVML_VALUE_NOT_AVAILABLE_ULL;
		size_t k;

		/* A process in both lists is one process: its memory once. */
		for (k = 0; k < *np && d->procs[k].pid != pi->pid; k++)
			;
		if (k == *np) {
			if (grow((void **)&d->procs, &d->cap_procs, k + 1, sizeof(*d->procs))) {
				failed(d, NVML_ERROR_INSUFFICIENT_SIZE);
				return false;
			}
			d->procs[(*np)++] = (struct nvmlmath_proc){ .pid = pi->pid };
		}
		if (have && (!d->procs[k].have_mem || pi->usedGpuMemory > d->procs[k].mem_bytes)) {
			d->procs[k].have_mem = true;
			d->procs[k].mem_bytes = pi->usedGpuMemory;
		}
	}
	return true;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct nvmlmath_sample *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->ts_us > y->ts_us) - (x->ts_us < y->ts_us);
}

/* Where the next read starts after a read at real_us: after its newest
 * sample, and never before the previous read (this one's, for the first).
 * With no sample at all, lastSeenTimeStamp 0 would ask for the mean over
 * the driver's whole buffer, and a process's first sample would then cover
 * everything since 1970. A sample the driver stamps before the previous
 * read but gives only after this one is lost: the driver lags less. */
static void next_start(struct nvml_dev *d, uint64_t real_us)
{
	uint64_t floor = d->read_once ? d->prev_us : real_us;

	if (d->last_ts < floor)
		d->last_ts = floor;
}

/* The utilization samples since the last read, sorted by pid. Returns
 * whether they were read (none since then is a read). */
static bool read_samples(struct nvml *n, struct nvml_dev *d, uint64_t real_us, size_t *ns)
{
	unsigned count = 0;
	nvmlReturn_t rc = NVML_ERROR_INSUFFICIENT_SIZE;
	uint64_t seen = d->last_ts;

	*ns = 0;
	d->seen_us = seen;
	if (!n->api.samples)
		return false;
	for (int tries = 0; tries < 2 && rc == NVML_ERROR_INSUFFICIENT_SIZE; tries++) {
		if (grow_u((void **)&n->usamples, &n->cap_usamples, tries ? count : 64,
			   sizeof(*n->usamples)))
			break;
		count = n->cap_usamples;
		rc = n->api.samples(d->h, n->usamples, &count, d->last_ts);
	}
	if (rc == NVML_ERROR_NOT_FOUND) {
		next_start(d, real_us);
		return true; /* no sample since the last: idle */
	}
	if (rc != NVML_SUCCESS || grow((void **)&d->samples, &d->cap_samples, count,
				       sizeof(*d->samples))) {
		failed(d, rc != NVML_SUCCESS ? rc : NVML_ERROR_INSUFFICIENT_SIZE);
		next_start(d, real_us); /* never 0, nor a backlog of the outage */
		return false;
	}
	for (unsigned i = 0; i < count; i++) {
		const nvmlProcessUtilizationSample_t *u = &n->usamples[i];

		d->samples[i] = (struct nvmlmath_sample){ u->pid, u->timeStamp, u->smUtil };
	}
	/* Only what NVIDIA's rules count, and the next read starts after it. */
	*ns = nvmlmath_keep(d->samples, count, seen);
	for (size_t i = 0; i < *ns; i++)
		if (d->samples[i].ts_us > d->last_ts)
			d->last_ts = d->samples[i].ts_us;
	qsort(d->samples, *ns, sizeof(*d->samples), cmp_sample);
	d->period_us = nvmlmath_period(d->samples, *ns, d->period_us);
	next_start(d, real_us);
	return true;
}

/* Says once when a device's readings start failing, and when they recover. */
static void log_change(const struct nvml *n, struct nvml_dev *d, int i)
{
	if (d->err == d->logged_err)
		return;
	if (d->err)
		log_warn("NVML: nvidia%d: %s: its figures are unknown until it answers",
			 i, err_name(n, d->err));
	else
		log_info("NVML: nvidia%d answers again", i);
	d->logged_err = d->err;
}

void nvml_read(struct nvml *n, uint64_t real_us)
{
	for (int i = 0; i < n->n; i++) {
		struct nvml_dev *d = &n->dev[i];
		struct nvmlmath_dev *r = &n->rd[i];
		nvmlUtilization_t u;
		size_t np = 0, ns = 0;
		nvmlReturn_t rc;

		d->err = NVML_SUCCESS;
		rc = n->api.memory(d->h, &d->mem);
		d->have_mem = rc == NVML_SUCCESS;
		if (!d->have_mem)
			failed(d, rc);
		d->have_util = false;
		if (n->api.utilization) {
			rc = n->api.utilization(d->h, &u);
			d->have_util = rc == NVML_SUCCESS;
			if (d->have_util)
				d->util = u.gpu;
			else
				failed(d, rc);
		}
		r->procs_ok = read_list(n, d, n->api.compute, &np) &&
			      read_list(n, d, n->api.graphics, &np);
		r->procs = d->procs;
		r->n_procs = r->procs_ok ? np : 0;
		r->util_ok = read_samples(n, d, real_us, &ns);
		r->samples = d->samples;
		r->n_samples = ns;
		r->period_us = d->period_us;
		/* After reads that failed (a lost GPU), a sample's mean since
		 * lastSeenTimeStamp is counted from the previous read only: the
		 * time in between had no figure, and gets none now. */
		r->seen_us = d->util_lost && d->prev_us > d->seen_us ? d->prev_us : d->seen_us;
		d->util_lost = !r->util_ok;
		/* The first read only sets where the next one starts: the
		 * driver's buffer before it may hold seconds of samples. */
		r->util_window = d->read_once;
		r->since_us = d->prev_us;
		r->until_us = real_us;
		d->prev_us = real_us;
		d->read_once = true;
		log_change(n, d, i);
	}
}

void nvml_device(const struct nvml *n, struct gpu_device *x)
{
	const struct nvml_dev *d;

	if (x->index < 0 || x->index >= n->n)
		return;
	d = &n->dev[x->index];
	x->have_mem_total = d->have_mem || d->have_total;
	x->mem_total_bytes = d->have_mem ? d->mem.total : d->total_bytes;
	x->have_mem_used = d->have_mem;
	x->mem_used_bytes = d->mem.used;
	x->have_util = d->have_util;
	x->util_percent = d->util > 100 ? 100 : d->util;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Accounting of a process that has exited on device i, if kept. */
static bool exited_stats(struct nvml *n, int i, uint32_t pid, struct nvmlmath_acct *out)
{
	nvmlAccountingStats_t st;

	if (!n->dev[i].accounting ||
	    n->api.accounting(n->dev[i].h, pid, &st) != NVML_SUCCESS || st.isRunning ||
	    st.gpuUtilization == NVML_VALUE_NOT_AVAILABLE_UINT)
		return false;
	*out = (struct nvmlmath_acct){ .dev = i, .pid = pid, .util = st.gpuUtilization,
				      .start_us = st.startTime,
				      .end_us = st.startTime + st.time * 1000 };
	return true;
}

void nvml_run(struct nvml *n, const pid_t *pids, size_t n_pids, struct nvml_run *st,
	      struct gpufig *out)
{
	size_t m = 0, live, n_acct = 0;

	if (grow((void **)&n->members, &n->cap_members, n_pids + NVML_RUN_PIDS,
		 sizeof(*n->members))) {
		memset(out, 0, sizeof(*out)); /* unknown */
		return;
	}
	for (size_t i = 0; i < n_pids; i++)
		n->members[m++] = (uint32_t)pids[i];
	qsort(n->members, m, sizeof(*n->members), cmp_u32);
	live = m;
	/* Processes on a device at the previous reading that have gone since:
	 * still the run's for the samples (and accounting) of their last moments. */
	for (size_t i = 0; i < st->n; i++) {
		if (bsearch(&st->pids[i], n->members, live, sizeof(*n->members), cmp_u32))
			continue;
		n->members[m++] = st->pids[i];
		for (int d = 0; d < n->n; d++)
			if (n_acct < sizeof(n->acct) / sizeof(n->acct[0]) &&
			    exited_stats(n, d, st->pids[i], &n->acct[n_acct]))
				n_acct++;
	}
	qsort(n->members, m, sizeof(*n->members), cmp_u32);
	nvmlmath_run(n->rd, n->n, n->members, m, n->acct, n_acct, out, st->pids, NVML_RUN_PIDS,
		    &st->n);
}
