/* A process's environ (/proc/PID/environ, written by whoever runs it):
 * transcript_env_get for the names the token reader looks up, and the
 * session id (CLAUDE_CODE_SESSION_ID) through toksess_claim's validator. A
 * value lies inside the input, ends before its entry's NUL, and a claimed
 * id is 1 to TOKSESS_ID_MAX letters, digits, '-' or '_', claimed once. */
#include "fuzz.h"
#include "toksess.h"
#include "tracker_abi.h"
#include "transcript.h"

static struct tokrun runs[TRACKER_MAX_RUNS];

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "HOME", "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_SESSION_ID",
					     "CODEX_HOME", "" };
	const char *env = (const char *)data;
	struct toksess *ss;
	const char *v;
	size_t vlen;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(v = transcript_env_get(env, size, names[i], &vlen)))
			continue;
		FUZZ_ASSERT(v >= env && v + vlen < env + size);
		FUZZ_ASSERT(v[vlen] == '\0' && !memchr(v, '\0', vlen));
		FUZZ_ASSERT(v - env > (ptrdiff_t)strlen(names[i]) && v[-1] == '=');
	}
	v = transcript_env_get(env, size, "CLAUDE_CODE_SESSION_ID", &vlen);
	if (!v)
		return 0;
	runs[1] = (struct tokrun){ .active = true, .slot = 1, .gen = 1, .owner = 1000 };
	ss = toksess_new(runs);
	FUZZ_ASSERT(ss);
	if (toksess_claim(ss, &runs[1], v, vlen)) {
		FUZZ_ASSERT(vlen >= 1 && vlen <= TOKSESS_ID_MAX);
		for (size_t i = 0; i < vlen; i++)
			FUZZ_ASSERT(id_char(v[i]));
		FUZZ_ASSERT(!toksess_claim(ss, &runs[1], v, vlen)); /* once */
	}
	toksess_free(ss);
	return 0;
}
