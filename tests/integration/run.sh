#!/usr/bin/env bash
# Runs every root integration test; prints one line per test and a total.
set -uo pipefail
cd "$(dirname "$0")"
export BUILD=${BUILD:-build}
ROOT=$(cd ../.. && pwd)
export RESULTS=$ROOT/$BUILD/accuracy.txt
: >"$RESULTS"
log=$(mktemp /tmp/agentperf-run.XXXXXX)
trap 'rm -f "$log"' EXIT
pass=0 failn=0 skip=0
for t in test_*.sh; do
	start=$(date +%s.%N)
	# Each test in its own session, its output in a file: a child a failing
	# test left behind neither holds run.sh up nor outlives the test.
	setsid bash "$t" >"$log" 2>&1 &
	sid=$!
	wait "$sid"
	rc=$?
	kill -KILL -- "-$sid" 2>/dev/null
	out=$(<"$log")
	# lib.sh names a test's cgroups and network namespaces after its pid
	# (the session's id): none may outlive it.
	left=$(ls -d /sys/fs/cgroup/cpuacct/agentperf-test-"$sid"-* 2>/dev/null
		ip netns list 2>/dev/null | awk -v own="agentperf-test-$sid-" 'index($1, own) == 1 { print $1 }')
	if [ -n "$left" ] && [ "$rc" = 0 ]; then
		rc=1
		out+=$'\n'"FAIL: left behind: $(echo $left)"
	fi
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	case $rc in
	0) pass=$((pass + 1)); echo "ok    $t (${secs}s)" ;;
	77) skip=$((skip + 1)); echo "skip  $t: $(tail -1 <<<"$out")" ;;
	*) failn=$((failn + 1)); echo "FAIL  $t (${secs}s)"; sed 's/^/      /' <<<"$out" ;;
	esac
done
if [ -s "$RESULTS" ]; then
	echo "CPU attribution vs. the kernel's cpuacct:"
	sed 's/^/  /' "$RESULTS"
fi
echo "integration: $pass passed, $failn failed, $skip skipped"
[ "$failn" = 0 ]
