#!/usr/bin/env bash
# CPU per tool call with the real agents (the actions issue): Claude Code
# and Codex CLI, as `make deps` installs them from npm into $BUILD/agents,
# against a local mock of their model APIs (mock_model.py). Each answers a
# first turn with two tool calls in one message; each call's cpu_seconds
# must match what the kernel accounted to the call's processes (burner.py
# reads it at the end) within 1 %; parallel calls are told apart; the run's
# model time matches the mock's own timings; the timeline shows the calls.
. "$(dirname "$0")/lib.sh"
need_root
AGENTS=$ROOT/$BUILD/agents/node_modules/.bin
# The agents are too big to fetch per build dir: the plain build's serve
# the sanitizer build's too.
[ -x "$AGENTS/claude" ] || AGENTS=$ROOT/build/agents/node_modules/.bin
for a in claude codex; do
	[ -x "$AGENTS/$a" ] || fail "no $a in $AGENTS: make deps installs the agents from npm"
done
PY=/usr/bin/python3
MOCK_PID=

mkdir -p "$T/work" "$T/tmp" "$T/home"
# The mock: the first request of a conversation gets two tool calls (each
# test writes its commands), the second a final answer; each after a
# model latency of its own.
script() { # CMD1 CMD2
	$PY - "$T/script.json" "$1" "$2" <<'PYEOF'
import json, sys
path, a, b = sys.argv[1:4]
json.dump({"turns": [
    {"delay_ms": 700, "text": "Running both.",
     "tool_calls": [{"command": a, "description": "first"}, {"command": b, "description": "second"}],
     "openai_extra": {"yield_time_ms": 30000},
     "usage": {"input_tokens": 2400, "output_tokens": 120, "cache_read_input_tokens": 1800}},
    {"delay_ms": 400, "text": "Both finished.",
     "usage": {"input_tokens": 2700, "output_tokens": 30, "cache_read_input_tokens": 2400}}]},
    open(path + ".tmp", "w"))
import os; os.rename(path + ".tmp", path)
PYEOF
}
script true true
$PY "$ROOT/tests/integration/mock_model.py" --port 0 --port-file "$T/port" --script "$T/script.json" \
	--log "$T/mock.jsonl" >"$T/mock.out" 2>&1 &
MOCK_PID=$!
trap '[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; cleanup' EXIT
wait_until 20 test -s "$T/port" || fail "the mock model API did not start: $(cat "$T/mock.out")"
MPORT=$(cat "$T/port")
mkdir -p "$T/codex"
cat >"$T/codex/config.toml" <<EOF2
model = "mock-model"
model_provider = "mock"
[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:$MPORT/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
[analytics]
enabled = false
[features]
plugins = false
remote_plugin = false
apps = false
EOF2
BASE=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME="$T/home" TMPDIR="$T/tmp")
CLAUDE=("${BASE[@]}" CLAUDE_CONFIG_DIR="$T/home/.claude" ANTHROPIC_BASE_URL="http://127.0.0.1:$MPORT"
	ANTHROPIC_API_KEY=sk-ant-mock DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
	"$AGENTS/claude" -p "Run the two commands." --allowedTools Bash --output-format json)
CODEX=("${BASE[@]}" CODEX_HOME="$T/codex" MOCK_API_KEY=mock
	"$AGENTS/codex" exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox
	"Run the two commands.")
daemon_start

# agent_run LABEL CMD...: CMD as a tracked run (in $T/work), its record in $T/LABEL.json.
agent_run() {
	local label=$1
	shift
	(cd "$T/work" && timeout 120 "$AP" run --project "$label" --wait-all --summary "$T/$label.json" \
		-- "$@") >"$T/$label.out" 2>"$T/$label.err" ||
		fail "$label: the agent failed: $(tail -5 "$T/$label.err") $(tail -3 "$T/$label.out")"
}

# check_calls LABEL: each of the record's two calls against its burner's
# report (OUT1, OUT2 by the order the mock gave them): within 1 %, and never
# below (the call's processes include the burner and its shell).
check_calls() {
	local label=$1 n id cpu want ppm
	n=$(jq '.tools | length' "$T/$label.json")
	[ "$n" = 2 ] || fail "$label: $n tool calls in the record, wanted 2: $(jq -c .tools "$T/$label.json")"
	for k in 0 1; do
		id=$(jq -rs --argjson k "$k" '[.[] | select(.tool_calls | length == 2)][-1].tool_calls[$k].id' \
			"$T/mock.jsonl")
		cpu=$(jq -r --arg id "$id" '.tools[] | select(.id == $id) | .cpu_seconds * 1e9 | floor' "$T/$label.json")
		[ -n "$cpu" ] || fail "$label: call $id is not in the record: $(jq -c .tools "$T/$label.json")"
		want=$(cut -d' ' -f1 "$T/$label.burn$k")
		ppm=$(((cpu - want) * 1000000 / want))
		printf '%-22s call %-34s cpu %7.3f s  burner %7.3f s  (%+.3f %%)\n' "$label" "$id" \
			"$(awk -v x="$cpu" 'BEGIN { print x / 1e9 }')" "$(awk -v x="$want" 'BEGIN { print x / 1e9 }')" \
			"$(awk -v p="$ppm" 'BEGIN { print p / 1e4 }')" | tee -a "$RESULTS"
		[ "$ppm" -ge 0 ] && [ "$ppm" -le 10000 ] || fail "$label: call $id's CPU is off by more than 1 %"
	done
}

# check_model LABEL: the run's model seconds against the mock's answers
# (request to its last byte), within 0.3 s a request.
check_model() {
	local label=$1 got want n
	got=$(jq '.phases.model_seconds' "$T/$label.json")
	read -r want n < <(jq -rs --arg api "$2" --argjson t0 "$3" \
		'[.[] | select(.api == $api and .aux != true and .t_recv >= $t0)] |
		 "\(map(.t_done - .t_recv) | add) \(length)"' "$T/mock.jsonl")
	awk -v g="$got" -v w="$want" -v n="$n" 'BEGIN { d = g - w; exit !(n >= 2 && d > -0.3 * n && d < 0.3 * n) }' ||
		fail "$label: model_seconds $got, the mock answered for $want s over $n requests"
	echo "$label: model_seconds $got, mock $want s over $n requests"
}

# Codex: two burners, run at the same time.
script "$PY $ROOT/tests/integration/burner.py 2.5 $T/codex.burn0" \
	"$PY $ROOT/tests/integration/burner.py 1.5 $T/codex.burn1"
t0=$(date +%s.%N)
agent_run codex "${CODEX[@]}"
check_record "$T/codex.json"
check_calls codex
jq -e '[.tools[] | .name] == ["exec_command", "exec_command"] and
	.tools[0].started_at < .tools[1].ended_at and .tools[1].started_at < .tools[0].ended_at' \
	"$T/codex.json" >/dev/null || fail "codex: calls not exec_command, or not at once: $(jq -c .tools "$T/codex.json")"
check_model codex openai "$t0"
"$AP" timeline --project codex >"$T/codex.timeline" || fail "codex: no timeline"
grep -q "exec_command call_" "$T/codex.timeline" || fail "codex: the timeline names no call: $(cat "$T/codex.timeline")"

# Claude Code: the same burners, one after the other (it runs a message's
# calls at once only when it judges them all read-only).
script "$PY $ROOT/tests/integration/burner.py 2.5 $T/claude.burn0" \
	"$PY $ROOT/tests/integration/burner.py 1.5 $T/claude.burn1"
t0=$(date +%s.%N)
agent_run claude "${CLAUDE[@]}"
check_record "$T/claude.json"
check_calls claude
jq -e '[.tools[] | .name] == ["Bash", "Bash"]' "$T/claude.json" >/dev/null ||
	fail "claude: calls not Bash: $(jq -c .tools "$T/claude.json")"
check_model claude anthropic "$t0"

# Claude Code, read-only calls at once: told apart by their commands, the
# one that hashes three times the bytes has about three times the CPU.
script "head -c 900000000 /dev/zero | sha256sum" "head -c 300000000 /dev/zero | sha256sum"
agent_run claude-parallel "${CLAUDE[@]}"
jq -e '.tools | length == 2 and .[0].started_at < .[1].ended_at and .[1].started_at < .[0].ended_at and
	(.[0].cpu_seconds / .[1].cpu_seconds) > 2.2 and (.[0].cpu_seconds / .[1].cpu_seconds) < 4.5 and
	(.[0].top | map(.comm) | index("sha256sum"))' "$T/claude-parallel.json" >/dev/null ||
	fail "claude-parallel: calls not told apart: $(jq -c .tools "$T/claude-parallel.json")"
id=$(jq -rs '[.[] | select(.tool_calls | length == 2)][-1].tool_calls[0].id' "$T/mock.jsonl")
jq -e --arg id "$id" '.tools[0].id == $id' "$T/claude-parallel.json" >/dev/null ||
	fail "claude-parallel: the costlier call is not the first command's ($id)"
"$AP" timeline --project claude-parallel
daemon_stop
