#!/usr/bin/env bash
# What following the agents' transcripts costs agentperfd: a tracked agent
# (python3, watched over the WebSocket as a dashboard would) appends RATE
# lines a second (default 1000) for SECS seconds (default 10) as Claude Code
# does (open, append, close; each message streamed as three lines, then a
# tool result), or as Codex CLI does (one rollout held open, a token_count
# every tenth line). The daemon's CPU comes from /proc/PID/stat over the same
# seconds, against the same run with the agent idle. Then a 200 MB
# transcript already there when a run starts, appended to. For each case,
# the bytes the daemon read (/proc/PID/io rchar) from the run's start on.
# Needs root (the daemon loads BPF). Writes the table to BUILD/bench-transcripts.md.
# Usage: sudo scripts/bench-transcripts.sh [RATE] [SECS]; BUILD=DIR for another build.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-1000}
SECS=${2:-10}
BUILD=${BUILD:-build}
AP=$PWD/$BUILD/agentperf
APD=$PWD/$BUILD/agentperfd
PY=/usr/bin/python3
[ "$(id -u)" = 0 ] || { echo "bench-transcripts: needs root (agentperfd loads BPF)" >&2; exit 1; }
[ -x "$APD" ] && [ -x "$AP" ] || { echo "bench-transcripts: build $BUILD first (make)" >&2; exit 1; }
T=$(mktemp -d /tmp/agentperf-benchtx.XXXXXX)
# Its own pinned BPF state (where the daemon pins it), gone at the end: the
# pins are what keeps the programs attached.
BPF_DIR=/sys/fs/bpf/agentperf-bench-$$
bpf_flag=()
! "$APD" --help 2>&1 | grep -q -- --bpf-dir || bpf_flag=(--bpf-dir "$BPF_DIR")
DPID=
cleanup() {
	[ -z "$DPID" ] || { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; }
	touch "$T/stop"
	sleep 0.2
	rm -rf "$T" "$BPF_DIR"
}
trap cleanup EXIT
export AGENTPERF_CONTROL=$T/ctl.sock
PORT=$((20000 + RANDOM % 30000))
export AGENTPERF_SERVER=127.0.0.1:$PORT
HZ=$(getconf CLK_TCK)

HOMEDIR=$T/home
WORK=$T/work/app
PROJ=$HOMEDIR/.claude/projects/$(printf '%s' "$WORK" | sed 's/[^A-Za-z0-9]/-/g')
SESSIONS=$HOMEDIR/.codex/sessions/2025/10/20
mkdir -p "$PROJ" "$SESSIONS" "$WORK"

# The agent: MODE claude|codex|idle, writing to FILE at RATE lines/s until
# $T/stop; prints the tokens it wrote to $T/written.
cat >"$T/agent.py" <<'EOF'
import json, os, sys, time
mode, path, rate, stop, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
text = "Reading the build output to find which test fails. " * 12
tool = "x" * 3000
def claude(i, part):
    # A message written three times as it streams; the last has the usage.
    return json.dumps({"parentUuid": "p%d" % i, "isSidechain": False, "userType": "external",
        "cwd": "/home/alice/src/app", "sessionId": "5f1d9c2e", "version": "2.0.14",
        "gitBranch": "main", "message": {"id": "msg_%08d" % i, "type": "message",
        "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}], "stop_reason": None,
        "usage": {"input_tokens": 4, "cache_creation_input_tokens": 100,
                  "cache_read_input_tokens": 20000, "output_tokens": 10 * part,
                  "service_tier": "standard"}},
        "requestId": "req_%d" % i, "type": "assistant", "uuid": "u%d-%d" % (i, part),
        "timestamp": "2025-10-20T10:00:00.000Z"}, separators=(",", ":")) + "\n"
def user(i):
    return json.dumps({"type": "user", "message": {"role": "user", "content": [
        {"tool_use_id": "toolu_%d" % i, "type": "tool_result", "content": tool}]},
        "uuid": "t%d" % i}, separators=(",", ":")) + "\n"
def codex(i):
    if i % 10:
        return json.dumps({"timestamp": "2025-10-20T10:00:00.000Z", "type": "response_item",
            "payload": {"type": "function_call_output", "call_id": "c%d" % i,
                        "output": tool}}, separators=(",", ":")) + "\n"
    n = i // 10 + 1
    return json.dumps({"timestamp": "2025-10-20T10:00:00.000Z", "type": "event_msg",
        "payload": {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 9000 * n, "cached_input_tokens": 8000 * n,
                "output_tokens": 300 * n, "reasoning_output_tokens": 100 * n,
                "total_tokens": 9300 * n}}}}, separators=(",", ":")) + "\n"
held = open(path, "a", buffering=1) if mode == "codex" else None
# A large tree: 200 processes whose HOME has both agents' directories, each
# looked at every 2 s (cwd, environment, fd table).
kids = [__import__("subprocess").Popen(["/bin/sleep", "1000"]) for _ in range(200 if mode == "procs" else 0)]
i = lines = 0
t0 = time.monotonic()
while not os.path.exists(stop):
    due = int((time.monotonic() - t0) * rate)
    while mode in ("claude", "codex") and lines < due:
        if mode == "codex":
            held.write(codex(lines))
        else:
            k = lines % 4
            l = claude(lines // 4, k + 1) if k < 3 else user(lines // 4)
            with open(path, "a") as f:
                f.write(l)
        lines += 1
    time.sleep(0.01)
msgs = lines // 4 + (1 if lines % 4 else 0)
if mode == "claude":
    last = lines % 4
    tokens = (lines // 4) * (20104 + 30) + (20104 + 10 * min(last, 3) if last else 0)
elif mode == "codex":
    tokens = 9300 * (lines // 10 + (1 if lines % 10 else 0))
else:
    tokens = 0
for k in kids:
    k.kill()
    k.wait()
open(out, "w").write("%d %d %d\n" % (lines, tokens, lines / (time.monotonic() - t0)))
EOF

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }
rchar() { awk '$1 == "rchar:" { print $2 }' "/proc/$DPID/io"; }

"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --listen "$AGENTPERF_SERVER" \
	"${bpf_flag[@]}" >"$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do
	[ -S "$AGENTPERF_CONTROL" ] && grep -q listening "$T/daemon.log" && break
	sleep 0.1
done
grep -q listening "$T/daemon.log" || { cat "$T/daemon.log" >&2; exit 1; }
"$AP" watch bench >/dev/null 2>&1 &
watcher=$!

# case LABEL MODE FILE: one run of the agent for SECS seconds; prints a row.
rows=()
measure() {
	local label=$1 mode=$2 file=$3 warm=${4:-1.5} c0 c1 r0 r1 pct run lines written rate got
	rm -f "$T/stop" "$T/written"
	r0=$(rchar)
	# As an agent is started: from its directory, with its HOME.
	(cd "$WORK" && exec env HOME="$HOMEDIR" "$AP" run --project bench -- \
		$PY "$T/agent.py" $mode "$file" "$RATE" "$T/stop" "$T/written") >/dev/null 2>&1 &
	run=$!
	sleep "$warm" # the run started, its agent found
	c0=$(cpu_ticks)
	sleep "$SECS"
	c1=$(cpu_ticks)
	r1=$(rchar)
	touch "$T/stop"
	wait "$run" || true
	read -r lines written rate <"$T/written"
	got=$("$AP" runs --json --project bench | jq '.[0].tokens.total // 0')
	pct=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.2f", 100 * c / hz / s }')
	rows+=("| $label | $rate | $pct % | $(((r1 - r0) >> 10)) KiB | $got of $written |")
	echo "${rows[-1]}"
}

measure "agent idle (run watched, transcripts followed)" idle "$PROJ/s0.jsonl"
measure "Claude Code, $RATE lines/s (3/4 with usage)" claude "$PROJ/s1.jsonl"
measure "Codex CLI, $RATE lines/s (rollout held open)" codex "$SESSIONS/rollout-2025-10-20T10-00-00-bench.jsonl"
# 200 MB already there when the run starts; the agent appends to it.
(yes "$(sed -n 1p "$PROJ/s1.jsonl")" || true) | head -c $((200 << 20)) >"$PROJ/big.jsonl"
echo >>"$PROJ/big.jsonl"
sleep 0.1
measure "Claude Code, $RATE lines/s to a 200 MB transcript there at the start" claude "$PROJ/big.jsonl"
measure "200 idle processes in the run (HOME with both agents' directories), after 6 s" procs \
	"$PROJ/s2.jsonl" 6

kill "$watcher" 2>/dev/null || true
{
	echo "Transcript following, $SECS s per case, $(nproc) CPUs, $(uname -r); daemon CPU from /proc/PID/stat (utime+stime):"
	echo
	echo "| case | lines/s | daemon CPU (one core) | daemon read from the run's start (rchar) | tokens recorded of written |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee "$BUILD/bench-transcripts.md"
