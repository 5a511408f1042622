#!/usr/bin/env bash
# Every rule of SPEC.md's WebSocket section, with python3-websockets (Debian)
# as the peer: tests/integration/ws_rules.py has one check per rule.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
WS=$ROOT/tests/integration/ws_rules.py
$PY -c 'import websockets' 2>/dev/null || fail "needs Debian's python3-websockets"

# Defaults (1 s / 3 s), loopback only.
daemon_start
# The listening address really is loopback only (lws binds all with IPv6 on).
listening=$(ss -Htln "sport = :$PORT" | awk '{ print $4 }')
[ "$listening" = "127.0.0.1:$PORT" ] || fail "listening on '$listening', wanted only 127.0.0.1:$PORT"
$PY -c "import urllib.request,sys; r = urllib.request.urlopen('http://$AGENTPERF_SERVER/healthz'); sys.exit(not (r.status == 200 and r.read() == b'ok\n'))" ||
	fail "/healthz is not 200 ok"
$PY "$WS" basics "$AGENTPERF_SERVER" || fail "basics"

# A live run: one busy core and 600 MiB resident, tokens, then SIGSTOP and SIGKILL.
"$AP" tokens --project cycle --add 100 >/dev/null
"$AP" run --project cycle -- $PY -c '
import time
a = bytearray(600 << 20)
for i in range(0, len(a), 4096): a[i] = 1
t = time.time()
while time.time() - t < 60: pass' 2>/dev/null &
runpid=$!
root=$(wait_run cycle)
"$AP" tokens --project cycle --set-current 120 >/dev/null
# While someone watches, the snapshots' sampling passes also give `status`
# (and /metrics) their rates: one busy core still shows as one.
# timeout --foreground signals the client alone: its default, the whole
# process group, also hits LeakSanitizer's tracer as the ASan build exits and
# leaves the client spinning (8 of 40 tries). -k 5 is the backstop.
timeout --foreground -k 5 4 "$AP" watch cycle >/dev/null &
sleep 2.5 # let it allocate
for _ in 1 2 3; do
	cores=$("$AP" status --json | jq '.[] | select(.project == "cycle") | .cores')
	awk -v c="$cores" 'BEGIN { exit !(c >= 0.8 && c <= 1.2) }' || fail "a watched run's status shows $cores cores, wanted 1"
	sleep 0.6
done
wait $! || true
$PY "$WS" run "$AGENTPERF_SERVER" cycle "$root" || fail "run cycle"
wait "$runpid" || true
# `agentperf watch` prints each message as one JSON line.
timeout --foreground -k 5 2.5 "$AP" watch cycle >"$T/watch.out" || true
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
AGENTPERF_TOKEN=$tok timeout --foreground -k 5 1.5 "$AP" watch demo >"$T/w2" || true
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
