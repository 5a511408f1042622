/* The tool lines of the agents' transcripts (transcript_parse_tools), the
 * first byte choosing the format: every event written has an id of 1 to
 * TOOLCALL_ID_MAX id characters (a turn: none), a name of at most
 * TOOLCALL_NAME_MAX, a kind, the turn first, and no more events than asked
 * for. */
#include <errno.h>

#include "fuzz.h"
#include "transcript_tools.h"

static bool id_char(char c, bool name)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || (name && c == ':');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toolcall_event ev[TOOLCALL_PER_LINE];
	enum transcript_source src;
	size_t max;
	int n;

	if (!size)
		return 0;
	src = data[0] & 1 ? TRANSCRIPT_CODEX : TRANSCRIPT_CLAUDE;
	max = (size_t)(data[0] >> 1) % (TOOLCALL_PER_LINE + 1);
	n = transcript_parse_tools(src, (const char *)data + 1, size - 1, ev, max);
	FUZZ_ASSERT(n == -EINVAL || (n >= 0 && (size_t)n <= max));
	for (int i = 0; i < n; i++) {
		size_t il = strlen(ev[i].id), nl = strlen(ev[i].name);

		bool turn = ev[i].kind == TOOLCALL_ASK || ev[i].kind == TOOLCALL_ANSWER;

		FUZZ_ASSERT(turn ? !il && !nl : il >= 1 && il <= TOOLCALL_ID_MAX);
		FUZZ_ASSERT(nl <= TOOLCALL_NAME_MAX);
		for (size_t k = 0; k < il; k++)
			FUZZ_ASSERT(id_char(ev[i].id[k], false));
		for (size_t k = 0; k < nl; k++)
			FUZZ_ASSERT(id_char(ev[i].name[k], true));
		FUZZ_ASSERT(turn || ev[i].kind == TOOLCALL_START || ev[i].kind == TOOLCALL_END);
		FUZZ_ASSERT(!turn || i == 0); /* the turn first */
		FUZZ_ASSERT(ev[i].source == src && ev[i].at_ns >= 0);
		FUZZ_ASSERT(ev[i].kind == TOOLCALL_START || !ev[i].cmd_hash);
	}
	transcript_json_text_hash((const char *)data, size);
	return 0;
}
