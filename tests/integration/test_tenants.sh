#!/usr/bin/env bash
# A shared build host (issue 16): two unprivileged users, made by this test
# and removed after, both in the control group. Neither may read, alter,
# starve or stall the other's runs. After every case /healthz answers in
# under 100 ms; the flood case also has a bystander WebSocket reader whose
# longest gap must stay within the period + 0.5 s.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
TEN=$ROOT/tests/integration/tenants.py
G=apg$$
UA=apa$$
UB=apb$$
groupadd "$G" || fail "groupadd"
useradd -M -N -g "$G" -d "$T/ha" -s /bin/sh "$UA" || { groupdel "$G"; fail "useradd"; }
useradd -M -N -g "$G" -d "$T/hb" -s /bin/sh "$UB" || { userdel "$UA"; groupdel "$G"; fail "useradd"; }
# The users exist for this test alone: whatever runs as them is the test's.
drop_users() {
	pkill -KILL -u "$UA" 2>/dev/null || true
	pkill -KILL -u "$UB" 2>/dev/null || true
	for _ in $(seq 50); do
		userdel "$UA" 2>/dev/null || true
		userdel "$UB" 2>/dev/null || true
		id "$UA" >/dev/null 2>&1 || id "$UB" >/dev/null 2>&1 || break
		sleep 0.1
	done
	groupdel "$G" 2>/dev/null || true
}
# A hung mount (case 11) must not outlive the test: its server is killed,
# which fails its blocked lookups, and the mount point is let go.
hang=
trap '[ -z "$hang" ] || { kill -KILL "$hang"; umount -l "$T/hang"; } 2>/dev/null || true
	drop_users; cleanup' EXIT
chmod 755 "$T"
mkdir -p "$T/ha" "$T/hb"
chown "$UA:$G" "$T/ha"
chown "$UB:$G" "$T/hb"
as() { # as USER CMD...: CMD as USER, with its own home
	local u=$1 h
	shift
	h=$T/ha
	[ "$u" = "$UB" ] && h=$T/hb
	setpriv --reuid="$u" --regid="$G" --init-groups env HOME="$h" AGENTPERF_CONTROL="$AGENTPERF_CONTROL" "$@"
}
# healthy LABEL: /healthz answers 200 within 100 ms.
healthy() {
	local t
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://$AGENTPERF_SERVER/healthz")
	[ "${t% *}" = 200 ] || fail "$1: /healthz answered ${t% *}"
	awk -v t="${t#* }" 'BEGIN { exit !(t < 0.1) }' || fail "$1: /healthz took ${t#* } s"
}
# wait_status PROJECT STATE: waits up to 10 s for PROJECT's run root to be
# in STATE (a /proc/PID/stat letter); prints its pid.
wait_state() {
	local pid
	for _ in $(seq 100); do
		pid=$(run_pid "$1")
		[ -n "$pid" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = "$2" ] &&
			echo "$pid" && return 0
		sleep 0.1
	done
	fail "project $1: no run root in state $2 after 10 s"
}

daemon_start --control-group "$G"

# 1. A setuid helper in a user's run names a directory only root may read:
# root's transcript is not read into the user's run. (Before: 4243 tokens.)
mkdir -p "$T/rootcfg/projects/-etc"
chmod 700 "$T/rootcfg"
cp /bin/sleep "$T/suid-sleep"
chmod 4755 "$T/suid-sleep"
as "$UA" "$AP" run --project a1 --summary "$T/ha/a1.json" -- \
	sh -c "cd /etc && CLAUDE_CONFIG_DIR=$T/rootcfg exec $T/suid-sleep 4" >"$T/ha/a1.out" 2>&1 &
a1=$!
pid=$(wait_run a1)
for _ in $(seq 100); do # the helper has exec'd: setuid, root's /proc/PID
	[ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = 0 ] && break
	sleep 0.05
done
sleep 1.2 # the daemon's next look at the run's processes (each tick while young)
printf '%s\n' '{"type":"assistant","message":{"id":"msg_root","model":"claude-x","usage":{"input_tokens":4242,"output_tokens":1}}}' \
	>"$T/rootcfg/projects/-etc/secret.jsonl"
chmod 600 "$T/rootcfg/projects/-etc/secret.jsonl"
wait "$a1" || true
[ "$(jq -r .tokens "$T/ha/a1.json")" = null ] || fail "case 1: user $UA's run read root's transcript: $(jq -c .tokens "$T/ha/a1.json")"
healthy "case 1"

# 4. tokens: only the owner of a project's live run (or root) reports them.
as "$UA" "$AP" run --project a4 -- sleep 30 >/dev/null 2>&1 &
a4=$!
wait_run a4 >/dev/null
as "$UB" "$AP" tokens --project a4 --set-current 999999 >"$T/b4.out" 2>&1 && fail "case 4: $UB reported tokens for $UA's run"
grep -q "permission denied: project a4 belongs to another user" "$T/b4.out" || fail "case 4: $(cat "$T/b4.out")"
as "$UA" "$AP" tokens --project a4 --set-current 150 >/dev/null || fail "case 4: the owner's own report refused"
healthy "case 4"

# 5. detach: only the owner (or root), even once the root has exited and
# after a restart of the daemon (the owner is journaled, not guessed from a
# pid that may be reused).
as "$UA" "$AP" run --project a5 -- sh -c 'sleep 30 & exit 0' >/dev/null 2>&1 &
for _ in $(seq 100); do
	"$AP" status --json | jq -e '.[] | select(.project == "a5" and .status == "stopped")' >/dev/null && break
	sleep 0.1
done
as "$UB" "$AP" detach --project a5 >"$T/b5.out" 2>&1 && fail "case 5: $UB detached $UA's run"
grep -q "permission denied" "$T/b5.out" || fail "case 5: $(cat "$T/b5.out")"
daemon_stop
daemon_start --control-group "$G"
as "$UB" "$AP" detach --project a5 >"$T/b5.out" 2>&1 && fail "case 5: $UB detached $UA's run after a restart"
grep -q "permission denied" "$T/b5.out" || fail "case 5 after a restart: $(cat "$T/b5.out")"
as "$UA" "$AP" detach --project a5 >/dev/null || fail "case 5: the owner may not detach its run"
healthy "case 5"

# 6. A process with its fd table filled (20 000 fds) and 30 young children
# sharing it, in a run whose home holds a Codex sessions directory (so its
# fd tables are walked): it costs its own run's token reads a few ticks,
# never the daemon's answers. (Before: /healthz took 1.1-3.4 s.)
mkdir -p "$T/hb/.codex/sessions"
chown -R "$UB:$G" "$T/hb/.codex"
as "$UA" "$AP" run --project a6 -- sleep 30 >/dev/null 2>&1 &
wait_run a6 >/dev/null
cpu0=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
prlimit --nofile=20000:20000 setpriv --reuid="$UB" --regid="$G" --init-groups \
	env HOME="$T/hb" AGENTPERF_CONTROL="$AGENTPERF_CONTROL" "$AP" run --project b6 -- "$PY" -c '
import os, time
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(19950)]
for _ in range(30):
    if os.fork() == 0:
        time.sleep(10)
        os._exit(0)
time.sleep(10)' >/dev/null 2>&1 &
b6=$!
wait_run b6 >/dev/null
read -r gap slow < <("$PY" "$TEN" gaps "$AGENTPERF_SERVER" a6 6) || fail "case 6: no bystander reading"
cpu=$(( $(awk '{ print $14 + $15 }' "/proc/$DPID/stat") - cpu0 ))
echo "case 6: longest gap ${gap} s, slowest /healthz ${slow} s, daemon CPU $((cpu * 10)) ms over ~7 s"
awk -v g="$gap" 'BEGIN { exit !(g <= 1.5) }' || fail "case 6: the bystander waited $gap s between messages"
awk -v h="$slow" 'BEGIN { exit !(h < 0.1) }' || fail "case 6: /healthz took $slow s"
[ "$cpu" -lt 300 ] || fail "case 6: the daemon burnt $((cpu * 10)) ms of CPU in ~7 s"
wait "$b6" || true
# The root may exit before its children: the run holds one of UB's live-run
# quota until its last task is gone, which case 7 counts on.
wait_record b6 >/dev/null
"$AP" detach --project a6 >/dev/null 2>&1 || true
healthy "case 6"

# 11. A hung filesystem stalls only its user's token figures. UB's agent
# names a Claude Code config directory on a FUSE mount of the test's own
# whose every lookup blocks (hangfs.py, mounted allow_other as a user's FUSE
# or NFS home is reachable by root). UB's token worker blocks in it; /healthz,
# the control socket and a bystander's WebSocket do not, UA's run meanwhile
# counts exactly its own tokens, and UB's run is recorded 5 s after its end
# (TOKSCAN_END_WAIT_NS) with no tokens. (Before: the loop itself blocked.)
mkdir "$T/hang"
"$PY" "$ROOT/tests/integration/hangfs.py" "$T/hang" -f -o allow_other >"$T/hang.out" 2>&1 &
hang=$!
for _ in $(seq 100); do mountpoint -q "$T/hang" && grep -q mounted "$T/hang.out" && break; sleep 0.1; done
mountpoint -q "$T/hang" || fail "case 11: hangfs did not mount: $(cat "$T/hang.out")"
as "$UB" "$AP" run --project b11 --summary "$T/hb/b11.json" -- \
	env CLAUDE_CONFIG_DIR="$T/hang/cfg" sleep 3 >/dev/null 2>&1 &
b11=$!
for _ in $(seq 300); do grep -q "^blocked:" "$T/hang.out" && break; sleep 0.1; done
grep -q "^blocked:" "$T/hang.out" || fail "case 11: the daemon never looked in the hung mount"
w11=$T/ha/w11
mkdir "$w11"
chown "$UA:$G" "$w11"
esc=$(printf %s "$w11" | sed 's/[^A-Za-z0-9]/-/g')
line='{"type":"assistant","message":{"id":"msg_a11","model":"claude-x","usage":{"input_tokens":100,"output_tokens":50}}}'
as "$UA" "$AP" run --project a11 --summary "$T/ha/a11.json" -- sh -c "cd $w11 &&
	mkdir -p \$HOME/.claude/projects/$esc && sleep 1 &&
	printf '%s\n' '$line' >\$HOME/.claude/projects/$esc/s.jsonl && sleep 6" >/dev/null 2>&1 &
a11=$!
wait_run a11 >/dev/null
read -r gap slow < <("$PY" "$TEN" gaps "$AGENTPERF_SERVER" a11 5) || fail "case 11: no bystander reading"
t0=$(date +%s%N)
"$AP" status >/dev/null || fail "case 11: status failed"
st=$((($(date +%s%N) - t0) / 1000000))
echo "case 11: longest gap ${gap} s, slowest /healthz ${slow} s, status in ${st} ms"
awk -v g="$gap" 'BEGIN { exit !(g <= 1.5) }' || fail "case 11: the bystander waited $gap s between messages"
awk -v h="$slow" 'BEGIN { exit !(h < 0.1) }' || fail "case 11: /healthz took $slow s"
[ "$st" -lt 1000 ] || fail "case 11: status took $st ms"
wait "$b11" || true
[ "$(jq -r .tokens "$T/hb/b11.json")" = null ] || fail "case 11: $UB's run: $(cat "$T/hb/b11.json")"
grep -q "the final read of uid $(id -u "$UB")'s run .* did not end in 5 s" "$T/daemon.log" ||
	fail "case 11: no log line for the given-up final read"
wait "$a11" || true
[ "$(jq -r .tokens.total "$T/ha/a11.json")" = 150 ] ||
	fail "case 11: $UA's run: $(jq -c .tokens "$T/ha/a11.json") tokens, wanted 150"
# The filesystem goes: the blocked lookup fails, the worker is free again.
kill -KILL "$hang"
wait "$hang" 2>/dev/null || true
hang=
# A dead server's mount stays, disconnected, until it is let go.
umount -l "$T/hang" 2>/dev/null || true
rmdir "$T/hang" || fail "case 11: the hung mount is still there"
healthy "case 11"

# 9. Two runs of one user in one working directory each count their own
# Claude Code session: a session's transcript is the run's whose processes
# have its id (CLAUDE_CODE_SESSION_ID, which Claude Code gives its tools:
# here a tool-like child that outlives the line). (Before: 300 and null.)
w9=$T/ha/w9
mkdir "$w9"
chown "$UA:$G" "$w9"
esc9=$(printf %s "$w9" | sed 's/[^A-Za-z0-9]/-/g')
agent9() { # agent9 SESSION: the shell of one agent writing 150 tokens in SESSION
	local msg='{"type":"assistant","message":{"id":"msg_'$1'","model":"claude-x","usage":{"input_tokens":100,"output_tokens":50}}}'
	echo "cd $w9 && mkdir -p \$HOME/.claude/projects/$esc9 &&
		{ CLAUDE_CODE_SESSION_ID=$1 sleep 3 & } && sleep 1.5 &&
		printf '%s\n' '$msg' >\$HOME/.claude/projects/$esc9/$1.jsonl"
}
# Both started from the working directory, whose project directory exists
# (an earlier session's), as a user starts agents: each run has it from its
# start.
as "$UA" mkdir -p "$T/ha/.claude/projects/$esc9"
(cd "$w9" && as "$UA" "$AP" run --project a9 -- sh -c "$(agent9 s9a)" >/dev/null 2>&1) &
a9=$!
(cd "$w9" && as "$UA" "$AP" run --project a9b -- sh -c "$(agent9 s9b)" >/dev/null 2>&1) &
a9b=$!
wait "$a9" || true
wait "$a9b" || true
# The records, once the tool-like children have gone too.
t9a=$(wait_record a9 | jq -r .tokens.total)
t9b=$(wait_record a9b | jq -r .tokens.total)
echo "case 9: $t9a and $t9b tokens"
[ "$t9a" = 150 ] && [ "$t9b" = 150 ] || fail "case 9: $t9a and $t9b tokens, wanted 150 and 150"
healthy "case 9"

# claude_dir DIR: the Claude Code project directory, under the user's HOME,
# of an agent working in DIR (every character but letters and digits '-').
claude_dir() { echo ".claude/projects/$(printf %s "$1" | sed 's/[^A-Za-z0-9]/-/g')"; }
line150='{"type":"assistant","message":{"id":"msg_MSG","model":"claude-x","usage":{"input_tokens":100,"output_tokens":50}}}'

# 2 and 3. One user's transcripts cost only that user's budgets: UB's run
# makes six sparse 200 GB transcripts and 64 of one 600 KB unterminated
# line each; UA's run meanwhile writes its line in two halves, 1.2 s apart.
# (Before: null instead of 150, for either.)
wb=$T/hb/w2
wa=$T/ha/w2
mkdir "$wb" "$wa"
chown "$UB:$G" "$wb"
chown "$UA:$G" "$wa"
pb=$(claude_dir "$wb")
pa=$(claude_dir "$wa")
as "$UB" "$AP" run --project b2 -- sh -c "cd $wb && mkdir -p \$HOME/$pb && cd \$HOME/$pb &&
	for i in 1 2 3 4 5 6; do truncate -s 200G big\$i.jsonl; done &&
	for i in \$(seq 64); do head -c 600000 /dev/zero | tr '\\0' x >long\$i.jsonl; done && sleep 5" >/dev/null 2>&1 &
b2=$!
msg=${line150/MSG/a2}
as "$UA" "$AP" run --project a2 -- sh -c "cd $wa && mkdir -p \$HOME/$pa && sleep 1 &&
	printf %s '${msg:0:60}' >\$HOME/$pa/s.jsonl && sleep 1.2 &&
	printf '%s\n' '${msg:60}' >>\$HOME/$pa/s.jsonl && sleep 1" >/dev/null 2>&1 &
a2=$!
wait "$a2" || true
t2=$(wait_record a2 | jq -r .tokens.total)
echo "cases 2 and 3: $UA's run: $t2 tokens"
[ "$t2" = 150 ] || fail "cases 2 and 3: $UA's run has $t2 tokens, wanted 150"
wait "$b2" || true
rm -rf "$T/hb/.claude"
healthy "cases 2 and 3"

# 10 and 12. A run of 2 s whose agent makes its project directory has its
# tokens, written just before its end; a FIFO named like a transcript there
# is never opened. (Before: null in 6 of 6 runs of 1-3.6 s; a device node
# opened by root.)
w10=$T/ha/w10
mkdir "$w10"
chown "$UA:$G" "$w10"
p10=$(claude_dir "$w10")
msg=${line150/MSG/a10}
as "$UA" "$AP" run --project a10 --summary "$T/ha/a10.json" -- sh -c "cd $w10 &&
	mkdir -p \$HOME/$p10 && mkfifo \$HOME/$p10/x.jsonl && sleep 2 &&
	printf '%s\n' '$msg' >\$HOME/$p10/s.jsonl" >/dev/null 2>&1 ||
	fail "cases 10 and 12: the run failed"
t10=$(jq -r .tokens.total "$T/ha/a10.json")
echo "cases 10 and 12: a run of $(jq -r .wall_seconds "$T/ha/a10.json") s: $t10 tokens"
[ "$t10" = 150 ] || fail "cases 10 and 12: $t10 tokens, wanted 150"
healthy "cases 10 and 12"

# 14. A hash flood from a transcript: 300 000 lines (37 MB) whose message
# ids all fell in one probe cluster under the unkeyed FNV-1a the daemon
# used (helpers/fnvids). Keyed hashing: the daemon reads them in a few CPU
# seconds at most, every token counted, /healthz and a bystander unmoved.
# (Before: 12.75 CPU-s and /healthz stalled 7.1 s for 31 MB.)
w14=$T/ha/w14
mkdir "$w14"
chown "$UA:$G" "$w14"
p14=$(claude_dir "$w14")
as "$UA" "$AP" run --project a6 -- sleep 20 >/dev/null 2>&1 &
a6b=$!
wait_run a6 >/dev/null
cpu0=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
as "$UA" "$AP" run --project a14 -- sh -c "cd $w14 && mkdir -p \$HOME/$p14 &&
	$H/fnvids 300000 >\$HOME/$p14/s.jsonl && sleep 3" >/dev/null 2>&1 &
a14=$!
read -r gap slow < <("$PY" "$TEN" gaps "$AGENTPERF_SERVER" a6 6) || fail "case 14: no bystander reading"
wait "$a14" || true
t14=$(wait_record a14 | jq -r .tokens.total)
cpu=$(( $(awk '{ print $14 + $15 }' "/proc/$DPID/stat") - cpu0 ))
echo "case 14: $t14 tokens, daemon CPU $((cpu * 10)) ms, longest gap ${gap} s, slowest /healthz ${slow} s"
[ "$t14" = 300000 ] || fail "case 14: $t14 tokens, wanted 300000"
[ "$cpu" -lt 400 ] || fail "case 14: the daemon burnt $((cpu * 10)) ms of CPU"
awk -v g="$gap" 'BEGIN { exit !(g <= 1.5) }' || fail "case 14: the bystander waited $gap s between messages"
awk -v h="$slow" 'BEGIN { exit !(h < 0.1) }' || fail "case 14: /healthz took $slow s"
"$AP" detach --project a6 >/dev/null 2>&1 || true
wait "$a6b" 2>/dev/null || true
rm -rf "$T/ha/.claude"
healthy "case 14"

# 7. Quotas: one user's live runs and projects never lock the others out.
sleeps=()
for i in $(seq 40); do
	# Not through as(): a function in the background is a subshell, and
	# its pid would be the subshell's.
	setpriv --reuid="$UB" --regid="$G" --init-groups sleep 60 &
	sleeps+=($!)
done
for p in "${sleeps[@]}"; do # each has become UB's (setpriv, then exec)
	for _ in $(seq 100); do
		[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$p/status" 2>/dev/null)" = "$(id -u "$UB")" ] &&
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && break
		sleep 0.05
	done
done
n=0
for i in $(seq 40); do
	if as "$UB" "$AP" attach --project "b7-$i" --pid "${sleeps[$((i - 1))]}" >"$T/b7.out" 2>&1; then
		n=$((n + 1))
	else
		grep -q "quota: uid .* live runs" "$T/b7.out" || fail "case 7: $(cat "$T/b7.out")"
		break
	fi
done
[ "$n" = 32 ] || fail "case 7: $UB attached $n runs, wanted the quota of 32"
# 80 projects by tokens reports: a user holds 64 at most, its least
# recently used idle ones giving way (their counts start again), so it never
# fills the table others need, and is never locked out by its own names.
for i in $(seq 80); do
	as "$UB" "$AP" tokens --project "b7t-$i" --add 1 >"$T/b7.out" 2>&1 ||
		fail "case 7: $UB's project $i: $(cat "$T/b7.out")"
done
as "$UB" "$AP" tokens --project b7t-80 --add 1 | grep -q "2 this session" ||
	fail "case 7: $UB's newest project lost its count"
as "$UB" "$AP" tokens --project b7t-1 --add 1 | grep -q "1 this session" ||
	fail "case 7: $UB holds more than 64 projects"
as "$UA" "$AP" run --project a7 -- true >/dev/null || fail "case 7: $UA could not start a run"
"$AP" run --project root7 -- true >/dev/null || fail "case 7: root could not start a run"
healthy "case 7"

# 8. A pipelined flood of control requests that are never read stalls no
# dashboard: 20 of UB's connections each send 200 requests for the history.
# 300 records in the history, as a busy host has: each of the flood's
# requests asks for all of them.
"$AP" run --project hist -- true >/dev/null
rec=$(tail -1 "$T/state/runs.jsonl")
for i in $(seq 299); do echo "$rec"; done >>"$T/state/runs.jsonl"
as "$UA" "$AP" run --project a8 -- sleep 20 >/dev/null 2>&1 &
wait_run a8 >/dev/null
mkfifo "$T/hold"
as "$UB" "$PY" "$TEN" flood "$AGENTPERF_CONTROL" 20 200 <"$T/hold" >"$T/flood.out" 2>&1 &
flood=$!
exec 9>"$T/hold"
for _ in $(seq 100); do grep -q flooding "$T/flood.out" && break; sleep 0.1; done
read -r gap slow < <("$PY" "$TEN" gaps "$AGENTPERF_SERVER" a8 6) || fail "case 8: no bystander reading"
exec 9>&-
wait "$flood" || true
awk -v g="$gap" 'BEGIN { exit !(g <= 1.5) }' || fail "case 8: the bystander waited $gap s between messages"
awk -v h="$slow" 'BEGIN { exit !(h < 0.1) }' || fail "case 8: /healthz took $slow s during the flood"
echo "case 8: longest gap ${gap} s, slowest /healthz ${slow} s"
healthy "case 8"

# 15. Host: the strict grammar; anything else that names the loopback is
# refused. (Before: each passed as loopback.)
for h in '[::1]/' 'localhost/x' '127.0.0.1?x' '[::1]#f' '[127.0.0.1]'; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $h" "http://$AGENTPERF_SERVER/metrics")
	[ "$code" = 403 ] || fail "case 15: Host: $h answered $code, wanted 403"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: [::1]:$PORT" "http://$AGENTPERF_SERVER/metrics")
[ "$code" = 200 ] || fail "case 15: Host: [::1]:$PORT answered $code"
healthy "case 15"

# 16. A journal entry with times out of range (an ended run from 1970 to
# INT64_MAX) is refused like a damaged one: the daemon starts, and no
# record has a wall time out of range. (Before: the sanitized daemon
# stopped; the plain one recorded -9223372036.854 s.)
as "$UA" "$AP" run --project a16 -- sleep 60 >/dev/null 2>&1 &
a16=$!
r16=$(wait_run a16)
daemon_stop
jq '(.runs[] | select(.project == "a16")) |= (.ended = true | .started_ns = "0" |
	.ended_ns = "9223372036854775807")' "$T/state/live.json" >"$T/live.json" &&
	mv "$T/live.json" "$T/state/live.json"
daemon_start --control-group "$G"
grep -q "1 damaged run(s) not taken over (first: run \"$r16-.*\": started_ns missing or out of range)" \
	"$T/daemon.log" ||
	fail "case 16: no refusal logged: $(cat "$T/daemon.log")"
jq -e 'select(.wall_seconds != null and (.wall_seconds < 0 or .wall_seconds > 1e9))' \
	"$T/state/runs.jsonl" >/dev/null && fail "case 16: a record's wall time out of range"
kill "$r16" 2>/dev/null || true
wait "$a16" 2>/dev/null || true
healthy "case 16"

# 13. Stopping with no live run leaves nothing behind: no pin, no program.
"$AP" detach --project a4 >/dev/null 2>&1 || true
for i in $(seq 40); do "$AP" detach --project "b7-$i" >/dev/null 2>&1 || true; done
"$AP" detach --project a8 >/dev/null 2>&1 || true
kill "${sleeps[@]}" 2>/dev/null || true
for _ in $(seq 100); do
	[ "$("$AP" status --json | jq length)" = 0 ] && break
	sleep 0.1
done
[ "$("$AP" status --json | jq length)" = 0 ] || fail "case 13: runs still live: $("$AP" status)"
ids=$(for l in "$BPF_DIR"/link_*; do bpftool link show pinned "$l" -j | jq -r .prog_id; done | sort)
[ -n "$ids" ] || fail "case 13: no pinned links while serving"
daemon_stop
[ ! -e "$BPF_DIR" ] || fail "case 13: SIGTERM with no live run left $(ls "$BPF_DIR")"
# The kernel frees a program once its last holder is gone, a little later.
for _ in $(seq 50); do
	left=$(bpftool prog show -j | jq -r '.[].id' | sort | comm -12 - <(echo "$ids"))
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "case 13: programs still loaded 5 s after SIGTERM: $(echo $left)"
# --cleanup binds neither the port nor the control socket: it works while
# another process holds both addresses, and refuses while a daemon serves.
port=$(free_port)
"$PY" -c "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',$port)); s.listen(); print('up', flush=True); sys.stdin.read()" \
	<"$T/hold" >"$T/holder.out" &
holder=$!
exec 9>"$T/hold"
for _ in $(seq 50); do grep -q up "$T/holder.out" && break; sleep 0.1; done
"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" \
	--listen "127.0.0.1:$port" --cleanup >"$T/cleanup.log" 2>&1 || fail "case 13: --cleanup: $(cat "$T/cleanup.log")"
exec 9>&-
wait "$holder" || true
daemon_start --control-group "$G"
"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state" --bpf-dir "$BPF_DIR" \
	--cleanup >"$T/cleanup.log" 2>&1 && fail "case 13: --cleanup ran beside a serving daemon"
grep -q "is running on" "$T/cleanup.log" || fail "case 13: $(cat "$T/cleanup.log")"
healthy "case 13"
daemon_stop
echo "ok"
