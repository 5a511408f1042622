#!/usr/bin/env bash
# Runs every root integration test (or those named); prints one line per
# test and a total.
# Where the CPU oracle defaults to cgroup v1 and a cgroup-v2 hierarchy exists
# too, the accuracy tests run a second time against v2 (AGENTPERF_ORACLE=v2),
# as they would on a v2-only host; once per `make check` (the plain binaries).
set -uo pipefail
cd "$(dirname "$0")"
export BUILD=${BUILD:-build}
ROOT=$(cd ../.. && pwd)
export RESULTS=$ROOT/$BUILD/accuracy.txt
. ./cgroups.sh
CG_V1=$(cgroup_mount v1 cpuacct)
CG_V2=$(cgroup_mount v2)
: >"$RESULTS"
log=$(mktemp /tmp/agentperf-run.XXXXXX)
trap 'rm -f "$log"' EXIT
pass=0 failn=0 skip=0

# run_test NAME FILE [VAR=VALUE]...: FILE with the variables set, reported as NAME.
run_test() {
	local name=$1 t=$2 start sid rc out left secs
	shift 2
	start=$(date +%s.%N)
	# Each test in its own session, its output in a file: a child a failing
	# test left behind neither holds run.sh up nor outlives the test.
	env "$@" setsid bash "$t" >"$log" 2>&1 &
	sid=$!
	wait "$sid"
	rc=$?
	kill -KILL -- "-$sid" 2>/dev/null
	out=$(<"$log")
	# lib.sh names a test's cgroups (v1 or v2) and network namespaces after
	# its pid (the session's id): none may outlive it.
	left=$(for b in $CG_V1 $CG_V2; do ls -d "$b/agentperf-test-$sid-"* 2>/dev/null; done
		ip netns list 2>/dev/null | awk -v own="agentperf-test-$sid-" 'index($1, own) == 1 { print $1 }')
	if [ -n "$left" ] && [ "$rc" = 0 ]; then
		rc=1
		out+=$'\n'"FAIL: left behind: $(echo $left)"
	fi
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	case $rc in
	0) pass=$((pass + 1)); echo "ok    $name (${secs}s)" ;;
	77) skip=$((skip + 1)); echo "skip  $name: $(tail -1 <<<"$out")" ;;
	*) failn=$((failn + 1)); echo "FAIL  $name (${secs}s)"; sed 's/^/      /' <<<"$out" ;;
	esac
}

# `run.sh test_x.sh ...` runs only those (the oracle's second pass too).
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_*.sh)
for t in "${tests[@]}"; do
	run_test "$t" "$t"
done
# The oracle's other kind. The accounting under test is the same for the
# sanitized binaries, so one pass against v2 covers both builds.
if [ -z "${AGENTPERF_ORACLE:-}" ] && [ -n "$CG_V1" ] && [ "${SANITIZE:-}" != 1 ]; then
	if [ -n "$CG_V2" ]; then
		for t in "${tests[@]}"; do
			[[ $t == test_accuracy_* ]] || continue
			run_test "$t [oracle v2]" "$t" AGENTPERF_ORACLE=v2
		done
	else
		echo "note: no cgroup-v2 hierarchy mounted: the accuracy tests ran against cgroup v1 only"
	fi
fi
if [ -s "$RESULTS" ]; then
	echo "CPU attribution vs. the kernel's own accounting of a cgroup (cpuacct: v1"
	echo "cpuacct.usage; cpu.stat: v2 cpu.stat usage_usec):"
	sed 's/^/  /' "$RESULTS"
fi
echo "integration: $pass passed, $failn failed, $skip skipped"
[ "$failn" = 0 ]
