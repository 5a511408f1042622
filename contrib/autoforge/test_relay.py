#!/usr/bin/python3
"""Tests of agentperf_relay, with Debian's python3-websockets only.

  test_relay.py unit
      relay() against fake upstreams on loopback (no agentperfd, no root): the
      filter, send raising, stop, cancellation, as_dict, backoff and its reset;
      the fallback: only while agentperfd is down, clean switches both ways,
      after a final refusal, after a hung agentperfd's keepalive.
  test_relay.py serve PORT SERVER [--token T] [--inject] [--registry NAMES]
                      [--poll S] [--wiring patch|recipe]
      a stand-in for AutoForge's server at 0d905b2 (PR #181): its
      /ws/projects/{name} handler has PR #181's structure (the socket accepted
      before the name and registry checks, which return early; a psutil-style
      sampler of its own, host CPU from /proc/stat, on the same socket) and
      wires the perf source as autoforge-perfmon.patch does (--wiring patch, the
      default: one task, the relay with the sampler as its fallback, started
      after the checks), or as the recipe before it said (--wiring recipe: the
      relay started once accepted, beside PR #181's sampler task). Prints
      "ready" once listening; /debug/perf-tasks answers its perf tasks' counts.
      --inject: each connection to agentperfd also sends it {"type":"ping"}
      every 0.1 s, so agentperfd's pongs flow on the relay's connection.
      --registry: the names its registry check lets through (comma-separated).
  test_relay.py check HARNESS SERVER TOKEN PROJECT SECONDS
      a page's client on the stand-in beside a direct client on agentperfd:
      agentperfd's messages only (by timestamp) within 100 ms, nothing of
      agentperfd's but perf_metrics, none of the sampler's, and the relay's
      connection to agentperfd goes when the page's client does.
  test_relay.py early HARNESS NAME CODE
      a page for a name the handler's checks refuse: the handler's error, its
      close CODE, no perf_metrics.
  test_relay.py only HARNESS PROJECT SOURCE SECONDS
      a page that gets perf_metrics from SOURCE (agentperfd or sampler) only.
  test_relay.py switch HARNESS PROJECT STAMPS SEEN TIMEOUT LIMIT
      a page's client across an outage of agentperfd, whose times the test
      writes to STAMPS ("down T": gone; "start T": being brought back; "up T":
      back); SEEN gets "agentperfd T" once the page has agentperfd's messages,
      "sampler T" once it has the sampler's after "down".
      agentperfd's frames, then the sampler's, then agentperfd's again, never
      mixed; each switch within LIMIT s.
  test_relay.py tasks HARNESS SECONDS
      with no page left: one perf task was started per page past the checks,
      none for pages they refused, and none is still running.
  test_relay.py direct SERVER TOKEN PROJECT
      relay() on the real agentperfd: send raising, stop, cancellation each
      close its connection.

tests/integration/test_relay.sh runs them against agentperfd.
"""

import asyncio
import base64
import datetime
import hashlib
import json
import logging
import math
import os
import re
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
STATS_PATH = "/debug/perf-tasks"


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


def ms(msg):
    """perf_metrics' timestamp in whole milliseconds since the epoch."""
    return round(epoch(msg["timestamp"]) * 1000)


def source(msg):
    """Whose perf_metrics: agentperfd's name the project and are stamped in UTC
    (Z); PR #181's sampler's do neither."""
    ts = msg.get("timestamp")
    return "agentperfd" if "project" in msg and isinstance(ts, str) and ts.endswith("Z") else "sampler"


def path_of(ws):
    path = getattr(ws, "path", None)  # websockets < 14
    return path if path is not None else ws.request.path


def runs(items):
    """["a", "a", "b", "a"] -> ["a", "b", "a"]"""
    return [x for i, x in enumerate(items) if i == 0 or items[i - 1] != x]


# --- the stand-in harness ------------------------------------------------------

class HostSampler:
    """psutil.cpu_percent(interval=None) and virtual_memory(), from /proc: the
    host's busy share since the previous call (0.0 on the first), memory used."""

    def __init__(self):
        self._prev = None

    def cpu_percent(self):
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        idle, total = fields[3] + fields[4], sum(fields)
        prev, self._prev = self._prev, (idle, total)
        if prev is None or total <= prev[1]:
            return 0.0
        return 100.0 * (1.0 - (idle - prev[0]) / (total - prev[1]))

    @staticmethod
    def memory():
        info = {}
        with open("/proc/meminfo") as f:
            for line in f:
                key, value = line.split(":", 1)
                info[key] = int(value.split()[0]) * 1024
        total, used = info["MemTotal"], info["MemTotal"] - info["MemAvailable"]
        return used, total, 100.0 * used / total


SAMPLER = HostSampler()


def collect_perf_metrics(status):
    """PR #181's _collect_perf_metrics: host-wide figures, no tokens, no GPU."""
    used, total, percent = SAMPLER.memory()
    return {
        "type": "perf_metrics",
        "timestamp": datetime.datetime.now().isoformat(),
        "run": {"status": status, "pid": None, "started_at": None},
        "tokens": {"available": False, "current_run": None, "total_session": None},
        "cpu": {"percent": round(SAMPLER.cpu_percent(), 1)},
        "memory": {"used_gb": round(used / 1024 ** 3, 1), "total_gb": round(total / 1024 ** 3, 1),
                   "percent": round(percent, 1)},
        "gpu": {"available": False, "percent": None, "vram_used_gb": None, "vram_total_gb": None},
    }


async def poll_perf_metrics(websocket, interval):
    """PR #181's poll_perf_metrics: a message now, then every interval s."""
    while True:
        try:
            await websocket.send(json.dumps(collect_perf_metrics("running")))
            await asyncio.sleep(interval)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logging.warning("Perf metrics polling error: %s", e)
            break


def serve(argv):
    port, server = int(argv[0]), argv[1]

    def opt(name, default=None):
        return argv[argv.index(name) + 1] if name in argv else default
    token = opt("--token")
    inject = "--inject" in argv
    registry = opt("--registry")
    registry = None if registry is None else set(registry.split(","))
    interval = float(opt("--poll", "1"))
    wiring = opt("--wiring", "patch")
    if wiring not in ("patch", "recipe"):
        sys.exit("--wiring patch|recipe")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s harness: %(message)s")
    # Per project name: pages past the checks, pages refused by them, perf tasks started.
    stats = {"pages": {}, "refused": {}, "started": {}, "live": 0}

    def count(kind, name):
        stats[kind][name] = stats[kind].get(name, 0) + 1

    async def tracked(name, coro):
        count("started", name)
        stats["live"] += 1
        try:
            await coro
        finally:
            stats["live"] -= 1

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

    def agentperf_relay(websocket, name, fallback=None):
        return relay(name, websocket.send, server=server, token=token, fallback=fallback,
                     on_connect=ping_upstream if inject else None)

    async def stream_perf_metrics(websocket, name):
        """The patch's server/websocket.py stream_perf_metrics, AGENTPERF_SERVER set."""
        try:
            await agentperf_relay(websocket, name, fallback=lambda: poll_perf_metrics(websocket, interval))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logging.warning("agentperf relay error, using psutil metrics: %s", e)
            await poll_perf_metrics(websocket, interval)

    async def refuse(websocket, name, code, reason):
        count("refused", name)
        await websocket.send(json.dumps({"type": "error", "content": reason}))
        await websocket.close(code, reason)

    # AutoForge's project_websocket at 0d905b2, reduced to its structure.
    async def project_websocket(websocket, path=None):
        path = path_of(websocket)
        if path == STATS_PATH:  # test only
            await websocket.send(json.dumps(stats))
            return
        # The socket is accepted already (PR #181 calls accept() first), then:
        name = urllib.parse.unquote(path[len(PREFIX):]) if path.startswith(PREFIX) else ""
        recipe_task = None
        if wiring == "recipe":
            # The recipe before the patch: "start the relay as a task once the socket is accepted".
            recipe_task = asyncio.create_task(tracked(name, agentperf_relay(websocket, name)))
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,50}", name):
            await refuse(websocket, name, 4000, "Invalid project name")
            return
        if registry is not None and name not in registry:
            await refuse(websocket, name, 4004, "Project not found in registry")
            return
        count("pages", name)
        if wiring == "recipe":
            perf_task = asyncio.create_task(tracked(name, poll_perf_metrics(websocket, interval)))
        else:
            perf_task = asyncio.create_task(tracked(name, stream_perf_metrics(websocket, name)))
        try:
            await websocket.send(json.dumps({"type": "agent_status", "status": "running"}))
            async for _ in websocket:  # the handler's own receive loop
                pass
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            for task in (perf_task, recipe_task):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

    async def main():
        async with websockets.serve(project_websocket, "127.0.0.1", port):
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


def perf_of(got):
    """The perf_metrics among a page's messages: (monotonic, wall, text, msg)."""
    out = []
    for mono, wall, text in got:
        msg = json.loads(text)
        if msg.get("type") == "perf_metrics":
            out.append((mono, wall, text, msg))
    return out


def no_foreign_types(got, what):
    """agentperfd's errors and pongs never reach the page (the stand-in sends neither to it)."""
    types = {json.loads(t).get("type") for _, _, t in got}
    if types & {"error", "pong"}:
        fail("%s: the page got message types %s" % (what, sorted(map(str, types))))


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

    no_foreign_types(via, "agentperfd up")
    perf = perf_of(via)
    sampler = [m for _, _, _, m in perf if source(m) == "sampler"]
    if sampler:
        fail("agentperfd up, yet %d of the page's %d perf_metrics were the sampler's (sources in order: %s)" %
             (len(sampler), len(perf), " ".join(runs([source(m) for _, _, _, m in perf]))))
    if any(m.get("project") != project for _, _, _, m in perf):
        fail("the page got another project's message")
    at = {}
    for mono, _, text in direct:
        msg = json.loads(text)
        if msg.get("type") == "perf_metrics":
            at[msg["timestamp"]] = mono
    deltas = [mono - at[m["timestamp"]] for mono, _, _, m in perf if m["timestamp"] in at]
    want = int(seconds / 0.25) - 4  # agentperfd sends every 250 ms here
    if len(deltas) < want:
        fail("only %d of the page's %d messages matched the direct stream's %d, wanted %d" %
             (len(deltas), len(perf), len(at), want))
    ms = sorted(d * 1000 for d in deltas)
    print("agentperfd up: %d perf_metrics, all agentperfd's; forward latency median %.2f ms, "
          "max %.2f ms, min %.2f ms" % (len(perf), statistics.median(ms), ms[-1], ms[0]))
    if ms[-1] >= 100:
        fail("a message reached the page %.1f ms after the direct client" % ms[-1])

    # The page leaves: the relay's connection to agentperfd goes with it.
    await page.close()
    await tasks[0]
    t0 = time.monotonic()
    if not await wait_until(lambda: not established(daemon_port), 5):
        fail("the relay still holds a connection to agentperfd 5 s after the page left: %s" %
             established(daemon_port))
    print("relay's connection to agentperfd closed %.0f ms after the page left" %
          ((time.monotonic() - t0) * 1000))


async def early(harness, name, code):
    got = []
    async with websockets.connect("ws://%s%s%s" % (harness, PREFIX, name)) as page:
        await reader(page, got)
        closed = page.close_code
    if closed != code:
        fail("the page for %r was closed with %s, wanted %d" % (name, closed, code))
    if perf_of(got):
        fail("the page for %r, refused by the checks, got perf_metrics: %r" % (name, got[0][2][:200]))
    if not any(json.loads(t).get("type") == "error" for _, _, t in got):
        fail("the page for %r got no error from the handler" % name)
    print("page for %r: the handler's error and close %d, no perf_metrics" % (name, code))


async def only(harness, project, want, seconds):
    got = []
    async with websockets.connect("ws://%s%s%s" % (harness, PREFIX, project)) as page:
        task = asyncio.ensure_future(reader(page, got))
        await wait_until(lambda: len(perf_of(got)) >= 2, seconds)
        await asyncio.sleep(1)
        task.cancel()
    no_foreign_types(got, "only %s" % want)
    perf = perf_of(got)
    sources = [source(m) for _, _, _, m in perf]
    if not perf or set(sources) != {want}:
        fail("wanted the %s's perf_metrics only, got %s" % (want, " ".join(runs(sources)) or "none"))
    print("page for %s: %d perf_metrics, all the %s's" % (project, len(perf), want))


async def switch(harness, project, stamps, seen, timeout, limit):
    """See the module's doc. agentperfd's messages are placed by when it
    rendered them (their timestamp): one rendered just before it went away
    may still be on its way to the page when "down" is written."""
    got = []

    def stamp():
        try:
            return dict((k, float(v)) for k, v in (line.split() for line in open(stamps)))
        except (FileNotFoundError, ValueError):  # not yet, or a line half written
            return {}

    def sequence():
        return [(mono, wall, source(m), m) for mono, wall, _, m in perf_of(got)]

    async with websockets.connect("ws://%s%s%s" % (harness, PREFIX, project)) as page:
        task = asyncio.ensure_future(reader(page, got))
        noted = set()

        def note(what):
            if what not in noted:
                with open(seen, "a") as f:
                    f.write("%s %.6f\n" % (what, time.time()))
                noted.add(what)

        def done():
            seq, st = sequence(), stamp()
            if any(s == "agentperfd" for _, _, s, _ in seq):
                note("agentperfd")
            if "down" in st and any(s == "sampler" for _, _, s, _ in seq):
                note("sampler")
            return "up" in st and sum(1 for _, _, s, m in seq if s == "agentperfd"
                                      and ms(m) >= math.floor(st["start"] * 1000)) >= 3
        await wait_until(done, timeout, 0.05)
        if task.done():
            fail("the page's socket closed during the outage")
        task.cancel()
    no_foreign_types(got, "outage")
    st, seq = stamp(), sequence()
    order = runs([s for _, _, s, _ in seq])
    if "up" not in st:
        fail("agentperfd was not brought back within %s s" % timeout)
    if order != ["agentperfd", "sampler", "agentperfd"]:
        fail("sources in order: %s; wanted agentperfd, then the sampler, then agentperfd" % " ".join(order))
    first_sampler = next(w for _, w, s, _ in seq if s == "sampler")
    last_sampler = [w for _, w, s, _ in seq if s == "sampler"][-1]
    # A timestamp is the render time cut to the millisecond: a message
    # rendered within 1 ms after a stamp may show an earlier time than it.
    before = [m for _, _, s, m in seq if s == "agentperfd" and epoch(m["timestamp"]) <= st["down"]]
    between = [m for _, _, s, m in seq if s == "agentperfd"
               and st["down"] < epoch(m["timestamp"]) and ms(m) < math.floor(st["start"] * 1000)]
    after = [w for _, w, s, m in seq if s == "agentperfd" and ms(m) >= math.floor(st["start"] * 1000)]
    if not before:
        fail("no agentperfd message before the outage")
    if between:
        fail("%d agentperfd message(s) rendered while it was away (%s; the outage from %.3f to %.3f)"
             % (len(between), ", ".join(m["timestamp"] for m in between), st["down"], st["start"]))
    to_sampler, to_agentperfd = first_sampler - st["down"], after[0] - st["up"]
    n_sampler = sum(1 for _, _, s, _ in seq if s == "sampler")
    print("agentperfd -> sampler %.2f s after agentperfd went away; sampler -> agentperfd %.2f s after "
          "it was back (%d sampler messages, the last %.2f s before agentperfd's first)" %
          (to_sampler, to_agentperfd, n_sampler, after[0] - last_sampler))
    if to_sampler > limit or to_agentperfd > limit:
        fail("a switch took more than %s s" % limit)


async def tasks(harness, seconds):
    async def read():
        async with websockets.connect("ws://%s%s" % (harness, STATS_PATH)) as ws:
            return json.loads(await ws.recv())
    st = await read()
    deadline = time.monotonic() + seconds
    while st["live"] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        st = await read()
    print("perf tasks: %s" % json.dumps(st, sort_keys=True))
    if st["live"]:
        fail("%d perf tasks still running %s s after the last page left" % (st["live"], seconds))
    for name, n in sorted(st["started"].items()):
        pages = st["pages"].get(name, 0)
        if n != pages:
            fail("%d perf tasks started for %d pages of %r (refused by the checks: %d); wanted one per page "
                 "past the checks" % (n, pages, name, st["refused"].get(name, 0)))
    if not st["pages"]:
        fail("no page got past the checks")


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

    await unit_fallback()


async def unit_fallback():
    """relay(fallback=...): the fallback's messages only while the upstream is
    down, never mixed with the upstream's, in both directions."""
    sent, live = [], []

    async def fallback():
        live.append(1)
        try:
            while True:
                sent.append("sampler")
                await asyncio.sleep(0.02)
        finally:
            live.pop()

    def send(text):
        if json.loads(text).get("type") != "perf_metrics":
            fail("forwarded %r" % text)
        sent.append("agentperfd")

    async def metrics(ws, path=None):
        try:
            await ws.send('{"type":"error","content":"Project not found in registry"}')
            while True:
                await ws.send('{"type":"perf_metrics","project":"demo"}')
                await asyncio.sleep(0.02)
        except websockets.exceptions.ConnectionClosed:
            pass

    async def until(cond, what):
        if not await wait_until(cond, 10):
            fail("fallback: %s within 10 s (sources in order: %s)" % (what, " ".join(runs(sent))))

    def since(mark, who):
        return sent[mark:].count(who)

    # Up from the start: agentperfd's messages only, not one of the fallback's first.
    srv = await websockets.serve(metrics, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    server = "127.0.0.1:%d" % port
    task = asyncio.ensure_future(relay("demo", send, server=server, fallback=fallback,
                                       min_backoff=0.05, max_backoff=0.2))
    await until(lambda: since(0, "agentperfd") >= 10, "no messages")
    # Down and up twice: each switch clean.
    for _ in range(2):
        mark = len(sent)
        srv.close()
        await srv.wait_closed()
        await until(lambda: since(mark, "sampler") >= 5, "no switch to the fallback")
        if len(live) != 1:
            fail("fallback: %d fallback tasks while agentperfd is down" % len(live))
        mark = len(sent)
        srv = await websockets.serve(metrics, "127.0.0.1", port)
        await until(lambda: since(mark, "agentperfd") >= 10, "no switch back")
        if live:
            fail("fallback: the fallback still runs with agentperfd back")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    srv.close()
    await srv.wait_closed()
    order = runs(sent)
    if order != ["agentperfd", "sampler", "agentperfd", "sampler", "agentperfd"] or live:
        fail("fallback: sources in order %s, %d fallback tasks left" % (" ".join(order), len(live)))
    print("fallback: sources in order %s, none mixed; no fallback task left" % " ".join(order))

    # Refused for good (4000): the fallback goes on, the relay with it until cancelled.
    async def invalid(ws, path=None):
        await ws.close(4000)

    sent.clear()
    async with websockets.serve(invalid, "127.0.0.1", 0) as srv:
        server = "127.0.0.1:%d" % srv.sockets[0].getsockname()[1]
        task = asyncio.ensure_future(relay("demo", send, server=server, fallback=fallback))
        await until(lambda: since(0, "sampler") >= 5, "no fallback after close 4000")
        if task.done():
            fail("fallback: the relay returned after close 4000 though it has a fallback")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if runs(sent) != ["sampler"] or live:
        fail("fallback after close 4000: %s, %d fallback tasks left" % (" ".join(runs(sent)), len(live)))
    print("close 4000 with a fallback: the fallback's messages only, until cancelled")

    # A hung agentperfd (it stops reading, answers no ping): down after the keepalive.
    writers = []

    async def hung(rd, writer):
        writers.append(writer)
        head = await rd.readuntil(b"\r\n\r\n")
        key = re.search(rb"(?i)sec-websocket-key:\s*(\S+)", head).group(1)
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        payload = b'{"type":"perf_metrics","project":"demo"}'
        writer.write(bytes([0x81, len(payload)]) + payload)
        await asyncio.sleep(60)

    sent.clear()
    srv = await asyncio.start_server(hung, "127.0.0.1", 0)
    server = "127.0.0.1:%d" % srv.sockets[0].getsockname()[1]
    t0 = time.monotonic()
    task = asyncio.ensure_future(relay("demo", send, server=server, fallback=fallback, keepalive=0.3))
    await until(lambda: "sampler" in sent, "no fallback after a hung agentperfd")
    took = time.monotonic() - t0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    srv.close()
    for w in writers:
        w.close()
    if runs(sent) != ["agentperfd", "sampler"] or live:
        fail("hung agentperfd: sources in order %s, %d fallback tasks left" % (" ".join(runs(sent)), len(live)))
    print("hung agentperfd, keepalive 0.3 s: the fallback took over after %.2f s" % took)

    # A cancellation lost on the way (Python 3.11's asyncio.wait_for loses
    # one that lands as its inner await completes, gh-86296): in the
    # upstream task (an on_connect that swallows it stands in) and in the
    # fallback's. The relay still ends, and with it both.
    async def lose_one(ws=None):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass

    async def stubborn():
        live.append(1)
        try:
            await lose_one()
            while True:
                await asyncio.sleep(0.02)
        finally:
            live.pop()

    async def cancelled_ends(task, where):
        """Cancels the relay once; it must end within 5 s all the same."""
        task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except asyncio.CancelledError:
            pass
        except asyncio.TimeoutError:
            fail("a lost cancellation in %s: the relay did not end within 5 s" % where)

    conns = []

    async def on_connect(ws):
        conns.append(ws)
        await lose_one()

    async with websockets.serve(metrics, "127.0.0.1", 0) as srv:
        server = "127.0.0.1:%d" % srv.sockets[0].getsockname()[1]
        task = asyncio.ensure_future(relay("demo", send, server=server, on_connect=on_connect))
        await until(lambda: conns, "no connection")
        await cancelled_ends(task, "the upstream task")
        if not is_closed(conns[0]):
            fail("a lost cancellation in the upstream task: its connection stays open")
    srv = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    server = "127.0.0.1:%d" % srv.sockets[0].getsockname()[1]
    task = asyncio.ensure_future(relay("demo", send, server=server, fallback=stubborn))
    await until(lambda: live, "no fallback")
    await cancelled_ends(task, "the fallback")
    srv.close()
    if live:
        fail("a lost cancellation in the fallback: its task still runs")
    print("lost cancellations (upstream, fallback): the relay ended, both tasks with it")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args)
    elif cmd == "check":
        asyncio.run(check(args[0], args[1], args[2], args[3], float(args[4])))
    elif cmd == "early":
        asyncio.run(early(args[0], args[1], int(args[2])))
    elif cmd == "only":
        asyncio.run(only(args[0], args[1], args[2], float(args[3])))
    elif cmd == "switch":
        asyncio.run(switch(args[0], args[1], args[2], args[3], float(args[4]), float(args[5])))
    elif cmd == "tasks":
        asyncio.run(tasks(args[0], float(args[1])))
    elif cmd == "direct":
        asyncio.run(direct(args[0], args[1], args[2]))
    elif cmd == "unit":
        asyncio.run(unit())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
