#!/usr/bin/env bash
# A daemon restart loses nothing (docs/restart.md): the BPF state
# stays pinned and tracking goes on while no daemon runs; the next start takes
# every run over with its run_id, its CPU exact against the kernel's own
# accounting of the run's cgroup. Also: a root that exits while the daemon is
# away, state of another ABI, and --cleanup.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3

# ws_run_id PROJECT: the run_id the project's first perf_metrics shows.
ws_run_id() {
	$PY - "$AGENTPERF_SERVER" "$1" <<'EOF'
import asyncio, json, sys
import websockets

async def main(server, project):
    async with websockets.connect(f"ws://{server}/ws/projects/{project}") as ws:
        m = json.loads(await asyncio.wait_for(ws.recv(), 5))
        print(m["run"]["run_id"])

asyncio.run(main(*sys.argv[1:]))
EOF
}

# kill_daemon: as a crash or an OOM kill would.
kill_daemon() {
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=
}

# restart_case LABEL HOW: a fork storm whose children double-fork into daemons
# that outlive it runs in a fresh cgroup; once both daemons run the daemon
# goes away (HOW: kill, a kill -9; term, SIGTERM as systemctl restart sends);
# forks and exits go on for 3 s with no daemon; then it starts again.
restart_case() {
	local label=$1 how=$2 cg id rec
	daemon_start
	cg=$(cg_new "$label")
	"$AP" run --project "$label" --wait-all -- "$H/cgexec" -o "$T/$label.pre" "$cg" sh -c "
		for i in 1 2; do (setsid '$H/burn' 1 3000 &); done
		i=0; while [ \$i -lt 6000 ]; do /bin/true; i=\$((i+1)); done" \
		>/dev/null 2>"$T/$label.err" &
	local client=$!
	wait_run "$label" >/dev/null
	id=$("$AP" status --json | jq -r --arg p "$label" '.[] | select(.project == $p) | .run_id')
	escaped() { [ "$(ps -o comm= -p "$(paste -sd, "$cg/cgroup.procs")" | grep -c '^burn$')" = 2 ]; }
	wait_until 30 escaped || fail "$label: the workload's two daemons never ran"
	case $how in
	kill) kill_daemon ;;
	term) daemon_stop ;;
	esac
	local away
	away=$(cg_usage "$cg")
	sleep 3
	[ "$(cg_usage "$cg")" -gt "$away" ] || fail "$label: the workload did not run while the daemon was away"
	daemon_start
	[ "$(ws_run_id "$label")" = "$id" ] || fail "$label: a reconnected WebSocket client does not see run $id"
	wait "$client" || true
	rec=$(wait_record "$label")
	echo "$rec" >"$T/$label.json"
	check_record "$T/$label.json"
	jq -e --arg id "$id" '.run_id == $id and .adopted == true and .tasks_alive == 0 and .status == "stopped"' \
		"$T/$label.json" >/dev/null || fail "$label: record after the restart: $rec"
	compare "$label" "$(jq -r .cpu_ns "$T/$label.json")" "$(cg_usage "$cg")" "$(cat "$T/$label.pre")"
	daemon_stop
}

restart_case restart-kill9 kill
restart_case restart-sigterm term
# The raw_tp variant parks new children until their first switch: parked
# children survive the handover too.
AGENTPERF_BPF_VARIANT=raw_tp restart_case restart-raw_tp kill

# A detached run's tasks keep their pinned membership (slot, generation): a
# restarted daemon never hands that generation out again, so they never join
# a new run in the same slot.
daemon_start
"$H/burn" 1 6000 &
burner=$!
"$AP" attach --project det-old --pid "$burner" >/dev/null
"$AP" detach --project det-old >/dev/null
kill_daemon
daemon_start
"$AP" run --project det-new --summary "$T/det-new.json" -- sleep 1.5 2>/dev/null
kill "$burner" 2>/dev/null || true
jq -e '.cpu_seconds < 0.2' "$T/det-new.json" >/dev/null ||
	fail "a detached run's task joined a new run: $(cat "$T/det-new.json")"
daemon_stop

# The root exits while the daemon is away: recorded at the next start with its
# exit status, or as crashed when a signal killed it.
daemon_start
# The roots end when the test says (a line on a fifo): once the daemon is gone.
mkfifo "$T/exit.go" "$T/signal.go"
"$AP" run --project away-exit -- sh -c "read x <'$T/exit.go'; exit 7" >/dev/null 2>&1 &
c1=$!
"$AP" run --project away-signal -- sh -c "read x <'$T/signal.go'; kill -KILL \$\$" >/dev/null 2>&1 &
c2=$!
r1=$(wait_run away-exit)
r2=$(wait_run away-signal)
kill_daemon
echo >"$T/exit.go"
echo >"$T/signal.go"
# Exited (gone, or a zombie its client has not reaped): the kernel side saw it.
exited() { for p; do case $(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) in '' | Z) ;; *) return 1 ;; esac; done; }
wait_until 20 exited "$r1" "$r2" || fail "the roots did not exit"
wait "$c1" "$c2" 2>/dev/null || true
daemon_start
rec=$(wait_record away-exit)
jq -e '.exit_code == 7 and .status == "crashed" and .adopted and .ended_at != null' <<<"$rec" >/dev/null ||
	fail "a root that exited while the daemon was away: $rec"
rec=$(wait_record away-signal)
jq -e '.signal == 9 and .status == "crashed" and .adopted' <<<"$rec" >/dev/null ||
	fail "a root killed while the daemon was away: $rec"
daemon_stop

# State of another ABI (a test-only daemon leaves maps stamped with ABI 999):
# its runs are recorded as detached with the totals its maps hold, one log line
# says so, and tracking starts afresh.
AGENTPERF_TEST_ABI=999 daemon_start
"$AP" run --project old-abi -- "$H/burn" 1 3000 >/dev/null 2>&1 &
c3=$!
wait_run old-abi >/dev/null
# Half a second of CPU counted in its maps before the daemon goes.
counted() { "$AP" status --json | jq -e '.[] | select(.project == "old-abi") | .cpu_seconds > 0.6' >/dev/null; }
wait_until 30 counted || fail "old-ABI run: no CPU counted: $("$AP" status --json)"
kill_daemon
daemon_start
grep -q "is of ABI 999, not" "$T/daemon.log" || fail "no line about the replaced state"
rec=$(wait_record old-abi)
jq -e '.detached and (.cpu_seconds > 0.5)' <<<"$rec" >/dev/null || fail "old-ABI run: $rec"
"$AP" run --project fresh -- "$H/burn" 1 300 >/dev/null 2>&1 || fail "no tracking after the replacement"
wait_record fresh >/dev/null
wait "$c3" 2>/dev/null || true
daemon_stop

# --cleanup: every run recorded, no program and no pin left.
daemon_start
"$AP" run --project cleaned -- sleep 30 >/dev/null 2>&1 &
c4=$!
wait_run cleaned >/dev/null
daemon_stop
# This test's programs: those its pinned links hold (other daemons may run).
ids=$(for l in "$BPF_DIR"/link_*; do bpftool link show pinned "$l" -j | jq -r .prog_id; done | sort)
[ -n "$ids" ] || fail "no pinned links before --cleanup"
"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" \
	--listen "127.0.0.1:$(free_port)" --cleanup >"$T/cleanup.log" 2>&1 || fail "--cleanup: $(cat "$T/cleanup.log")"
kill "$c4" 2>/dev/null || true
jq -s -e 'map(select(.project == "cleaned")) | length == 1 and .[0].detached' "$T/state/runs.jsonl" >/dev/null ||
	fail "--cleanup did not record the live run"
[ ! -e "$BPF_DIR" ] || fail "--cleanup left pins: $(ls "$BPF_DIR")"
# The kernel frees a program once its last holder is gone, a little later.
for _ in $(seq 50); do
	left=$(comm -12 <(echo "$ids") <(bpftool prog show -j | jq -r '.[].id' | sort))
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "--cleanup left programs 5 s after it exited: $(echo $left)"
echo "ok"
