#!/usr/bin/python3
"""N WebSocket clients on one project for S seconds (Debian's python3-websockets).
Prints one line: clients, messages, per-client message counts (min), and the
delays from each message's timestamp to its receipt, as a JSON object."""
import asyncio
import json
import re
import sys
import time

import websockets

TS = re.compile(r'"timestamp":"([^"]+)"')


def ts_ms(s):
    return time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 - time.timezone * 1000 \
        + int(s[20:23])


async def client(uri, until, delays, counts, i):
    async with websockets.connect(uri, open_timeout=30, ping_interval=None) as ws:
        while time.time() < until:
            try:
                m = await asyncio.wait_for(ws.recv(), max(0.1, until - time.time()))
            except asyncio.TimeoutError:
                break
            now = time.time() * 1000
            if '"perf_metrics"' in m:
                delays.append(now - ts_ms(TS.search(m).group(1)))
                counts[i] += 1


async def main(server, project, n, secs):
    uri = f"ws://{server}/ws/projects/{project}"
    delays, counts = [], [0] * n
    start = time.time() + 3  # connect everyone, then count from the same moment
    tasks = [asyncio.create_task(client(uri, start + secs, delays, counts, i)) for i in range(n)]
    await asyncio.sleep(max(0, start - time.time()))
    delays.clear()
    counts[:] = [0] * n
    await asyncio.gather(*tasks)
    print(json.dumps({"clients": n, "min_per_client": min(counts), "max_per_client": max(counts),
                      "messages": len(delays), "delays_ms": sorted(delays)}))


asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
