#!/usr/bin/python3
"""The WebSocket rules (docs/interfaces.md, docs/operations.md) against a
running agentperfd, with a client no one here wrote (Debian's
python3-websockets) and raw sockets where a misbehaving peer is needed.
Usage: ws_rules.py CHECK HOST:PORT [ARG...]; exits non-zero with one line on
the first failure."""
import asyncio
import calendar
import json
import re
import socket
import sys
import time

import websockets
from cpu_rate import Recorder
from websockets.exceptions import ConnectionClosed, InvalidStatusCode


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def stamp_of(ts):
    """A message's ISO-8601 timestamp as seconds since the epoch."""
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:23]) / 1000


async def recv_after(ws, t, nth=1, timeout=10):
    """The nth message built after wall time t. A client that fell behind
    still holds messages from before a change; those are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"no {nth} message(s) built after the change within {timeout} s")
        m = await recv_json(ws, left)
        if stamp_of(m["timestamp"]) > t:
            nth -= 1
            if nth == 0:
                return m


async def status_of(uri, **kw):
    """HTTP status of a refused handshake, or 101 when it is accepted."""
    try:
        async with websockets.connect(uri, open_timeout=5, **kw):
            return 101
    except InvalidStatusCode as e:
        return e.status_code


async def close_of(uri, send=None):
    """(messages received, close code, reason) until the server closes."""
    msgs = []
    async with websockets.connect(uri, max_size=2**20) as ws:
        if send is not None:
            await ws.send(send)
        try:
            while True:
                msgs.append(await recv_json(ws))
        except ConnectionClosed as e:
            return msgs, e.rcvd.code if e.rcvd else None, e.rcvd.reason if e.rcvd else None


def check_message(m, project, gpu=False):
    """Field for field as perf_metrics v1 (docs/interfaces.md) (gpu: the host has one)."""
    if m.get("type") != "perf_metrics" or m.get("project") != project:
        fail(f"not a perf_metrics of {project}: {m}")
    ts = m["timestamp"]
    if not (len(ts) == 24 and ts[10] == "T" and ts[19] == "." and ts.endswith("Z")):
        fail(f"timestamp not ISO-8601 UTC with milliseconds: {ts}")
    shape = {
        "run": {"status", "pid", "started_at", "run_id", "tasks"},
        "tokens": {"current_run", "total_session", "available", "input", "output", "cache_read",
                   "cache_creation"},
        "cpu": {"percent", "cores", "host_percent", "run_seconds"},
        "memory": {"used_gb", "total_gb", "percent", "run_rss_gb"},
        "gpu": {"available", "percent", "vram_used_gb", "vram_total_gb"},
        "agent": {"phase", "tool"},
    }
    for k, fields in shape.items():
        if set(m[k]) != fields:
            fail(f"{k} has fields {sorted(m[k])}, wanted {sorted(fields)}")
    for k in ("cpu", "memory"):
        for f, v in m[k].items():
            if not isinstance(v, (int, float)) or v != round(v, 1) or v < 0:
                fail(f"{k}.{f} = {v!r} is not a non-negative number with one decimal")
    if m["agent"]["phase"] not in ("model", "tool", "idle") or not (
            m["agent"]["tool"] is None or (m["agent"]["phase"] == "tool" and isinstance(m["agent"]["tool"], str))):
        fail(f"agent {m['agent']}")
    if m["run"]["status"] not in ("running", "paused", "stopped", "crashed"):
        fail(f"run.status {m['run']['status']}")
    r = m["run"]
    if r["run_id"] is not None and r["run_id"] != f"{r['pid']}-{r['started_at']}":
        fail(f"run_id {r['run_id']} is not pid-started_at")
    if not gpu and m["gpu"] != {"available": False, "percent": None, "vram_used_gb": None,
                                "vram_total_gb": None}:
        fail(f"gpu on a GPU-less host: {m['gpu']}")


async def basics(server):
    """Names, Origins, ping, oversized frames, immediate snapshot, idle cadence, memory."""
    base = f"ws://{server}/ws/projects"
    # Invalid names: the error message, then close 4000; the name checked is the decoded path.
    for bad in ("bad.name", "a%20b", "x" * 51, "caf%C3%A9"):
        msgs, code, _ = await close_of(f"{base}/{bad}")
        if msgs != [{"type": "error", "content": "Invalid project name"}] or code != 4000:
            fail(f"invalid name {bad!r}: got {msgs} and close {code}")
    # Not a project path at all: no upgrade.
    if (s := await status_of(f"ws://{server}/ws/other")) != 404:
        fail(f"/ws/other answered {s}")
    # Origins: absent, and loopback on any port, are allowed; others refused before any data.
    for origin in (None, "http://localhost:3000", "http://127.0.0.1:9", "http://[::1]:5173"):
        if (s := await status_of(f"{base}/demo", origin=origin)) != 101:
            fail(f"Origin {origin} refused ({s})")
    for origin in ("http://evil.example", "null", "http://localhost.evil.example",
                   "https://127.0.0.1.nip.io"):
        if (s := await status_of(f"{base}/demo", origin=origin)) != 403:
            fail(f"Origin {origin} answered {s}, wanted 403")
    async with websockets.connect(f"{base}/demo") as ws:
        t0 = time.monotonic()
        first = await recv_json(ws, 2)
        if time.monotonic() - t0 > 0.5:
            fail("no snapshot at once on connect")
        check_message(first, "demo")
        if first["run"]["status"] != "stopped" or first["run"]["pid"] is not None:
            fail(f"a project with no run: {first['run']}")
        if first["tokens"] != {"current_run": None, "total_session": None, "available": False,
                               "input": None, "output": None, "cache_read": None,
                               "cache_creation": None}:
            fail(f"tokens before any report: {first['tokens']}")
        mem = dict(l.split(":") for l in open("/proc/meminfo").read().splitlines())
        total = int(mem["MemTotal"].split()[0]) / 2**20
        if abs(first["memory"]["total_gb"] - round(total, 1)) > 0.05:
            fail(f"memory.total_gb {first['memory']['total_gb']} vs /proc/meminfo {total:.2f}")
        # ping -> pong; anything else is ignored.
        await ws.send('{"type":"hello"}')
        await ws.send("not json")
        await ws.send('{"type":"ping"}')
        # A scheduled perf_metrics may cross the ping; nothing else may.
        deadline = time.monotonic() + 2
        while (m := await recv_json(ws, 2)).get("type") == "perf_metrics":
            if time.monotonic() > deadline:
                fail("no pong")
        if m != {"type": "pong"}:
            fail(f"ping answered with {m}")
        # Idle cadence: 3 s, between the messages' own stamps (when the
        # daemon built them), not when a client on a busy host read them.
        m1 = await recv_json(ws, 5)
        check_message(m1, "demo")
        m2 = await recv_json(ws, 5)
        check_message(m2, "demo")
        gap = stamp_of(m2["timestamp"]) - stamp_of(m1["timestamp"])
        if not 2.7 < gap < 3.5:
            fail(f"idle messages {gap:.2f} s apart, wanted 3")
    # A client frame over 4 KiB closes with 1009.
    _, code, _ = await close_of(f"{base}/demo", send="x" * 5000)
    if code != 1009:
        fail(f"a 5000-byte frame closed with {code}, wanted 1009")
    print("ok basics: names/4000, 404, Origins/403, snapshot on connect, ping/pong, 3 s idle, 1009")


async def run_cycle(server, project, root_pid):
    """A live run: running every 1 s with CPU, RSS and tokens; paused on SIGSTOP; crashed on kill."""
    import os
    import signal
    uri = f"ws://{server}/ws/projects/{project}"
    # The run's CPU as the kernel counts it: a message's cores are the run's
    # CPU between the previous message's walk and its own, and the messages
    # are stamped with their walks, so the reference spans the same interval
    # whatever share of a core the host gives the process.
    cpu = Recorder(root_pid)
    cpu.start()
    async with websockets.connect(uri) as ws:
        m = await recv_json(ws)
        check_message(m, project)
        if m["run"]["status"] != "running" or m["run"]["pid"] != root_pid:
            fail(f"live run: {m['run']}")
        msgs = []
        for _ in range(3):
            m = await recv_json(ws, 5)
            msgs.append(m)
            check_message(m, project)
        stamps = [stamp_of(x["timestamp"]) for x in msgs]
        gaps = [round(b - a, 3) for a, b in zip(stamps, stamps[1:])]
        if not all(0.8 < g < 1.3 for g in gaps):
            fail(f"running messages {gaps} s apart, wanted 1")
        deadline = time.monotonic() + 5
        while cpu.series.at(stamps[-1]) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        want = cpu.series.rate(stamps[-2], stamps[-1])
        if want is None:
            fail(f"the run's CPU was not recorded from {stamps[-2]} to {stamps[-1]}")
        ncpus = os.cpu_count()
        # cores and percent are rounded to 0.1.
        if (abs(m["cpu"]["cores"] - want) > 0.1
                or abs(m["cpu"]["percent"] - 100 * want / ncpus) > 0.1 + 10 / ncpus):
            fail(f"a busy process shows as {m['cpu']}; it had {want:.3f} cores by its own "
                 f"schedstat over the same {gaps[-1]} s")
        if m["memory"]["run_rss_gb"] < 0.5:
            fail(f"a 600 MiB process shows run_rss_gb {m['memory']['run_rss_gb']}")
        # 100 reported before the run, then this run set to 120: the run's count
        # started again from 0, the session's kept the 100.
        if m["tokens"] != {"current_run": 120, "total_session": 220, "available": True,
                           "input": None, "output": None, "cache_read": None,
                           "cache_creation": None}:
            fail(f"tokens: {m['tokens']}")
        os.kill(root_pid, signal.SIGSTOP)
        deadline = time.monotonic() + 4
        while (m := await recv_json(ws))["run"]["status"] != "paused":
            if time.monotonic() > deadline:
                fail("SIGSTOP of the root never showed as paused")
        os.kill(root_pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while (m := await recv_json(ws))["run"]["status"] != "crashed":
            if time.monotonic() > deadline:
                fail("killing the root never showed as crashed")
        # The crash message may still carry the exit's own CPU (tearing down
        # 600 MiB); the next one, at the idle cadence, shows none.
        m = await recv_json(ws, 5)
        if m["run"]["status"] != "crashed" or m["run"]["tasks"] != 0 or m["cpu"]["cores"] != 0:
            fail(f"after the crash: {m}")
    cpu.stop = True
    print(f"ok run cycle: running at 1 s with cores (its own {want:.2f}), RSS, tokens; paused; crashed")


async def tokens_auth(server, token):
    """With --token-file: 401 without or with a wrong token, never a leak."""
    uri = f"ws://{server}/ws/projects/demo"
    for kw in ({}, {"extra_headers": {"Authorization": "Bearer wrong"}}):
        if (s := await status_of(uri, **kw)) != 401:
            fail(f"no/wrong token answered {s}, wanted 401")
    if (s := await status_of(uri + "?token=wrong")) != 401:
        fail(f"?token=wrong answered {s}")
    if (s := await status_of(uri, extra_headers={"Authorization": f"Bearer {token}"})) != 101:
        fail(f"the right bearer token answered {s}")
    if (s := await status_of(uri + f"?token={token}")) != 101:
        fail(f"the right ?token= answered {s}")
    print("ok token: 401 without, bearer and ?token= accepted")


async def origins_remote(server, token, allowed):
    """--allow-remote: an Origin equal to the Host is allowed; --allow-origin entries too."""
    uri = f"ws://{server}/ws/projects/demo?token={token}"
    if (s := await status_of(uri, origin=f"http://{server}")) != 101:
        fail(f"same-host Origin with --allow-remote answered {s}")
    if (s := await status_of(uri, origin=allowed)) != 101:
        fail(f"--allow-origin {allowed} answered {s}")
    if (s := await status_of(uri, origin="http://other.example")) != 403:
        fail(f"a foreign Origin answered {s}")
    print("ok remote Origins: same host and --allow-origin allowed, others 403")


async def max_clients(server, n):
    conns = [await websockets.connect(f"ws://{server}/ws/projects/p{i}") for i in range(n)]
    s = await status_of(f"ws://{server}/ws/projects/extra")
    for c in conns:
        await c.close()
    if s != 503:
        fail(f"client {n + 1} of --max-clients {n} answered {s}, wanted 503")
    # The daemon frees the slots as it sees the closes: room comes back then,
    # soon, however busy the host.
    deadline = time.monotonic() + 10
    while (s := await status_of(f"ws://{server}/ws/projects/extra")) != 101:
        if s != 503 or time.monotonic() > deadline:
            fail(f"after closing, a new client answered {s}")
        await asyncio.sleep(0.1)
    print(f"ok max-clients: client {n + 1} gets 503, room again after closing")


def raw_upgrade(server, path, rcvbuf=None):
    """A WebSocket opened by hand, so that it can refuse to read."""
    host, port = server.rsplit(":", 1)
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, int(port)))
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        fail(f"raw upgrade refused: {head[:40]}")
    return s


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def slow_reader(server, daemon_pid, interval_s):
    """A client that never reads holds at most the latest message and delays nobody."""
    stalled = raw_upgrade(server, "/ws/projects/slow", rcvbuf=2048)
    rss0 = rss_kib(daemon_pid)
    window = 15  # under the 20 s after which a peer that answers no ping is dropped
    async with websockets.connect(f"ws://{server}/ws/projects/slow") as ws:
        await recv_json(ws)
        stamps = []
        t_end = time.monotonic() + window
        while time.monotonic() < t_end:
            await recv_json(ws, 2)
            stamps.append(time.monotonic())
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    late = [round(g, 2) for g in gaps if g > interval_s * 3]
    if len(stamps) < window / interval_s * 0.8 or late:
        fail(f"the reading client got {len(stamps)} messages, gaps over 3 periods: {late}")
    rss1 = rss_kib(daemon_pid)
    if rss1 - rss0 > 4096:
        fail(f"daemon RSS grew {rss1 - rss0} KiB beside a stalled client")
    # Now the stalled client reads: first what the kernel's buffers held (the
    # oldest messages), then, as room appears, what the server kept for it,
    # which must be the latest: its timestamps jump over everything skipped.
    def stamps_of(data):
        return [stamp_of(t.decode()) for t in re.findall(rb'"timestamp":"([^"]+)"', data)]
    data = b""
    stalled.settimeout(0.5)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            chunk = stalled.recv(1 << 20)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
        ts = stamps_of(data)
        if ts and time.time() - ts[-1] < 1:
            break  # caught up with the present
    ts = stamps_of(data)
    jumps = [round(b - a, 2) for a, b in zip(ts, ts[1:]) if b - a > interval_s * 5]
    if not jumps:
        fail(f"the stalled client holds {len(ts)} messages with no skipped stretch: queued?")
    print(f"ok slow reader: reader got {len(stamps)} on time (worst gap {max(gaps):.2f} s); "
          f"stalled one holds {len(ts)} of {len(stamps)}, skipping {jumps[:3]} s; "
          f"daemon RSS +{rss1 - rss0} KiB")


async def dead_peer(server, hangup_s):
    """A peer that never answers pings is dropped."""
    s = raw_upgrade(server, "/ws/projects/dead")
    s.settimeout(hangup_s + 15)
    t0 = time.monotonic()
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        fail(f"a silent peer was still connected after {hangup_s + 15} s")
    print(f"ok dead peer: dropped after {time.monotonic() - t0:.0f} s")


async def gpu(server, project, fake_proc, parent, child, ap):
    """DRM fdinfo of a run on a fake /proc: utilization, VRAM, dedupe, a
    counter going backwards, fds closing. A writer advances the counters at
    half of wall time: 50 %."""
    import os
    import subprocess
    import threading
    fdinfo = {  # path -> client id; fd 5 and its dup 6 in the parent, the child's fd 5
        f"{fake_proc}/{parent}/fdinfo/5": 4, f"{fake_proc}/{parent}/fdinfo/6": 4,
        f"{fake_proc}/{child}/fdinfo/5": 4}
    state = {"stop": False, "backwards": False}
    t0 = time.monotonic()
    # As on a real /proc, an fd's fdinfo goes with the fd: a pass of the
    # writer never puts back a file that close_fds() has just taken away.
    # The daemon holds each fdinfo open and reads it again in place, as
    # /proc shows an fd as it is at each read: the writer rewrites the same
    # file (one write; the text only grows, but for the short backwards
    # phase, whose stale tail is a line the parser skips), and a closed fd's
    # file is emptied before it goes, as /proc fails a read of a closed fd.
    lock = threading.Lock()

    def write_pass():
        busy = int((time.monotonic() - t0) * 0.5e9)
        if state["backwards"]:
            busy //= 4
        with lock:
            for path, cid in fdinfo.items():
                text = (f"pos:\t0\nflags:\t02100002\ndrm-driver:\tamdgpu\n"
                        f"drm-client-id:\t{cid}\ndrm-pdev:\t0000:04:00.0\n"
                        f"drm-resident-vram:\t2097152 KiB\ndrm-memory-vram:\t2097152 KiB\n"
                        f"drm-engine-gfx:\t{busy} ns\n")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
                try:
                    os.pwrite(fd, text.encode(), 0)
                finally:
                    os.close(fd)

    def write_all():
        while not state["stop"]:
            write_pass()
            time.sleep(0.01)

    def close_fds(paths):
        """Closes fds: their fd links and fdinfo files go; returns when."""
        with lock:
            for path in paths:
                del fdinfo[path]
                os.truncate(path, 0)
                os.unlink(path)
                os.unlink(path.replace("/fdinfo/", "/fd/"))
        return time.time()

    zero = {"available": True, "percent": 0, "vram_used_gb": 0, "vram_total_gb": 8.0}
    write_pass()  # every fdinfo exists before the daemon first looks at the run
    writer = threading.Thread(target=write_all, daemon=True)
    writer.start()
    try:
        async with websockets.connect(f"ws://{server}/ws/projects/{project}") as ws:
            # Watched before the run starts, so that the first look at its
            # clients is in a message: the snapshot made when the run
            # starts walks afresh when the latest walk is a period (1 s)
            # old, and with no live run nothing walks but the stream, whose
            # idle period is long here (test_gpu.sh).
            m = await recv_json(ws)
            check_message(m, project, gpu=True)
            if m["gpu"] != zero or m["run"]["pid"] is not None:
                fail(f"GPU host, no run: {m['gpu']}, {m['run']}")
            await asyncio.sleep(max(0, stamp_of(m["timestamp"]) + 1.1 - time.time()))
            t_attach = time.time()
            if subprocess.run([ap, "attach", "--project", project, "--pid", str(parent)],
                              stdout=subprocess.DEVNULL).returncode:
                fail("attach")
            deadline = time.monotonic() + 10
            while m["run"]["pid"] != parent:
                if time.monotonic() > deadline:
                    fail("the attached run never showed")
                m = await recv_json(ws, 10)
            if stamp_of(m["timestamp"]) < t_attach:
                fail(f"the run's first message is from a walk before it started: {m}")
            g = m["gpu"]
            # First sighting: no percent yet; VRAM counted once for three fds.
            if g["percent"] is not None or g["vram_used_gb"] != 2.0:
                fail(f"first GPU sample: {g}")
            for _ in range(3):
                g = (await recv_json(ws))["gpu"]
            if g["percent"] is None or not 45 <= g["percent"] <= 55 or g["vram_used_gb"] != 2.0:
                fail(f"a client busy half the time, deduped across fds and processes: {g}")
            # /metrics has it too, from the daemon's own tick.
            import urllib.request
            body = urllib.request.urlopen(f"http://{server}/metrics", timeout=5).read().decode()
            mm = re.search(r'^agentperf_run_gpu_utilization_ratio\{project="%s",run_id="[^"]+"\} '
                           r'([0-9.]+)$' % project, body, re.M)
            if not mm or not 0.45 <= float(mm.group(1)) <= 0.55:
                fail(f"/metrics GPU ratio: {mm.group(0) if mm else body}")
            # A counter going backwards: never negative or wild; then back to 50.
            state["backwards"] = True
            t_change = time.time() + 0.02  # the writer's next pass
            seen = [(await recv_after(ws, t_change))["gpu"]["percent"],
                    (await recv_json(ws))["gpu"]["percent"]]
            state["backwards"] = False
            t_back = time.time()
            if any(p is None or p < 0 or p > 100 for p in seen) or seen[-1] != 0:
                fail(f"a counter that went backwards gave {seen}")
            # Back above the old baseline, it counts again from it.
            while time.time() - t_back < 12:
                m = await recv_after(ws, t_back)
                if m["gpu"]["percent"] and 45 <= m["gpu"]["percent"] <= 55:
                    break
            else:
                fail(f"never recovered after the counter went backwards: {m['gpu']}")
            # The dup'd fd closes: still one client.
            t_change = close_fds([f"{fake_proc}/{parent}/fdinfo/6"])
            g = (await recv_after(ws, t_change, 2))["gpu"]
            if g["vram_used_gb"] != 2.0 or not 45 <= (g["percent"] or 0) <= 55:
                fail(f"after closing a dup'd fd: {g}")
            # Every fd closes: the run uses no GPU.
            t_change = close_fds(list(fdinfo))
            g = (await recv_after(ws, t_change, 2))["gpu"]
            if g != zero:
                fail(f"after closing every fd: {g}")
    finally:
        state["stop"] = True
        writer.join()
    print("ok gpu: 50 % from fdinfo, 2 GiB once for 3 fds in 2 processes, 8 GiB total, "
          "backwards counter, closed fds, other processes ignored")


async def registry(server, known, agent_pid):
    """With --autoforge-registry: an unknown name gets the harness's error and
    4004; a registered one streams, its agent's run included."""
    msgs, code, reason = await close_of(f"ws://{server}/ws/projects/not-registered")
    if msgs != [{"type": "error", "content": "Project not found in registry"}] or code != 4004:
        fail(f"unregistered project: {msgs}, close {code} {reason!r}")
    msgs, code, _ = await close_of(f"ws://{server}/ws/projects/bad%20name")
    if code != 4000:
        fail(f"an invalid name is still 4000 first, not {code}")
    async with websockets.connect(f"ws://{server}/ws/projects/{known}") as ws:
        m = await recv_json(ws)
        check_message(m, known)
        if agent_pid and (m["run"]["pid"] != agent_pid or m["run"]["status"] != "running"):
            fail(f"{known}'s agent run is not streamed: {m['run']}")
    print(f"ok registry: 4004 for an unregistered name; {known} streams"
          + (f" its agent's run (pid {agent_pid})" if agent_pid else ""))


def main():
    check, server, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    fn = {
        "basics": lambda: basics(server),
        "run": lambda: run_cycle(server, args[0], int(args[1])),
        "token": lambda: tokens_auth(server, args[0]),
        "remote": lambda: origins_remote(server, args[0], args[1]),
        "max-clients": lambda: max_clients(server, int(args[0])),
        "slow-reader": lambda: slow_reader(server, int(args[0]), float(args[1])),
        "dead-peer": lambda: dead_peer(server, int(args[0])),
        "gpu": lambda: gpu(server, args[0], args[1], int(args[2]), int(args[3]), args[4]),
        "registry": lambda: registry(server, args[0], int(args[1])),
    }[check]
    asyncio.run(fn())


if __name__ == "__main__":
    main()
