#!/usr/bin/python3
"""NVML figures of a tracked run against a running agentperfd that loaded the
fake libnvidia-ml (tests/integration/fakenvml/), whose answers this script
rewrites over time in the state file: VRAM of the run's own processes, SM
utilization from samples, accounting of a process that exits, a device
error, per-device figures in `status --gpus` and /metrics, and the run's
gpu_seconds against the integral of the fixture. Usage:
  nvml_check.py HOST:PORT PROJECT STATE DAEMON_LOG AGENTPERF PARENT A B OTHER
(A and B are the parent's children; OTHER is outside the run.) FAKENVML_MODE
says how the fake answers nvmlDeviceGetProcessUtilization: "all" (every busy
period's sample) or "one" (NVIDIA's one sample per process, its mean since
lastSeenTimeStamp). Prints the figures it needs for the record check as one
JSON line on success."""
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_rules import check_message, fail, recv_after, recv_json  # noqa: E402

GIB = 1 << 30
TOTAL = 150754820096  # an H200's memory as NVML reports it
TOTAL1 = 85520809984  # an H100's, the second NVIDIA device (accounting mode off)
DRM_TOTAL = 8 * GIB  # the fake amdgpu card beside it
PERIOD_US = 100000  # the fake's sample period


def now_us():
    return time.time_ns() // 1000


class Fixture:
    """The fake library's state file: two devices, processes, samples, errors."""

    def __init__(self, path):
        self.path = path
        self.procs = []  # (list, pid, bytes or "na")
        self.busy = []  # (pid, sm, from_us, to_us)
        self.busy1 = []  # the same, on the second device
        self.acct = []  # (pid, util, start_us, time_ms)
        self.error = 0

    def write(self):
        mode = os.environ.get("FAKENVML_MODE", "all")
        lines = ["devices 2", "name 0 NVIDIA H200", f"memory 0 {TOTAL} {10 * GIB}", "util 0 37",
                 "accounting 0 1", f"error 0 {self.error}", f"samples 0 {mode}",
                 "name 1 NVIDIA H100", f"memory 1 {TOTAL1} {GIB}", "util 1 5", "accounting 1 0",
                 f"samples 1 {mode}"]
        lines += [f"busy 1 {pid} {sm} {a} {b}" for pid, sm, a, b in self.busy1]
        lines += [f"proc 0 {lst} {pid} {mem}" for lst, pid, mem in self.procs]
        lines += [f"busy 0 {pid} {sm} {a} {b}" for pid, sm, a, b in self.busy]
        lines += [f"acct 0 {pid} {u} {s} {ms} 0" for pid, u, s, ms in self.acct]
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, self.path)  # the fake reads the file at every call


READING = re.compile(r"gpu of run (\S+): ([0-9.]+) % over ([0-9.]+) s to ([0-9.]+), "
                     r"gpu_seconds ([0-9.]+)$")


def readings(log, run_id):
    """The daemon's known GPU readings of the run (-v): (percent, seconds
    since the previous reading, wall time, gpu_seconds so far)."""
    out = []
    with open(log) as f:
        for line in f:
            m = READING.search(line.strip())
            if m and m.group(1) == run_id:
                out.append(tuple(float(m.group(i)) for i in range(2, 6)))
    return out


async def next_reading(log, run_id, after, timeout=15):
    """The first reading of the run later than wall time `after`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        later = [r for r in readings(log, run_id) if r[2] > after]
        if later:
            return later[0]
        await asyncio.sleep(0.02)
    fail(f"no GPU reading of run {run_id} after {after:.3f} within {timeout} s")


def metrics(server):
    return urllib.request.urlopen(f"http://{server}/metrics", timeout=5).read().decode()


def sample(body, name, labels):
    m = re.search(r"^%s\{%s\} ([0-9.e+-]+)$" % (re.escape(name), re.escape(labels)), body, re.M)
    return float(m.group(1)) if m else None


def gpus(ap):
    out = subprocess.run([ap, "status", "--gpus", "--json"], check=True, capture_output=True,
                         text=True).stdout
    return {d["device"]: d for d in json.loads(out)}


async def until(ws, t, pred, what, timeout=20):
    """The first message built after t whose gpu satisfies pred."""
    deadline = time.monotonic() + timeout
    m = None
    while time.monotonic() < deadline:
        m = await recv_after(ws, t, timeout=max(0.1, deadline - time.monotonic()))
        if pred(m["gpu"]):
            return m
    fail(f"{what}: last gpu {m['gpu'] if m else None}")


async def main():
    server, project, state, log, ap = sys.argv[1:6]
    parent, a, b, other = (int(x) for x in sys.argv[6:10])
    fx = Fixture(state)
    t_start = now_us()
    # Another process's context is busy and big the whole time: never the run's.
    fx.procs = [("compute", other, 4 * GIB), ("compute", a, 2 * GIB), ("graphics", a, 2 * GIB),
                ("compute", b, GIB)]
    fx.busy = [(other, 30, t_start, t_start + 600 * 10**6)]
    fx.write()
    async with websockets.connect(f"ws://{server}/ws/projects/{project}") as ws:
        m = await recv_json(ws)
        check_message(m, project, gpu=True)
        run_id = m["run"]["run_id"]
        total_gb = round((TOTAL + TOTAL1 + DRM_TOTAL) / GIB, 1)
        # VRAM of the run's own processes, A once for its two lists; its
        # idle processes use no SM time while another's is busy.
        g = (await until(ws, time.time(), lambda g: g["percent"] is not None,
                         "a known GPU percent"))["gpu"]
        if g != {"available": True, "percent": 0, "vram_used_gb": 3.0, "vram_total_gb": total_gb}:
            fail(f"idle run beside a busy non-member: {g}")

        # A is busy half of each 100 ms sample for 3 s on the sample grid.
        t1 = (now_us() // PERIOD_US + 10) * PERIOD_US
        t2 = t1 + 3 * 10**6
        fx.busy.append((a, 50, t1, t2))
        fx.write()
        await asyncio.sleep((t1 - now_us()) / 1e6 + 1.3)
        m = await until(ws, time.time(), lambda g: g["percent"] is not None and
                        45 <= g["percent"] <= 55, "50 % over whole windows")
        body = metrics(server)
        ratio = sample(body, "agentperf_run_gpu_utilization_ratio",
                       f'project="{project}",run_id="{run_id}"')
        if ratio is None or not 0.40 <= ratio <= 0.60:
            fail(f"/metrics run GPU ratio {ratio} while 50 % busy")
        if sample(body, "agentperf_run_gpu_seconds_total",
                  f'project="{project}",run_id="{run_id}"') is None:
            fail("/metrics has no gpu_seconds counter for a live run with GPU figures")
        want = {('agentperf_gpu_memory_used_bytes', 'device="nvidia0"'): 10 * GIB,
                ('agentperf_gpu_memory_total_bytes', 'device="nvidia0"'): TOTAL,
                ('agentperf_gpu_utilization_ratio', 'device="nvidia0"'): 0.37,
                ('agentperf_gpu_memory_used_bytes', 'device="renderD128"'): GIB,
                ('agentperf_gpu_memory_total_bytes', 'device="renderD128"'): DRM_TOTAL,
                ('agentperf_gpu_utilization_ratio', 'device="renderD128"'): 0.12}
        for (name, labels), v in want.items():
            if sample(body, name, labels) != v:
                fail(f"/metrics {name}{{{labels}}} is {sample(body, name, labels)}, not {v}")
        for line in ('agentperf_gpu_info{device="nvidia0",name="NVIDIA H200",backend="nvml"} 1',
                     'agentperf_gpu_info{device="renderD128",name="amdgpu 0000:04:00.0",'
                     'backend="drm"} 1'):
            if line not in body.splitlines():
                fail(f"/metrics lacks {line}")
        devs = gpus(ap)
        if devs.get("nvidia0") != {"device": "nvidia0", "name": "NVIDIA H200", "backend": "nvml",
                                   "method": "samples+accounting", "memory_total_bytes": TOTAL, "memory_used_bytes": 10 * GIB,
                                   "utilization_percent": 37}:
            fail(f"status --gpus nvidia0: {devs.get('nvidia0')}")
        if devs.get("nvidia1", {}).get("method") != "samples":
            fail(f"status --gpus nvidia1 (accounting mode off): {devs.get('nvidia1')}")
        if devs.get("renderD128", {}).get("utilization_percent") != 12 or \
                devs["renderD128"].get("method") != "fdinfo":
            fail(f"status --gpus renderD128: {devs.get('renderD128')}")
        await asyncio.sleep((t2 - now_us()) / 1e6 + 1.2)

        # B exits right after a reading; accounting says it was 40 % busy
        # over its life: the next reading adds it over the part of its
        # window that B lived.
        prev = await next_reading(log, run_id, time.time())
        e = now_us() + 100000
        fx.procs = [p for p in fx.procs if p[1] != b]
        fx.acct.append((b, 40, t_start - 5 * 10**6, (e - (t_start - 5 * 10**6)) // 1000))
        fx.write()
        await asyncio.sleep(max(0, (e - now_us()) / 1e6))
        os.kill(b, signal.SIGKILL)
        after = await next_reading(log, run_id, prev[2])
        acct_want = 40 * (e / 1e6 - prev[2]) / (after[2] - prev[2])
        if abs(after[0] - acct_want) > 1.5:
            fail(f"reading after B exited: {after[0]:.3f} %, accounting says {acct_want:.3f} %")
        g = (await until(ws, time.time(), lambda g: g["vram_used_gb"] == 2.0,
                         "VRAM without B"))["gpu"]

        # The device is lost: unknown, never zero, anywhere.
        fx.error = 15  # NVML_ERROR_GPU_IS_LOST
        fx.write()
        t_err = time.time()
        await until(ws, t_err + 1.1, lambda g: g["percent"] is None and
                    g["vram_used_gb"] is None and g["available"] is True, "nulls on a lost GPU")
        body = metrics(server)
        if sample(body, "agentperf_run_gpu_utilization_ratio",
                  f'project="{project}",run_id="{run_id}"') is not None:
            fail("/metrics shows a GPU ratio for a run on a lost GPU")
        if sample(body, "agentperf_gpu_memory_used_bytes", 'device="nvidia0"') is not None:
            fail("/metrics shows memory in use of a lost GPU")
        nv = gpus(ap)["nvidia0"]
        if nv["memory_used_bytes"] is not None or nv["utilization_percent"] is not None:
            fail(f"status --gpus of a lost GPU: {nv}")
        fx.error = 0
        fx.write()
        await until(ws, time.time() + 1.1, lambda g: g["percent"] == 0 and
                    g["vram_used_gb"] == 2.0, "figures back after the GPU answers again")

    # The second device: A busy at 30 % there for 2 s, alone: the run's
    # busiest device then.
    t5 = (now_us() // PERIOD_US + 5) * PERIOD_US
    t6 = t5 + 2 * 10**6
    fx.busy1.append((a, 30, t5, t6))
    fx.write()
    await asyncio.sleep((t6 - now_us()) / 1e6 + 1.2)

    # The last interval: A busy at 50 % from t3 until the run ends at t4,
    # some 0.8 s after a reading: the reading after the end counts it up to
    # t4 (the driver keeps an exited process's samples), nothing after.
    last = await next_reading(log, run_id, time.time())
    t3 = (int(last[2] * 1e6) // PERIOD_US + 2) * PERIOD_US
    fx.busy.append((a, 50, t3, t3 + 60 * 10**6))
    fx.write()
    r = await next_reading(log, run_id, t3 / 1e6)
    t4 = (int(r[2] * 1e6) // PERIOD_US + 8) * PERIOD_US
    fx.busy[-1] = (a, 50, t3, t4)
    fx.write()
    await asyncio.sleep(max(0, (t4 - now_us()) / 1e6))
    os.kill(a, signal.SIGKILL)
    os.kill(parent, signal.SIGKILL)
    print(json.dumps({"run_id": run_id,
                      "phase_seconds": (0.5 * (t2 - t1 + t4 - t3) + 0.3 * (t6 - t5)) / 1e6,
                      "acct_seconds": 0.4 * (e / 1e6 - prev[2])}))


if __name__ == "__main__":
    asyncio.run(main())
