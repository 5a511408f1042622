/* The agents' tool calls in their transcripts: Claude Code's tool_use and
 * tool_result blocks, Codex's function_call and function_call_output items. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fnv.h"
#include "jscan.h"
#include "timefmt.h"
#include "transcript_tools.h"

struct tools_scan {
	enum transcript_source src;
	const char *ts;
	size_t ts_len;
	int turn; /* TOOLCALL_ASK, TOOLCALL_ANSWER or -1 */
	bool codex_item, user, assistant; /* Codex: a response_item, its role */
	/* Codex: the line's payload. */
	int kind; /* -1: not a tool event */
	const char *id, *name;
	size_t id_len, name_len;
	/* Claude Code: the content blocks, in order. */
	struct block {
		int kind;
		const char *id, *name;
		size_t id_len, name_len;
		uint64_t cmd_hash;
	} blocks[TOOLCALL_PER_LINE];
	size_t nblocks;
	bool in_content; /* the current block is inside message.content */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static uint64_t utf8_hash(uint64_t h, unsigned cp)
{
	if (cp < 0x80)
		return fnv64_byte(h, (unsigned char)cp);
	if (cp < 0x800) {
		h = fnv64_byte(h, (unsigned char)(0xc0 | cp >> 6));
		return fnv64_byte(h, (unsigned char)(0x80 | (cp & 0x3f)));
	}
	if (cp < 0x10000) {
		h = fnv64_byte(h, (unsigned char)(0xe0 | cp >> 12));
		h = fnv64_byte(h, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		return fnv64_byte(h, (unsigned char)(0x80 | (cp & 0x3f)));
	}
	h = fnv64_byte(h, (unsigned char)(0xf0 | cp >> 18));
	h = fnv64_byte(h, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
	h = fnv64_byte(h, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
	return fnv64_byte(h, (unsigned char)(0x80 | (cp & 0x3f)));
}

uint64_t transcript_json_text_hash(const char *raw, size_t n)
{
	uint64_t h = FNV64_INIT;

	for (size_t i = 0; i < n; i++) {
		int cp, lo;

		if (raw[i] != '\\') {
			h = fnv64_byte(h, (unsigned char)raw[i]);
			continue;
		}
		if (++i >= n)
			return 0;
		switch (raw[i]) {
		case '"': case '\\': case '/':
			h = fnv64_byte(h, (unsigned char)raw[i]);
			break;
		case 'b': h = fnv64_byte(h, '\b'); break;
		case 'f': h = fnv64_byte(h, '\f'); break;
		case 'n': h = fnv64_byte(h, '\n'); break;
		case 'r': h = fnv64_byte(h, '\r'); break;
		case 't': h = fnv64_byte(h, '\t'); break;
		case 'u':
			if (n - i < 5 || (cp = hex4(raw + i + 1)) < 0)
				return 0;
			i += 4;
			/* A surrogate pair is one character. */
			if (cp >= 0xd800 && cp < 0xdc00 && n - i >= 7 && raw[i + 1] == '\\' &&
			    raw[i + 2] == 'u' && (lo = hex4(raw + i + 3)) >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			h = utf8_hash(h, (unsigned)cp);
			break;
		default:
			return 0;
		}
	}
	return h ? h : 1;
}

static bool id_char(char c, bool name)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '-' || c == '.' || (name && c == ':');
}

/* Copies an id or name that is 1 to max characters of the allowed set. */
static bool copy_token(char *dst, size_t max, const char *v, size_t n, bool name)
{
	if (!v || !n || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char(v[i], name))
			return false;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return true;
}

static void on_codex(struct jscan *s, int depth, enum jscan_type t, const char *v, size_t n)
{
	static const char *const ts[] = { "timestamp" }, *const type[] = { "payload", "type" },
				 *const call_id[] = { "payload", "call_id" },
				 *const name[] = { "payload", "name" },
				 *const top[] = { "type" }, *const role[] = { "payload", "role" };
	struct tools_scan *c = s->ctx;

	if (t != JSCAN_STRING)
		return;
	if (jscan_path_is(s, depth, ts, 1)) {
		c->ts = v;
		c->ts_len = n;
	} else if (jscan_path_is(s, depth, top, 1)) {
		c->codex_item = jscan_raw_is(v, n, "response_item");
	} else if (jscan_path_is(s, depth, role, 2)) {
		c->user = jscan_raw_is(v, n, "user");
		c->assistant = jscan_raw_is(v, n, "assistant");
	} else if (jscan_path_is(s, depth, type, 2)) {
		if (jscan_raw_is(v, n, "function_call") || jscan_raw_is(v, n, "custom_tool_call")) {
			c->kind = TOOLCALL_START;
			c->turn = TOOLCALL_ANSWER;
		} else if (jscan_raw_is(v, n, "function_call_output") ||
			   jscan_raw_is(v, n, "custom_tool_call_output")) {
			c->kind = TOOLCALL_END;
			c->turn = TOOLCALL_ASK;
		} else if (jscan_raw_is(v, n, "reasoning")) {
			c->turn = TOOLCALL_ANSWER;
		} else if (jscan_raw_is(v, n, "message")) {
			c->turn = -2; /* by its role */
		}
	} else if (jscan_path_is(s, depth, call_id, 2)) {
		c->id = v;
		c->id_len = n;
	} else if (jscan_path_is(s, depth, name, 2)) {
		c->name = v;
		c->name_len = n;
	}
}

static void on_claude(struct jscan *s, int depth, enum jscan_type t, const char *v, size_t n)
{
	static const char *const ts[] = { "timestamp" }, *const content[] = { "message", "content" },
				 *const top[] = { "type" };
	struct tools_scan *c = s->ctx;
	struct block *b;

	if (jscan_path_is(s, depth, ts, 1) && t == JSCAN_STRING) {
		c->ts = v;
		c->ts_len = n;
		return;
	}
	if (jscan_path_is(s, depth, top, 1) && t == JSCAN_STRING) {
		c->turn = jscan_raw_is(v, n, "user")	  ? TOOLCALL_ASK
			  : jscan_raw_is(v, n, "assistant") ? TOOLCALL_ANSWER
							    : -1;
		return;
	}
	/* A block: an object element of message.content. */
	if (depth == 3 && jscan_path_is(s, 2, content, 2) && !s->key[2]) {
		c->in_content = t == JSCAN_OBJECT && c->nblocks < TOOLCALL_PER_LINE;
		if (c->in_content)
			c->blocks[c->nblocks++] = (struct block){ .kind = -1 };
		return;
	}
	if (depth < 4 || !c->in_content || !jscan_path_is(s, 2, content, 2) || s->key[2])
		return;
	b = &c->blocks[c->nblocks - 1];
	if (depth == 4 && t == JSCAN_STRING) {
		if (jscan_raw_is(s->key[3], s->klen[3], "type")) {
			if (jscan_raw_is(v, n, "tool_use"))
				b->kind = TOOLCALL_START;
			else if (jscan_raw_is(v, n, "tool_result"))
				b->kind = TOOLCALL_END;
		} else if (jscan_raw_is(s->key[3], s->klen[3], "id") ||
			   jscan_raw_is(s->key[3], s->klen[3], "tool_use_id")) {
			b->id = v;
			b->id_len = n;
		} else if (jscan_raw_is(s->key[3], s->klen[3], "name")) {
			b->name = v;
			b->name_len = n;
		}
	} else if (depth == 5 && t == JSCAN_STRING && jscan_raw_is(s->key[3], s->klen[3], "input") &&
		   jscan_raw_is(s->key[4], s->klen[4], "command")) {
		b->cmd_hash = transcript_json_text_hash(v, n);
	}
}

/* One event from the line's fields; false when they do not make one. */
static bool event(const struct tools_scan *c, int kind, const char *id, size_t id_len,
		  const char *name, size_t name_len, uint64_t cmd_hash, struct toolcall_event *e)
{
	bool turn = kind == TOOLCALL_ASK || kind == TOOLCALL_ANSWER;

	memset(e, 0, sizeof(*e));
	if (kind < 0 || !c->ts || timefmt_parse_iso_ns(c->ts, c->ts_len, &e->at_ns) ||
	    (!turn && !copy_token(e->id, TOOLCALL_ID_MAX, id, id_len, false)))
		return false;
	e->kind = (enum toolcall_kind)kind;
	e->source = c->src;
	if (!turn)
		e->id_hash = transcript_id_hash(e->id, id_len);
	if (kind == TOOLCALL_START && !copy_token(e->name, TOOLCALL_NAME_MAX, name, name_len, true))
		e->name[0] = '\0';
	e->cmd_hash = kind == TOOLCALL_START ? cmd_hash : 0;
	return true;
}

int transcript_parse_tools(enum transcript_source src, const char *line, size_t len,
			   struct toolcall_event *out, size_t max)
{
	struct tools_scan c = { .src = src, .kind = -1, .turn = -1 };
	struct jscan s = { .fn = src == TRANSCRIPT_CODEX ? on_codex : on_claude,
			   .ctx = &c,
			   .max_depth = TRANSCRIPT_DEPTH_MAX };
	size_t k = 0;

	if (!jscan_line(&s, line, len))
		return -EINVAL;
	if (src == TRANSCRIPT_CODEX) {
		if (!c.codex_item)
			return 0;
		if (c.turn == -2)
			c.turn = c.user ? TOOLCALL_ASK : c.assistant ? TOOLCALL_ANSWER : -1;
	}
	if (k < max && event(&c, c.turn, NULL, 0, NULL, 0, 0, &out[k]))
		k++;
	if (src == TRANSCRIPT_CODEX) {
		if (k < max && event(&c, c.kind, c.id, c.id_len, c.name, c.name_len, 0, &out[k]))
			k++;
		return (int)k;
	}
	for (size_t i = 0; i < c.nblocks && k < max; i++) {
		const struct block *b = &c.blocks[i];

		if (event(&c, b->kind, b->id, b->id_len, b->name, b->name_len, b->cmd_hash, &out[k]))
			k++;
	}
	return (int)k;
}
