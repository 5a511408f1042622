# Shared helpers of the root integration tests; sourced by each test_*.sh.
# The oracle for CPU is the kernel's own cgroup-v1 cpuacct accounting.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
AP=$ROOT/$BUILD/agentperf
APD=$ROOT/$BUILD/agentperfd
H=$ROOT/$BUILD/helpers
CG_BASE=/sys/fs/cgroup/cpuacct
# Accuracy lines are collected here for the README and closing notes.
RESULTS=${RESULTS:-$ROOT/$BUILD/accuracy.txt}
# Agreement asked of every oracle comparison: 0.1 %.
TOLERANCE_PPM=1000

T=$(mktemp -d /tmp/agentperf-test.XXXXXX)
export AGENTPERF_CONTROL=$T/ctl.sock
DPID=
# This test's cgroups and network namespaces are named after its pid, so that
# cleanup finds them: cg_new and netns_new run in $(...) subshells, where a
# list of them would be lost.
OWN=agentperf-test-$$
IN_NS=() # a command prefix: run the daemon inside a network namespace

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/daemon.log" ] && sed 's/^/  daemon: /' "$T/daemon.log" | tail -20 >&2
	exit 1
}

cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for cg in "$CG_BASE/$OWN"-*; do
		[ -d "$cg" ] || continue
		# Leftover tasks go back to the root group so the directory can go.
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do echo "$p" >"$CG_BASE/cgroup.procs" 2>/dev/null || true; done
		rmdir "$cg" 2>/dev/null || true
	done
	for ns in $(ip netns list 2>/dev/null | awk -v own="$OWN-" 'index($1, own) == 1 { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

# Root and BPF are required; in CI a test that cannot run fails, never skips.
need_root() {
	local why=
	[ "$(id -u)" = 0 ] || why="needs root"
	[ -z "$why" ] && [ ! -w "$CG_BASE" ] && why="needs a writable cgroup-v1 cpuacct at $CG_BASE"
	[ -z "$why" ] && [ ! -r /sys/kernel/btf/vmlinux ] && why="needs kernel BTF"
	[ -z "$why" ] && return 0
	[ "${CI:-}" = true ] && fail "$why (CI=true: a test that cannot run is a failure)"
	echo "SKIP: $why"
	exit 77
}

# A loopback port nothing listens on, for this test's daemon.
free_port() {
	local p
	for _ in $(seq 50); do
		# Below the ephemeral range (32768-60999), and used by no socket at
		# all: a client's live connection holds its local port too.
		p=$((20000 + RANDOM % 12000))
		ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
	fail "no free port"
}

# daemon_start [FLAG]...: agentperfd on a fresh control socket, state dir and
# port (AGENTPERF_SERVER), unless the flags name their own --listen.
daemon_start() {
	local listen=()
	case " $* " in *" --listen "*) ;; *)
		PORT=$(free_port)
		export AGENTPERF_SERVER=127.0.0.1:$PORT
		listen=(--listen "$AGENTPERF_SERVER") ;;
	esac
	"${IN_NS[@]}" "$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" "${listen[@]}" "$@" >"$T/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$AGENTPERF_CONTROL" ] && grep -q "listening" "$T/daemon.log" && return 0
		kill -0 "$DPID" 2>/dev/null || fail "agentperfd exited at start"
		sleep 0.1
	done
	fail "agentperfd did not start in 10 s"
}

daemon_stop() {
	kill -TERM "$DPID"
	local rc=0
	wait "$DPID" || rc=$?
	DPID=
	[ "$rc" = 0 ] || fail "agentperfd exited $rc on SIGTERM"
}

# cg_new NAME: a fresh cpuacct group; prints its path.
cg_new() {
	local cg=$CG_BASE/$OWN-$1
	mkdir "$cg"
	echo 0 >"$cg/cpuacct.usage"
	echo "$cg"
}

# netns_new NAME: a network namespace of this test's own with loopback up;
# prints its name.
netns_new() {
	local ns=$OWN-$1
	ip netns add "$ns" || fail "cannot create network namespace $ns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# compare LABEL RUN_NS CPUACCT_NS PREJOIN_NS: the run must equal what the
# kernel accounted to the group plus what the workload used before joining it.
compare() {
	local label=$1 run=$2 cg=$3 pre=$4
	local oracle=$((cg + pre)) diff abs ppm
	diff=$((run - oracle))
	abs=${diff#-}
	ppm=$((abs * 1000000 / oracle))
	local line
	line=$(awk -v l="$label" -v r="$run" -v c="$cg" -v p="$pre" -v d="$diff" -v o="$oracle" 'BEGIN {
		printf "%-22s run %7.3f s  cpuacct %7.3f s  pre-join %5.3f ms  diff %+8d ns  (%+.4f %%)",
			l, r / 1e9, c / 1e9, p / 1e6, d, 100 * d / o }')
	echo "$line"
	echo "$line" >>"$RESULTS"
	[ "$ppm" -le "$TOLERANCE_PPM" ] || fail "$label: run and kernel disagree by more than 0.1 %"
}

# run_pid PROJECT: the root pid of PROJECT's live run, or nothing.
run_pid() { "$AP" status --json | jq -r --arg p "$1" '[.[] | select(.project == $p) | .pid][0] // empty'; }

# wait_run PROJECT: waits up to 5 s for PROJECT's live run; prints its root pid.
wait_run() {
	local pid
	for _ in $(seq 50); do
		pid=$(run_pid "$1")
		[ -n "$pid" ] && echo "$pid" && return 0
		sleep 0.1
	done
	fail "project $1 has no live run after 5 s"
}

# wait_record PROJECT: waits up to 10 s for a record of PROJECT in the run
# history; prints the newest.
wait_record() {
	local rec
	for _ in $(seq 100); do
		rec=$("$AP" runs --json --project "$1" | jq -e '.[0]') && echo "$rec" && return 0
		sleep 0.1
	done
	fail "no record of project $1 in the history after 10 s"
}

# oracle_run LABEL CMD [ARG]...: CMD as a tracked run (--wait-all) inside a
# fresh cpuacct group; compares the run record with the group.
oracle_run() {
	local label=$1
	shift
	local cg
	cg=$(cg_new "$label")
	"$AP" run --project "$label" --wait-all --summary "$T/$label.json" -- \
		"$H/cgexec" -o "$T/$label.pre" "$cg" "$@" 2>"$T/$label.err" ||
		fail "$label: workload failed: $(cat "$T/$label.err")"
	check_record "$T/$label.json"
	[ "$(jq -r .tasks_alive "$T/$label.json")" = 0 ] || fail "$label: tasks still alive after --wait-all"
	compare "$label" "$(jq -r .cpu_ns "$T/$label.json")" "$(cat "$cg/cpuacct.usage")" "$(cat "$T/$label.pre")"
}

# check_record FILE: every field of SPEC.md's run record is there.
check_record() {
	local f
	for f in project run_id pid started_at ended_at status exit_code signal wall_seconds cpu_seconds \
		tasks_started tasks_alive peak_rss_bytes gpu_seconds; do
		jq -e "has(\"$f\")" "$1" >/dev/null || fail "record $1 lacks $f"
	done
	jq -e '.run_id == "\(.pid)-\(.started_at)"' "$1" >/dev/null || fail "run_id is not {pid}-{started_at}"
}
