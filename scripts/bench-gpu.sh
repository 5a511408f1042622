#!/usr/bin/env bash
# Per-tick cost of GPU sampling for a run of PROCS processes with FDS fds each
# (2 of them DRM fds sharing one client; the rest links to /dev/null, as
# /proc's are), on a fake /proc and /sys: the
# daemon times each run's GPU reads (debug log, -v); one WebSocket watcher keeps
# the project sampled every second. Reports median and max over SECS seconds,
# which include the fd-table rescans every 5 s.
# Usage (root): scripts/bench-gpu.sh [PROCS] [FDS] [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
PROCS=${1:-200}
FDS=${2:-50}
SECS=${3:-15}
BUILD=${BUILD:-build}
T=$(mktemp -d /tmp/agentperf-benchgpu.XXXXXX)
F=$T/fake
export AGENTPERF_CONTROL=$T/ctl.sock
PORT=18997
# Its own pinned BPF state, removed at the end (the default is the host's).
BPF_DIR=/sys/fs/bpf/agentperf-benchgpu-$$
DPID= ROOT_PID=

[ "$(id -u)" = 0 ] || { echo "bench-gpu: run as root" >&2; exit 1; }
[ -x "$BUILD/agentperfd" ] || make -s all
cleanup() {
	# The run's processes, by the pids they were started with.
	[ -z "$ROOT_PID" ] || kill "$ROOT_PID" $(cat "$T/kids" 2>/dev/null) 2>/dev/null || true
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$BPF_DIR" "$T"
}
trap cleanup EXIT

mkdir -p "$F/dev/dri"
mknod "$F/dev/dri/renderD128" c 226 128
mkdir -p "$F/proc" "$F/sys/bus/pci/drivers/amdgpu" "$F/sys/class/drm/renderD128/device" "$F/sys/class/drm/card0/device"
ln -s ../../../../bus/pci/drivers/amdgpu "$F/sys/class/drm/renderD128/device/driver"
echo 8589934592 >"$F/sys/class/drm/card0/device/mem_info_vram_total"
ln -s /proc/meminfo "$F/proc/meminfo"
ln -s /proc/stat "$F/proc/stat"

# The run: a shell with PROCS sleeping children.
# Each child's pid goes to $T/kids as it starts.
bash -c "for i in \$(seq $PROCS); do sleep 600 & echo \$! >>'$T/kids'; done; wait" &
ROOT_PID=$!
for _ in $(seq 600); do [ "$(cat "$T/kids" 2>/dev/null | wc -l)" -ge "$PROCS" ] && break; sleep 0.05; done
[ "$(wc -l <"$T/kids")" -ge "$PROCS" ] || { echo "bench-gpu: the run's $PROCS children did not start" >&2; exit 1; }
for pid in "$ROOT_PID" $(cat "$T/kids"); do
	d=$F/proc/$pid
	mkdir -p "$d/fd" "$d/fdinfo"
	cp "/proc/$pid/status" "$d/status"
	for fd in $(seq 5 $((FDS + 2))); do ln -s /dev/null "$d/fd/$fd"; done
	# DRM fds link to a device node, as /proc's link to /dev/dri/renderD128.
	ln -s "$F/dev/dri/renderD128" "$d/fd/3"
	ln -s "$F/dev/dri/renderD128" "$d/fd/4"
	info="drm-driver:\tamdgpu\ndrm-client-id:\t$pid\ndrm-pdev:\t0000:04:00.0\ndrm-resident-vram:\t1024 KiB\ndrm-engine-gfx:\t1000 ns\ndrm-engine-compute:\t10 ns\n"
	printf "$info" >"$d/fdinfo/3"
	printf "$info" >"$d/fdinfo/4"
done

"$BUILD/agentperfd" -v --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" \
	--listen 127.0.0.1:$PORT \
	--proc-root "$F/proc" --sys-root "$F/sys" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 600); do grep -q listening "$T/daemon.log" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$T/daemon.log" || { echo "bench-gpu: agentperfd did not start" >&2; exit 1; }
"$BUILD/agentperf" attach --project gpubench --pid "$ROOT_PID" >/dev/null
timeout "$SECS" "$BUILD/agentperf" --server 127.0.0.1:$PORT watch gpubench >/dev/null &
# STRACE=1: a syscall profile of the daemon in $BUILD/strace.txt.
[ -n "${STRACE:-}" ] && timeout 8 strace -c -f -p "$DPID" 2>"$BUILD/strace.txt"
wait $! || true

# "gpu sampling of run 1234-2026-...Z: 201 processes, 201 clients, 0 on NVIDIA,
#  1.530 ms since the walk began, 0.912 ms": the GPU reads' own cost last,
# and before it the time since the sampling pass began (its BPF task walk
# included), which is what this script reported before the two were split.
sed -n 's/.*gpu sampling of run [^ ]*: //p' "$T/daemon.log" | tail -n +2 >"$T/ticks"
n=$(wc -l <"$T/ticks")
[ "$n" -gt 0 ] || { echo "bench-gpu: no samples" >&2; exit 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med=$(awk '{ print $(NF - 1) }' "$T/ticks" | median)
max=$(awk '{ print $(NF - 1) }' "$T/ticks" | sort -g | tail -1)
walk=$(awk '{ print $8 }' "$T/ticks" | median)
procs=$(awk '{ print $1 }' "$T/ticks" | sort -g | tail -1)
clients=$(awk '{ print $3 }' "$T/ticks" | sort -g | tail -1)
{
	echo "GPU sampling per tick, fake tree, $(nproc) CPUs, $n ticks:"
	echo
	echo "| run | DRM clients | median | max (with fd-table rescans) | median since the walk began |"
	echo "|---|---|---|---|---|"
	echo "| $procs processes × $FDS fds (2 DRM each) | $clients | $med ms | $max ms | $walk ms |"
} | tee "$BUILD/bench-gpu.md"
