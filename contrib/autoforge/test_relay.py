#!/usr/bin/python3
"""Tests of agentperf_relay, with Debian's python3-websockets only.

  test_relay.py unit
      relay() against fake upstreams on loopback (no agentperfd, no root): the
      filter, send raising, stop, cancellation, as_dict, backoff and its reset.
  test_relay.py serve PORT SERVER [--token T] [--inject]
      a stand-in for the harness: its /ws/projects/{name} handler wires the
      relay exactly as README.md says; prints "ready" once listening.
      --inject: each connection to agentperfd also sends it {"type":"ping"}
      every 0.1 s, so agentperfd's pongs flow on the relay's connection.
  test_relay.py check HARNESS SERVER TOKEN PROJECT SECONDS
      a page's client on the stand-in beside a direct client on agentperfd:
      same messages (by timestamp) within 100 ms, only perf_metrics, and the
      relay's connection to agentperfd goes when the page's client does.
  test_relay.py quiet HARNESS NAME SECONDS
      a page's client that must receive nothing.
  test_relay.py restart HARNESS PROJECT STAMPS TIMEOUT
      a page's client across an agentperfd restart, whose times the test
      writes to STAMPS: no message while it is away, messages again soon after.
  test_relay.py direct SERVER TOKEN PROJECT
      relay() on the real agentperfd: send raising, stop, cancellation each
      close its connection.

tests/integration/test_relay.sh runs them against agentperfd.
"""

import asyncio
import datetime
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

import websockets
import websockets.exceptions

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentperf_relay import _HEADERS_KW, relay  # noqa: E402

PREFIX = "/ws/projects/"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def is_closed(ws):
    state = getattr(ws, "state", None)
    return getattr(state, "name", "") == "CLOSED" or getattr(ws, "closed", False) is True


def established(port):
    """TCP connections to PORT on this host that are still established."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


async def wait_until(cond, seconds, step=0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(step)
    return cond()


def epoch(timestamp):
    """perf_metrics' timestamp (UTC, ms, Z) in seconds since the epoch."""
    return datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def path_of(ws):
    path = getattr(ws, "path", None)  # websockets < 14
    return path if path is not None else ws.request.path


# --- the stand-in harness ------------------------------------------------------

def serve(argv):
    port, server = int(argv[0]), argv[1]
    token = argv[argv.index("--token") + 1] if "--token" in argv else None
    inject = "--inject" in argv
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s harness: %(message)s")

    async def ping_upstream(upstream):
        # Test only: make agentperfd answer {"type":"pong"} on the relay's own connection.
        async def pinger():
            try:
                await upstream.send('{"type":"bogus"}')
                while True:
                    await upstream.send('{"type":"ping"}')
                    await asyncio.sleep(0.1)
            except websockets.exceptions.ConnectionClosed:
                pass
        asyncio.ensure_future(pinger())

    # The harness's project WebSocket handler, with the relay wired as README.md says.
    async def project_ws(websocket, path=None):
        path = path_of(websocket)
        if not path.startswith(PREFIX):
            await websocket.close(4000)
            return
        project_name = urllib.parse.unquote(path[len(PREFIX):])
        perf = asyncio.create_task(relay(project_name, websocket.send, server=server, token=token,
                                         on_connect=ping_upstream if inject else None))
        try:
            async for _ in websocket:  # the harness's own receive loop
                pass
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            perf.cancel()

    async def main():
        async with websockets.serve(project_ws, "127.0.0.1", port):
            print("ready", flush=True)
            await asyncio.Future()

    asyncio.run(main())


# --- clients of the stand-in ---------------------------------------------------

async def reader(ws, got):
    try:
        async for text in ws:
            got.append((time.monotonic(), time.time(), text))
    except websockets.exceptions.ConnectionClosed:
        pass


async def check(harness, server, token, project, seconds):
    daemon_port = int(server.rsplit(":", 1)[1])
    via, direct = [], []
    page = await websockets.connect("ws://%s%s%s" % (harness, PREFIX, project))
    up = await websockets.connect("ws://%s%s%s" % (server, PREFIX, project),
                                  **{_HEADERS_KW: {"Authorization": "Bearer " + token}})
    tasks = [asyncio.ensure_future(reader(page, via)), asyncio.ensure_future(reader(up, direct))]
    # agentperfd answers pings: the stand-in's injected pings get pongs too.
    await up.send('{"type":"ping"}')
    await asyncio.sleep(seconds)
    conns = established(daemon_port)
    if len(conns) != 2:
        fail("%d connections to agentperfd, wanted 2 (direct and relay): %s" % (len(conns), conns))
    await up.close()
    await tasks[1]
    if not any(json.loads(t).get("type") == "pong" for _, _, t in direct):
        fail("agentperfd answered no ping on the direct connection")

    types = {json.loads(t).get("type") for _, _, t in via}
    if types != {"perf_metrics"}:
        fail("the page got message types %s, wanted only perf_metrics" % sorted(map(str, types)))
    if any(json.loads(t).get("project") != project for _, _, t in via):
        fail("the page got another project's message")
    at = {}
    for mono, _, text in direct:
        msg = json.loads(text)
        if msg.get("type") == "perf_metrics":
            at[msg["timestamp"]] = mono
    deltas = [mono - at[json.loads(t)["timestamp"]] for mono, _, t in via
              if json.loads(t)["timestamp"] in at]
    want = int(seconds / 0.25) - 4  # agentperfd sends every 250 ms here
    if len(deltas) < want:
        fail("only %d of the page's %d messages matched the direct stream's %d, wanted %d" %
             (len(deltas), len(via), len(at), want))
    ms = sorted(d * 1000 for d in deltas)
    print("forward latency over %d messages: median %.2f ms, max %.2f ms, min %.2f ms" %
          (len(ms), statistics.median(ms), ms[-1], ms[0]))
    if ms[-1] >= 100:
        fail("a message reached the page %.1f ms after the direct client" % ms[-1])

    # The page leaves: the relay's connection to agentperfd goes with it.
    await page.close()
    await tasks[0]
    t0 = time.monotonic()
    if not await wait_until(lambda: not established(daemon_port), 2):
        fail("the relay still holds a connection to agentperfd 2 s after the page left: %s" %
             established(daemon_port))
    print("relay's connection to agentperfd closed %.0f ms after the page left" %
          ((time.monotonic() - t0) * 1000))


async def quiet(harness, name, seconds):
    got = []
    async with websockets.connect("ws://%s%s%s" % (harness, PREFIX, name)) as page:
        task = asyncio.ensure_future(reader(page, got))
        await asyncio.sleep(seconds)
        task.cancel()
    if got:
        fail("the page for %s got %r" % (name, got[0][2][:200]))


async def restart(harness, project, stamps, timeout):
    """stamps: a file to which the test appends "down T" (agentperfd has
    exited), "start T" (a new one is being started) and "up T" (it listens)."""
    got = []

    def stamp():
        try:
            return dict((k, float(v)) for k, v in (line.split() for line in open(stamps)))
        except (FileNotFoundError, ValueError):  # not yet, or a line half written
            return {}

    async with websockets.connect("ws://%s%s%s" % (harness, PREFIX, project)) as page:
        task = asyncio.ensure_future(reader(page, got))

        def done():
            st = stamp()
            return "up" in st and sum(1 for _, _, t in got
                                      if epoch(json.loads(t)["timestamp"]) > st["start"]) >= 3
        await wait_until(done, timeout, 0.05)
        if task.done():
            fail("the page's socket closed during the restart")
        task.cancel()
    if any(json.loads(t).get("type") != "perf_metrics" for _, _, t in got):
        fail("something other than perf_metrics reached the page")
    st = stamp()
    if "up" not in st:
        fail("agentperfd was not restarted within %s s" % timeout)
    # By when agentperfd rendered each message: one rendered just before it
    # stopped may still be on its way to the page when "down" is written.
    rendered = [(epoch(json.loads(t)["timestamp"]), w) for _, w, t in got]
    before = [w for r, w in rendered if r <= st["down"]]
    between = [w for r, w in rendered if st["down"] < r <= st["start"]]
    after = [w for r, w in rendered if r > st["start"]]
    if not before:
        fail("no message before the restart")
    if between:
        fail("%d messages while agentperfd was away" % len(between))
    if len(after) < 3:
        fail("%d messages in %s s after agentperfd was back" % (len(after), timeout))
    # The test sees the new daemon listening up to 0.1 s late: the first
    # message may come before "up".
    print("messages resumed %.2f s after agentperfd was back (away %.2f s, %.2f s to start)" %
          (after[0] - st["up"], st["start"] - st["down"], st["up"] - st["start"]))
    if after[0] - st["up"] > 5.5:
        fail("messages resumed only %.2f s after agentperfd was back" % (after[0] - st["up"]))


async def direct(server, token, project):
    daemon_port = int(server.rsplit(":", 1)[1])

    async def one(label, **kw):
        conns, got = [], []
        stop = kw.pop("stop", None)
        raise_at = kw.pop("raise_at", None)

        def send(text):
            got.append(text)
            if raise_at is not None and len(got) >= raise_at:
                raise RuntimeError('Cannot call "send" once a close message has been sent.')
            if stop is not None:
                stop.set()
        t0 = time.monotonic()
        task = asyncio.ensure_future(relay(project, send, server=server, token=token, stop=stop,
                                           on_connect=conns.append, **kw))
        if raise_at is None and stop is None:
            await wait_until(lambda: got, 3)
            task.cancel()
        try:
            await asyncio.wait_for(task, 3)
        except asyncio.CancelledError:
            if raise_at is not None or stop is not None:
                fail("%s: the relay was cancelled" % label)
        except asyncio.TimeoutError:
            fail("%s: the relay did not return within 3 s" % label)
        if not got or len(conns) != 1 or not is_closed(conns[0]):
            fail("%s: got %d messages over %d connections, closed %s" %
                 (label, len(got), len(conns), conns and is_closed(conns[0])))
        if not await wait_until(lambda: not established(daemon_port), 2):
            fail("%s: a connection to agentperfd remains" % label)
        print("%s: relay ended after %d messages in %.0f ms, its connection closed" %
              (label, len(got), (time.monotonic() - t0) * 1000))
        return got

    await one("send raising", raise_at=2)
    await one("stop event", stop=asyncio.Event())
    got = await one("cancelled", as_dict=True)
    if not (isinstance(got[0], dict) and got[0].get("type") == "perf_metrics"):
        fail("as_dict gave %r" % got[0])


# --- without agentperfd ---------------------------------------------------------

async def unit():
    logging.basicConfig(level=logging.WARNING, format="unit: %(message)s")
    metrics = {"type": "perf_metrics", "timestamp": "2026-01-01T00:00:00.000Z", "project": "demo"}

    # Only perf_metrics goes through, unchanged; the rest agentperfd might say does not.
    accepted = []

    async def noisy(ws, path=None):
        accepted.append(time.monotonic())
        for m in ['{"type":"error","content":"Project not found in registry"}', '{"type":"pong"}',
                  "not json", "[1,2]", b'{"type":"perf_metrics"}', json.dumps(metrics), "{}"]:
            await ws.send(m)
        await ws.close(1001)

    async with websockets.serve(noisy, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        got = []
        stop = asyncio.Event()
        task = asyncio.ensure_future(relay("demo", got.append, server="127.0.0.1:%d" % port,
                                           stop=stop, min_backoff=0.1, max_backoff=5))
        await asyncio.sleep(1.05)
        stop.set()
        await asyncio.wait_for(task, 2)
    if not got or set(got) != {json.dumps(metrics)}:
        fail("forwarded %r" % got[:3])
    # Each connection delivered data, so the delay stays at 0.1 s: ~8 connections in 1 s
    # (without the reset: 4, at 0, 0.1, 0.3, 0.7 s).
    if len(accepted) < 6:
        fail("%d connections in 1 s though each was good: the backoff was not reset" % len(accepted))
    print("filter: only perf_metrics forwarded; backoff reset after good connections (%d in 1 s)" %
          len(accepted))

    # A daemon that takes connections but never answers them: 0.1 s doubling up to max_backoff.
    attempts = []

    async def refuse(reader_, writer):
        attempts.append(time.monotonic())
        writer.close()

    for cap, lo, hi in ((5.0, 5, 6), (0.2, 8, 10)):
        attempts.clear()
        srv = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        task = asyncio.ensure_future(relay("demo", got.append, server="127.0.0.1:%d" % port,
                                           max_backoff=cap))
        await asyncio.sleep(1.65)  # attempts at 0, .1, .3, .7, 1.5 (cap 5) / every .2 (cap .2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        srv.close()
        gaps = [round(b - a, 2) for a, b in zip(attempts, attempts[1:])]
        if not lo <= len(attempts) <= hi:
            fail("cap %s: %d attempts in 1.65 s (gaps %s), wanted %d-%d" % (cap, len(attempts), gaps, lo, hi))
        print("backoff, cap %.1f s: gaps %s" % (cap, gaps))

    # A close with 4000 (invalid name) is final: the relay returns.
    async def invalid(ws, path=None):
        await ws.send('{"type":"error","content":"Invalid project name"}')
        await ws.close(4000)

    async with websockets.serve(invalid, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        got.clear()
        await asyncio.wait_for(relay("demo", got.append, server="127.0.0.1:%d" % port), 2)
    if got:
        fail("an error was forwarded: %r" % got)
    print("close 4000: the relay returned, nothing forwarded")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args)
    elif cmd == "check":
        asyncio.run(check(args[0], args[1], args[2], args[3], float(args[4])))
    elif cmd == "quiet":
        asyncio.run(quiet(args[0], args[1], float(args[2])))
    elif cmd == "restart":
        asyncio.run(restart(args[0], args[1], args[2], float(args[3])))
    elif cmd == "direct":
        asyncio.run(direct(args[0], args[1], args[2]))
    elif cmd == "unit":
        asyncio.run(unit())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
