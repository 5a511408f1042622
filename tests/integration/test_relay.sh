#!/usr/bin/env bash
# contrib/autoforge/agentperf_relay.py, the harness's relay of perf_metrics,
# between a real agentperfd (with a token) and a stand-in for the harness
# that wires it as contrib/autoforge/README.md says (python3-websockets only):
# forward latency against a direct client, nothing but perf_metrics
# forwarded, an agentperfd restart on the same port, the relay's connection
# closing when the page's does. The steps are in contrib/autoforge/test_relay.py.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
TR=$ROOT/contrib/autoforge/test_relay.py
$PY -c 'import websockets' 2>/dev/null || fail "needs Debian's python3-websockets"

# relay() against fake upstreams: the filter, backoff, send raising, stop.
$PY "$TR" unit 2>"$T/unit.log" || fail "unit: $(cat "$T/unit.log")"

tok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$tok" >"$T/token"
# Every 250 ms, so that a few seconds give many messages to compare.
dflags=(--token-file "$T/token" --interval-idle 250 --interval-running 250)
daemon_start "${dflags[@]}"

HARNESS_PIDS=()
# harness NAME [ARG]...: a stand-in harness on a free port (in $HP), logging
# to $T/NAME.log.
harness() {
	local name=$1
	shift
	HP=$(free_port)
	$PY "$TR" serve "$HP" "$AGENTPERF_SERVER" "$@" >"$T/$name.out" 2>"$T/$name.log" &
	HARNESS_PIDS+=($!)
	for _ in $(seq 50); do
		grep -q ready "$T/$name.out" && return 0
		kill -0 $! 2>/dev/null || fail "harness $name exited: $(cat "$T/$name.log")"
		sleep 0.1
	done
	fail "harness $name did not start"
}
stop_harnesses() {
	local p
	for p in "${HARNESS_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	HARNESS_PIDS=()
}
RUNROOT=
trap 'stop_harnesses || true; [ -z "$RUNROOT" ] || kill "$RUNROOT" 2>/dev/null || true; cleanup' EXIT

# A live run, so that the messages carry one.
"$AP" run --project relaydemo -- sleep 30 2>/dev/null &
runpid=$!
RUNROOT=$(wait_run relaydemo)

harness good --token "$tok" --inject
good=$HP
harness notoken
notoken=$HP

# (1) latency and (2) only perf_metrics, with agentperfd answering the
# stand-in's pings on the relay's own connection; (4) the relay's connection
# to agentperfd closes when the page's socket does.
$PY "$TR" check "127.0.0.1:$good" "$AGENTPERF_SERVER" "$tok" relaydemo 5 || fail "check"
# (2) agentperfd's error for a bad name (close 4000) is not forwarded, and the
# relay gives up; without the token nothing arrives (HTTP 401, retried).
$PY "$TR" quiet "127.0.0.1:$good" bad.name 1 || fail "error forwarded"
grep -q "closed with 4000 (invalid project name); not retrying" "$T/good.log" ||
	fail "the relay did not stop on close 4000: $(cat "$T/good.log")"
$PY "$TR" quiet "127.0.0.1:$notoken" relaydemo 1 || fail "forwarded without the token"
grep -q "refused the token (HTTP 401)" "$T/notoken.log" || fail "no 401 logged: $(cat "$T/notoken.log")"
# relay() itself on agentperfd: send raising, a stop event and cancellation
# each end it and close its connection.
$PY "$TR" direct "$AGENTPERF_SERVER" "$tok" relaydemo || fail "direct"

# (3) agentperfd restarts on the same port; the page's socket stays up and the
# messages resume.
$PY "$TR" restart "127.0.0.1:$good" relaydemo "$T/stamps" 20 &
client=$!
sleep 1
kill "$RUNROOT"
wait "$runpid" || true
RUNROOT=
daemon_stop
echo "down $(date +%s.%N)" >>"$T/stamps"
sleep 0.5
echo "start $(date +%s.%N)" >>"$T/stamps"
daemon_start --listen "127.0.0.1:$PORT" "${dflags[@]}"
echo "up $(date +%s.%N)" >>"$T/stamps"
wait "$client" || fail "restart"
grep -q "is back after" "$T/good.log" || fail "the relay did not log its reconnection"

# With no page left, no relay holds a connection to agentperfd.
sleep 0.2
left=$(ss -Htn state established "( dport = :$PORT )")
[ -z "$left" ] || fail "connections to agentperfd remain: $left"
stop_harnesses
daemon_stop
grep -q "$tok" "$T/daemon.log" "$T"/*.log && fail "the token appears in a log"
true
