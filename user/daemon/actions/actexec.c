/* The marks the coding agents leave on their tool calls' shells. */
#include <string.h>

#include "actexec.h"
#include "fnv.h"

static bool id_ok(const char *v, size_t n)
{
	if (!n || n > TOOLCALL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static pid_t pid_of(const char *v, size_t n)
{
	long x = 0;

	if (!n || n > 9)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		x = x * 10 + (v[i] - '0');
	}
	return (pid_t)x;
}

/* The argument after "-c" (the script of `sh -c SCRIPT`), or NULL. */
static const char *script_of(const char *args, size_t len, size_t *slen)
{
	const char *p = args, *end = args + len;
	bool next = false;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return NULL;
		if (next) {
			*slen = (size_t)(nul - p);
			return p;
		}
		next = nul - p == 2 && p[0] == '-' && p[1] == 'c';
		p = nul + 1;
	}
	return NULL;
}

/* fnv64 of the word that follows "eval " in script, unquoted as the shell
 * would: single-quoted pieces, and \' or "'" between them. 0 when the
 * script has no such word. */
static uint64_t eval_hash(const char *s, size_t n)
{
	const char *e = memmem(s, n, "eval '", 6);
	uint64_t h = FNV64_INIT;
	size_t i;
	bool any = false;

	if (!e)
		return 0;
	i = (size_t)(e - s) + 5;
	while (i < n) {
		if (s[i] == '\'') {
			const char *q = memchr(s + i + 1, '\'', n - i - 1);

			if (!q)
				return 0;
			for (const char *c = s + i + 1; c < q; c++)
				h = fnv64_byte(h, (unsigned char)*c);
			any = true;
			i = (size_t)(q - s) + 1;
		} else if (s[i] == '\\' && i + 1 < n) {
			h = fnv64_byte(h, (unsigned char)s[i + 1]);
			i += 2;
		} else if (s[i] == '"' && i + 2 < n && s[i + 1] == '\'' && s[i + 2] == '"') {
			h = fnv64_byte(h, '\'');
			i += 3;
		} else {
			break; /* the word ends */
		}
	}
	return any ? (h ? h : 1) : 0;
}

void actexec_parse(const char *args, size_t args_len, const char *env, size_t env_len,
		   struct actexec *out)
{
	const char *v;
	size_t n;

	memset(out, 0, sizeof(*out));
	if ((v = transcript_env_get(env, env_len, "CODEX_TOOL_CALL_ID", &n)) && id_ok(v, n)) {
		memcpy(out->call_id, v, n);
		out->call_id[n] = '\0';
		out->call_hash = transcript_id_hash(v, n);
	}
	if ((v = transcript_env_get(env, env_len, "CLAUDE_PID", &n)))
		out->claude_pid = pid_of(v, n);
	if ((v = script_of(args, args_len, &n)))
		out->cmd_hash = eval_hash(v, n);
}
