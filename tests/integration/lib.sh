# Shared helpers of the root integration tests; sourced by each test_*.sh.
# The oracle for CPU is the kernel's own accounting of a cgroup: cgroup-v1
# cpuacct where it is mounted, else cgroup v2's cpu.stat (AGENTPERF_ORACLE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
AP=$ROOT/$BUILD/agentperf
APD=$ROOT/$BUILD/agentperfd
H=$ROOT/$BUILD/helpers
. "$ROOT/tests/integration/cgroups.sh"
# The CPU oracle: a group's cpuacct.usage (ns) in the cgroup-v1 cpuacct
# hierarchy where one is mounted, else its cpu.stat usage_usec in the cgroup-v2
# hierarchy (every v2 group has it, no controller needed: standard Debian 12
# and Ubuntu 24.04 hosts mount v2 only). AGENTPERF_ORACLE=v1|v2 forces one.
# Both count the same thing, the scheduler's runtime of the group's tasks.
ORACLE=${AGENTPERF_ORACLE:-}
case $ORACLE in
'')
	ORACLE=v1
	[ -n "$(cgroup_mount v1 cpuacct)" ] || ORACLE=v2
	;;
v1 | v2) ;;
*) echo "FAIL: AGENTPERF_ORACLE=$ORACLE: give v1 or v2" >&2 && exit 1 ;;
esac
if [ "$ORACLE" = v1 ]; then
	CG_BASE=$(cgroup_mount v1 cpuacct)
	ORACLE_NAME=cpuacct
	ORACLE_RES_NS=1
else
	CG_BASE=$(cgroup_mount v2)
	ORACLE_NAME=cpu.stat
	ORACLE_RES_NS=1000
fi
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

# This test's pinned BPF state (SIGTERM leaves it for the next start).
BPF_DIR=/sys/fs/bpf/$OWN

cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for cg in "$CG_BASE/$OWN"-*; do
		[ -n "$CG_BASE" ] && [ -d "$cg" ] || continue
		# Leftover tasks go back to the root group so the directory can go.
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do echo "$p" >"$CG_BASE/cgroup.procs" 2>/dev/null || true; done
		rmdir "$cg" 2>/dev/null || true
	done
	for ns in $(ip netns list 2>/dev/null | awk -v own="$OWN-" 'index($1, own) == 1 { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	# The test's pinned BPF state: removing the pins detaches its programs.
	rm -rf "$BPF_DIR"
	rm -rf "$T"
}
trap cleanup EXIT

# Root and BPF are required; in CI a test that cannot run fails, never skips.
need_root() {
	local why=
	[ "$(id -u)" = 0 ] || why="needs root"
	if [ -z "$why" ] && { [ -z "$CG_BASE" ] || [ ! -w "$CG_BASE" ]; }; then
		case ${AGENTPERF_ORACLE:-} in
		v1) why="AGENTPERF_ORACLE=v1 needs a writable cgroup-v1 cpuacct hierarchy" ;;
		v2) why="AGENTPERF_ORACLE=v2 needs a writable cgroup-v2 hierarchy" ;;
		*) why="needs a writable cgroup hierarchy for the CPU oracle: cgroup-v1 cpuacct or cgroup v2" ;;
		esac
		[ -n "$CG_BASE" ] && why+=" ($CG_BASE is read-only)"
	fi
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
	"${IN_NS[@]}" "$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" \
		"${listen[@]}" "$@" >"$T/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 300); do
		[ -S "$AGENTPERF_CONTROL" ] && grep -q "listening" "$T/daemon.log" && return 0
		kill -0 "$DPID" 2>/dev/null || fail "agentperfd exited at start"
		sleep 0.1
	done
	fail "agentperfd did not start in 30 s"
}

daemon_stop() {
	kill -TERM "$DPID"
	local rc=0
	wait "$DPID" || rc=$?
	DPID=
	[ "$rc" = 0 ] || fail "agentperfd exited $rc on SIGTERM"
}

# cg_new NAME: a fresh group in the oracle's hierarchy; prints its path. A
# task joins it by writing its pid to cgroup.procs, in v1 and v2 alike (v2's
# no-internal-process rule binds only groups that give controllers to their
# children, which these never do).
cg_new() {
	local cg=$CG_BASE/$OWN-$1
	mkdir "$cg" || fail "cannot create cgroup $cg"
	if [ "$ORACLE" = v1 ]; then
		echo 0 >"$cg/cpuacct.usage"
	else
		# A v2 group's counters start at zero and cannot be reset.
		[ -r "$cg/cpu.stat" ] || fail "cgroup $cg has no cpu.stat"
	fi
	echo "$cg"
}

# cg_usage CG: the CPU the kernel accounted to group CG, in ns (v2 counts in
# µs, so the last three digits are zeros).
cg_usage() {
	if [ "$ORACLE" = v1 ]; then
		cat "$1/cpuacct.usage"
	else
		local us
		us=$(awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat")
		[ -n "$us" ] || fail "no usage_usec in $1/cpu.stat"
		echo $((us * 1000))
	fi
}

# netns_new NAME: a network namespace of this test's own with loopback up;
# prints its name.
netns_new() {
	local ns=$OWN-$1
	ip netns add "$ns" || fail "cannot create network namespace $ns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# compare LABEL RUN_NS GROUP_NS PREJOIN_NS: the run must equal what the
# kernel accounted to the group (cg_usage) plus what the workload used before
# joining it. The results line names the oracle: cpuacct (v1) or cpu.stat (v2).
compare() {
	local label=$1 run=$2 cg=$3 pre=$4
	local oracle=$((cg + pre)) diff abs ppm
	# The oracle's resolution must be far inside the tolerance: at most 1 %
	# of it, so v2's 1 µs needs at least 0.1 s of CPU (the workloads have
	# 0.5-2 s), v1's 1 ns at least 0.1 ms.
	[ "$oracle" -ge $((ORACLE_RES_NS * 100 * 1000000 / TOLERANCE_PPM)) ] ||
		fail "$label: $oracle ns of CPU is too little for the $ORACLE_NAME oracle's resolution"
	diff=$((run - oracle))
	abs=${diff#-}
	ppm=$((abs * 1000000 / oracle))
	local line
	line=$(awk -v l="$label" -v r="$run" -v c="$cg" -v p="$pre" -v d="$diff" -v o="$oracle" \
		-v n="$ORACLE_NAME" 'BEGIN {
		printf "%-22s run %7.3f s  %-8s %7.3f s  pre-join %5.3f ms  diff %+8d ns  (%+.4f %%)",
			l, r / 1e9, n, c / 1e9, p / 1e6, d, 100 * d / o }')
	echo "$line"
	echo "$line" >>"$RESULTS"
	[ "$ppm" -le "$TOLERANCE_PPM" ] || fail "$label: run and kernel disagree by more than 0.1 %"
}

# wait_until SECONDS CMD [ARG]...: runs CMD every 0.1 s until it succeeds;
# false after SECONDS (the caller fails, saying what it waited for). An
# event's time depends on the host's load: the wait is as long as the event
# takes, the deadline generous.
wait_until() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# run_pid PROJECT: the root pid of PROJECT's live run, or nothing.
run_pid() { "$AP" status --json | jq -r --arg p "$1" '[.[] | select(.project == $p) | .pid][0] // empty'; }

# wait_run PROJECT: waits up to 20 s for PROJECT's live run; prints its root pid.
wait_run() {
	local pid
	for _ in $(seq 200); do
		pid=$(run_pid "$1")
		[ -n "$pid" ] && echo "$pid" && return 0
		sleep 0.1
	done
	fail "project $1 has no live run after 20 s"
}

# wait_record PROJECT: waits up to 30 s for a record of PROJECT in the run
# history; prints the newest.
wait_record() {
	local rec
	for _ in $(seq 300); do
		rec=$("$AP" runs --json --project "$1" | jq -e '.[0]') && echo "$rec" && return 0
		sleep 0.1
	done
	fail "no record of project $1 in the history after 30 s"
}

# oracle_run LABEL CMD [ARG]...: CMD as a tracked run (--wait-all) inside a
# fresh group of the oracle's; compares the run record with the group.
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
	compare "$label" "$(jq -r .cpu_ns "$T/$label.json")" "$(cg_usage "$cg")" "$(cat "$T/$label.pre")"
}

# check_record FILE: every field of the run record (docs/interfaces.md) is there.
check_record() {
	local f
	for f in project run_id pid started_at ended_at status exit_code signal wall_seconds cpu_seconds \
		tasks_started tasks_alive peak_rss_bytes gpu_seconds; do
		jq -e "has(\"$f\")" "$1" >/dev/null || fail "record $1 lacks $f"
	done
	jq -e '.run_id == "\(.pid)-\(.started_at)"' "$1" >/dev/null || fail "run_id is not {pid}-{started_at}"
}
