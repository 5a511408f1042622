/* Capabilities: after setup, agentperfd keeps only what it still uses. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "log.h"
#include "privs.h"

static const cap_value_t keep[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH };
static const int n_keep = 2;

int privs_drop(char *err, size_t errlen)
{
	cap_t caps = NULL;
	char *text;
	int e = 0;

	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;

		for (int i = 0; i < n_keep; i++)
			kept |= keep[i] == c;
		if (kept || !CAP_IS_SUPPORTED(c) || cap_get_bound(c) != 1)
			continue; /* not ours to drop, or gone already (systemd's bounding set) */
		if (cap_drop_bound(c)) {
			char *name = cap_to_name(c);

			e = errno;
			snprintf(err, errlen, "cannot drop %s from the bounding set: %s (needs cap_setpcap)",
				 name ? name : "a capability", strerror(e));
			cap_free(name);
			return -e;
		}
	}
	caps = cap_init(); /* all clear */
	if (!caps || cap_set_flag(caps, CAP_PERMITTED, n_keep, keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_EFFECTIVE, n_keep, keep, CAP_SET) || cap_set_proc(caps)) {
		e = errno ? errno : ENOMEM;
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(e));
		cap_free(caps);
		return -e;
	}
	cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		e = errno;
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(e));
		return -e;
	}
	caps = cap_get_proc();
	text = caps ? cap_to_text(caps, NULL) : NULL;
	log_info("capabilities after setup: %s", text ? text : "?");
	cap_free(text);
	cap_free(caps);
	return 0;
}

void privs_thread(const char *who)
{
	cap_t now = cap_get_proc(), want = cap_init();
	cap_flag_value_t v;

	for (int i = 0; now && want && i < n_keep; i++)
		if (!cap_get_flag(now, keep[i], CAP_PERMITTED, &v) && v == CAP_SET) {
			cap_set_flag(want, CAP_PERMITTED, 1, &keep[i], CAP_SET);
			cap_set_flag(want, CAP_EFFECTIVE, 1, &keep[i], CAP_SET);
		}
	if (!now || !want || cap_set_proc(want))
		log_warn("%s: a worker thread could not drop its capabilities", who);
	cap_free(now);
	cap_free(want);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
