#!/usr/bin/env bash
# Task walks per second (the daemon's sampling iterator over every task on the
# host: its one per-second cost that grows with the host's task count), with
# a live run nobody watches and with 1, 2 and 5 watched projects whose
# watchers arrive on different phases of the period.
#
# Counts come from the kernel (kernel.bpf_stats_enabled=1, `bpftool prog show`
# run_cnt of handle_sample): one run per task visited, plus one per walk, so
# walks/s = visits/s / (tasks + 1).
# Usage (root): scripts/bench-passes.sh DIR [DIR...] (build directories holding
# agentperfd and agentperf); SECS=10 per measurement.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench-passes.sh DIR [DIR...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-passes: run as root" >&2; exit 1; }
SECS=${SECS:-10}
T=$(mktemp -d /tmp/agentperf-passes.XXXXXX)
export AGENTPERF_CONTROL=$T/ctl.sock AGENTPERF_SERVER=127.0.0.1:$((20000 + RANDOM % 30000))
DPID=
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
BPF_DIR=/sys/fs/bpf/agentperf-passes-$$ # pinned state of the daemon under test, removed
# roots DIR: the root pids of the live runs of the daemon under test, all
# of them this script's (its daemon is its own, on its own socket).
roots() { "$1/agentperf" status --json 2>/dev/null | jq -r '.[].pid' || true; }
# (kill fails once they are gone: the rest must still run, errexit or not)
trap 'kill $DPID $(jobs -p) 2>/dev/null || true; sysctl -qw kernel.bpf_stats_enabled="$old_stats"; rm -rf "$T" "$BPF_DIR"' EXIT

run_cnt() { bpftool prog show id "$1" | grep -o 'run_cnt [0-9]*' | awk '{ print $2 }'; }
tasks() { ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null | wc -l; }
# walks PROG: walks/s over SECS, from visits/s and the task count
walks() {
	local c0 c1 n
	c0=$(run_cnt "$1")
	sleep "$SECS"
	c1=$(run_cnt "$1")
	n=$(tasks)
	awk -v v="$(((c1 - c0)))" -v s="$SECS" -v n="$n" 'BEGIN { printf "%.2f", v / s / (n + 1) }'
}

printf '%-28s %6s %10s %10s %10s %10s\n' build tasks unwatched "1 watched" "2 watched" "5 watched"
for dir in "$@"; do
	dir=$(cd "$dir" && pwd)
	pin=()
	"$dir/agentperfd" --help 2>&1 | grep -q -- --bpf-dir && pin=(--bpf-dir "$BPF_DIR")
	"$dir/agentperfd" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --listen "$AGENTPERF_SERVER" \
		"${pin[@]}" 2>"$T/daemon.log" &
	DPID=$!
	for _ in $(seq 100); do [ -S "$AGENTPERF_CONTROL" ] && grep -q listening "$T/daemon.log" && break; sleep 0.05; done
	started=() # this build's runs' clients and watchers, stopped by pid
	for p in 1 2 3 4 5; do
		"$dir/agentperf" run --project "passes$p" -- sleep $((6 * SECS)) 2>/dev/null &
		started+=($!)
	done
	sleep 1.5
	# This daemon's sampling program: the one that uses its pinned task map
	# (other daemons on the host have their own); a build without --bpf-dir
	# pins nothing: then the newest.
	prog=
	if [ ${#pin[@]} -gt 0 ]; then
		m=$(bpftool map show pinned "$BPF_DIR/task_runs" -j | jq .id)
		prog=$(bpftool prog show -j | jq -r --argjson m "$m" \
			'[.[] | select(.name == "handle_sample" and (.map_ids | index($m)) != null)][0].id // empty')
	fi
	[ -n "$prog" ] || prog=$(bpftool prog show | awk '/ name handle_sample / { sub(":", "", $1); id = $1 } END { print id }')
	[ -n "$prog" ] || { echo "bench-passes: no handle_sample program" >&2; exit 1; }
	row=$(walks "$prog")
	watched=0
	for want in 1 2 5; do
		# Each new watcher 0.3 s after the previous: different phases.
		while [ "$watched" -lt "$want" ]; do
			watched=$((watched + 1))
			timeout $((5 * SECS)) "$dir/agentperf" watch "passes$watched" >/dev/null 2>&1 &
			started+=($!)
			sleep 0.3
		done
		sleep 1.5
		row="$row $(walks "$prog")"
	done
	printf '%-28s %6s %10s %10s %10s %10s\n' "$dir" "$(tasks)" $row
	# The runs' roots (their sleeps) from the daemon itself, before it goes;
	# the watchers' timeouts pass the TERM on to them.
	kill $(roots "$dir") "${started[@]}" 2>/dev/null || true
	kill "$DPID"; wait "$DPID" || true
	DPID=
	rm -rf "$BPF_DIR"
	rm -f "$AGENTPERF_CONTROL"
	wait 2>/dev/null || true
done
