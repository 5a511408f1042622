#!/usr/bin/env bash
# Tokens from the agents' own transcripts, with no configuration. Two tracked
# python3 processes (named like no agent) whose HOME and working directory
# lead to Claude Code's and Codex CLI's directories write as those agents do:
# Claude Code lines appended line by line (a message written three times as
# it streams, a subagent's message also in its own file, a <synthetic> error),
# and a Codex rollout held open. The WebSocket must show the run's totals
# within 2 s; what was there before the run, an untracked writer elsewhere
# and another user's file must not count; a 200 MB transcript already there
# must not be read; a second run starts from 0 while the session sums both.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
$PY -c 'import websockets' 2>/dev/null || fail "needs Debian's python3-websockets"

HOMEDIR=$T/home
WORK=$T/work/demo-app
OTHER=$T/work/other
esc() { printf '%s' "$1" | sed 's/[^A-Za-z0-9]/-/g'; }
PROJ=$HOMEDIR/.claude/projects/$(esc "$WORK")
PROJ_OTHER=$HOMEDIR/.claude/projects/$(esc "$OTHER")
SESSIONS=$HOMEDIR/.codex/sessions/2025/10/20
mkdir -p "$PROJ" "$PROJ_OTHER" "$SESSIONS" "$WORK" "$OTHER"

# claude ID IN OUT CACHE_READ CACHE_CREATION [MODEL]: one assistant line.
claude() {
	printf '{"parentUuid":"p","isSidechain":false,"cwd":"%s","sessionId":"s","version":"2.0.14","message":{"id":"%s","type":"message","role":"assistant","model":"%s","content":[{"type":"text","text":"a prompt that must never be logged"}],"usage":{"input_tokens":%s,"cache_creation_input_tokens":%s,"cache_read_input_tokens":%s,"output_tokens":%s,"service_tier":"standard"}},"type":"assistant","uuid":"u","timestamp":"2025-10-20T10:00:00.000Z"}\n' \
		"$WORK" "$1" "${6:-claude-sonnet-4-5}" "$2" "$5" "$4" "$3"
}

# Before the run: a session with usage (not the run's), a 200 MB transcript.
claude msg_before1 5000 5000 0 0 >"$PROJ/old-session.jsonl"
claude msg_before2 5000 5000 0 0 >>"$PROJ/old-session.jsonl"
claude msg_big 1 1 1 1 >"$T/line"
(yes "$(cat "$T/line")" || true) | head -c $((200 << 20)) >"$PROJ/big-session.jsonl"
echo >>"$PROJ/big-session.jsonl"
# Another user's transcript in the same directory.
claude msg_nobody 700 700 0 0 >"$PROJ/nobody.jsonl"
chown 65534:65534 "$PROJ/nobody.jsonl"
sleep 0.2 # older than the run by more than the file clock's slack

# The Claude Code writer: appends each line (open, write, close), as the
# agent does; a new session file, its subagent's file, and the old ones.
cat >"$T/claude.py" <<EOF
import os, sys, time
def wait(f):
    while not os.path.exists(f): time.sleep(0.02)
def put(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for l in lines:
        with open(path, "a") as f: f.write(l)
L = dict(l.split(" ", 1) for l in open("$T/lines").read().splitlines(keepends=True))
open("$T/ready-claude", "w").close()
wait("$T/go")
proj = "$PROJ"
put(proj + "/5f1d9c2e.jsonl", [L["a1"], L["a2"], L["a3"], L["user"], L["b"], L["s1"], L["synthetic"]])
put(proj + "/5f1d9c2e/subagents/agent-7c3a.jsonl", [L["s1"], L["s2"]])
put(proj + "/old-session.jsonl", [L["c"]])
put(proj + "/big-session.jsonl", [L["d"]])
open("$T/done-claude", "w").close()
wait("$T/stop")
EOF
# The Codex writer: holds its rollout open from the start, as codex does.
cat >"$T/codex.py" <<EOF
import os, sys, time
def wait(f):
    while not os.path.exists(f): time.sleep(0.02)
L = dict(l.split(" ", 1) for l in open("$T/lines").read().splitlines(keepends=True))
f = open("$SESSIONS/rollout-2025-10-20T10-00-00-0199f0aa.jsonl", "a", buffering=1)
f.write(L["meta"])
open("$T/ready-codex", "w").close()
wait("$T/go")
for k in ("tc_null", "tc1", "tc1", "tc2"):
    f.write(L[k])
open("$T/done-codex", "w").close()
wait("$T/stop")
EOF
{
	echo "a1 $(claude msg_A 4 2 14080 1520)"
	echo "a2 $(claude msg_A 4 2 14080 1520)"
	echo "a3 $(claude msg_A 4 187 14080 1520)"
	echo 'user {"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"the \"usage\":{\"input_tokens\":999} check"}]}}'
	echo "b $(claude msg_B 6 95 15600 410)"
	echo "s1 $(claude msg_S1 12 40 3000 0 claude-haiku-4-5)"
	echo "s2 $(claude msg_S2 20 60 3000 100 claude-haiku-4-5)"
	echo "synthetic $(claude synth-1 0 0 0 0 '<synthetic>')"
	echo "c $(claude msg_C 30 12 0 0)"
	echo "d $(claude msg_D 1 2 3 4)"
	echo "e $(claude msg_E 5 5 0 0)"
	echo 'meta {"timestamp":"2025-10-20T10:00:00.000Z","type":"session_meta","payload":{"id":"0199f0aa","cwd":"/w","originator":"codex_cli_rs"}}'
	echo 'tc_null {"timestamp":"2025-10-20T10:00:01.000Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":null}}'
	echo 'tc1 {"timestamp":"2025-10-20T10:00:05.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":9000,"cached_input_tokens":4000,"output_tokens":300,"reasoning_output_tokens":120,"total_tokens":9300},"last_token_usage":{"input_tokens":9000,"cached_input_tokens":4000,"output_tokens":300,"reasoning_output_tokens":120,"total_tokens":9300}}}}'
	echo 'tc2 {"timestamp":"2025-10-20T10:00:09.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":19500,"cached_input_tokens":12800,"output_tokens":720,"reasoning_output_tokens":256,"total_tokens":20220},"last_token_usage":{"input_tokens":10500,"cached_input_tokens":8800,"output_tokens":420,"reasoning_output_tokens":136,"total_tokens":10920}}}}'
} >"$T/lines"

# Waits for perf_metrics of PROJECT whose tokens match WANT (a JSON object,
# a subset of "tokens") once the files DONE... exist; fails past 2 s after.
cat >"$T/ws_tokens.py" <<'EOF'
import asyncio, json, os, sys, time
import websockets

server, project, want = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
done = sys.argv[4:]

async def main():
    async with websockets.connect(f"ws://{server}/ws/projects/{project}") as ws:
        if os.environ.get("READY"):
            open(os.environ["READY"], "w").close()
        t_done = None
        deadline = time.monotonic() + 60
        last = None
        while time.monotonic() < deadline:
            if t_done is None and all(os.path.exists(f) for f in done):
                t_done = time.monotonic()
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), 0.05))
            except asyncio.TimeoutError:
                if t_done is not None and time.monotonic() - t_done > 2.0:
                    break
                continue
            last = m["tokens"]
            now = time.monotonic()
            if t_done is not None and all(last.get(k) == v for k, v in want.items()):
                print(f"{now - t_done:.3f} {json.dumps(last)}")
                return 0
            if t_done is not None and now - t_done > 2.0:
                break
        print(f"tokens after the writes: {json.dumps(last)}, wanted {json.dumps(want)}", file=sys.stderr)
        return 1

sys.exit(asyncio.run(main()))
EOF

daemon_start
io_before=$(awk '$1 == "rchar:" { print $2 }' "/proc/$DPID/io")
cpu_before=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")

# Run 1: the two writers, named python3, from a shell with the agents' HOME.
"$AP" run --project tx -- env -i HOME="$HOMEDIR" PATH=/usr/bin:/bin /bin/sh -c \
	"cd '$WORK' && { $PY '$T/claude.py' & $PY '$T/codex.py' & wait; }" >"$T/run1.out" 2>&1 &
run1=$!
wait_run tx >/dev/null
# An untracked writer elsewhere, same user and HOME: not the run's.
(cd "$OTHER" && exec env HOME="$HOMEDIR" $PY -c "
import os, time
while not os.path.exists('$T/go'): time.sleep(0.02)
with open('$PROJ_OTHER/s.jsonl', 'a') as f: f.write(open('$T/line').read())
open('$T/done-other', 'w').close()
while not os.path.exists('$T/stop'): time.sleep(0.05)") &
other=$!
# The writers are new processes: the daemon looks at each at its next pass
# (each second); the one that opens its rollout after that pass is seen at
# its next look (2 s). Once both wait to write (however long a busy host
# took to start them), 3 s of the daemon's own cadence.
ready() { [ -e "$T/ready-claude" ] && [ -e "$T/ready-codex" ]; }
wait_until 30 ready || fail "the writers did not start"
sleep 3
# 58406 = Claude Code 38186 + Codex 20220; by kind, both agents together.
want='{"available":true,"current_run":58406,"total_session":58406,"input":6773,"output":1116,"cache_read":48483,"cache_creation":2034}'
READY=$T/ws1.ready $PY "$T/ws_tokens.py" "$AGENTPERF_SERVER" tx "$want" "$T/done-claude" "$T/done-codex" "$T/done-other" \
	>"$T/ws1.out" &
ws=$!
wait_until 30 test -e "$T/ws1.ready" || fail "run 1's WebSocket client did not connect"
# Another user's file grows during the run too.
claude msg_nobody2 900 900 0 0 >>"$PROJ/nobody.jsonl"
touch "$T/go"
wait "$ws" || fail "run 1's tokens on the WebSocket: $(cat "$T/ws1.out")"
read -r secs _ <"$T/ws1.out"
echo "run 1: totals on the WebSocket ${secs}s after the last write"

# /metrics, with the kinds as counters.
curl -sf "http://$AGENTPERF_SERVER/metrics" >"$T/metrics" || fail "no /metrics"
for kv in input=6773 output=1116 cache_read=48483 cache_creation=2034; do
	grep -q "^agentperf_run_tokens_total{project=\"tx\",run_id=\"[^\"]*\",type=\"${kv%=*}\"} ${kv#*=}\$" "$T/metrics" ||
		fail "/metrics lacks type ${kv%=*} = ${kv#*=}: $(grep tokens_total "$T/metrics")"
done

# The 200 MB transcript was never read: the daemon read a few MB at most
# (its own /proc files), and used little CPU.
io_after=$(awk '$1 == "rchar:" { print $2 }' "/proc/$DPID/io")
cpu_after=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
read_mb=$(((io_after - io_before) >> 20))
echo "daemon read $read_mb MiB and used $((cpu_after - cpu_before)) ticks of CPU during run 1"
[ "$read_mb" -lt 16 ] || fail "the daemon read $read_mb MiB during the run: a transcript was read whole"

touch "$T/stop"
wait "$run1" || fail "run 1 failed: $(cat "$T/run1.out")"
wait "$other" || true
rec=$(wait_record tx)
jq -e '.tokens == {"input":6773,"output":1116,"cache_read":48483,"cache_creation":2034,"total":58406,"source":"claude-code"}' \
	<<<"$rec" >/dev/null || fail "run 1's record has tokens $(jq -c .tokens <<<"$rec")"

# Run 2 of the project: its count starts from 0, the session's goes on.
rm -f "$T/go" "$T/stop" "$T/done-"*
cat >"$T/claude2.py" <<EOF
import os, time
while not os.path.exists("$T/go"): time.sleep(0.02)
line = [l.split(" ", 1)[1] for l in open("$T/lines") if l.startswith("e ")][0]
with open("$PROJ/old-session.jsonl", "a") as f: f.write(line)
open("$T/done-claude", "w").close()
while not os.path.exists("$T/stop"): time.sleep(0.05)
EOF
# Started as an agent usually is: from its directory, with its HOME (the run's
# root is looked at before its exec, with what it will exec with).
(cd "$WORK" && exec env HOME="$HOMEDIR" "$AP" run --project tx -- $PY "$T/claude2.py") >"$T/run2.out" 2>&1 &
run2=$!
wait_run tx >/dev/null
READY=$T/ws2.ready $PY "$T/ws_tokens.py" "$AGENTPERF_SERVER" tx \
	'{"available":true,"current_run":10,"total_session":58416,"input":5,"output":5}' "$T/done-claude" \
	>"$T/ws2.out" &
ws=$!
wait_until 30 test -e "$T/ws2.ready" || fail "run 2's WebSocket client did not connect"
touch "$T/go"
wait "$ws" || fail "run 2's tokens on the WebSocket: $(cat "$T/ws2.out")"
read -r secs _ <"$T/ws2.out"
echo "run 2: current_run 10, total_session 58416, ${secs}s after the write"
touch "$T/stop"
wait "$run2" || fail "run 2 failed: $(cat "$T/run2.out")"
daemon_stop
# Only counts were ever read: no prompt, path or content in the log.
! grep -q -e "must never be logged" -e "$PROJ" "$T/daemon.log" || fail "transcript content or paths in the log"
echo "transcripts: run 58406 tokens (Claude Code and Codex), second run from 0, 200 MB file unread"
