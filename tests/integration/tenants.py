#!/usr/bin/python3
"""Two users on one host (test_tenants.sh): the traffic one user makes, and
what a bystander sees meanwhile. Debian's python3-websockets only.

  tenants.py flood CONTROL CLIENTS LINES
      CLIENTS control connections each send LINES {"cmd":"runs"} requests at
      once and never read; they stay open until stdin closes.
  tenants.py gaps SERVER PROJECT SECONDS
      a WebSocket reader of PROJECT: prints the longest gap between its
      messages over SECONDS, and /healthz's slowest answer (both in s).
"""

import asyncio
import http.client
import socket
import sys
import time

import websockets


def flood(control, clients, lines):
    socks = []
    for _ in range(clients):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(control)
        s.setblocking(False)
        try:
            s.send(b'{"cmd":"runs"}\n' * lines)
        except BlockingIOError:
            pass
        socks.append(s)
    print("flooding", flush=True)
    sys.stdin.read()


def healthz(host, port):
    t = time.monotonic()
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", "/healthz")
    ok = c.getresponse().status == 200
    c.close()
    if not ok:
        raise SystemExit("FAIL: /healthz did not answer 200")
    return time.monotonic() - t


async def gaps(server, project, seconds):
    host, port = server.rsplit(":", 1)
    worst_gap = worst_health = 0.0
    async with websockets.connect("ws://%s/ws/projects/%s" % (server, project)) as ws:
        await ws.recv()
        last = time.monotonic()
        end = last + seconds
        while time.monotonic() < end:
            try:
                await asyncio.wait_for(ws.recv(), timeout=end - time.monotonic() + 5)
            except asyncio.TimeoutError:
                break
            now = time.monotonic()
            worst_gap = max(worst_gap, now - last)
            last = now
            h = await asyncio.get_running_loop().run_in_executor(None, healthz, host, int(port))
            worst_health = max(worst_health, h)
        worst_gap = max(worst_gap, time.monotonic() - last)
    print("%.3f %.3f" % (worst_gap, worst_health))


def main():
    if sys.argv[1] == "flood":
        flood(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "gaps":
        asyncio.run(gaps(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    else:
        raise SystemExit(__doc__)


main()
