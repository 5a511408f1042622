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
daemon_stop
