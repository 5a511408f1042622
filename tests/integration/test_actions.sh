#!/usr/bin/env bash
# CPU per agent action (the actions issue), with agents this test plays:
# each tool call's CPU in the run record equals the kernel's own accounting
# of the call's cgroup (lib.sh's oracle), its fork storm and escaped daemon
# included, within 0.1 %; two calls at once are told apart; the agent's own
# helpers are no calls. The real Claude Code and Codex play in
# test_real_agents.sh.
. "$(dirname "$0")/lib.sh"
need_root
daemon_start

# compare_tool LABEL RECORD ID GROUP PRE: the tool call ID's cpu_ns in RECORD
# against the group's usage plus its pre-join CPU.
compare_tool() {
	local cpu
	cpu=$(jq -r --arg id "$3" '.tools[] | select(.id == $id) | .cpu_seconds * 1e9 | floor' "$2")
	[ -n "$cpu" ] || fail "$1: no tool call $3 in $(jq -c .tools "$2")"
	compare "$1" "$cpu" "$(cg_usage "$4")" "$(cat "$5")"
}

# Codex's way: the agent forks each call's shell with CODEX_TOOL_CALL_ID in
# its environment. Two calls at once: one a fork storm that leaves a daemon
# behind, one a two-thread burner; and a helper of the agent's own. In both
# BPF variants (V: tp_btf, raw_tp).
codex_like() {
	local V=$1 A B agent
	A=$(cg_new "$V-call-storm")
	B=$(cg_new "$V-call-burn")
	"$AP" run --project "acts-$V" --wait-all --summary "$T/$V.json" -- sh -c "
		CODEX_TOOL_CALL_ID=call_storm '$H/cgexec' -o '$T/$V-a.pre' '$A' sh -c '
			i=0; while [ \$i -lt 400 ]; do /bin/true; i=\$((i+1)); done
			(setsid \"$H/burn\" 1 500 &)
			\"$H/burn\" 1 300' &
		CODEX_TOOL_CALL_ID=call_burn '$H/cgexec' -o '$T/$V-b.pre' '$B' '$H/burn' 2 400 &
		'$H/burn' 1 100
		wait" 2>"$T/$V.err" || fail "$V: codex-like run: $(cat "$T/$V.err")"
	check_record "$T/$V.json"
	jq -e '.tools | length == 2' "$T/$V.json" >/dev/null ||
		fail "$V: wanted the two calls, got $(jq -c .tools "$T/$V.json")"
	compare_tool "$V-tool-storm+daemon" "$T/$V.json" call_storm "$A" "$T/$V-a.pre"
	compare_tool "$V-tool-threads" "$T/$V.json" call_burn "$B" "$T/$V-b.pre"
	jq -e '.tools[] | select(.id == "call_storm") | .tasks >= 402 and .name == null and
		(.top[0].comm == "burn")' "$T/$V.json" >/dev/null ||
		fail "$V: call_storm's tasks, name or top: $(jq -c '.tools[0]' "$T/$V.json")"
	# The agent's own helper (0.1 s) stays in the agent's share: the run's
	# CPU less its calls'.
	agent=$(jq '.cpu_seconds - ([.tools[].cpu_seconds] | add)' "$T/$V.json")
	awk -v a="$agent" 'BEGIN { exit !(a >= 0.1 && a < 0.2) }' ||
		fail "$V: agent share $agent s, wanted 0.1-0.2"
	grep -q "Costliest tool call: ? (call_storm)" "$T/$V.err" ||
		fail "$V: the summary names no costliest call: $(cat "$T/$V.err")"
	"$AP" runs --project "acts-$V" | grep -q "COSTLIEST_TOOL" || fail "runs: no COSTLIEST_TOOL column"
	jq -e '.phases == null' "$T/$V.json" >/dev/null || fail "$V: phases without a transcript"
}

codex_like tp_btf

# A live run's timeline: from memory, open, with the call so far; then the
# recorded one's, from beside the history, with its end.
"$AP" run --project acts-live --wait-all -- sh -c "
	CODEX_TOOL_CALL_ID=call_live '$H/burn' 1 1500 & wait" >/dev/null 2>&1 &
live=$!
wait_run acts-live >/dev/null
live_tools() { "$AP" timeline --project acts-live --json >"$T/live.json" &&
	jq -e '.ended_at == null and (.tools | map(.id) == ["call_live"]) and (.samples | length) >= 1' \
		"$T/live.json" >/dev/null; }
wait_until 20 live_tools || fail "no live timeline with the call: $(cat "$T/live.json")"
wait "$live" || fail "the live run failed"
wait_record acts-live >/dev/null
"$AP" timeline --project acts-live --json >"$T/recorded.json" || fail "no recorded timeline"
jq -e '.ended_at != null and .tools[0].id == "call_live" and .tools[0].cpu_seconds > 1.4 and
	([.samples[].seconds] | add) > 1' "$T/recorded.json" >/dev/null ||
	fail "recorded timeline: $(cat "$T/recorded.json")"
"$AP" timeline --project acts-live | grep -q "call_live" || fail "the chart names no call"
out=$("$AP" timeline nosuch-run 2>&1) && fail "an unknown run's timeline succeeded: $out"
grep -q "^agentperf: no timeline of run nosuch-run$" <<<"$out" || fail "an unknown run's timeline: $out"
daemon_stop
AGENTPERF_BPF_VARIANT=raw_tp daemon_start
grep -q "BPF programs attached (raw_tp)" "$T/daemon.log" || fail "raw_tp variant not in use"
codex_like raw_tp

daemon_stop
