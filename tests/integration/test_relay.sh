#!/usr/bin/env bash
# contrib/autoforge: the PerfMon source as autoforge-perfmon.patch wires it
# into AutoForge, between a real agentperfd (with a token) and a stand-in for
# AutoForge's project WebSocket handler at 0d905b2 (PR #181) with that
# handler's structure: the socket accepted before the name and registry
# checks, which return early, and a psutil-style sampler of its own on the
# same socket (python3-websockets only). Checked: the patch carries contrib's
# relay module; while agentperfd is up the page gets its messages only, each
# within 100 ms of a direct client's copy, and nothing of agentperfd's but
# perf_metrics; while it is down (killed, or stopped) or refuses the harness
# (no token), the sampler's only; each switch is clean, both ways, within a
# few seconds; one perf task per page, none for pages the checks refuse, none
# left after the pages; the relay's connection closes with the page's. The
# steps are in contrib/autoforge/test_relay.py.
# RELAY_WIRING=recipe runs the stand-in wired as the recipe before the patch
# said (the relay started once the socket is accepted, beside the sampler):
# then this test must fail.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
AF=$ROOT/contrib/autoforge
TR=$AF/test_relay.py
WIRING=${RELAY_WIRING:-patch}
$PY -c 'import websockets' 2>/dev/null || fail "needs Debian's python3-websockets"

# The patch's server/agentperf_relay.py is contrib's agentperf_relay.py, and
# README.md's lines for wiring by hand are the patch's.
"$AF/make-patch.sh" --check >"$T/patch.log" 2>&1 || fail "$(cat "$T/patch.log")"

# relay() against fake upstreams: the filter, backoff, send raising, stop, the fallback.
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
	$PY "$TR" serve "$HP" "$AGENTPERF_SERVER" --wiring "$WIRING" "$@" >"$T/$name.out" 2>"$T/$name.log" &
	HARNESS_PIDS+=($!)
	for _ in $(seq 100); do
		grep -qs ready "$T/$name.out" && return 0
		kill -0 $! 2>/dev/null || fail "harness $name exited: $(cat "$T/$name.log")"
		sleep 0.1
	done
	fail "harness $name did not start in 10 s"
}
stop_harnesses() {
	local p
	for p in "${HARNESS_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	HARNESS_PIDS=()
}
RUNROOT=
# A daemon left stopped (SIGSTOP, below) would never act on cleanup's SIGTERM.
trap 'stop_harnesses || true; [ -z "$RUNROOT" ] || kill "$RUNROOT" 2>/dev/null || true
	[ -z "$DPID" ] || kill -CONT "$DPID" 2>/dev/null || true; cleanup' EXIT

# A live run, so that the messages carry one; it outlives the outages below.
"$AP" run --project relaydemo -- sleep 600 2>/dev/null &
runpid=$!
RUNROOT=$(wait_run relaydemo)

harness good --token "$tok" --inject --registry relaydemo
good=$HP
harness notoken --registry relaydemo
notoken=$HP

# (1) agentperfd up: its messages only, fast, nothing of it but perf_metrics
# (pongs answer the stand-in's pings on the relay's own connection); the
# relay's connection to agentperfd closes when the page's socket does.
$PY "$TR" check "127.0.0.1:$good" "$AGENTPERF_SERVER" "$tok" relaydemo 5 || fail "check"
# (2) The handler's checks refuse a page (after accepting it): no perf_metrics.
$PY "$TR" early "127.0.0.1:$good" bad.name 4000 || fail "early return (invalid name)"
$PY "$TR" early "127.0.0.1:$good" elsewhere 4004 || fail "early return (not in the registry)"
# (3) agentperfd refuses the harness without the token (HTTP 401, retried):
# the sampler's messages only.
$PY "$TR" only "127.0.0.1:$notoken" relaydemo sampler 10 || fail "without the token"
grep -q "refused the token (HTTP 401)" "$T/notoken.log" || fail "no 401 logged: $(cat "$T/notoken.log")"
# A page refused while agentperfd refuses the relay too: a perf task started
# before the checks would retry for ever (see (6)).
$PY "$TR" early "127.0.0.1:$notoken" elsewhere 4004 || fail "early return (no token)"
# relay() itself on agentperfd: send raising, a stop event and cancellation
# each end it and close its connection.
$PY "$TR" direct "$AGENTPERF_SERVER" "$tok" relaydemo || fail "direct"

# outage KIND LIMIT: a page across an outage of agentperfd; KIND kill: killed
# (-9) and restarted on the same port; stop: stopped (SIGSTOP, it answers
# nothing, the relay's keepalive gives up on it) and continued. agentperfd's
# messages, then the sampler's, then agentperfd's, never mixed, each switch
# within LIMIT s (generous: the machine may be busy).
outage() {
	local kind=$1 limit=$2 client
	: >"$T/$kind.seen"
	$PY "$TR" switch "127.0.0.1:$good" relaydemo "$T/$kind.stamps" "$T/$kind.seen" 120 "$limit" &
	client=$!
	# seen WHAT: waits (60 s at most) until the page has WHAT's messages.
	seen() {
		for _ in $(seq 600); do
			grep -q "^$1 " "$T/$kind.seen" && return 0
			kill -0 "$client" 2>/dev/null || return 0
			sleep 0.1
		done
	}
	seen agentperfd
	sleep 1
	if [ "$kind" = kill ]; then
		kill -KILL "$DPID"
		wait "$DPID" 2>/dev/null || true
		DPID=
	else
		local t0 st
		t0=$(date +%s%N)
		kill -STOP "$DPID"
		# A signal takes effect when the daemon next runs: on a busy host,
		# a message may still be rendered after kill returns.
		for _ in $(seq 3000); do
			st=$(awk '{ print $3 }' "/proc/$DPID/stat")
			[ "$st" = T ] && break
			sleep 0.01
		done
		echo "SIGSTOP: state $st after $((($(date +%s%N) - t0) / 1000000)) ms"
		[ "$st" = T ] || fail "agentperfd did not stop in 30 s"
	fi
	echo "down $(date +%s.%N)" >>"$T/$kind.stamps"
	seen sampler
	sleep 1
	echo "start $(date +%s.%N)" >>"$T/$kind.stamps"
	if [ "$kind" = kill ]; then
		daemon_start --listen "127.0.0.1:$PORT" "${dflags[@]}"
	else
		kill -CONT "$DPID"
	fi
	echo "up $(date +%s.%N)" >>"$T/$kind.stamps"
	wait "$client" || fail "agentperfd $kind"
}
# (4) agentperfd killed and restarted on the same port.
outage kill 10
grep -q "is back after" "$T/good.log" || fail "the relay did not log its reconnection"
# (5) agentperfd hung: the relay's keepalive (3 s) gives up on it.
outage stop 20

# (6) With no page left: one perf task was started per page past the checks,
# none for the pages they refused, and none is left; no relay holds a
# connection to agentperfd.
$PY "$TR" tasks "127.0.0.1:$good" 10 || fail "perf tasks"
$PY "$TR" tasks "127.0.0.1:$notoken" 10 || fail "perf tasks (no token)"
for _ in $(seq 50); do
	left=$(ss -Htn state established "( dport = :$PORT )")
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "connections to agentperfd remain: $left"
stop_harnesses
kill "$RUNROOT"
wait "$runpid" || true
RUNROOT=
daemon_stop
grep -q "$tok" "$T/daemon.log" "$T"/*.log && fail "the token appears in a log"
true
