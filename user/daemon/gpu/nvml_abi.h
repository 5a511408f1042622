/* The few parts of NVIDIA's management library (libnvidia-ml.so.1) that
 * agentperfd calls, declared from NVIDIA's documented ABI ("NVML API
 * Reference", docs.nvidia.com/deploy/nvml-api): return codes, the structs
 * the calls fill, and each entry point's type for dlsym. No NVIDIA header
 * is needed to build; the library is loaded at run time, if at all. */
#ifndef AGENTPERF_NVML_ABI_H
#define AGENTPERF_NVML_ABI_H

/* nvmlReturn_t: the codes agentperfd tells apart; any other is an error. */
typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15

/* A field NVML could not measure (nvmlProcessInfo_t.usedGpuMemory,
 * nvmlAccountingStats_t.gpuUtilization): all bits set at the field's width. */
#define NVML_VALUE_NOT_AVAILABLE_ULL (~0ULL)
#define NVML_VALUE_NOT_AVAILABLE_UINT (~0U)

/* nvmlDeviceGetName: NVML_DEVICE_NAME_V2_BUFFER_SIZE. */
#define NVML_DEVICE_NAME_BUFFER_SIZE 96

typedef struct nvmlDevice_st *nvmlDevice_t;

/* nvmlEnableState_t */
#define NVML_FEATURE_ENABLED 1

typedef struct {
	unsigned long long total; /* bytes */
	unsigned long long free;
	unsigned long long used;
} nvmlMemory_t;

typedef struct {
	unsigned int gpu; /* percent of the last sample period a kernel ran */
	unsigned int memory;
} nvmlUtilization_t;

/* nvmlProcessInfo_t as the _v2 and _v3 process lists fill it. */
typedef struct {
	unsigned int pid;
	unsigned long long usedGpuMemory; /* bytes, or NVML_VALUE_NOT_AVAILABLE_ULL */
	unsigned int gpuInstanceId;
	unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct {
	unsigned int pid;
	unsigned long long timeStamp; /* CPU timestamp, microseconds */
	unsigned int smUtil; /* SM (3D/compute) utilization, percent */
	unsigned int memUtil;
	unsigned int encUtil;
	unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct {
	unsigned int gpuUtilization; /* percent of the process's lifetime */
	unsigned int memoryUtilization;
	unsigned long long maxMemoryUsage;
	unsigned long long time; /* ms the context was active; 0 while running */
	unsigned long long startTime; /* CPU timestamp, microseconds */
	unsigned int isRunning;
	unsigned int reserved[5];
} nvmlAccountingStats_t;

_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "nvmlProcessUtilizationSample_t");
_Static_assert(sizeof(nvmlAccountingStats_t) == 56, "nvmlAccountingStats_t");

typedef nvmlReturn_t (*nvmlInit_v2_fn)(void);
typedef nvmlReturn_t (*nvmlShutdown_fn)(void);
typedef const char *(*nvmlErrorString_fn)(nvmlReturn_t result);
typedef nvmlReturn_t (*nvmlDeviceGetCount_v2_fn)(unsigned int *count);
typedef nvmlReturn_t (*nvmlDeviceGetHandleByIndex_v2_fn)(unsigned int index, nvmlDevice_t *device);
typedef nvmlReturn_t (*nvmlDeviceGetName_fn)(nvmlDevice_t device, char *name, unsigned int length);
typedef nvmlReturn_t (*nvmlDeviceGetMemoryInfo_fn)(nvmlDevice_t device, nvmlMemory_t *memory);
typedef nvmlReturn_t (*nvmlDeviceGetUtilizationRates_fn)(nvmlDevice_t device,
							  nvmlUtilization_t *utilization);
/* nvmlDeviceGetComputeRunningProcesses_v3 and _v2, and the graphics twins. */
typedef nvmlReturn_t (*nvmlDeviceGetRunningProcesses_fn)(nvmlDevice_t device,
							 unsigned int *infoCount,
							 nvmlProcessInfo_t *infos);
typedef nvmlReturn_t (*nvmlDeviceGetProcessUtilization_fn)(
	nvmlDevice_t device, nvmlProcessUtilizationSample_t *utilization,
	unsigned int *processSamplesCount, unsigned long long lastSeenTimeStamp);
typedef nvmlReturn_t (*nvmlDeviceGetAccountingMode_fn)(nvmlDevice_t device, int *mode);
typedef nvmlReturn_t (*nvmlDeviceGetAccountingStats_fn)(nvmlDevice_t device, unsigned int pid,
							nvmlAccountingStats_t *stats);

#endif
