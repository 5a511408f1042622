#!/usr/bin/env bash
# Hostile traffic on the HTTP/WebSocket port (junk, truncated and oversized
# requests, bad frames, connection storms) and on the control socket (huge and
# malformed lines, peers that never read, idle connections). The daemon must
# stay up, keep answering, keep other watchers on time and its memory put.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
HOSTILE=$ROOT/tests/integration/hostile.py
case $BUILD in *-san) export SANITIZE=1 ;; esac

daemon_start --interval-idle 1000 --control-group nogroup
chmod o+x "$T" # another user (nobody) reaches the socket
$PY "$HOSTILE" "$AGENTPERF_SERVER" "$AGENTPERF_CONTROL" "$DPID" 1.0 all || fail "hostile traffic"
# DNS rebinding: a page whose name resolves here sends its own name as Host.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: rebind.example:80' "http://$AGENTPERF_SERVER/metrics")
[ "$code" = 403 ] || fail "/metrics with a foreign Host answered $code, wanted 403"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$AGENTPERF_SERVER/healthz")
[ "$code" = 200 ] || fail "/healthz with a loopback Host answered $code"
kill -0 "$DPID" 2>/dev/null || fail "agentperfd died"

# An idle connection during SIGTERM: a clean exit, status 0.
$PY -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $PORT)); s.send(b'GET /')
open('$T/idle.sent', 'w').close()
time.sleep(120)" &
idle=$!
wait_until 20 test -e "$T/idle.sent" || fail "the idle client never connected"
daemon_stop
kill "$idle" 2>/dev/null || true
wait "$idle" 2>/dev/null || true
echo "ok"
