#!/usr/bin/env bash
# `agentperf run` outlives a crash of agentperfd: it exits with its command's
# status whatever becomes of the daemon, and prints the run's summary when the
# restarted daemon answers for the run (it took the run over, or recorded it),
# else one line saying that the summary is missing.
. "$(dirname "$0")/lib.sh"
need_root

# live_run_id PROJECT: the id of PROJECT's live run, once there is one.
live_run_id() {
	wait_run "$1" >/dev/null
	"$AP" status --json | jq -r --arg p "$1" '[.[] | select(.project == $p) | .run_id][0]'
}

# daemon_kill: agentperfd dies as in a crash, leaving what it leaves.
daemon_kill() {
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=
}

# check_end PROJECT RC RUN_ID WANT: the client exited with its command's
# status WANT and wrote one line: the run's summary, or that the summary is
# missing. The summary is owed when the daemon answering now knows the run.
check_end() {
	local p=$1 rc=$2 id=$3 want=$4 err=$T/$1.err known
	[ "$rc" = "$want" ] || fail "$p: agentperf run exited $rc, not the command's $want: $(cat "$err")"
	[ "$(wc -l <"$err")" = 1 ] || fail "$p: not one line on stderr: $(cat "$err")"
	known=0
	[ -z "$DPID" ] || known=$({ "$AP" runs --json --project "$p" && "$AP" status --json; } |
		jq -s --arg id "$id" '[.[][] | select(.run_id == $id)] | length')
	if grep -q "^agentperf: run $id of project $p " "$err"; then
		[ "$known" -gt 0 ] || fail "$p: a summary of a run the daemon does not know: $(cat "$err")"
		# A run taken over ends with its command's status.
		if "$AP" runs --json --project "$p" |
			jq -e --arg id "$id" --argjson x "$want" '.[] | select(.run_id == $id and .exit_code == $x)' \
				>/dev/null; then
			grep -q "(exit $want)" "$err" || fail "$p: the summary has not the exit status $want: $(cat "$err")"
		fi
		echo "$p: summary after the restart: $(cat "$err")"
	elif grep -q "^agentperf: summary missing: " "$err"; then
		[ "$known" = 0 ] || fail "$p: the daemon knows run $id, yet no summary: $(cat "$err")"
		echo "$p: $(cat "$err")"
	else
		fail "$p: neither a summary nor 'summary missing': $(cat "$err")"
	fi
}

# Each command (or its escaped child) ends when the test says, with a line
# on its fifo: before, while or after the daemon is away, whatever the
# host's speed.
mkfifo "$T/during.go" "$T/after.go" "$T/wait-all.go" "$T/gone.go"
daemon_start

# The daemon dies while the command runs and is back before it ends.
rc=0
"$AP" run --project during -- sh -c "read x <'$T/during.go'; exit 3" 2>"$T/during.err" &
ap=$!
id=$(live_run_id during)
sleep 0.3
daemon_kill
daemon_start
echo >"$T/during.go"
wait "$ap" || rc=$?
check_end during "$rc" "$id" 3

# The command ends while the daemon is away, killed by a signal (128+15): the
# client tries again until the daemon is back.
rc=0
"$AP" run --project after -- sh -c "read x <'$T/after.go'; kill -TERM \$\$" 2>"$T/after.err" &
ap=$!
id=$(live_run_id after)
daemon_kill
echo >"$T/after.go"
sleep 2
kill -0 "$ap" 2>/dev/null || fail "after: agentperf run gave up within 2 s: $(cat "$T/after.err")"
daemon_start
wait "$ap" || rc=$?
check_end after "$rc" "$id" 143

# --wait-all: the connection breaks while the client waits on the command's
# escaped child; it waits again on the restarted daemon.
rc=0
"$AP" run --project wait-all --wait-all -- sh -c "(setsid sh -c \"read x <'$T/wait-all.go'\" &); exit 3" 2>"$T/wait-all.err" &
ap=$!
root=$(wait_run wait-all)
id=$(live_run_id wait-all)
# The root has exited: the client waits on the escaped child alone.
root_gone() { case $(awk '{ print $3 }' "/proc/$root/stat" 2>/dev/null) in '' | Z) ;; *) return 1 ;; esac; }
wait_until 20 root_gone || fail "wait-all: the root did not exit"
daemon_kill
daemon_start
echo >"$T/wait-all.go"
wait "$ap" || rc=$?
check_end wait-all "$rc" "$id" 3
daemon_stop

# The daemon never comes back: the command's status and one line, after the
# client's 15 s of trying from when the daemon went.
daemon_start
rc=0
"$AP" run --project gone -- sh -c "read x <'$T/gone.go'; exit 3" 2>"$T/gone.err" &
ap=$!
id=$(live_run_id gone)
start=$(date +%s)
daemon_kill
echo >"$T/gone.go"
wait "$ap" || rc=$?
secs=$(($(date +%s) - start))
check_end gone "$rc" "$id" 3
grep -q "summary missing: agentperfd out of reach for 15 s: agentperfd is not running" "$T/gone.err" ||
	fail "gone: unclear reason: $(cat "$T/gone.err")"
[ "$secs" -ge 15 ] && [ "$secs" -le 25 ] || fail "gone: gave up $secs s after the daemon went, not 15 s"
