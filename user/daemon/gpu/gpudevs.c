/* The host's GPU devices for operators: status list, /metrics families, log line. Pure. */
#include <string.h>

#include "gpudevs.h"

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
		    !cJSON_AddStringToObject(o, "method", x->method) ||
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
