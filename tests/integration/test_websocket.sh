#!/usr/bin/env bash
# Every WebSocket rule (docs/interfaces.md, docs/operations.md), with python3-websockets (Debian)
# as the peer: tests/integration/ws_rules.py has one check per rule.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
WS=$ROOT/tests/integration/ws_rules.py
RATE=$ROOT/tests/integration/cpu_rate.py
$PY -c 'import websockets' 2>/dev/null || fail "needs Debian's python3-websockets"

# watch_one PROJECT FILE: `agentperf watch PROJECT` into FILE until its first
# line (a snapshot comes on connect), however long a busy host takes.
watch_one() {
	timeout --foreground -k 5 60 "$AP" watch "$1" >"$2" &
	local w=$!
	wait_until 30 test -s "$2" || true
	kill -TERM "$w" 2>/dev/null || true
	wait "$w" || true
}

# Defaults (1 s / 3 s), loopback only.
daemon_start
# The listening address really is loopback only (lws binds all with IPv6 on).
listening=$(ss -Htln "sport = :$PORT" | awk '{ print $4 }')
[ "$listening" = "127.0.0.1:$PORT" ] || fail "listening on '$listening', wanted only 127.0.0.1:$PORT"
$PY -c "import urllib.request,sys; r = urllib.request.urlopen('http://$AGENTPERF_SERVER/healthz'); sys.exit(not (r.status == 200 and r.read() == b'ok\n'))" ||
	fail "/healthz is not 200 ok"
$PY "$WS" basics "$AGENTPERF_SERVER" || fail "basics"

# A live run: a busy process, 600 MiB resident, tokens, then SIGSTOP and SIGKILL.
"$AP" tokens --project cycle --add 100 >/dev/null
"$AP" run --project cycle -- $PY -c '
import time
a = bytearray(600 << 20)
for i in range(0, len(a), 4096): a[i] = 1
t = time.time()
while time.time() - t < 300: pass' 2>/dev/null &
runpid=$!
root=$(wait_run cycle)
# Its own CPU as the kernel counts it, the reference for its rates: a busy
# process gets a whole core only on an idle host.
$PY "$RATE" record "$root" "$T/cycle.cpu" &
recorder=$!
"$AP" tokens --project cycle --set-current 120 >/dev/null
# While someone watches, the snapshots' sampling passes also give `status`
# (and /metrics) their rates: a busy process shows the CPU it got.
# timeout --foreground signals the client alone: its default, the whole
# process group, also hits LeakSanitizer's tracer as the ASan build exits and
# leaves the client spinning (8 of 40 tries). -k 5 is the backstop; the
# watcher is stopped (TERM, which timeout passes on) once the reads are done.
timeout --foreground -k 5 120 "$AP" watch cycle >"$T/watch1.out" &
watcher=$!
allocated() { [ "$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$root/status")" -ge $((600 << 10)) ]; }
wait_until 60 allocated || fail "the run did not get 600 MiB resident"
wait_until 30 test -s "$T/watch1.out" || fail "agentperf watch printed nothing"
# A rate spans 0.9 s or more, up to a walk at most ~1 s old: 4 s of record.
$PY "$RATE" wait "$T/cycle.cpu" 4 || fail "no record of the run's CPU"
for _ in 1 2 3; do
	t0=$(date +%s.%N)
	cores=$("$AP" status --json | jq '.[] | select(.project == "cycle") | .cores')
	t1=$(date +%s.%N)
	# The status's walk is at most 0.9 s older than the request.
	band=$($PY "$RATE" check "$T/cycle.cpu" "$cores" "$(awk -v t="$t0" 'BEGIN { printf "%.6f", t - 0.95 }')" "$t1") ||
		fail "a watched run's status shows $band"
	echo "status: $band"
	sleep 0.6
done
kill -TERM "$watcher"
wait "$watcher" || true
$PY "$WS" run "$AGENTPERF_SERVER" cycle "$root" || fail "run cycle"
wait "$runpid" || true
wait "$recorder" || true
# `agentperf watch` prints each message as one JSON line.
watch_one cycle "$T/watch.out"
[ "$(wc -l <"$T/watch.out")" -ge 1 ] && jq -e '.type == "perf_metrics" and .run.status == "crashed"' "$T/watch.out" >/dev/null ||
	fail "watch printed: $(cat "$T/watch.out")"
daemon_stop

# A token, with --allow-remote and an extra Origin. Still bound to loopback:
# --allow-remote only permits another address; the test never leaves 127.0.0.1.
tok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$tok" >"$T/token"
daemon_start --allow-remote --token-file "$T/token" --allow-origin https://dash.example
$PY "$WS" token "$AGENTPERF_SERVER" "$tok" || fail "token"
$PY "$WS" remote "$AGENTPERF_SERVER" "$tok" https://dash.example || fail "remote Origins"
AGENTPERF_TOKEN=$tok watch_one demo "$T/w2"
[ -s "$T/w2" ] || fail "watch with AGENTPERF_TOKEN got nothing"
daemon_stop
grep -q "$tok" "$T/daemon.log" && fail "the token appears in the log"

# --max-clients, a stalled reader beside a reading one, and a peer that never answers pings.
daemon_start --max-clients 2
$PY "$WS" max-clients "$AGENTPERF_SERVER" 2 || fail "max-clients"
daemon_stop
# The stalled reader in a network namespace of our own whose TCP buffers are
# a few KiB, so that the server meets backpressure within seconds (on the
# host's loopback, autotuned buffers would absorb minutes of messages).
ns=$(netns_new stalled)
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096" net.ipv4.tcp_rmem="4096 4096 4096"
IN_NS=(ip netns exec "$ns")
daemon_start --interval-idle 200 --interval-running 200
ip netns exec "$ns" $PY "$WS" slow-reader "$AGENTPERF_SERVER" "$DPID" 0.2 || fail "slow reader"
ip netns exec "$ns" $PY "$WS" dead-peer "$AGENTPERF_SERVER" 20 || fail "dead peer"
daemon_stop
IN_NS=()

# [::1] binds IPv6 loopback only.
PORT=$(free_port)
daemon_start --listen "[::1]:$PORT"
listening=$(ss -Htln "sport = :$PORT" | awk '{ print $4 }')
[ "$listening" = "[::1]:$PORT" ] || fail "listening on '$listening', wanted only [::1]:$PORT"
daemon_stop
