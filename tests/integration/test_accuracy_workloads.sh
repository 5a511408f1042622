#!/usr/bin/env bash
# Each workload's run CPU equals the kernel's own accounting of its cgroup
# (lib.sh's oracle: cgroup-v1 cpuacct or cgroup-v2 cpu.stat) within 0.1 %.
# Each lasts 2 s or so: the `agentperf run` child's CPU before it is marked
# (not the run's, but in the oracle's pre-join) reached 0.8 ms under ASan,
# which is 0.1 % of a 0.8 s workload.
. "$(dirname "$0")/lib.sh"
need_root
daemon_start

# A storm of thousands of short-lived exec'd processes.
oracle_run fork-storm sh -c 'i=0; while [ $i -lt 3000 ]; do /bin/true; i=$((i+1)); done'
[ "$(jq .tasks_started "$T/fork-storm.json")" -ge 3001 ] || fail "fork storm: tasks_started too low"

# A multi-threaded CPU burner: 8 threads of 250 ms each on 2 cores.
oracle_run threads "$H/burn" 8 250
[ "$(jq .tasks_started "$T/threads.json")" = 8 ] || fail "threads: expected 8 tasks"

# Children that double-fork into new sessions and outlive their parent.
oracle_run daemons sh -c "for i in 1 2 3; do (setsid '$H/burn' 1 700 &); done; exit 0"

# A chain of execs: the same task becomes eight programs in turn.
oracle_run exec-chain "$H/burn" 1 250 "$H/burn" 1 250 "$H/burn" 1 250 "$H/burn" 1 250 \
	sh -c "exec '$H/burn' 1 250 '$H/burn' 1 250 '$H/burn' 1 250 '$H/burn' 1 250"
[ "$(jq .tasks_started "$T/exec-chain.json")" = 1 ] || fail "exec chain: expected one task"

# A parallel make of generated C files.
mkdir "$T/src"
for i in $(seq 40); do
	printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' "$i" "$i" >"$T/src/f$i.c"
done
printf 'OBJS := $(patsubst %%.c,%%.o,$(wildcard f*.c))\nall: $(OBJS)\n%%.o: %%.c\n\tcc -O2 -c $< -o $@\n' >"$T/src/Makefile"
oracle_run make-j make -s -C "$T/src" -j4
[ "$(jq .tasks_started "$T/make-j.json")" -ge 80 ] || fail "make: too few tasks"

# io_uring workers (iou-wrk-*) are made without sched_process_fork.
oracle_run io_uring "$H/uring" 200 64
[ "$(jq .tasks_started "$T/io_uring.json")" -ge 2 ] || fail "io_uring: the worker was not tracked"

daemon_stop
