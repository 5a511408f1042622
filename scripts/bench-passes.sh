#!/usr/bin/env bash
# How often the daemon walks every task (its sampling iterator), with a live
# run nobody watches and with one watched over WebSocket: the one cost the
# daemon adds per second that grows with the host's task count.
#
# Counts come from the kernel (kernel.bpf_stats_enabled=1, `bpftool prog show`
# run_cnt of handle_sample): one run per task visited, plus one per pass.
# Usage (root): scripts/bench-passes.sh DIR [DIR...] (build directories holding
# agentperfd and agentperf); SECS=10 per measurement.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench-passes.sh DIR [DIR...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-passes: run as root" >&2; exit 1; }
SECS=${SECS:-10}
T=$(mktemp -d /tmp/agentperf-passes.XXXXXX)
export AGENTPERF_CONTROL=$T/ctl.sock AGENTPERF_SERVER=127.0.0.1:$((20000 + RANDOM % 30000))
DPID= RPID=
trap 'kill $DPID $RPID 2>/dev/null; rm -rf "$T"' EXIT
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
trap 'kill $DPID $RPID 2>/dev/null; sysctl -qw kernel.bpf_stats_enabled="$old_stats"; rm -rf "$T"' EXIT

run_cnt() { bpftool prog show id "$1" | grep -o 'run_cnt [0-9]*' | awk '{ print $2 }'; }
visits() { # visits/s of prog $1 over SECS
	local c0 c1
	c0=$(run_cnt "$1")
	sleep "$SECS"
	c1=$(run_cnt "$1")
	echo $(((c1 - c0) / SECS))
}

printf '%-28s %10s %18s %16s\n' build tasks "visits/s unwatched" "visits/s watched"
for dir in "$@"; do
	dir=$(cd "$dir" && pwd)
	"$dir/agentperfd" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --listen "$AGENTPERF_SERVER" 2>"$T/daemon.log" &
	DPID=$!
	for _ in $(seq 100); do [ -S "$AGENTPERF_CONTROL" ] && grep -q listening "$T/daemon.log" && break; sleep 0.05; done
	"$dir/agentperf" run --project passes -- sleep $((3 * SECS)) 2>/dev/null &
	RPID=$!
	sleep 1.5
	prog=$(bpftool prog show | awk '/ name handle_sample / { sub(":", "", $1); id = $1 } END { print id }')
	[ -n "$prog" ] || { echo "bench-passes: no handle_sample program" >&2; exit 1; }
	unwatched=$(visits "$prog")
	timeout $((SECS + 3)) "$dir/agentperf" watch passes >/dev/null 2>&1 &
	sleep 1.5
	watched=$(visits "$prog")
	tasks=$(ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null | wc -l)
	printf '%-28s %10s %18s %16s\n' "$dir" "$tasks" "$unwatched" "$watched"
	kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null || true
	kill "$DPID"; wait "$DPID" || true
	DPID= RPID=
	rm -f "$AGENTPERF_CONTROL"
	wait
done
