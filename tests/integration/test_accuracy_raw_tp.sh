#!/usr/bin/env bash
# The raw_tp fallback (for kernels where tp_btf does not load) must be as exact
# as the default: the subject task comes from current, forks and workers from
# fentry/wake_up_new_task.
. "$(dirname "$0")/lib.sh"
need_root
AGENTPERF_BPF_VARIANT=raw_tp daemon_start
grep -q "BPF programs attached (raw_tp)" "$T/daemon.log" || fail "raw_tp variant not in use"

oracle_run raw_tp-storm sh -c 'i=0; while [ $i -lt 1500 ]; do /bin/true; i=$((i+1)); done'
# As in test_accuracy_workloads.sh, none shorter than ~1.5 s of CPU.
oracle_run raw_tp-threads "$H/burn" 4 500
oracle_run raw_tp-daemons sh -c "for i in 1 2; do (setsid '$H/burn' 1 800 &); done; exit 0"
oracle_run raw_tp-io_uring "$H/uring" 150 64
[ "$(jq .tasks_started "$T/raw_tp-io_uring.json")" -ge 2 ] || fail "io_uring worker not tracked"
daemon_stop

# An unknown variant is refused in one line.
rc=0
AGENTPERF_BPF_VARIANT=bogus "$APD" --control "$T/b.sock" --state-dir "$T/b" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'unknown BPF variant "bogus"' "$T/err" || fail "bogus variant: $(cat "$T/err")"
