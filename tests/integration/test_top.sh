#!/usr/bin/env bash
# `agentperf top` driven in tmux: live rows with CPU and top command, fitted to
# the terminal as it is resized, q quits; plain text when not on a terminal.
. "$(dirname "$0")/lib.sh"
need_root
command -v tmux >/dev/null || fail "needs tmux"
daemon_start

"$AP" run --project busy -- "$H/burn" 1 20000 2>/dev/null &
BUSY=$!
"$AP" run --project idle -- sleep 30 2>/dev/null &
IDLE=$!
for _ in $(seq 50); do [ "$("$AP" status --json | jq length)" = 2 ] && break; sleep 0.1; done

S=agentperf-top-$$
export TMUX_TMPDIR=$T # a tmux server of this test's own
tmux new-session -d -s "$S" -x 100 -y 12 "AGENTPERF_CONTROL=$AGENTPERF_CONTROL '$AP' top; echo TOP-EXITED \$?; sleep 30"
trap 'tmux kill-server 2>/dev/null; cleanup' EXIT
sleep 2.5 # two refreshes: the CPU rate needs an interval
tmux capture-pane -p -t "$S" >"$T/screen1"
cat "$T/screen1"
grep -q "^agentperf top - [0-9:]* - 2 runs - q quits" "$T/screen1" || fail "no title"
grep -q "^PROJECT  *STATUS  *CPU%  *CORES  *RSS  *GPU%  *TASKS  *TOP COMMAND" "$T/screen1" || fail "no header"
# The busy run comes first: about one core of two (at least half of one on a
# loaded host), its command burn.
sed -n 3p "$T/screen1" | grep -Eq "^busy +running +([2-4][0-9]|5[0-4])\.[0-9] +(0\.[5-9][0-9]|1\.0[0-9]) +[0-9.]+[KMG]?i?B +- +1  burn 100%$" ||
	fail "busy row: $(sed -n 3p "$T/screen1")"
sed -n 4p "$T/screen1" | grep -Eq "^idle +running +0\.0 +0\.00 " || fail "idle row: $(sed -n 4p "$T/screen1")"

# A smaller terminal: lines cut to 40 columns, 3 rows, and a line for what did not fit.
tmux resize-window -t "$S" -x 40 -y 3
sleep 1.5
tmux capture-pane -p -t "$S" >"$T/screen2"
cat "$T/screen2"
awk 'length > 40 { exit 1 }' "$T/screen2" || fail "a line is wider than the terminal"
[ "$(grep -c . "$T/screen2")" -le 3 ] || fail "more lines than the terminal has"
grep -q "^\.\.\. and 2 more" "$T/screen2" || fail "no line for the runs that did not fit"

# q quits, with status 0, and the shell's screen comes back.
tmux send-keys -t "$S" q
for _ in $(seq 30); do tmux capture-pane -p -t "$S" | grep -q "TOP-EXITED" && break; sleep 0.1; done
tmux capture-pane -p -t "$S" | grep -q "TOP-EXITED 0" || fail "q did not quit: $(tmux capture-pane -p -t "$S")"

# Not a terminal: one plain snapshot, no escape sequences.
"$AP" top >"$T/plain"
! grep -q $'\033' "$T/plain" || fail "escape sequences in plain output"
grep -q "^busy  *running" "$T/plain" || fail "plain snapshot: $(cat "$T/plain")"
# The runs' roots (burn, sleep) end; their agentperf clients with them.
kill $("$AP" status --json | jq -r '.[].pid')
wait "$BUSY" "$IDLE" 2>/dev/null || true
daemon_stop
