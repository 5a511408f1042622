#!/usr/bin/env bash
# `agentperf top` driven in tmux: live rows with CPU and top command, fitted to
# the terminal as it is resized, q quits; plain text when not on a terminal.
. "$(dirname "$0")/lib.sh"
need_root
command -v tmux >/dev/null || fail "needs tmux"
daemon_start

"$AP" run --project busy -- "$H/burn" 1 60000 2>/dev/null &
BUSY=$!
"$AP" run --project idle -- sleep 300 2>/dev/null &
IDLE=$!
two_runs() { [ "$("$AP" status --json | jq length)" = 2 ]; }
wait_until 20 two_runs || fail "not two live runs: $("$AP" status --json)"
# The burner's own CPU as the kernel counts it: the reference for its row,
# as a busy process gets a whole core only on an idle host.
/usr/bin/python3 "$ROOT/tests/integration/cpu_rate.py" record "$(run_pid busy)" "$T/busy.cpu" &
RECORDER=$!
# top shows a rate of a walk at most 0.9 s before its refresh (1 s), over
# up to ~2 s: recorded 5 s before top starts, every such interval is covered.
/usr/bin/python3 "$ROOT/tests/integration/cpu_rate.py" wait "$T/busy.cpu" 5 || fail "no record of the burner's CPU"

S=agentperf-top-$$
export TMUX_TMPDIR=$T # a tmux server of this test's own
tmux new-session -d -s "$S" -x 100 -y 12 "AGENTPERF_CONTROL=$AGENTPERF_CONTROL '$AP' top; echo TOP-EXITED \$?; sleep 30"
trap 'tmux kill-server 2>/dev/null; cleanup' EXIT
# Two refreshes: the CPU rate needs an interval. The first screen with a rate.
rated() {
	tmux capture-pane -p -t "$S" >"$T/screen1"
	tc=$(date +%s.%N)
	sed -n 3p "$T/screen1" | grep -Eq "^busy +running +[0-9.]+ +(0\.0[1-9]|0\.[1-9][0-9]|[1-9][0-9]*\.[0-9]+) "
}
wait_until 30 rated || fail "no CPU rate in top's busy row: $(cat "$T/screen1")"
cat "$T/screen1"
grep -q "^agentperf top - [0-9:]* - 2 runs - q quits" "$T/screen1" || fail "no title"
grep -q "^PROJECT  *STATUS  *CPU%  *CORES  *RSS  *GPU%  *TASKS  *TOP COMMAND" "$T/screen1" || fail "no header"
# The busy run comes first, its command burn, with the cores it got over an
# interval ending in the 2.5 s before the screen, and the same as a share of
# the host's CPUs.
row=$(sed -n 3p "$T/screen1")
[[ $row =~ ^busy\ +running\ +([0-9]+\.[0-9])\ +([0-9]+\.[0-9][0-9])\ +[0-9.]+[KMG]?i?B\ +-\ +1\ \ burn\ 100%$ ]] ||
	fail "busy row: $row"
pct=${BASH_REMATCH[1]} cores=${BASH_REMATCH[2]}
band=$(/usr/bin/python3 "$ROOT/tests/integration/cpu_rate.py" check "$T/busy.cpu" "$cores" \
	"$(awk -v t="$tc" 'BEGIN { printf "%.6f", t - 2.5 }')" "$tc" 0.9 2.5) || fail "busy row: $row: $band"
echo "busy row: $band"
awk -v p="$pct" -v c="$cores" -v n="$(getconf _NPROCESSORS_ONLN)" 'BEGIN { d = p - 100 * c / n; exit !(d * d <= (0.06 + 0.5 / n) ^ 2) }' ||
	fail "busy row: $pct % of the host's CPUs is not $cores cores"
sed -n 4p "$T/screen1" | grep -Eq "^idle +running +0\.0 +0\.00 " || fail "idle row: $(sed -n 4p "$T/screen1")"

# A smaller terminal: lines cut to 40 columns, 3 rows, and a line for what did not fit.
tmux resize-window -t "$S" -x 40 -y 3
refitted() { tmux capture-pane -p -t "$S" >"$T/screen2" && grep -q "^\.\.\. and 2 more" "$T/screen2"; }
wait_until 20 refitted || fail "top not redrawn for 40x3: $(cat "$T/screen2")"
cat "$T/screen2"
awk 'length > 40 { exit 1 }' "$T/screen2" || fail "a line is wider than the terminal"
[ "$(grep -c . "$T/screen2")" -le 3 ] || fail "more lines than the terminal has"
grep -q "^\.\.\. and 2 more" "$T/screen2" || fail "no line for the runs that did not fit"

# q quits, with status 0, and the shell's screen comes back.
tmux send-keys -t "$S" q
exited() { tmux capture-pane -p -t "$S" | grep -q "TOP-EXITED"; }
wait_until 20 exited || true
tmux capture-pane -p -t "$S" | grep -q "TOP-EXITED 0" || fail "q did not quit: $(tmux capture-pane -p -t "$S")"

# Not a terminal: one plain snapshot, no escape sequences.
"$AP" top >"$T/plain"
! grep -q $'\033' "$T/plain" || fail "escape sequences in plain output"
grep -q "^busy  *running" "$T/plain" || fail "plain snapshot: $(cat "$T/plain")"
# The runs' roots (burn, sleep) end; their agentperf clients with them.
kill $("$AP" status --json | jq -r '.[].pid')
wait "$BUSY" "$IDLE" "$RECORDER" 2>/dev/null || true
daemon_stop
