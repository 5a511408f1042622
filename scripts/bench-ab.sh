#!/usr/bin/env bash
# Tracked-run overhead of two builds of agentperf, interleaved in one run (these
# machines are noisy): does a change cost the traced workload anything?
#
# Each round runs, in a rotated order: the workloads with no daemon, as a
# tracked run under build A's daemon, and under build B's. Medians of each,
# and the medians of the per-round ratios (paired).
#   pipe   taskset -c 1 perf bench sched pipe -l PIPE_LOOPS (a context switch storm)
#   storm  FORKS fork+exec of /bin/true from one shell (a fork storm)
#
# Usage (root): scripts/bench-ab.sh DIR_A DIR_B [REPS]   (DIR: a build directory
# holding agentperfd and agentperf, e.g. an older checkout's build/)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench-ab.sh DIR_A DIR_B [REPS]" >&2; exit 2; }
A=$(cd "$1" && pwd) B=$(cd "$2" && pwd) REPS=${3:-7}
PIPE_LOOPS=${PIPE_LOOPS:-200000}
FORKS=${FORKS:-5000}
[ "$(id -u)" = 0 ] || { echo "bench-ab: run as root" >&2; exit 1; }
for d in "$A" "$B"; do [ -x "$d/agentperfd" ] && [ -x "$d/agentperf" ] || { echo "bench-ab: no agentperfd/agentperf in $d" >&2; exit 1; }; done
T=$(mktemp -d /tmp/agentperf-ab.XXXXXX)
export AGENTPERF_CONTROL=$T/ctl.sock
DPID=
BPF_DIR=/sys/fs/bpf/agentperf-ab-$$
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$T" "$BPF_DIR"' EXIT

PORT=$((20000 + RANDOM % 30000))
start() {
	# A build that pins its BPF state gets a directory of its own, removed
	# when it stops: a daemon's programs must not outlive its phase.
	local pin=()
	"$1/agentperfd" --help 2>&1 | grep -q -- --bpf-dir && pin=(--bpf-dir "$BPF_DIR")
	"$1/agentperfd" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --listen "127.0.0.1:$PORT" \
		"${pin[@]}" 2>"$T/daemon.log" &
	DPID=$!
	for _ in $(seq 100); do [ -S "$AGENTPERF_CONTROL" ] && grep -q listening "$T/daemon.log" && return; sleep 0.05; done
	echo "bench-ab: $1/agentperfd did not start: $(cat "$T/daemon.log")" >&2
	exit 1
}
stop() { [ -z "$DPID" ] || { kill "$DPID"; wait "$DPID" || true; DPID=; rm -f "$AGENTPERF_CONTROL"; rm -rf "$BPF_DIR"; }; }
# pipe, storm, median, paired.
. "$(dirname "$0")/bench-lib.sh"

modes=(none A B)
for w in pipe storm; do for m in "${modes[@]}"; do : >"$T/$w.$m"; done; done
for r in $(seq "$REPS"); do
	for i in 0 1 2; do
		m=${modes[$(((r + i) % 3))]}
		if [ "$m" = none ]; then
			pipe >>"$T/pipe.$m"
			storm >>"$T/storm.$m"
			continue
		fi
		dir=$([ "$m" = A ] && echo "$A" || echo "$B")
		start "$dir"
		pipe "$dir/agentperf" run --project ab -- >>"$T/pipe.$m" 2>/dev/null
		storm "$dir/agentperf" run --project ab -- >>"$T/storm.$m" 2>/dev/null
		stop
	done
	echo "round $r/$REPS done" >&2
done
echo "Tracked overhead, A = $A, B = $B; $REPS interleaved rounds ($(uname -r), $(nproc) CPUs):"
echo
echo "| workload | none | A tracked | B tracked | paired A/none | paired B/none | paired B/A |"
echo "|---|---|---|---|---|---|---|"
for w in pipe storm; do
	unit=$([ $w = pipe ] && echo "µs/op" || echo "ms")
	label=$([ $w = pipe ] && echo "perf bench sched pipe -l $PIPE_LOOPS (pinned)" || echo "$FORKS × fork+exec /bin/true")
	echo "| $label | $(median <"$T/$w.none") $unit | $(median <"$T/$w.A") $unit | $(median <"$T/$w.B") $unit |" \
		"$(paired "$T/$w.none" "$T/$w.A") | $(paired "$T/$w.none" "$T/$w.B") | $(paired "$T/$w.A" "$T/$w.B") |"
done
