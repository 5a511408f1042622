#!/usr/bin/python3
"""A process's own CPU, as the kernel counts it (schedstat), over wall time:
the reference for the daemon's rates (cores) on a host where the process
does not get a whole core. A rate is CPU over an interval; the daemon's
interval is known to lie within bounds (it ends at a walk at most ~1 s
before the figure is read and spans 0.9 s or more), so a figure is right
when it lies within the process's own rates over every such interval.

Usage:
  cpu_rate.py record PID FILE     write "EPOCH_S CPU_NS" lines every 20 ms
                                  until PID exits (run it in the background)
  cpu_rate.py wait FILE SECONDS   wait (up to 60 s) until FILE spans SECONDS
  cpu_rate.py check FILE VALUE E0 E1 [LMIN LMAX]
                                  exit 0 when VALUE (cores) lies within the
                                  process's rates over intervals ending in
                                  [E0, E1] (epoch seconds) and LMIN..LMAX s
                                  long (default 0.9..3), give or take 0.05;
                                  prints the band either way
ws_rules.py imports Recorder and Series for the same in-process."""
import os
import sys
import threading
import time

TOLERANCE = 0.05  # cores: display rounding, and schedstat vs. the daemon's count


def cpu_ns(pid):
    """Every thread's runtime so far (ns), or None once the process is gone."""
    total, seen = 0, False
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
                seen = True
        except (OSError, ValueError, IndexError):
            pass
    return total if seen else None


class Series:
    """(epoch seconds, CPU ns) points, linearly interpolated between."""

    def __init__(self, points=None):
        self.points = list(points or [])

    @classmethod
    def load(cls, path):
        pts = []
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 2:
                    pts.append((float(p[0]), int(p[1])))
        return cls(pts)

    def span(self):
        return self.points[-1][0] - self.points[0][0] if len(self.points) > 1 else 0

    def at(self, t):
        """CPU ns at wall time t, or None outside the series."""
        pts = self.points
        if len(pts) < 2 or t < pts[0][0] or t > pts[-1][0]:
            return None
        lo, hi = 0, len(pts) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if pts[mid][0] <= t:
                lo = mid
            else:
                hi = mid
        (t0, c0), (t1, c1) = pts[lo], pts[hi]
        return c0 if t1 == t0 else c0 + (c1 - c0) * (t - t0) / (t1 - t0)

    def rate(self, a, b):
        """Cores over [a, b], or None outside the series."""
        ca, cb = self.at(a), self.at(b)
        return None if ca is None or cb is None or b <= a else (cb - ca) / 1e9 / (b - a)

    def band(self, e0, e1, lmin=0.9, lmax=3.0):
        """(lowest, highest) rate over intervals ending in [e0, e1], lmin..lmax
        long; None where the series covers none of them."""
        rates = []
        steps = max(1, int((e1 - e0) / 0.02))
        lsteps = max(1, int((lmax - lmin) / 0.05))
        for i in range(steps + 1):
            e = e0 + (e1 - e0) * i / steps
            for j in range(lsteps + 1):
                r = self.rate(e - (lmin + (lmax - lmin) * j / lsteps), e)
                if r is not None:
                    rates.append(r)
        return (min(rates), max(rates)) if rates else None

    def within(self, value, e0, e1, lmin=0.9, lmax=3.0):
        """(ok, text): value against the band, for a failure message."""
        b = self.band(e0, e1, lmin, lmax)
        if b is None:
            return False, f"{value} cores: the process's CPU was not recorded over that time"
        ok = b[0] - TOLERANCE <= value <= b[1] + TOLERANCE
        return ok, f"{value} cores; the process's own rate over the same time {b[0]:.3f}..{b[1]:.3f}"


class Recorder(threading.Thread):
    """Records a process's CPU every 20 ms into a Series, in a thread."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.series, self.stop = pid, Series(), False

    def run(self):
        while not self.stop:
            c = cpu_ns(self.pid)
            if c is None:
                return
            self.series.points.append((time.time(), c))
            time.sleep(0.02)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "record":
        pid, path = int(args[0]), args[1]
        with open(path, "w") as f:
            while (c := cpu_ns(pid)) is not None:
                f.write(f"{time.time():.6f} {c}\n")
                f.flush()
                time.sleep(0.02)
    elif cmd == "wait":
        path, want = args[0], float(args[1])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(path) and Series.load(path).span() >= want:
                return
            time.sleep(0.1)
        sys.exit(f"{path} did not span {want} s within 60 s")
    elif cmd == "check":
        s = Series.load(args[0])
        ok, text = s.within(float(args[1]), *map(float, args[2:]))
        print(text)
        sys.exit(0 if ok else 1)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
