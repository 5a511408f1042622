/* The control socket's protocol: one JSON object per line each way. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"

static const char *const cmd_names[] = {
	[CONTROL_RUN] = "run",	     [CONTROL_ATTACH] = "attach", [CONTROL_DETACH] = "detach",
	[CONTROL_STATUS] = "status", [CONTROL_RUNS] = "runs",	  [CONTROL_WAIT] = "wait",
	[CONTROL_TOKENS] = "tokens", [CONTROL_TIMELINE] = "timeline",
};

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/* An optional whole token count; false (with err set) when present but bad. */
static bool token_count(const cJSON *o, const char *key, bool *have, int64_t *v, char *err,
			size_t errlen)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	*have = n != NULL;
	if (!n)
		return true;
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 ||
	    n->valuedouble > (double)CONTROL_TOKENS_MAX || n->valuedouble != floor(n->valuedouble)) {
		snprintf(err, errlen, "\"%s\" must be a whole number from 0 to 10^15", key);
		return false;
	}
	*v = (int64_t)n->valuedouble;
	return true;
}

/* Bytes JSON allows outside strings' escapes: no NUL (cJSON would skip it as a
 * blank) nor any other C0 control but the blanks. */
static bool raw_bytes_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return false;
	}
	return true;
}

/* cJSON decodes "\u0000" into a NUL that ends the C string early, so that
 * "run\u0000x" would read as "run": refuse the escape in any string or key. */
static bool has_nul_escape(const char *s, size_t len)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		if (!in_str) {
			in_str = s[i] == '"';
		} else if (s[i] == '"') {
			in_str = false;
		} else if (s[i] == '\\') {
			if (len - i >= 6 && !memcmp(s + i + 1, "u0000", 5))
				return true;
			i++; /* the escaped character, '"' or '\\' included */
		}
	}
	return false;
}

/* Only blanks and line ends may follow the object. */
static bool only_blanks(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

static bool needs_project(enum control_cmd c)
{
	return c == CONTROL_RUN || c == CONTROL_ATTACH || c == CONTROL_DETACH ||
	       c == CONTROL_TOKENS;
}

int control_parse_request(const char *line, size_t len, struct control_request *req, char *err,
			  size_t errlen)
{
	const cJSON *cmd, *project, *pid, *run_id, *all, *limit;
	const char *end = NULL;
	cJSON *o;
	int ret = 0;
	size_t i;

	memset(req, 0, sizeof(*req));
	if (!raw_bytes_ok(line, len))
		return fail(err, errlen, "request holds a NUL or control character");
	o = cJSON_ParseWithLengthOpts(line, len, &end, false);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return fail(err, errlen, "request is not a JSON object");
	}
	if (!end || end < line || end > line + len || !only_blanks(end, line + len)) {
		ret = fail(err, errlen, "trailing bytes after the request object");
		goto out;
	}
	if (has_nul_escape(line, (size_t)(end - line))) {
		ret = fail(err, errlen, "request holds a \\u0000 escape");
		goto out;
	}
	cmd = cJSON_GetObjectItemCaseSensitive(o, "cmd");
	project = cJSON_GetObjectItemCaseSensitive(o, "project");
	pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
	run_id = cJSON_GetObjectItemCaseSensitive(o, "run_id");
	all = cJSON_GetObjectItemCaseSensitive(o, "all");
	limit = cJSON_GetObjectItemCaseSensitive(o, "limit");

	for (i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (cJSON_IsString(cmd) && !strcmp(cmd->valuestring, cmd_names[i]))
			break;
	if (i == sizeof(cmd_names) / sizeof(cmd_names[0])) {
		ret = fail(err, errlen, "unknown or missing \"cmd\"");
		goto out;
	}
	req->cmd = (enum control_cmd)i;

	if (project) {
		if (!cJSON_IsString(project) || !names_project_valid(project->valuestring)) {
			ret = fail(err, errlen,
				   "invalid project name (1-50 characters of A-Z a-z 0-9 _ -)");
			goto out;
		}
		snprintf(req->project, sizeof(req->project), "%s", project->valuestring);
	} else if (needs_project(req->cmd)) {
		ret = fail(err, errlen, "missing \"project\"");
		goto out;
	}

	if (req->cmd == CONTROL_RUN || req->cmd == CONTROL_ATTACH) {
		if (!cJSON_IsNumber(pid) || pid->valuedouble < 1 || pid->valuedouble > 4194304 ||
		    pid->valuedouble != (double)(int)pid->valuedouble) {
			ret = fail(err, errlen, "missing or invalid \"pid\"");
			goto out;
		}
		req->pid = (pid_t)pid->valueint;
	}

	if (req->cmd == CONTROL_WAIT || (req->cmd == CONTROL_TIMELINE && (run_id || !project))) {
		if (!cJSON_IsString(run_id) || !run_id->valuestring[0] ||
		    strlen(run_id->valuestring) >= sizeof(req->run_id)) {
			ret = fail(err, errlen, req->cmd == CONTROL_TIMELINE
							? "timeline takes a \"run_id\" or a \"project\""
							: "missing or invalid \"run_id\"");
			goto out;
		}
		snprintf(req->run_id, sizeof(req->run_id), "%s", run_id->valuestring);
	}
	if (all && !cJSON_IsBool(all)) {
		ret = fail(err, errlen, "\"all\" must be true or false");
		goto out;
	}
	req->all = cJSON_IsTrue(all);
	if (req->cmd == CONTROL_TOKENS) {
		struct tokens_update *t = &req->tokens;

		if (!token_count(o, "add", &t->add, &t->add_n, err, errlen) ||
		    !token_count(o, "set_current", &t->set_current, &t->current, err, errlen) ||
		    !token_count(o, "set_total", &t->set_total, &t->total, err, errlen)) {
			ret = -EINVAL;
			goto out;
		}
		if (t->add == (t->set_current || t->set_total)) {
			ret = fail(err, errlen, "tokens takes \"add\", or \"set_current\" and/or "
						"\"set_total\"");
			goto out;
		}
	}
	if (limit) {
		if (!cJSON_IsNumber(limit) || limit->valuedouble < 0 || limit->valuedouble > 1e6) {
			ret = fail(err, errlen, "\"limit\" must be a number from 0 to 1000000");
			goto out;
		}
		req->limit = (unsigned)limit->valuedouble;
	}
out:
	cJSON_Delete(o);
	return ret;
}

/* Prints o as one line with a newline, and frees it. */
static char *line_of(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	char *line = NULL;

	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	free(s);
	cJSON_Delete(o);
	return line;
}

char *control_format_request(const struct control_request *req)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "cmd", cmd_names[req->cmd]);

	if (ok && req->project[0])
		ok = cJSON_AddStringToObject(o, "project", req->project);
	if (ok && req->pid)
		ok = cJSON_AddNumberToObject(o, "pid", req->pid);
	if (ok && req->run_id[0])
		ok = cJSON_AddStringToObject(o, "run_id", req->run_id);
	if (ok && req->all)
		ok = cJSON_AddTrueToObject(o, "all");
	if (ok && req->limit)
		ok = cJSON_AddNumberToObject(o, "limit", req->limit);
	if (ok && req->tokens.add)
		ok = cJSON_AddNumberToObject(o, "add", (double)req->tokens.add_n);
	if (ok && req->tokens.set_current)
		ok = cJSON_AddNumberToObject(o, "set_current", (double)req->tokens.current);
	if (ok && req->tokens.set_total)
		ok = cJSON_AddNumberToObject(o, "set_total", (double)req->tokens.total);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return line_of(o);
}

char *control_format_error(const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddFalseToObject(o, "ok") || !cJSON_AddStringToObject(o, "error", msg)) {
		cJSON_Delete(o);
		return NULL;
	}
	return line_of(o);
}

char *control_format_ok(const char *key, cJSON *item)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddTrueToObject(o, "ok")) {
		cJSON_Delete(item);
		cJSON_Delete(o);
		return NULL;
	}
	if (item && !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		cJSON_Delete(o);
		return NULL;
	}
	return line_of(o);
}

char *control_format_ok_fields(cJSON *fields)
{
	cJSON *o = cJSON_CreateObject(), *it;

	if (!o || !fields || !cJSON_AddTrueToObject(o, "ok")) {
		cJSON_Delete(fields);
		cJSON_Delete(o);
		return NULL;
	}
	while ((it = fields->child)) {
		cJSON_DetachItemViaPointer(fields, it);
		if (!cJSON_AddItemToObject(o, it->string, it)) {
			cJSON_Delete(it);
			cJSON_Delete(fields);
			cJSON_Delete(o);
			return NULL;
		}
	}
	cJSON_Delete(fields);
	return line_of(o);
}
