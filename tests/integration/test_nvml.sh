#!/usr/bin/env bash
# NVIDIA GPU figures through NVML, on a host that also has a DRM GPU: the
# daemon loads a fake libnvidia-ml (--nvml-lib; tests/integration/fakenvml/)
# whose devices, processes, samples and errors nvml_check.py changes over
# time, for a real tracked tree; then the record's gpu_seconds against the
# integral of what the fake served. Twice: the fake giving every sample
# period's sample, then NVIDIA's one sample per process (its mean since
# lastSeenTimeStamp). Then a daemon with no library at all.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
F=$T/fake
LIB=$ROOT/$BUILD/fakenvml/libnvidia-ml.so.1
[ -r "$LIB" ] || make -C "$ROOT" -s --no-print-directory BUILD="$BUILD" "$BUILD/fakenvml/libnvidia-ml.so.1" ||
	fail "cannot build the fake NVML library"

# /sys: an amdgpu card at 0000:04:00.0 with 8 GiB (1 GiB used, 12 % busy).
pci=$F/sys/devices/pci0000:00/0000:04:00.0
mkdir -p "$F/sys/bus/pci/drivers/amdgpu" "$pci" "$F/sys/class/drm"
ln -s ../../../bus/pci/drivers/amdgpu "$pci/driver"
echo 8589934592 >"$pci/mem_info_vram_total"
echo 1073741824 >"$pci/mem_info_vram_used"
echo 12 >"$pci/gpu_busy_percent"
# Its render node and card, as sysfs has them: NODE/device is the PCI device.
for n in renderD128 card0; do
	mkdir -p "$F/sys/class/drm/$n"
	ln -s ../../../devices/pci0000:00/0000:04:00.0 "$F/sys/class/drm/$n/device"
done

# The whole check, the fake answering in MODE (nvml_check.py's FAKENVML_MODE).
check_mode() {
export FAKENVML_MODE=$1
export FAKENVML_STATE=$T/nvml.state
printf 'devices 2\nname 0 NVIDIA H200\nmemory 0 150754820096 10737418240\nutil 0 37\naccounting 0 1\nsamples 0 %s\nname 1 NVIDIA H100\nmemory 1 85520809984 1073741824\n' \
	"$1" >"$FAKENVML_STATE"
daemon_start -v --nvml-lib "$LIB" --sys-root "$F/sys"
grep -q "GPU: a DRM device and NVML report usage; 3 devices: renderD128 (amdgpu 0000:04:00.0, 8.0 GiB), nvidia0 (NVIDIA H200, 140.4 GiB), nvidia1 (NVIDIA H100, 79.6 GiB)" \
	"$T/daemon.log" || fail "the devices were not named at start"

# The run: a shell and two children (A stays, B exits); another process outside it.
sh -c 'sleep 120 & sleep 120 & wait' &
parent=$!
two_kids() {
	kids=$(pgrep -P "$parent" sleep | sort -n | tr '\n' ' ')
	[ "$(wc -w <<<"$kids")" = 2 ]
}
wait_until 20 two_kids || fail "no children"
read -r a b <<<"$kids"
sleep 120 &
other=$!
"$AP" attach --project "nvml-$1" --pid "$parent" >/dev/null || fail "attach"
out=$($PY "$ROOT/tests/integration/nvml_check.py" "$AGENTPERF_SERVER" "nvml-$1" "$FAKENVML_STATE" \
	"$T/daemon.log" "$AP" "$parent" "$a" "$b" "$other") || fail "nvml"
"$AP" status --gpus | grep -Eq "^nvidia0 +nvml +samples\+accounting +[0-9]+% " ||
	fail "status --gpus does not say how nvidia0 is read: $("$AP" status --gpus)"
"$AP" status --gpus | grep -Eq "^nvidia1 +nvml +samples +[0-9]+% " ||
	fail "status --gpus does not say how nvidia1 is read: $("$AP" status --gpus)"
grep -q "NVML: nvidia0: GPU is lost: its figures are unknown until it answers" "$T/daemon.log" ||
	fail "the lost GPU was not logged"
grep -q "NVML: nvidia0 answers again" "$T/daemon.log" || fail "the GPU's return was not logged"

# The record: gpu_seconds is the sum of the readings' percent × interval,
# and the integral of what the fake served: A's 3 s at 50 %, its 2 s at 30 %
# on the second device, its last 50 % phase up to the run's end, B's
# accounting.
kill "$a" "$parent" 2>/dev/null || true
rec=$(wait_record "nvml-$1")
run_id=$(jq -r .run_id <<<"$out")
[ "$(jq -r .run_id <<<"$rec")" = "$run_id" ] || fail "record of another run: $rec"
sum=$(sed -n "s/.*gpu of run $run_id: \([0-9.]*\) % over \([0-9.]*\) s to .*/\1 \2/p" "$T/daemon.log" |
	awk '{ s += $1 / 100 * $2 } END { printf "%.6f", s }')
want=$(jq -r '.phase_seconds + .acct_seconds' <<<"$out")
got=$(jq -r .gpu_seconds <<<"$rec")
# Issue 18's bound: 2 % of the integral or 0.05 s, whichever is larger.
awk -v g="$got" -v s="$sum" -v w="$want" 'BEGIN { d1 = g - s; d2 = g - w; b = 0.02 * w;
	exit !((d1 < 0 ? -d1 : d1) < 0.001 && (d2 < 0 ? -d2 : d2) <= (b > 0.05 ? b : 0.05)) }' ||
	fail "gpu_seconds $got: the readings sum to $sum, the fixture to $want"
echo "samples $1: gpu_seconds $got (readings $sum, fixture $want)"
metrics=$(curl -sf "http://$AGENTPERF_SERVER/metrics")
grep -q "^agentperf_run_gpu_seconds_total{project=\"nvml-$1\",run_id=\"$run_id\"} $(printf '%.6f' "$got")$" <<<"$metrics" ||
	fail "/metrics does not keep the finished run's gpu_seconds $got"
# The daemon's own BPF cost, counted only while kernel.bpf_stats_enabled is 1.
if [ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = 1 ]; then
	n=$(sed -n 's/^agentperf_bpf_program_runs_total{program="handle_sched_switch\(_raw\)\?"} //p' <<<"$metrics")
	[ "${n:-0}" -gt 0 ] || fail "no BPF cost for handle_sched_switch with bpf_stats_enabled=1"
	grep -q '^agentperf_bpf_program_run_seconds_total{program="handle_sample"} [0-9]*\.[0-9]\{9\}$' <<<"$metrics" ||
		fail "no BPF run time for handle_sample"
else
	! grep -q agentperf_bpf_program <<<"$metrics" || fail "BPF cost shown with bpf_stats_enabled=0"
fi
kill "$other" 2>/dev/null || true
daemon_stop
}
check_mode all
check_mode one

# No library: NVIDIA GPUs are not read, one line says why, nothing else changes.
mkdir -p "$T/empty-sys"
daemon_start --nvml-lib /nonexistent/libnvidia-ml.so.1 --sys-root "$T/empty-sys"
[ "$(grep -c "NVML: " "$T/daemon.log")" = 1 ] || fail "not one NVML line: $(grep "NVML: " "$T/daemon.log")"
grep -q "NVML: /nonexistent/libnvidia-ml.so.1 not loaded (.*): NVIDIA GPUs are not read" "$T/daemon.log" ||
	fail "no line for the missing library"
[ "$("$AP" status --gpus --json)" = "[]" ] || fail "devices without a library"
sleep 120 &
lone=$!
"$AP" attach --project nolib --pid "$lone" >/dev/null || fail "attach"
$PY - "$AGENTPERF_SERVER" <<'EOF' || fail "gpu without NVML"
import asyncio, json, sys, websockets
async def main():
    async with websockets.connect(f"ws://{sys.argv[1]}/ws/projects/nolib") as ws:
        g = json.loads(await asyncio.wait_for(ws.recv(), 5))["gpu"]
        if g != {"available": False, "percent": None, "vram_used_gb": None, "vram_total_gb": None}:
            sys.exit(f"FAIL: gpu {g}")
asyncio.run(main())
EOF
! curl -sf "http://$AGENTPERF_SERVER/metrics" | grep -q agentperf_gpu_ || fail "GPU families without a GPU"
kill "$lone" 2>/dev/null || true
daemon_stop
echo "ok nvml: VRAM and SM % of the run's own processes, accounting, nulls on a lost GPU, per-device figures, gpu_seconds, no library"
