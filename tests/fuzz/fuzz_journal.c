/* The live-run journal: what parses is a sane run, and renders back to the
 * same journal. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "journal.h"
#include "names.h"

static struct journal j, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runs *rs;
	struct projects *ps;
	char *text;
	size_t placed = 0;

	if (journal_parse((const char *)data, size, &j))
		return 0;
	rs = runs_new();
	ps = projects_new();
	FUZZ_ASSERT(rs && ps);
	for (size_t i = 0; i < j.n; i++) {
		const struct run *r = &j.r[i].run;

		FUZZ_ASSERT(r->slot < TRACKER_MAX_RUNS && r->gen >= 1 && r->pid >= 1);
		FUZZ_ASSERT(names_project_valid(r->project));
		FUZZ_ASSERT(r->started_ns >= JOURNAL_NS_MIN && r->started_ns <= JOURNAL_NS_MAX);
		FUZZ_ASSERT(!(r->ended || r->detached) ||
			    (r->ended_ns >= r->started_ns && r->ended_ns <= JOURNAL_NS_MAX));
		placed += runs_adopt(rs, r) != NULL;
	}
	/* Every record a taken-over run can give: UBSan sees its arithmetic
	 * (wall time, ISO stamps) on whatever the journal held. */
	runs_for_each(rs, r) {
		cJSON *rec = runs_record(r);

		FUZZ_ASSERT(rec);
		cJSON_Delete(rec);
	}
	text = journal_render(rs, ps);
	FUZZ_ASSERT(text);
	FUZZ_ASSERT(journal_parse(text, strlen(text), &again) == 0);
	FUZZ_ASSERT(again.n == placed);
	free(text);
	projects_free(ps);
	runs_free(rs);
	return 0;
}
