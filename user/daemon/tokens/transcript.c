/* The coding agents' transcripts, read for token usage only: line formats and file layout. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jscan.h"
#include "transcript.h"

uint64_t transcript_usage_total(const struct transcript_usage *u)
{
	return u->input + u->output + u->cache_read + u->cache_creation;
}

void transcript_usage_add(struct transcript_usage *a, const struct transcript_usage *b)
{
	a->input += b->input;
	a->output += b->output;
	a->cache_read += b->cache_read;
	a->cache_creation += b->cache_creation;
}

/* --- Claude Code ---------------------------------------------------------- */

struct claude_scan {
	bool bad, have_usage, have_in, have_out, synthetic;
	const char *id;
	size_t id_len;
	struct transcript_usage u;
};

static void on_claude(struct jscan *s, int depth, enum jscan_type t, const char *v, size_t n)
{
	static const char *const id[] = { "message", "id" };
	static const char *const model[] = { "message", "model" };
	static const char *const usage[] = { "message", "usage" };
	struct claude_scan *c = s->ctx;
	uint64_t *field = NULL, x = 0;
	bool required = false;

	if (jscan_path_is(s, depth, id, 2) && t == JSCAN_STRING) {
		c->id = v;
		c->id_len = n;
	} else if (jscan_path_is(s, depth, model, 2) && t == JSCAN_STRING) {
		c->synthetic = jscan_raw_is(v, n, "<synthetic>");
	} else if (jscan_path_is(s, depth, usage, 2) && t == JSCAN_OBJECT) {
		c->have_usage = true;
	}
	if (depth != 3 || !jscan_path_is(s, 2, usage, 2))
		return;
	if (jscan_raw_is(s->key[2], s->klen[2], "input_tokens")) {
		field = &c->u.input;
		required = c->have_in = true;
	} else if (jscan_raw_is(s->key[2], s->klen[2], "output_tokens")) {
		field = &c->u.output;
		required = c->have_out = true;
	} else if (jscan_raw_is(s->key[2], s->klen[2], "cache_read_input_tokens")) {
		field = &c->u.cache_read;
	} else if (jscan_raw_is(s->key[2], s->klen[2], "cache_creation_input_tokens")) {
		field = &c->u.cache_creation;
	} else {
		return;
	}
	if (t == JSCAN_NULL && !required)
		x = 0;
	else if (t != JSCAN_NUMBER || !jscan_count(v, n, TRANSCRIPT_MSG_MAX, &x))
		c->bad = true;
	*field = x;
}

/* Message ids are the transcript writer's text, and their hash places them
 * in a run's table (transcript_ids): an unkeyed hash (FNV-1a was) lets the
 * writer choose ids that all land in one cluster, and every later line walks
 * it. SipHash-1-3 under a key drawn once per process is a PRF the writer
 * cannot aim (SipHash-2-4's reference vectors check the same code with 2 and
 * 4 rounds). */
static uint64_t id_key[2];
static pthread_once_t id_key_once = PTHREAD_ONCE_INIT;

static void id_key_init(void)
{
	struct timespec ts;
	ssize_t n;

	do
		n = getrandom(id_key, sizeof(id_key), 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(id_key))
		return;
	/* No getrandom (a kernel older than BPF here needs): weaker, still
	 * not known to a writer before the daemon starts. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	id_key[0] ^= (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
	id_key[1] ^= (uint64_t)(uintptr_t)&ts ^ (uint64_t)(uintptr_t)id_key_init;
}

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13) ^ v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17) ^ v[2];
	v[2] = ROTL64(v[2], 32);
}

/* n bytes (at most 8) little-endian, whatever the host's order. */
static uint64_t le_bytes(const unsigned char *p, size_t n)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++)
		m |= (uint64_t)p[i] << (8 * i);
	return m;
}

/* SipHash-1-3 of the id under the process's key; 0 is kept for "no id". */
uint64_t transcript_id_hash(const char *v, size_t n)
{
	const unsigned char *p = (const unsigned char *)v;
	uint64_t s[4], m, h;
	size_t i;

	pthread_once(&id_key_once, id_key_init);
	s[0] = id_key[0] ^ UINT64_C(0x736f6d6570736575);
	s[1] = id_key[1] ^ UINT64_C(0x646f72616e646f6d);
	s[2] = id_key[0] ^ UINT64_C(0x6c7967656e657261);
	s[3] = id_key[1] ^ UINT64_C(0x7465646279746573);
	for (i = 0; i + 8 <= n; i += 8) {
		m = le_bytes(p + i, 8);
		s[3] ^= m;
		sipround(s);
		s[0] ^= m;
	}
	m = le_bytes(p + i, n - i) | (uint64_t)n << 56;
	s[3] ^= m;
	sipround(s);
	s[0] ^= m;
	s[2] ^= 0xff;
	sipround(s);
	sipround(s);
	sipround(s);
	h = s[0] ^ s[1] ^ s[2] ^ s[3];
	return h ? h : 1;
}

int transcript_parse_claude(const char *line, size_t len, struct transcript_claude *out)
{
	struct claude_scan c = { 0 };
	struct jscan s = { .fn = on_claude, .ctx = &c, .max_depth = TRANSCRIPT_DEPTH_MAX };

	if (!jscan_line(&s, line, len))
		return -EINVAL;
	if (!c.have_usage || c.synthetic)
		return 0;
	if (c.bad || !c.have_in || !c.have_out)
		return -EINVAL;
	out->usage = c.u;
	out->id_hash = c.id && c.id_len ? transcript_id_hash(c.id, c.id_len) : 0;
	return 1;
}

/* --- Codex CLI ------------------------------------------------------------ */

struct codex_usage_scan {
	bool obj, in, out, bad;
	uint64_t input, cached, output;
};

struct codex_scan {
	bool event, token_count, info;
	struct codex_usage_scan total, last;
};

static void on_codex(struct jscan *s, int depth, enum jscan_type t, const char *v, size_t n)
{
	static const char *const type[] = { "type" }, *const ptype[] = { "payload", "type" },
				 *const info[] = { "payload", "info" };
	struct codex_scan *c = s->ctx;
	struct codex_usage_scan *u;
	uint64_t x;

	if (jscan_path_is(s, depth, type, 1) && t == JSCAN_STRING)
		c->event = jscan_raw_is(v, n, "event_msg");
	else if (jscan_path_is(s, depth, ptype, 2) && t == JSCAN_STRING)
		c->token_count = jscan_raw_is(v, n, "token_count");
	else if (jscan_path_is(s, depth, info, 2))
		c->info = t == JSCAN_OBJECT;
	if (depth < 3 || !jscan_path_is(s, 2, info, 2))
		return;
	if (jscan_raw_is(s->key[2], s->klen[2], "total_token_usage"))
		u = &c->total;
	else if (jscan_raw_is(s->key[2], s->klen[2], "last_token_usage"))
		u = &c->last;
	else
		return;
	if (depth == 3) {
		u->obj = t == JSCAN_OBJECT;
		return;
	}
	if (!s->key[3]) /* inside an array */
		return;
	if (jscan_raw_is(s->key[3], s->klen[3], "input_tokens") ||
	    jscan_raw_is(s->key[3], s->klen[3], "cached_input_tokens") ||
	    jscan_raw_is(s->key[3], s->klen[3], "output_tokens") ||
	    jscan_raw_is(s->key[3], s->klen[3], "reasoning_output_tokens") ||
	    jscan_raw_is(s->key[3], s->klen[3], "total_tokens")) {
		if (t != JSCAN_NUMBER || !jscan_count(v, n, TRANSCRIPT_TOTAL_MAX, &x)) {
			u->bad = true;
			return;
		}
	} else {
		return;
	}
	if (jscan_raw_is(s->key[3], s->klen[3], "input_tokens")) {
		u->input = x;
		u->in = true;
	} else if (jscan_raw_is(s->key[3], s->klen[3], "cached_input_tokens")) {
		u->cached = x;
	} else if (jscan_raw_is(s->key[3], s->klen[3], "output_tokens")) {
		u->output = x;
		u->out = true;
	}
}

/* Codex counts cached input inside input_tokens, and reasoning inside
 * output_tokens: uncached input, cached input and output add up to its
 * total_tokens. */
static void codex_usage(const struct codex_usage_scan *c, struct transcript_usage *u)
{
	uint64_t cached = c->cached < c->input ? c->cached : c->input;

	u->input = c->input - cached;
	u->cache_read = cached;
	u->output = c->output;
	u->cache_creation = 0;
}

int transcript_parse_codex(const char *line, size_t len, struct transcript_codex *out)
{
	struct codex_scan c = { 0 };
	struct jscan s = { .fn = on_codex, .ctx = &c, .max_depth = TRANSCRIPT_DEPTH_MAX };

	if (!jscan_line(&s, line, len))
		return -EINVAL;
	if (!c.event || !c.token_count || !c.info)
		return 0;
	if (!c.total.obj || c.total.bad || !c.total.in || !c.total.out)
		return -EINVAL;
	codex_usage(&c.total, &out->total);
	out->have_last = c.last.obj && !c.last.bad && c.last.in && c.last.out;
	if (out->have_last)
		codex_usage(&c.last, &out->last);
	else
		memset(&out->last, 0, sizeof(out->last));
	return 1;
}

static uint64_t since(uint64_t base, uint64_t x)
{
	return x > base ? x - base : 0;
}

void transcript_codex_since(const struct transcript_usage *base,
			    const struct transcript_usage *total, struct transcript_usage *out)
{
	out->input = since(base->input, total->input);
	out->output = since(base->output, total->output);
	out->cache_read = since(base->cache_read, total->cache_read);
	out->cache_creation = since(base->cache_creation, total->cache_creation);
}

/* --- where the transcripts are --------------------------------------------- */

const char *transcript_env_get(const char *env, size_t len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = env, *end = env + len;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return NULL; /* cut off: not a whole entry */
		if ((size_t)(nul - p) > nlen && !memcmp(p, name, nlen) && p[nlen] == '=') {
			*vlen = (size_t)(nul - p) - nlen - 1;
			return p + nlen + 1;
		}
		p = nul + 1;
	}
	return NULL;
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The length of s without trailing slashes (but "/" stays "/"). */
static size_t trimmed(const char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		n--;
	return n;
}

int transcript_claude_dir(const char *config, const char *cwd, char *out, size_t len)
{
	size_t n = trimmed(config), o;
	static const char mid[] = "/projects/";

	if (config[0] != '/' || cwd[0] != '/')
		return -EINVAL;
	if (n == 1)
		n = 0; /* "/" + "/projects" */
	if (n + sizeof(mid) > len)
		return -ENAMETOOLONG;
	memcpy(out, config, n);
	memcpy(out + n, mid, sizeof(mid) - 1);
	o = n + sizeof(mid) - 1;
	for (const unsigned char *p = (const unsigned char *)cwd; *p; p++) {
		/* UTF-8: one '-' per UTF-16 unit, as Claude Code (JavaScript)
		 * replaces them: none for a continuation byte, two for a
		 * four-byte sequence. */
		int k = *p < 0x80 ? 1 : *p < 0xc0 ? 0 : *p < 0xf0 ? 1 : *p < 0xf8 ? 2 : 1;

		if (o + (size_t)k + 1 > len)
			return -ENAMETOOLONG;
		for (int i = 0; i < k; i++)
			out[o++] = is_alnum(*p) ? (char)*p : '-';
	}
	out[o] = '\0';
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* The rest of path after base + "/" + sub + "/", or NULL. */
static const char *under(const char *path, const char *base, const char *sub)
{
	size_t n = trimmed(base), k = strlen(sub);

	if (base[0] != '/' || n == 1)
		return NULL;
	if (strncmp(path, base, n) || path[n] != '/' || strncmp(path + n + 1, sub, k) ||
	    path[n + 1 + k] != '/')
		return NULL;
	return path + n + 1 + k + 1;
}

int transcript_classify(const char *path, const char *claude_config, const char *codex_home,
			char *dir, size_t dirlen)
{
	const char *rest, *base;

	if (path[0] != '/' || !ends_with(path, ".jsonl") || strstr(path, "/../") ||
	    strstr(path, "/./") || strstr(path, "//"))
		return -1;
	if (codex_home && (rest = under(path, codex_home, "sessions"))) {
		base = strrchr(path, '/') + 1;
		return !strncmp(base, "rollout-", 8) ? TRANSCRIPT_CODEX : -1;
	}
	if (claude_config && (rest = under(path, claude_config, "projects"))) {
		const char *slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - path) : 0;

		if (!slash || slash == rest || n + 1 > dirlen)
			return -1;
		memcpy(dir, path, n);
		dir[n] = '\0';
		return TRANSCRIPT_CLAUDE;
	}
	return -1;
}
