/* agentperf timeline's chart (timeview_render) of any timeline reply: its
 * times come from a user's own transcript (and its run's clock). Whatever
 * they are, every line fits TIMEVIEW_WIDTH columns and holds no control
 * byte. */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "timeview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *tl = cJSON_ParseWithLength((const char *)data, size);
	char *text;
	size_t cols = 0;

	if (!tl)
		return 0;
	text = timeview_render(tl);
	FUZZ_ASSERT(text);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		FUZZ_ASSERT(*p == '\n' || *p >= 0x20);
		if (*p == '\n')
			cols = 0;
		else if ((*p & 0xc0) != 0x80)
			FUZZ_ASSERT(++cols <= TIMEVIEW_WIDTH);
	}
	free(text);
	cJSON_Delete(tl);
	return 0;
}
