/* The kernel's action events as the daemon takes them (actions_event): any
 * bytes, of any length, claiming any type and sizes, with the exec event's
 * argument and environment parse (actexec) behind it. Whatever came, a
 * report of the runs stays within its bounds, and a timeline is made. */
#include "actions.h"
#include "fuzz.h"

static struct actions *acts;
static struct acttab_report report;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct actexec x;

	if (!acts && !(acts = actions_new()))
		abort();
	/* The same bytes as a whole event, and as an exec's two halves. */
	actions_event(acts, data, size);
	actexec_parse((const char *)data, size / 2, (const char *)data + size / 2, size - size / 2,
		      &x);
	FUZZ_ASSERT(strlen(x.call_id) <= TOOLCALL_ID_MAX && x.claude_pid >= 0);
	if (size >= sizeof(struct tracker_ev_hdr)) {
		const struct tracker_ev_hdr *h = (const void *)data;

		if (actions_report(acts, h->slot, h->gen, data[0] & 1, 1, 2, &report)) {
			FUZZ_ASSERT(report.n <= ACTTAB_TOOLS_SHOWN && report.n <= report.calls);
			FUZZ_ASSERT(report.tools_cpu_ns >= report.other_cpu_ns);
		}
		if (data[0] & 2) {
			cJSON *o = cJSON_CreateObject();

			actions_sample(acts, h->slot, h->gen, (int64_t)size * 1000000, size, size,
				       data[0] & 4, data[size - 1], size);
			FUZZ_ASSERT(o);
			actions_timeline(acts, h->slot, h->gen, 0, (int64_t)size * 1000000, o);
			cJSON_Delete(o);
		}
		if (data[size - 1] == 0xff)
			actions_forget(acts, h->slot, h->gen);
	}
	return 0;
}
