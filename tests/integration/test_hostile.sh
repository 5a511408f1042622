#!/usr/bin/env bash
# Hostile traffic on the HTTP/WebSocket port: junk, truncated and oversized
# requests, connection storms. The daemon must stay up and keep answering.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
HOSTILE=$ROOT/tests/integration/hostile.py

daemon_start
$PY "$HOSTILE" "$AGENTPERF_SERVER" all || fail "hostile traffic"
kill -0 "$DPID" 2>/dev/null || fail "agentperfd died"

# An idle connection during SIGTERM: a clean exit, status 0.
$PY -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $PORT)); s.send(b'GET /')
time.sleep(5)" &
idle=$!
sleep 0.3
daemon_stop
kill "$idle" 2>/dev/null || true
wait "$idle" 2>/dev/null || true
echo "ok"
