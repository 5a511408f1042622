#!/usr/bin/env bash
# WebSocket fan-out of agentperfd, on loopback:
#   1. CLIENTS clients (Node's `ws` from npm, installed into $BUILD/node on
#      first use; PROCS client processes) on one project whose run is
#      live (1 s cadence) for SECS seconds: does every client get every
#      message; p50/p99 delay from the message's timestamp to its receipt;
#      the daemon's CPU (% of one core, /proc/PID/stat) and RSS.
#   2. 10 projects with live runs and no clients: the daemon's idle CPU.
# Usage (root): scripts/bench-ws.sh [CLIENTS] [SECS]; env PROCS, BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-1000}
SECS=${2:-20}
PROCS=${PROCS:-2}
BUILD=${BUILD:-build}
NODE_DIR=$PWD/$BUILD/node
T=$(mktemp -d /tmp/agentperf-benchws.XXXXXX)
export AGENTPERF_CONTROL=$T/ctl.sock
PORT=18999
DPID=
PIDS=() # what this script started, stopped by pid: never another user's processes

[ "$(id -u)" = 0 ] || { echo "bench-ws: run as root" >&2; exit 1; }
command -v node >/dev/null || { echo "bench-ws: needs node and npm" >&2; exit 1; }
if [ ! -d "$NODE_DIR/node_modules/ws" ]; then
	mkdir -p "$NODE_DIR"
	(cd "$NODE_DIR" && npm install --silent --no-audit --no-fund ws@8 >/dev/null) ||
		{ echo "bench-ws: npm install ws failed" >&2; exit 1; }
fi
[ -x "$BUILD/agentperfd" ] || make -s all
# roots: the root pids of the daemon's live runs, all of them this script's
# (the daemon is its own, on its own socket).
roots() { "$BUILD/agentperf" status --json 2>/dev/null | jq -r '.[].pid' || true; }
cleanup() {
	[ -z "$DPID" ] || kill $(roots) 2>/dev/null || true
	[ ${#PIDS[@]} = 0 ] || kill "${PIDS[@]}" 2>/dev/null || true
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T" "$BPF_DIR"
}
BPF_DIR=/sys/fs/bpf/agentperf-ws-$$ # the daemon's pinned state, removed at the end
trap cleanup EXIT

"$BUILD/agentperfd" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --listen 127.0.0.1:$PORT \
	--max-clients $((CLIENTS + 16)) --bpf-dir "$BPF_DIR" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 600); do grep -q listening "$T/daemon.log" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$T/daemon.log" || { echo "bench-ws: agentperfd did not start: $(cat "$T/daemon.log")" >&2; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status"; }
hz=$(getconf CLK_TCK)

# 1. Fan-out.
"$BUILD/agentperf" run --project bench -- sleep $((SECS + 30)) 2>/dev/null &
PIDS+=($!)
# The run is live (the clients see a running run from the start).
for _ in $(seq 200); do [ -n "$(roots)" ] && break; sleep 0.05; done
bench_root=$(roots)
[ -n "$bench_root" ] || { echo "bench-ws: the run did not start" >&2; exit 1; }
per=$((CLIENTS / PROCS))
clients=()
for i in $(seq "$PROCS"); do
	WS_MODULE_DIR=$NODE_DIR/node_modules node scripts/bench_ws_clients.mjs 127.0.0.1:$PORT bench "$per" "$SECS" >"$T/c$i.json" &
	clients+=($!)
done
PIDS+=("${clients[@]}")
sleep 3 # everyone connects; the clients count from the same moment (3 s in)
c0=$(cpu_ticks)
t0=$(date +%s.%N)
wait "${clients[@]}"
c1=$(cpu_ticks)
t1=$(date +%s.%N)
rss=$(rss_kib)
fan=$(jq -s '{clients: (map(.clients) | add), min: (map(.min_per_client) | min),
	max: (map(.max_per_client) | max), messages: (map(.messages) | add),
	d: (map(.delays_ms) | add | sort)} |
	. + {p50: .d[(.d | length) * 50 / 100 | floor], p99: .d[(.d | length) * 99 / 100 | floor]} | del(.d)' "$T"/c*.json)
cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / (e - s) }')
kill "$bench_root" # the run's root, this script's own sleep: the run ends

# 2. Ten live runs, nobody watching.
for i in $(seq 10); do
	"$BUILD/agentperf" run --project idle$i -- sleep $((SECS + 5)) 2>/dev/null &
	PIDS+=($!)
done
sleep 1
c0=$(cpu_ticks)
t0=$(date +%s.%N)
sleep "$SECS"
c1=$(cpu_ticks)
t1=$(date +%s.%N)
idle=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / (e - s) }')

{
	echo "WebSocket fan-out, $(nproc) CPUs shared by daemon and clients, $SECS s, clients in $PROCS Node \`ws\` processes:"
	echo
	echo "| case | figure |"
	echo "|---|---|"
	echo "| clients connected | $(jq .clients <<<"$fan") |"
	echo "| messages per client (min–max; one per second expected) | $(jq .min <<<"$fan")–$(jq .max <<<"$fan") |"
	echo "| delay, message timestamp → receipt, p50 | $(jq '.p50 | . * 10 | round / 10' <<<"$fan") ms |"
	echo "| delay p99 | $(jq '.p99 | . * 10 | round / 10' <<<"$fan") ms |"
	echo "| daemon CPU with $CLIENTS clients | $cpu % of one core |"
	echo "| daemon RSS with $CLIENTS clients | $((rss / 1024)) MiB |"
	echo "| daemon CPU, 10 live runs, no clients | $idle % of one core |"
} | tee "$BUILD/bench-ws.md"
