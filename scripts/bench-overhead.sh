#!/usr/bin/env bash
# Overhead of agentperfd, measured as ratios within one run (these machines are noisy).
#
#   none       no daemon
#   untracked  daemon running, benchmark not in any run
#   tracked    benchmark is itself a tracked run (agentperf run)
#
# Workloads, interleaved none/untracked/tracked (order rotated) for REPS rounds, medians:
#   pipe   taskset -c 1 perf bench sched pipe -l PIPE_LOOPS (a context switch storm)
#   storm  FORKS fork+exec of /bin/true from one shell (a fork storm)
# Then, with kernel.bpf_stats_enabled=1 for one extra round, each program's
# own cost per invocation (run_time_ns / run_cnt) while untracked and tracked.
#
# Usage (root): scripts/bench-overhead.sh [REPS] ; env PIPE_LOOPS, FORKS, BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-7}
PIPE_LOOPS=${PIPE_LOOPS:-200000}
FORKS=${FORKS:-5000}
BUILD=${BUILD:-build}
AP=$PWD/$BUILD/agentperf
APD=$PWD/$BUILD/agentperfd
T=$(mktemp -d /tmp/agentperf-bench.XXXXXX)
export AGENTPERF_CONTROL=$T/ctl.sock
DPID=

[ "$(id -u)" = 0 ] || { echo "bench-overhead: run as root" >&2; exit 1; }
command -v perf >/dev/null || { echo "bench-overhead: needs perf (Debian: linux-perf)" >&2; exit 1; }
[ "$REPS" -ge 1 ] 2>/dev/null || { echo "bench-overhead: REPS must be a positive number" >&2; exit 1; }
[ -x "$APD" ] || make -s all

stats_was=$(sysctl -n kernel.bpf_stats_enabled)
# Its own pinned BPF state, removed at each stop: no program outlives a phase.
BPF_DIR=/sys/fs/bpf/agentperf-overhead-$$
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$T" "$BPF_DIR"
}
trap cleanup EXIT

daemon_start() {
	"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" \
		2>"$T/daemon.log" &
	DPID=$!
	for _ in $(seq 100); do [ -S "$AGENTPERF_CONTROL" ] && grep -q listening "$T/daemon.log" && return; sleep 0.05; done
	echo "bench-overhead: agentperfd did not start" >&2
	exit 1
}
daemon_stop() { kill "$DPID"; wait "$DPID" || true; DPID=; rm -rf "$BPF_DIR"; }

# pipe, storm, median, paired (the working directory is the repository's).
. scripts/bench-lib.sh
tracked() { "$AP" run --project bench -- "$@" 2>/dev/null; }


for w in pipe storm; do for m in none untracked tracked; do : >"$T/$w.$m"; done; done
# Each round runs the three modes in a rotated order, so none is always first.
modes=(none untracked tracked)
for r in $(seq "$REPS"); do
	for i in 0 1 2; do
		m=${modes[$(((r + i) % 3))]}
		if [ "$m" = none ]; then
			[ -z "$DPID" ] || daemon_stop
		else
			[ -n "$DPID" ] || daemon_start
		fi
		wrap=$([ "$m" = tracked ] && echo tracked || true)
		pipe $wrap >>"$T/pipe.$m"
		storm $wrap >>"$T/storm.$m"
	done
	[ -z "$DPID" ] || daemon_stop
	echo "round $r/$REPS done" >&2
done

# Per-program cost: deltas of run_time_ns/run_cnt over one untracked and one tracked pipe run,
# for the programs the benchmark's own daemon loaded (the ids that appear when it starts).
prog_ids() { bpftool prog show -j | jq -r '.[].id' | sort; }
prog_stats() {
	bpftool prog show -j | jq -r '.[] | "\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' |
		awk 'NR == FNR { mine[$1] = 1; next } ($1 in mine) { print $2, $3, $4 }' "$T/ids" -
}
per_call() { # before after -> "name ns_per_call calls"
	join <(sort "$1") <(sort "$2") | awk '{ c = $5 - $3; if (c > 0) printf "%s %.1f %d\n", $1, ($4 - $2) / c, c }'
}
sysctl -qw kernel.bpf_stats_enabled=1
prog_ids >"$T/ids.before"
daemon_start
prog_ids | comm -13 "$T/ids.before" - >"$T/ids"
prog_stats >"$T/s0"; pipe >/dev/null; prog_stats >"$T/s1"; pipe tracked >/dev/null; prog_stats >"$T/s2"
storm tracked >/dev/null; prog_stats >"$T/s3"
daemon_stop
sysctl -qw kernel.bpf_stats_enabled="$stats_was"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b / a }'; }
{
	echo "Overhead, $REPS interleaved rounds ($(uname -r), $(nproc) CPUs): medians of each mode, their"
	echo "ratios, and the medians of the per-round ratios (paired):"
	echo
	echo "| workload | none | untracked | tracked | untracked/none | tracked/none | paired untracked/none | paired tracked/none |"
	echo "|---|---|---|---|---|---|---|---|"
	for w in pipe storm; do
		n=$(median <"$T/$w.none") u=$(median <"$T/$w.untracked") t=$(median <"$T/$w.tracked")
		unit=$([ $w = pipe ] && echo "µs/op" || echo "ms")
		label=$([ $w = pipe ] && echo "perf bench sched pipe -l $PIPE_LOOPS (pinned)" || echo "$FORKS × fork+exec /bin/true")
		echo "| $label | $n $unit | $u $unit | $t $unit | $(ratio "$n" "$u") | $(ratio "$n" "$t") |" \
			"$(paired "$T/$w.none" "$T/$w.untracked") | $(paired "$T/$w.none" "$T/$w.tracked") |"
	done
	echo
	echo "BPF programs' own cost (kernel.bpf_stats_enabled, run_time_ns / run_cnt):"
	echo
	echo "| program | phase | ns per call | calls |"
	echo "|---|---|---|---|"
	per_call "$T/s0" "$T/s1" | awk '{ printf "| %s | pipe, untracked | %s | %s |\n", $1, $2, $3 }'
	per_call "$T/s1" "$T/s2" | awk '{ printf "| %s | pipe, tracked | %s | %s |\n", $1, $2, $3 }'
	per_call "$T/s2" "$T/s3" | awk '{ printf "| %s | fork storm, tracked | %s | %s |\n", $1, $2, $3 }'
} | tee "$BUILD/bench-overhead.md"
