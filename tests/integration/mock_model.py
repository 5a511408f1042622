#!/usr/bin/python3
"""Scripted offline model server for running the REAL coding-agent CLIs.

One process serves both wire protocols the agents speak:

  * Anthropic Messages API  (Claude Code):  POST /v1/messages (SSE when the
    body says "stream": true, else JSON), POST /v1/messages/count_tokens.
  * OpenAI Responses API    (Codex CLI):    POST /v1/responses (SSE or JSON),
    GET /v1/models.
  Anything else (e.g. Claude Code's "HEAD /api/hello" connectivity probe,
  sent when CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is unset) gets 200 {}.

Usage:
  mock_model.py --script script.json [--port 0] [--port-file F] [--log L]
                [--dump-dir DIR] [--host 127.0.0.1]

--port 0 picks a free port; it is written to --port-file (atomically) and
printed as "mock_model listening on HOST:PORT".  Stop it with SIGTERM.

Pointing the agents at it (checked with Claude Code 2.1.332, Codex 0.169.1):
  Claude Code: ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=x
               DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
               claude -p PROMPT --allowedTools Bash
  Codex:       CODEX_HOME/config.toml:
                 model = "mock-model"
                 model_provider = "mock"
                 [model_providers.mock]
                 name = "mock"
                 base_url = "http://127.0.0.1:PORT/v1"
                 wire_api = "responses"
                 env_key = "MOCK_API_KEY"
                 [analytics]
                 enabled = false
                 [features]
                 plugins = false
                 remote_plugin = false
                 apps = false
               MOCK_API_KEY=x codex exec --skip-git-repo-check
                 --dangerously-bypass-approvals-and-sandbox PROMPT

Script (JSON).  A list of turns; turn N is the answer to a request whose
history already holds N assistant turns (counted from the request itself, so
retries and side requests do not shift it).  The file is re-read when it
changes, so a test may swap it between agent runs.

  {
    "turns": [
      {"delay_ms": 300,                       # model latency before answering
       "text": "I'll run both.",              # optional text before the calls
       "tool_calls": [                        # all in ONE assistant message
          {"command": "sleep 1", "description": "first"},
          {"command": "sleep 1", "description": "second"}],
       "usage": {"input_tokens": 2400, "output_tokens": 120,
                 "cache_read_input_tokens": 0,
                 "cache_creation_input_tokens": 0}},
      {"delay_ms": 200, "text": "Both finished.",
       "usage": {"input_tokens": 2700, "output_tokens": 30}}
    ],
    "anthropic": {"turns": [...]},   # optional: replaces "turns" for Claude
    "openai":    {"turns": [...]}    # optional: replaces "turns" for Codex
  }

A tool call is either {"command": STR, "description": STR} -- turned into the
agent's own shell tool: Claude Bash {"command", "description"}; Codex the
shell tool its request offers: exec_command {"cmd"} (what 0.169 offers, with
unified exec; "openai_extra": {"yield_time_ms": 30000} is merged into the
arguments, default yield is 10 s), else shell_command {"command"} or shell
{"command": ["bash", "-lc", CMD]} -- or a raw {"name": NAME, "input": {...}}
sent as is.  Past the last turn the model answers "(script exhausted)" and
ends the turn.  Requests offering no shell tool (title generation and other
side requests) get a short text answer and are logged with "aux": true.

Log (--log, one JSON line per request, written when the answer is done):
  {"seq", "t_recv", "t_done", "api": "anthropic"|"openai"|"other", "method",
   "path", "status", "turn", "aux", "model", "stream", "user_agent",
   "session", "tool_calls": [{"id", "name", "input"}], "tools_offered",
   "shell_tool" (openai), "parallel_tool_calls" (openai)}
t_recv: the request's headers were read; t_done: the last byte of the answer
was written (unix seconds, ms).  "session" is Claude Code's
X-Claude-Code-Session-Id (= its transcript's name and the tool shells'
CLAUDE_CODE_SESSION_ID) or Codex's session-id header (= its rollout's id and
the tool shells' CODEX_SESSION_ID).  The tool call ids are what the agents
put in their transcripts (Claude tool_use.id; Codex call_id, which Codex also
exports to the tool's shell as CODEX_TOOL_CALL_ID).
--dump-dir keeps every request's headers and body (keys elided).
"""
import argparse
import itertools
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRIPT = {}
SCRIPT_PATH = None
SCRIPT_MTIME = None
LOG_LOCK = threading.Lock()
LOG_FILE = None
DUMP_DIR = None
SEQ = itertools.count(1)


def now():
    return round(time.time(), 3)


def log(rec):
    if LOG_FILE is None:
        return
    with LOG_LOCK:
        LOG_FILE.write(json.dumps(rec, sort_keys=True) + "\n")
        LOG_FILE.flush()


def load_script():
    """(Re)reads the script when its file changed, so a test may swap it."""
    global SCRIPT, SCRIPT_MTIME
    try:
        m = os.stat(SCRIPT_PATH).st_mtime_ns
    except OSError:
        return
    if m != SCRIPT_MTIME:
        with open(SCRIPT_PATH) as f:
            SCRIPT = json.load(f)
        SCRIPT_MTIME = m


def turns_for(api):
    with LOG_LOCK:
        load_script()
    sect = SCRIPT.get(api)
    if isinstance(sect, dict) and "turns" in sect:
        return sect["turns"]
    return SCRIPT.get("turns", [])


def script_turn(api, n):
    turns = turns_for(api)
    if n < len(turns):
        return turns[n]
    return {"text": "(script exhausted)", "usage": {"output_tokens": 5}}


def new_id(prefix, n=24):
    return prefix + uuid.uuid4().hex[:n]


# --- tool-shape helpers ----------------------------------------------------

def anthropic_tool_names(body):
    return [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]


def openai_tool_names(body):
    out = []
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        name = t.get("name") or (t.get("function") or {}).get("name")
        out.append(name if name else t.get("type"))
    return out


def openai_shell_tool(body):
    """The shell tool Codex offers, preferring the one it uses by default."""
    names = openai_tool_names(body)
    for cand in ("exec_command", "shell_command", "shell", "local_shell"):
        if cand in names:
            return cand
    return None


def openai_shell_args(tool, command, extra):
    if tool == "exec_command":
        args = {"cmd": command}
    elif tool == "shell_command":
        args = {"command": command}
    else:  # "shell" (and local_shell's action shape)
        args = {"command": ["bash", "-lc", command]}
    args.update(extra or {})
    return args


# --- the HTTP side ---------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock_model/1"

    def log_message(self, fmt, *a):  # quiet: the JSON log is the record
        pass

    # plumbing -------------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def dump(self, seq, raw):
        if not DUMP_DIR:
            return
        base = os.path.join(DUMP_DIR, "%04d" % seq)
        with open(base + ".req", "wb") as f:
            f.write(("%s %s\n" % (self.command, self.path)).encode())
            for k, v in self.headers.items():
                if k.lower() in ("authorization", "x-api-key"):
                    v = v[:12] + "..."
                f.write(("%s: %s\n" % (k, v)).encode())
            f.write(b"\n")
            f.write(raw or b"")

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", new_id("req_"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", new_id("req_"))
        self.end_headers()

    def sse(self, event, data):
        chunk = ("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.flush()

    def end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # dispatch -------------------------------------------------------------
    def handle_any(self):
        t_recv = now()
        seq = next(SEQ)
        raw = self.read_body()
        self.dump(seq, raw)
        path = self.path.split("?")[0]
        rec = {"seq": seq, "t_recv": t_recv, "method": self.command,
               "path": self.path, "user_agent": self.headers.get("User-Agent"),
               "api": "other",
               # Claude Code: X-Claude-Code-Session-Id (= transcript name);
               # Codex: session-id (= rollout's session id).
               "session": self.headers.get("X-Claude-Code-Session-Id")
               or self.headers.get("session-id")}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        try:
            if self.command == "POST" and path.endswith("/messages/count_tokens"):
                rec["api"] = "anthropic"
                self.send_json(200, {"input_tokens": 1000})
                rec["status"] = 200
            elif self.command == "POST" and path.endswith("/messages"):
                rec["api"] = "anthropic"
                self.anthropic(body, rec)
            elif self.command == "POST" and path.endswith("/responses"):
                rec["api"] = "openai"
                self.openai(body, rec)
            elif path.endswith("/models"):
                self.send_json(200, {"object": "list", "data": [], "models": []})
                rec["status"] = 200
            else:
                self.send_json(200, {})
                rec["status"] = 200
        except (BrokenPipeError, ConnectionResetError) as e:
            rec["error"] = repr(e)
        rec["t_done"] = now()
        log(rec)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = handle_any

    def do_OPTIONS(self):
        self.handle_any()

    # Anthropic Messages ---------------------------------------------------
    def anthropic(self, body, rec):
        tools = anthropic_tool_names(body)
        msgs = body.get("messages") or []
        turn = sum(1 for m in msgs if m.get("role") == "assistant")
        aux = "Bash" not in tools
        model = body.get("model", "mock-model")
        stream = bool(body.get("stream"))
        rec.update(turn=turn, aux=aux, model=model, stream=stream,
                   tools_offered=tools)
        if aux:
            t = {"text": "ok", "usage": {"input_tokens": 50, "output_tokens": 2}}
        else:
            t = script_turn("anthropic", turn)
        time.sleep(t.get("delay_ms", 0) / 1000.0)
        u = t.get("usage", {})
        usage_in = {
            "input_tokens": u.get("input_tokens", 1000),
            "cache_creation_input_tokens": u.get("cache_creation_input_tokens", 0),
            "cache_read_input_tokens": u.get("cache_read_input_tokens", 0),
        }
        out_tokens = u.get("output_tokens", 50)
        blocks = []
        if t.get("text") or not t.get("tool_calls"):
            blocks.append({"type": "text", "text": t.get("text") or ""})
        calls = []
        for c in t.get("tool_calls") or []:
            if "name" in c:
                name, inp = c["name"], c.get("input", {})
            else:
                name = "Bash"
                inp = {"command": c["command"],
                       "description": c.get("description", "run a command")}
            tid = new_id("toolu_01")
            blocks.append({"type": "tool_use", "id": tid, "name": name, "input": inp})
            calls.append({"id": tid, "name": name, "input": inp})
        rec["tool_calls"] = calls
        stop = "tool_use" if calls else "end_turn"
        msg_id = new_id("msg_01")
        if not stream:
            self.send_json(200, {
                "id": msg_id, "type": "message", "role": "assistant",
                "model": model, "content": blocks, "stop_reason": stop,
                "stop_sequence": None,
                "usage": dict(usage_in, output_tokens=out_tokens)})
            rec["status"] = 200
            return
        self.start_sse()
        rec["status"] = 200
        self.sse("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": dict(usage_in, output_tokens=1)}})
        self.sse("ping", {"type": "ping"})
        for i, b in enumerate(blocks):
            if b["type"] == "text":
                self.sse("content_block_start", {"type": "content_block_start",
                         "index": i, "content_block": {"type": "text", "text": ""}})
                self.sse("content_block_delta", {"type": "content_block_delta",
                         "index": i, "delta": {"type": "text_delta", "text": b["text"]}})
            else:
                self.sse("content_block_start", {"type": "content_block_start",
                         "index": i, "content_block": {"type": "tool_use",
                         "id": b["id"], "name": b["name"], "input": {}}})
                self.sse("content_block_delta", {"type": "content_block_delta",
                         "index": i, "delta": {"type": "input_json_delta",
                         "partial_json": json.dumps(b["input"])}})
            self.sse("content_block_stop", {"type": "content_block_stop", "index": i})
        self.sse("message_delta", {"type": "message_delta",
                 "delta": {"stop_reason": stop, "stop_sequence": None},
                 "usage": {"output_tokens": out_tokens}})
        self.sse("message_stop", {"type": "message_stop"})
        self.end_sse()

    # OpenAI Responses -----------------------------------------------------
    def openai(self, body, rec):
        tools = openai_tool_names(body)
        shell = openai_shell_tool(body)
        items = body.get("input") or []
        if isinstance(items, str):
            items = []
        # A model turn is a run of consecutive model-produced items.
        turn, prev_model = 0, False
        for it in items:
            is_model = it.get("type") in ("function_call", "custom_tool_call",
                                          "local_shell_call", "reasoning") or (
                it.get("type", "message") == "message" and it.get("role") == "assistant")
            if is_model and not prev_model:
                turn += 1
            prev_model = is_model
        aux = shell is None
        model = body.get("model", "mock-model")
        stream = bool(body.get("stream"))
        rec.update(turn=turn, aux=aux, model=model, stream=stream,
                   tools_offered=tools, shell_tool=shell,
                   parallel_tool_calls=body.get("parallel_tool_calls"))
        if aux:
            t = {"text": "ok", "usage": {"input_tokens": 50, "output_tokens": 2}}
        else:
            t = script_turn("openai", turn)
        time.sleep(t.get("delay_ms", 0) / 1000.0)
        u = t.get("usage", {})
        in_tok = u.get("input_tokens", 1000)
        cached = u.get("cache_read_input_tokens", u.get("cached_tokens", 0))
        out_tok = u.get("output_tokens", 50)
        output = []
        if t.get("text") or not t.get("tool_calls"):
            output.append({"type": "message", "id": new_id("msg_"),
                           "status": "completed", "role": "assistant",
                           "content": [{"type": "output_text", "text": t.get("text") or "",
                                        "annotations": []}]})
        calls = []
        for c in t.get("tool_calls") or []:
            if "name" in c:
                name, args = c["name"], c.get("input", {})
            else:
                name = shell or "shell"
                args = openai_shell_args(name, c["command"], c.get("openai_extra"))
            cid = new_id("call_")
            output.append({"type": "function_call", "id": new_id("fc_"),
                           "status": "completed", "call_id": cid, "name": name,
                           "arguments": json.dumps(args)})
            calls.append({"id": cid, "name": name, "input": args})
        rec["tool_calls"] = calls
        resp_id = new_id("resp_")
        created = int(time.time())
        usage = {"input_tokens": in_tok,
                 "input_tokens_details": {"cached_tokens": cached},
                 "output_tokens": out_tok,
                 "output_tokens_details": {"reasoning_tokens": u.get("reasoning_tokens", 0)},
                 "total_tokens": in_tok + out_tok}
        base = {"id": resp_id, "object": "response", "created_at": created,
                "model": model, "parallel_tool_calls": True, "tools": [],
                "error": None, "incomplete_details": None}
        if not stream:
            self.send_json(200, dict(base, status="completed", output=output, usage=usage))
            rec["status"] = 200
            return
        self.start_sse()
        rec["status"] = 200
        seqn = itertools.count()

        def ev(kind, **kw):
            self.sse(kind, dict(type=kind, sequence_number=next(seqn), **kw))

        ev("response.created", response=dict(base, status="in_progress", output=[], usage=None))
        ev("response.in_progress", response=dict(base, status="in_progress", output=[], usage=None))
        for i, it in enumerate(output):
            if it["type"] == "message":
                text = it["content"][0]["text"]
                ev("response.output_item.added", output_index=i,
                   item=dict(it, status="in_progress", content=[]))
                ev("response.content_part.added", item_id=it["id"], output_index=i,
                   content_index=0, part={"type": "output_text", "text": "", "annotations": []})
                ev("response.output_text.delta", item_id=it["id"], output_index=i,
                   content_index=0, delta=text)
                ev("response.output_text.done", item_id=it["id"], output_index=i,
                   content_index=0, text=text)
                ev("response.content_part.done", item_id=it["id"], output_index=i,
                   content_index=0, part=it["content"][0])
            else:
                ev("response.output_item.added", output_index=i,
                   item=dict(it, status="in_progress", arguments=""))
                ev("response.function_call_arguments.delta", item_id=it["id"],
                   output_index=i, delta=it["arguments"])
                ev("response.function_call_arguments.done", item_id=it["id"],
                   output_index=i, arguments=it["arguments"])
            ev("response.output_item.done", output_index=i, item=it)
        ev("response.completed", response=dict(base, status="completed",
                                                 output=output, usage=usage))
        self.end_sse()


def main():
    global SCRIPT_PATH, LOG_FILE, DUMP_DIR
    ap = argparse.ArgumentParser(
        description="Scripted Anthropic Messages + OpenAI Responses mock "
                    "for running real agent CLIs offline (see module doc).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--script", required=True, help="JSON script of model turns")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--dump-dir", help="save every request (headers+body) here")
    a = ap.parse_args()
    SCRIPT_PATH = a.script
    load_script()  # fail early on a bad script
    if a.log:
        LOG_FILE = open(a.log, "a")
    if a.dump_dir:
        os.makedirs(a.dump_dir, exist_ok=True)
        DUMP_DIR = a.dump_dir
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    print("mock_model listening on %s:%d" % (a.host, port), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
