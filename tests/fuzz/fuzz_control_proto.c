/* Control request lines, as a peer of the control socket sends them: never a
 * crash, and whatever is accepted formats back to the same request. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "fuzz.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req, again;
	char err[160], *line;

	if (control_parse_request((const char *)data, size, &req, err, sizeof(err))) {
		FUZZ_ASSERT(err[0] && memchr(err, '\0', sizeof(err)));
		free(control_format_error(err));
		return 0;
	}
	/* Accepted: no NUL anywhere, a known command, a valid or absent project. */
	FUZZ_ASSERT(!memchr(data, '\0', size));
	FUZZ_ASSERT(req.cmd >= CONTROL_RUN && req.cmd <= CONTROL_TOKENS);
	FUZZ_ASSERT(!req.project[0] || names_project_valid(req.project));
	FUZZ_ASSERT(memchr(req.run_id, '\0', sizeof(req.run_id)));
	if (req.cmd == CONTROL_RUN || req.cmd == CONTROL_ATTACH)
		FUZZ_ASSERT(req.pid >= 1 && req.pid <= 4194304);
	if (req.cmd == CONTROL_WAIT)
		FUZZ_ASSERT(req.run_id[0]);
	FUZZ_ASSERT(req.limit <= 1000000);
	if (req.cmd == CONTROL_TOKENS)
		FUZZ_ASSERT(req.tokens.add != (req.tokens.set_current || req.tokens.set_total));

	line = control_format_request(&req);
	if (!line)
		return 0;
	FUZZ_ASSERT(!control_parse_request(line, strlen(line), &again, err, sizeof(err)));
	FUZZ_ASSERT(!memcmp(&req, &again, sizeof(req)));
	free(line);
	return 0;
}
