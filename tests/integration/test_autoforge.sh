#!/usr/bin/env bash
# Zero-config runs: with --autoforge-registry, an agent's lock file starts a
# run that shows in `agentperf status`, /metrics and on the WebSocket; stale
# locks and reused PIDs are ignored (and said so at -v); projects added to
# the registry later are picked up, even while the harness holds a write lock;
# a lock refused for want of a run slot is tried again; other names get 4004.
# A name two registries hold is the first one's. Each registry has a worker
# thread of its own: one whose project directory is on a hung mount blocks
# there, and the loop and the other registries go on as if it were not.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
WS=$ROOT/tests/integration/ws_rules.py

DB=$T/home/.autoforge/registry.db
mkdir -p "$T/home/.autoforge" "$T/alpha/.autoforge" "$T/beta/.autoforge" "$T/gamma/.autoforge"
SCHEMA="CREATE TABLE projects (name TEXT PRIMARY KEY, path TEXT NOT NULL, created_at TEXT);"
sqlite3 "$DB" "$SCHEMA
	INSERT INTO projects VALUES ('alpha', '$T/alpha', datetime()), ('beta', '$T/beta', datetime());" >/dev/null
# A second registry names alpha too, elsewhere; a third names a project on
# a FUSE mount of the test's own whose every lookup blocks (hangfs.py), as a
# hung FUSE or NFS home does. Its server is killed at exit, which fails the
# blocked lookups, and the mount point is let go.
DB2=$T/home2/registry.db
DB3=$T/home3/registry.db
mkdir -p "$T/home2" "$T/home3" "$T/alpha2/.autoforge" "$T/hang"
sqlite3 "$DB2" "$SCHEMA INSERT INTO projects VALUES ('alpha', '$T/alpha2', datetime());" >/dev/null
sqlite3 "$DB3" "$SCHEMA INSERT INTO projects VALUES ('stuck', '$T/hang/stuck', datetime());" >/dev/null
"$PY" "$ROOT/tests/integration/hangfs.py" "$T/hang" -f -o allow_other >"$T/hang.out" 2>&1 &
hang=$!
trap '{ kill -KILL "$hang"; umount -l "$T/hang"; } 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do mountpoint -q "$T/hang" && grep -q mounted "$T/hang.out" && break; sleep 0.1; done
mountpoint -q "$T/hang" || fail "hangfs did not mount: $(cat "$T/hang.out")"

# CREATE_TIME as the harness computes it (psutil): btime + starttime / CLK_TCK.
create_time() {
	awk -v hz="$(getconf CLK_TCK)" -v bt="$(awk '/^btime/ { print $2 }' /proc/stat)" \
		'{ sub(/.*\) /, ""); split($0, f, " "); printf "%.2f\n", bt + f[20] / hz }' "/proc/$1/stat"
}
lock() { printf '%s:%s' "$2" "$3" >"$T/$1/.autoforge/.agent.lock.tmp" && mv "$T/$1/.autoforge/.agent.lock.tmp" "$T/$1/.autoforge/.agent.lock"; }
# Polls finely: the first wait also times how soon the lock was seen.
wait_log() { for _ in $(seq 1000); do grep -q "$1" "$T/daemon.log" && return 0; sleep 0.02; done; fail "daemon never said: $1"; }
# Whether the daemon's inotify instance watches PROJECT's .autoforge
# directory: its inode is listed in the daemon's fdinfo (in hex).
watched() {
	local ino
	ino=$(printf '%x' "$(stat -c %i "$T/$1/.autoforge")")
	grep -qs "^inotify wd:[0-9a-f]* ino:$ino " /proc/"$DPID"/fdinfo/*
}

# The second registry's alpha is not the project alpha: its lock, there
# before the daemon starts, starts nothing, however the registries' first
# reads fall (a later registry's locks wait for the earlier ones' reads).
sleep 120 &
dup=$!
lock alpha2 "$dup" "$(create_time "$dup")"
daemon_start -v --autoforge-registry "$DB" --autoforge-registry "$DB2" --autoforge-registry "$DB3"
wait_log "project alpha: lock of registry $DB2 ignored: an earlier registry holds the name"
[ -z "$(run_pid alpha)" ] || fail "the second registry's alpha took the run: $("$AP" status)"
# The third registry's worker looks at its lock, and blocks for good.
wait_hung() { grep -q "^blocked: /stuck" "$T/hang.out"; }
wait_until 20 wait_hung || fail "the daemon never looked in the hung mount"

# An agent: keeps spawning compilers-to-be until killed. Its lock is seen at
# once (inotify on the lock's directory), not at the next once-a-second look.
sh -c "while :; do '$H/burn' 1 100; sleep 0.05; done" &
AGENT=$!
wait_until 20 watched alpha || fail "the daemon's first look put no watch on alpha/.autoforge"
t0=$(date +%s%N)
lock alpha "$AGENT" "$(create_time "$AGENT")"
wait_log "run .* of project alpha started from its agent lock"
t1=$(date +%s%N)
[ "$(run_pid alpha)" = "$AGENT" ] || fail "the agent's lock started no run: $("$AP" status)"
echo "lock written -> run started (seen in the log): $(((t1 - t0) / 1000000)) ms"
[ $(((t1 - t0) / 1000000)) -lt 300 ] || fail "the lock took $(((t1 - t0) / 1000000)) ms to start a run: not watched"
in_metrics() { curl -sf "http://$AGENTPERF_SERVER/metrics" | grep -q "^agentperf_run_cpu_seconds_total{project=\"$1\""; }
wait_until 20 in_metrics alpha || fail "alpha's run is not in /metrics"
$PY "$WS" registry "$AGENTPERF_SERVER" alpha "$AGENT" || fail "registry WebSocket rules"
"$AP" top | grep -Eq "^alpha +running " || fail "alpha's run is not in agentperf top: $("$AP" top)"
[ "$(grep -c "project alpha: lock of registry $DB2 ignored" "$T/daemon.log")" = 1 ] ||
	fail "the second registry's ignored lock was said more than once"
kill "$dup"

# A stale lock: its process is gone.
true & dead=$!
wait "$dead"
lock beta "$dead" "$(date +%s.%N)"
wait_log "project beta: stale lock: process $dead is not running"
# A reused PID: the process is live, but not the one that took the lock.
sleep 60 & other=$!
lock beta "$other" "$(awk -v c="$(create_time "$other")" 'BEGIN { printf "%.2f", c - 1000 }')"
wait_log "project beta: stale lock: process $other started at .* (a reused PID)"
[ -z "$(run_pid beta)" ] || fail "a stale lock started a run"
kill "$other"

# A project added later, while the harness holds the registry's write lock:
# reads in that time fail (busy) and must keep the known projects. The
# writer holds it until told to commit, however long the checks take.
mkfifo "$T/sql"
sqlite3 "$DB" <"$T/sql" >/dev/null &
WRITER=$!
exec 3>"$T/sql"
# (As the harness's own sqlite3 does, it waits out a read of the daemon's
# under way: a reader holds the file for a millisecond.)
echo ".timeout 5000" >&3
echo "BEGIN EXCLUSIVE; INSERT INTO projects VALUES ('gamma', '$T/gamma', datetime());" >&3
locked() { ! sqlite3 "$DB" "SELECT 1 FROM projects LIMIT 1" >/dev/null 2>&1; }
wait_until 20 locked || fail "the writer never took the registry's lock"
# An unknown name makes the daemon read the registries at once: busy now.
# (An unknown name reads them at most every 250 ms however many ask: ask
# again until a read has met the lock.)
for _ in $(seq 20); do
	$PY "$WS" registry "$AGENTPERF_SERVER" alpha "$AGENT" || fail "alpha was lost while the registry was busy"
	grep -q "registry $DB: database is locked" "$T/daemon.log" && break
	sleep 0.3
done
grep -q "registry $DB: database is locked" "$T/daemon.log" || fail "the registry was never busy: test the test"
# Clients asking for unknown names while it is locked never stall the loop.
asking=()
for i in $(seq 10); do
	$PY "$WS" registry "$AGENTPERF_SERVER" "nosuch$i" "$AGENT" >/dev/null 2>&1 &
	asking+=($!)
done
t=0
for _ in $(seq 10); do # the slowest of ten: a forced read each 250 ms at most
	t=$(curl -s -o /dev/null -w '%{time_total}\n' "http://$AGENTPERF_SERVER/healthz" |
		awk -v m="$t" '{ print ($1 > m ? $1 : m) }')
done
wait "${asking[@]}" 2>/dev/null || true
echo "slowest /healthz while the registry was locked: $t s"
# (A read that waited for the lock stalled the loop 200 ms each time.)
awk -v t="$t" 'BEGIN { exit !(t < 0.2) }' || fail "/healthz took $t s while the registry was locked"
echo "COMMIT;" >&3
exec 3>&-
wait "$WRITER" || fail "the registry writer failed"
sleep 60 & g=$!
lock gamma "$g" "$(create_time "$g")"
gamma_run() { [ "$(run_pid gamma)" = "$g" ]; }
wait_until 20 gamma_run || fail "project gamma, added later, was not picked up"
$PY "$WS" registry "$AGENTPERF_SERVER" gamma "$g" || fail "gamma on the WebSocket"
kill "$g"
# Its slot is free once its run is recorded (after the run's final token
# read): until then it would free up in the middle of the check below.
wait_record gamma >/dev/null

# An agent that starts while every run slot is taken: its lock is refused
# once, out loud, then tried again each second until a slot is free.
fillers=()
while :; do
	sleep 120 &
	fillers+=("$!")
	"$AP" attach --project "fill${#fillers[@]}" --pid "$!" >/dev/null 2>"$T/fill.err" || break
	[ "${#fillers[@]}" -le 256 ] || fail "more than 256 live runs"
done
grep -q "too many live runs" "$T/fill.err" || fail "filling every slot: $(cat "$T/fill.err")"
sleep 120 & late=$!
lock beta "$late" "$(create_time "$late")"
wait_log "project beta: agent lock names pid $late, but too many live runs"
sleep 1.5 # a look or two with no slot free (on a slow host fewer: never a false failure)
[ -z "$(run_pid beta)" ] || fail "a run started with every slot taken"
kill "${fillers[0]}"
beta_run() { [ "$(run_pid beta)" = "$late" ]; }
wait_until 20 beta_run || fail "the refused lock was not tried again once a slot was free"
[ "$(grep -c "project beta: agent lock names pid $late" "$T/daemon.log")" = 1 ] ||
	fail "the refusal was warned more than once"
kill "${fillers[@]}" "$late" 2>/dev/null || true

# All this while, the third registry's worker was blocked in the hung mount.
grep -q "^blocked: /stuck" "$T/hang.out" || fail "the hung mount was never looked in"

# The agent stops: its run ends and the history says where the CPU went.
kill "$AGENT"
alpha_ended() { [ -z "$(run_pid alpha)" ]; }
wait_until 20 alpha_ended || fail "alpha's run did not end with its agent"
rec=$("$AP" runs --json --project alpha | jq '.[0]')
[ "$(jq -r .pid <<<"$rec")" = "$AGENT" ] || fail "alpha's run is not in the history: $rec"
[ "$(jq -r '.top[0].comm' <<<"$rec")" = burn ] || fail "alpha's top is not burn: $rec"
echo "agent run: $(jq -c '{run_id, status, cpu_seconds, tasks_started, top}' <<<"$rec")"
# Stopping: the stuck worker is let go after a second. A thread whose FUSE
# request the server has taken cannot be killed, so the process ends only
# when the server answers or goes; by then the daemon has let go of
# everything else: its port is free at once.
kill -TERM "$DPID"
wait_log "registry $DB3: its worker is stuck on a hung path: left behind"
port_free() { ! ss -Hltn "sport = :$PORT" | grep -q .; }
wait_until 5 port_free || fail "the daemon's port is still held with a worker stuck"
kill -KILL "$hang"
wait "$hang" 2>/dev/null || true
rc=0
wait "$DPID" || rc=$?
DPID=
[ "$rc" = 0 ] || fail "agentperfd exited $rc on SIGTERM"
