#!/usr/bin/env bash
# GPU figures from DRM fdinfo on faithful fake /proc and /sys trees: a real
# tracked tree whose fake /proc entries hold DRM fds (char devices 226:128
# made with mknod), with fdinfo the test advances over time.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
F=$T/fake

# /sys: an amdgpu render node, and a card with 8 GiB of VRAM.
mkdir -p "$F/sys/bus/pci/drivers/amdgpu" "$F/sys/class/drm/renderD128/device" "$F/sys/class/drm/card0/device"
ln -s ../../../../bus/pci/drivers/amdgpu "$F/sys/class/drm/renderD128/device/driver"
echo 8589934592 >"$F/sys/class/drm/card0/device/mem_info_vram_total"
# /proc: the host files come from the real one.
mkdir -p "$F/proc"
ln -s /proc/meminfo "$F/proc/meminfo"
ln -s /proc/stat "$F/proc/stat"
mirror() { mkdir -p "$F/proc/$1/fd" "$F/proc/$1/fdinfo"; cp "/proc/$1/status" "$F/proc/$1/status"; }

# A long idle period: before the run starts, the stream walks only then
# (ws_rules.py starts the run a second after one, so that the daemon's first
# look at its clients is the snapshot the start makes).
daemon_start --proc-root "$F/proc" --sys-root "$F/sys" --interval-idle 10000
grep -q "GPU: a DRM device reports usage" "$T/daemon.log" || fail "the fake GPU was not found"

# A parent and its child; both will hold the same DRM client.
sh -c 'sleep 120 & wait' &
parent=$!
child_of() { child=$(pgrep -P "$parent" sleep) || return 1; }
wait_until 20 child_of || fail "no child"
mirror "$parent"
mirror "$child"
touch "$F/proc/$parent/fd/0" # not a device: ignored
mknod "$F/proc/$parent/fd/5" c 226 128
mknod "$F/proc/$parent/fd/6" c 226 128 # a dup of fd 5: the same client
mknod "$F/proc/$child/fd/5" c 226 128  # inherited: the same client again
# A process outside the run with a huge client: never counted.
sleep 120 &
other=$!
mirror "$other"
mknod "$F/proc/$other/fd/3" c 226 128
printf 'drm-driver:\tamdgpu\ndrm-client-id:\t99\ndrm-pdev:\t0000:04:00.0\ndrm-resident-vram:\t4 GiB\ndrm-engine-gfx:\t1 ns\n' \
	>"$F/proc/$other/fdinfo/3"

# ws_rules.py attaches the parent once it watches the project.
$PY "$ROOT/tests/integration/ws_rules.py" gpu "$AGENTPERF_SERVER" gpu "$F/proc" "$parent" "$child" "$AP" || fail "gpu"
kill "$parent" "$child" "$other" 2>/dev/null || true

# gpu_seconds from DRM: a new run's client is busy 50 % from TA to TB, each
# somewhere between two passes; its record holds that integral. (DRM's
# engine counters are cumulative, so a phase's edges cost nothing; the time
# from the last pass to the run's end is lost with its processes' fdinfo,
# so the phase ends seconds before the run does.)
sleep 120 &
p2=$!
mirror "$p2"
mknod "$F/proc/$p2/fd/5" c 226 128
now() { date +%s.%N; }
ta=$(awk -v t="$(now)" 'BEGIN { printf "%.3f", t + 2.37 }')
tb=$(awk -v t="$ta" 'BEGIN { printf "%.3f", t + 2.41 }')
$PY - "$F/proc/$p2/fdinfo/5" "$ta" "$tb" <<'EOF' &
import os, sys, time
path, ta, tb = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
while True:  # rewritten in place, as /proc shows it at each read
    busy = int(0.5e9 * max(0.0, min(time.time(), tb) - ta))
    text = ("drm-driver:\tamdgpu\ndrm-client-id:\t7\ndrm-pdev:\t0000:04:00.0\n"
            "drm-resident-vram:\t1048576 KiB\ndrm-engine-gfx:\t%d ns\n" % busy)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.pwrite(fd, text.encode(), 0)
    os.close(fd)
    time.sleep(0.01)
EOF
writer=$!
"$AP" attach --project gpu2 --pid "$p2" >/dev/null || fail "attach gpu2"
past_tb() { awk -v t="$(now)" -v b="$tb" 'BEGIN { exit !(t > b + 1.5) }'; }
wait_until 30 past_tb || fail "the clock never passed the phase"
kill "$p2"
rec=$(wait_record gpu2)
kill "$writer"
got=$(jq -r .gpu_seconds <<<"$rec")
want=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.6f", 0.5 * (b - a) }')
echo "DRM gpu_seconds $got for a 50 % phase of $(awk -v a="$ta" -v b="$tb" 'BEGIN { print b - a }') s (integral $want)"
awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; b = 0.02 * w;
	exit !((d < 0 ? -d : d) <= (b > 0.05 ? b : 0.05)) }' ||
	fail "DRM gpu_seconds $got, the integral is $want: $rec"
daemon_stop
