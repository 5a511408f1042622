/* The host's GPU devices for operators: status list, /metrics families, log line. Pure. */
#include <string.h>

#include "gpudevs.h"
#include "promtext.h"

#define GIB (1024.0 * 1024 * 1024)

struct gpu_device *gpudevs_add(struct gpu_devices *d)
{
	struct gpu_device *x;

	if (d->n >= GPUDEVS_MAX)
		return NULL;
	x = &d->d[d->n++];
	memset(x, 0, sizeof(*x));
	return x;
}

static cJSON *num_or_null(bool have, double v)
{
	return have ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

cJSON *gpudevs_json(const struct gpu_devices *d)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; arr && i < d->n; i++) {
		const struct gpu_device *x = &d->d[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddStringToObject(o, "device", x->id) ||
		    !cJSON_AddStringToObject(o, "name", x->name) ||
		    !cJSON_AddStringToObject(o, "backend", x->backend) ||
		    !cJSON_AddItemToObject(o, "memory_total_bytes",
					   num_or_null(x->have_mem_total, x->mem_total_bytes)) ||
		    !cJSON_AddItemToObject(o, "memory_used_bytes",
					   num_or_null(x->have_mem_used, x->mem_used_bytes)) ||
		    !cJSON_AddItemToObject(o, "utilization_percent",
					   num_or_null(x->have_util, x->util_percent)) ||
		    !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	return arr;
}

enum dev_metric { D_MEM_USED, D_MEM_TOTAL, D_UTIL };
static const struct {
	const char *name, *help;
} dev_metric[] = {
	[D_MEM_USED] = { "agentperf_gpu_memory_used_bytes", "Memory in use on the GPU device." },
	[D_MEM_TOTAL] = { "agentperf_gpu_memory_total_bytes", "Memory of the GPU device." },
	[D_UTIL] = { "agentperf_gpu_utilization_ratio",
		     "Share of the last sample period the GPU device was busy, 0 to 1." },
};

void gpudevs_prom(FILE *f, const struct gpu_devices *d)
{
	char id[2 * sizeof(d->d[0].id)], name[2 * sizeof(d->d[0].name)];

	if (!d || !d->n)
		return;
	fprintf(f, "# HELP agentperf_gpu_info The host's GPU devices and the backend that reads "
		   "them (1).\n# TYPE agentperf_gpu_info gauge\n");
	for (int i = 0; i < d->n; i++) {
		promtext_escape(d->d[i].id, id, sizeof(id));
		promtext_escape(d->d[i].name, name, sizeof(name));
		fprintf(f, "agentperf_gpu_info{device=\"%s\",name=\"%s\",backend=\"%s\"} 1\n", id,
			name, d->d[i].backend);
	}
	for (int m = D_MEM_USED; m <= D_UTIL; m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", dev_metric[m].name,
			dev_metric[m].help, dev_metric[m].name);
		for (int i = 0; i < d->n; i++) {
			const struct gpu_device *x = &d->d[i];

			promtext_escape(x->id, id, sizeof(id));
			if (m == D_MEM_USED && x->have_mem_used)
				fprintf(f, "%s{device=\"%s\"} %llu\n", dev_metric[m].name, id,
					(unsigned long long)x->mem_used_bytes);
			else if (m == D_MEM_TOTAL && x->have_mem_total)
				fprintf(f, "%s{device=\"%s\"} %llu\n", dev_metric[m].name, id,
					(unsigned long long)x->mem_total_bytes);
			else if (m == D_UTIL && x->have_util)
				fprintf(f, "%s{device=\"%s\"} %.4f\n", dev_metric[m].name, id,
					x->util_percent / 100);
		}
	}
}

void gpudevs_describe(const struct gpu_devices *d, char *buf, size_t len)
{
	bool drm = false, nvml = false;
	size_t n;

	for (int i = 0; i < d->n; i++) {
		drm |= !strcmp(d->d[i].backend, "drm");
		nvml |= !strcmp(d->d[i].backend, "nvml");
	}
	if (!d->n) {
		snprintf(buf, len, "no DRM device or NVML reports usage (gpu: null)");
		return;
	}
	n = (size_t)snprintf(buf, len, "%s; %d device%s:",
			     drm && nvml ? "a DRM device and NVML report usage"
			     : drm	 ? "a DRM device reports usage"
					 : "NVML reports usage",
			     d->n, d->n == 1 ? "" : "s");
	for (int i = 0; i < d->n && n < len; i++) {
		const struct gpu_device *x = &d->d[i];

		const char *sep = i ? "," : "";

		if (x->have_mem_total)
			n += (size_t)snprintf(buf + n, len - n, "%s %s (%s, %.1f GiB)", sep, x->id,
					      x->name, (double)x->mem_total_bytes / GIB);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s %s (%s)", sep, x->id, x->name);
	}
}
