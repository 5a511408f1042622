#!/usr/bin/python3
"""burner.py SECONDS OUT: spins SECONDS of its own CPU, then writes to OUT
the CPU the kernel accounted to the tool call's process so far, in ns
(/proc/PID/schedstat's first field): its own, plus its parent's when the
parent is the call's shell (bash), not the agent that forked it (Codex's
shell execs a lone command in its own process). The test compares a tool
call's cpu_seconds with it."""
import os
import sys
import time


def ran(pid):
    with open("/proc/%s/schedstat" % pid) as f:
        return int(f.read().split()[0])


def main():
    secs, out = float(sys.argv[1]), sys.argv[2]
    t = time.process_time()
    x = 0
    while time.process_time() - t < secs:
        x += 1
    ppid = os.getppid()
    with open("/proc/%d/comm" % ppid) as f:
        parent = f.read().strip()
    total = ran("self") + (ran(ppid) if parent in ("bash", "sh") else 0)
    with open(out, "w") as f:
        f.write("%d %s\n" % (total, parent))


main()
