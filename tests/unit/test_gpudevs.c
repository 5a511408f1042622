/* The host's GPU devices for operators: the status list, the /metrics
 * families (unknown figures have no sample) and the start line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpudevs.h"
#include "promtext.h"

static void two(struct gpu_devices *d)
{
	struct gpu_device *x;

	memset(d, 0, sizeof(*d));
	x = gpudevs_add(d);
	snprintf(x->id, sizeof(x->id), "nvidia0");
	snprintf(x->name, sizeof(x->name), "NVIDIA \"H200\"");
	snprintf(x->backend, sizeof(x->backend), "nvml");
	snprintf(x->method, sizeof(x->method), "samples+accounting");
	x->have_mem_total = x->have_mem_used = x->have_util = true;
	x->mem_total_bytes = 150754820096ULL;
	x->mem_used_bytes = 2147483648ULL;
	x->util_percent = 37;
	x = gpudevs_add(d);
	snprintf(x->id, sizeof(x->id), "renderD128");
	snprintf(x->name, sizeof(x->name), "amdgpu 0000:04:00.0");
	snprintf(x->backend, sizeof(x->backend), "drm");
	snprintf(x->method, sizeof(x->method), "fdinfo");
}

static void test_json(void **state)
{
	struct gpu_devices d;
	cJSON *arr;
	char *s;

	two(&d);
	arr = gpudevs_json(&d);
	s = cJSON_PrintUnformatted(arr);
	assert_string_equal(
		s, "[{\"device\":\"nvidia0\",\"name\":\"NVIDIA \\\"H200\\\"\",\"backend\":\"nvml\","
		   "\"method\":\"samples+accounting\","
		   "\"memory_total_bytes\":150754820096,\"memory_used_bytes\":2147483648,"
		   "\"utilization_percent\":37},"
		   "{\"device\":\"renderD128\",\"name\":\"amdgpu 0000:04:00.0\","
		   "\"backend\":\"drm\",\"method\":\"fdinfo\","
		   "\"memory_total_bytes\":null,\"memory_used_bytes\":null,"
		   "\"utilization_percent\":null}]");
	free(s);
	cJSON_Delete(arr);
	d.n = 0;
	arr = gpudevs_json(&d);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
}

/* The per-device families of /metrics (promtext renders them). */
static char *prom(const struct gpu_devices *d)
{
	struct promtext_view v = { .version = "v", .bpf_variant = "tp_btf", .gpus = d };
	size_t len;
	char *text = promtext_render(&v, 0, &len), *from, *out;

	assert_non_null(text);
	from = strstr(text, "# HELP agentperf_gpu_info");
	out = strdup(from ? from : "");
	/* Only the device families: the rest of the exposition follows. */
	if (strstr(out, "# HELP agentperf_build_info"))
		*strstr(out, "# HELP agentperf_build_info") = '\0';
	free(text);
	return out;
}

static void test_prom(void **state)
{
	struct gpu_devices d;
	char *buf;

	two(&d);
	buf = prom(&d);
	assert_string_equal(
		buf,
		"# HELP agentperf_gpu_info The host's GPU devices and the backend that reads them "
		"(1).\n# TYPE agentperf_gpu_info gauge\n"
		"agentperf_gpu_info{device=\"nvidia0\",name=\"NVIDIA \\\"H200\\\"\","
		"backend=\"nvml\"} 1\n"
		"agentperf_gpu_info{device=\"renderD128\",name=\"amdgpu 0000:04:00.0\","
		"backend=\"drm\"} 1\n"
		"# HELP agentperf_gpu_memory_used_bytes Memory in use on the GPU device.\n"
		"# TYPE agentperf_gpu_memory_used_bytes gauge\n"
		"agentperf_gpu_memory_used_bytes{device=\"nvidia0\"} 2147483648\n"
		"# HELP agentperf_gpu_memory_total_bytes Memory of the GPU device.\n"
		"# TYPE agentperf_gpu_memory_total_bytes gauge\n"
		"agentperf_gpu_memory_total_bytes{device=\"nvidia0\"} 150754820096\n"
		"# HELP agentperf_gpu_utilization_ratio Share of the last sample period the GPU "
		"device was busy, 0 to 1.\n# TYPE agentperf_gpu_utilization_ratio gauge\n"
		"agentperf_gpu_utilization_ratio{device=\"nvidia0\"} 0.3700\n");
	free(buf);
	/* No device: no family at all. */
	d.n = 0;
	buf = prom(&d);
	assert_string_equal(buf, "");
	free(buf);
	buf = prom(NULL);
	assert_string_equal(buf, "");
	free(buf);
}

static void test_describe(void **state)
{
	struct gpu_devices d;
	char line[256], tiny[24];

	two(&d);
	gpudevs_describe(&d, line, sizeof(line));
	assert_string_equal(line, "a DRM device and NVML report usage; 2 devices: nvidia0 "
				  "(NVIDIA \"H200\", 140.4 GiB), renderD128 (amdgpu 0000:04:00.0)");
	d.n = 1;
	gpudevs_describe(&d, line, sizeof(line));
	assert_string_equal(line, "NVML reports usage; 1 device: nvidia0 (NVIDIA \"H200\", "
				  "140.4 GiB)");
	gpudevs_describe(&d, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	d.n = 0;
	gpudevs_describe(&d, line, sizeof(line));
	assert_string_equal(line, "no DRM device or NVML reports usage (gpu: null)");
	/* Full: no more room. */
	d.n = GPUDEVS_MAX;
	assert_null(gpudevs_add(&d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
