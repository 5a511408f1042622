/* The client's renderings of run records, fed a history line as the client
 * parses it (cJSON_Parse): never a crash nor an overrun, never a control byte
 * in the text, whatever the record says. An array renders each element, as
 * `agentperf runs` does. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"

static void check_text(const char *buf, size_t len)
{
	size_t n = strnlen(buf, len);

	FUZZ_ASSERT(n < len);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
}

/* Exactly len bytes on the heap, so that ASan sees one past the end. */
static void render(const cJSON *rec, size_t len)
{
	char *buf = malloc(len);

	FUZZ_ASSERT(buf);
	record_summary(rec, buf, len);
	check_text(buf, len);
	record_table_row(rec, buf, len);
	check_text(buf, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 1, 2, 17, 160, 512, 2048 };
	cJSON *rec = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *e;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		render(rec, sizes[i]);
	if (cJSON_IsArray(rec)) {
		cJSON_ArrayForEach(e, rec)
		{
			render(e, 512);
		}
	}
	cJSON_Delete(rec);
	return 0;
}
