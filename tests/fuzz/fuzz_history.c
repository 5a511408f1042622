/* The run history's backwards reader: whatever runs.jsonl holds (torn lines,
 * garbage, records glued onto a torn line, lines across read blocks), reads
 * give only JSON objects of the asked project, newest first, within the cap,
 * and a record appended after it is read back whole. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "history.h"

static char dir[64];

static void write_history(const uint8_t *data, size_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/runs.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *arr, *it, *rec, *found;
	unsigned skipped;
	int n = 0;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/agentperf-fuzz-history.XXXXXX");
		FUZZ_ASSERT(mkdtemp(dir));
	}
	write_history(data, size);
	arr = history_read(dir, "demo", 0, &skipped);
	FUZZ_ASSERT(arr && cJSON_IsArray(arr));
	cJSON_ArrayForEach(it, arr)
	{
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "project"));

		FUZZ_ASSERT(cJSON_IsObject(it) && p && !strcmp(p, "demo"));
		n++;
	}
	FUZZ_ASSERT(n <= HISTORY_READ_MAX);
	cJSON_Delete(arr);
	cJSON_Delete(history_find(dir, NULL, "1-2026-12-01T00:00:00Z", NULL));
	/* Whatever was there, a new record is appended whole and found. */
	rec = cJSON_Parse("{\"project\":\"fuzzed\",\"run_id\":\"7-2026-12-01T00:00:00Z\"}");
	FUZZ_ASSERT(rec && history_append(dir, rec, 0) == 0);
	found = history_find(dir, "fuzzed", "7-2026-12-01T00:00:00Z", NULL);
	FUZZ_ASSERT(found && cJSON_Compare(found, rec, true));
	cJSON_Delete(found);
	cJSON_Delete(rec);
	return 0;
}
