#!/usr/bin/env bash
# Run lifecycle through the CLI: exit status pass-through, stopped/crashed,
# summaries, --summary, escaped daemons with and without --wait-all, status,
# runs history, a root attached to a second run, detach, and a clean SIGTERM
# that records what was live.
. "$(dirname "$0")/lib.sh"
need_root
daemon_start

# Exit status is passed through; a non-zero exit is "crashed".
rc=0; "$AP" run --project life --summary "$T/a.json" -- sh -c 'exit 3' 2>"$T/a.err" || rc=$?
[ "$rc" = 3 ] || fail "exit 3 came back as $rc"
jq -e '.status == "crashed" and .exit_code == 3 and .signal == null and .ended_at != null' "$T/a.json" >/dev/null ||
	fail "exit 3 record: $(cat "$T/a.json")"
grep -q "^agentperf: run .* of project life crashed (exit 3): .* CPU-seconds" "$T/a.err" || fail "summary: $(cat "$T/a.err")"

# Killed by a signal: 128+signal, and the record names the signal.
rc=0; "$AP" run --project life --summary "$T/b.json" -- sh -c 'kill -KILL $$' 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "SIGKILL came back as $rc"
jq -e '.status == "crashed" and .exit_code == null and .signal == 9' "$T/b.json" >/dev/null || fail "signal record: $(cat "$T/b.json")"

# Exit 0 is "stopped"; a missing command is 127 with one clear line.
"$AP" run --project life --summary "$T/c.json" -- true 2>/dev/null || fail "true failed"
jq -e '.status == "stopped" and .exit_code == 0' "$T/c.json" >/dev/null || fail "stopped record"
rc=0; "$AP" run --project life -- /nonexistent/cmd 2>"$T/d.err" || rc=$?
[ "$rc" = 127 ] || fail "missing command gave $rc"
grep -q "agentperf: cannot run /nonexistent/cmd: No such file or directory" "$T/d.err" || fail "missing command: $(cat "$T/d.err")"

# Without --wait-all, run returns when the root exits and says what is still alive;
# the escaped task stays tracked and the record closes when it exits. The
# escaped task burns only once the test lets it (a line on a fifo): a run
# that waited for it would never return, however fast the host.
mkfifo "$T/esc.go" "$T/first.go"
rc=0
timeout 30 "$AP" run --project esc --summary "$T/e.json" -- \
	sh -c "(setsid sh -c \"read x <'$T/esc.go'; exec '$H/burn' 1 600\" &); exit 0" 2>"$T/e.err" || rc=$?
[ "$rc" != 124 ] || fail "run waited for the escaped daemon"
[ "$rc" = 0 ] || fail "run of a root that exits 0 gave $rc"
jq -e '.ended_at == null and .tasks_alive >= 1' "$T/e.json" >/dev/null || fail "escaped: $(cat "$T/e.json")"
echo >"$T/esc.go"
grep -q "still alive" "$T/e.err" || fail "summary does not say tasks are alive: $(cat "$T/e.err")"
"$AP" status | grep -q "^esc " || fail "status does not list the live run"
"$AP" status --json | jq -e '.[] | select(.project == "esc") | .ended_at == null' >/dev/null || fail "status --json"
rec=$(wait_record esc)
jq -e '.ended_at != null and .tasks_alive == 0 and .cpu_seconds > 0.55' <<<"$rec" >/dev/null ||
	fail "escaped run's record: $rec"

# --wait-all waits for escaped tasks; the record's wall time is the run's,
# at most what the client waited.
start=$(date +%s%N)
"$AP" run --project esc2 --wait-all --summary "$T/f.json" -- sh -c "(setsid '$H/burn' 1 400 &); exit 0" 2>/dev/null
took=$((($(date +%s%N) - start) / 1000000))
[ "$took" -ge 400 ] || fail "--wait-all returned before the daemon exited"
jq -e --argjson took "$took" '.ended_at != null and .tasks_alive == 0 and .wall_seconds >= 0.4 and .wall_seconds <= $took / 1000 + 0.1' "$T/f.json" >/dev/null ||
	fail "--wait-all record (the client waited $took ms): $(cat "$T/f.json")"

# History: newest first, filtered by project, readable as a table.
"$AP" runs --json --project life | jq -e 'length == 4 and .[0].status == "crashed" and .[0].exit_code == 127' >/dev/null ||
	fail "history: $("$AP" runs --json --project life)"
"$AP" runs | head -1 | grep -q "^PROJECT  *RUN_ID  *STATUS" || fail "runs table header"
[ "$(wc -l <"$T/state/runs.jsonl")" = 6 ] || fail "runs.jsonl should hold 6 records"

# A run's root attached to another run leaves the first (runs do not nest):
# the first ends with no exit status of its own, and `run` still returns
# with its command's status and a summary.
"$AP" run --project first --summary "$T/h.json" -- sh -c "read x <'$T/first.go'; exit 4" 2>/dev/null &
runner=$!
root=$(wait_run first)
"$AP" attach --project second --pid "$root" >/dev/null || fail "attach of another run's root"
echo >"$T/first.go" # the root exits once it has left
rc=0
timeout 30 tail --pid="$runner" -f /dev/null || fail "agentperf run hung after its root left for another run"
wait "$runner" || rc=$?
[ "$rc" = 4 ] || fail "run came back with $rc, not its command's 4"
jq -e '.status == "stopped" and .exit_code == null and .signal == null and .ended_at != null and .tasks_alive == 0' \
	"$T/h.json" >/dev/null || fail "the left run's record: $(cat "$T/h.json")"
rec=$(wait_record second)
jq -e '.status == "crashed" and .exit_code == 4' <<<"$rec" >/dev/null || fail "the root's new run: $rec"
grep -q "run .* of project first ended: stopped (its root was attached to another run)" "$T/daemon.log" ||
	fail "no log line for the run whose root left"

# detach ends tracking at once and records the run.
sleep 30 &
sp=$!
"$AP" attach --project det --pid "$sp" >/dev/null
"$AP" detach --project det | grep -q "run $sp-" || fail "detach output"
"$AP" runs --json --project det | jq -e '.[0].detached == true and .[0].ended_at != null' >/dev/null || fail "detached record"
"$AP" detach --project det 2>"$T/g.err" && fail "second detach succeeded"
grep -q "project det has no live run" "$T/g.err" || fail "detach error: $(cat "$T/g.err")"

# SIGTERM: clean exit 0, socket removed; a live run is not ended but stays
# tracked in the kernel (pinned) for the next start, which takes it over;
# --cleanup records it and removes every pin.
"$AP" attach --project live --pid "$sp" >/dev/null
live_id=$("$AP" status --json | jq -r '.[] | select(.project == "live") | .run_id')
daemon_stop
[ ! -e "$AGENTPERF_CONTROL" ] || fail "control socket left behind"
grep -q "stopping" "$T/daemon.log" || fail "no clean teardown"
jq -s -e 'map(select(.project == "live")) | length == 0' "$T/state/runs.jsonl" >/dev/null ||
	fail "SIGTERM ended the live run"
[ -e "$BPF_DIR/run_info" ] && ls "$BPF_DIR" | grep -q '^link_' || fail "SIGTERM left no pinned state"
daemon_start
[ "$("$AP" status --json | jq -r '.[] | select(.project == "live") | .run_id')" = "$live_id" ] ||
	fail "the restarted daemon did not take run $live_id over"
daemon_stop
"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" --listen "127.0.0.1:$(free_port)" \
	--cleanup >"$T/cleanup.log" 2>&1 || fail "--cleanup: $(cat "$T/cleanup.log")"
kill "$sp"
jq -s -e --arg id "$live_id" 'map(select(.project == "live" and .run_id == $id)) | length == 1 and .[0].detached and .[0].adopted and .[0].started_at == ($id | sub("^[0-9]+-"; ""))' \
	"$T/state/runs.jsonl" >/dev/null || fail "--cleanup did not record run $live_id: $(cat "$T/cleanup.log"; tail -2 "$T/state/runs.jsonl")"
[ ! -e "$BPF_DIR" ] || fail "--cleanup left $(ls "$BPF_DIR")"
