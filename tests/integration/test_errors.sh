#!/usr/bin/env bash
# Bad input gets one clear line and a non-zero exit, from both binaries;
# the control socket enforces SO_PEERCRED ownership.
. "$(dirname "$0")/lib.sh"
need_root

# expect RC PATTERN CMD...: exit status RC and exactly one stderr line matching PATTERN.
expect() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$@" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, wanted $want ($(cat "$T/err"))"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$*: wanted one line, got: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "$*: '$(cat "$T/err")' does not match '$pat'"
}

# The daemon is not running yet.
expect 125 "agentperfd is not running" "$AP" run --project p -- true
expect 1 "agentperfd is not running" "$AP" status
# Usage errors.
expect 2 "unknown command \"frob\"" "$AP" frob
expect 2 "unknown option --bogus" "$AP" status --bogus
expect 2 "invalid project name \"bad/name\"" "$AP" run --project bad/name -- true
expect 2 "invalid project name" "$AP" attach --project "$(printf 'x%.0s' $(seq 51))" --pid 1
expect 2 "run needs --project NAME" "$AP" run -- true
expect 2 "run needs a command after --" "$AP" run --project p
expect 2 "invalid pid \"12ab\"" "$AP" attach --project p --pid 12ab
expect 2 "invalid pid \"-4\"" "$AP" attach --project p --pid -4
expect 2 "option --pid does not apply here" "$AP" detach --project p --pid 3
expect 2 "unknown option --nope" "$APD" --nope
expect 2 "needs a value" "$APD" --state-dir
expect 2 "--listen wants HOST:PORT" "$APD" --listen 8765
expect 2 "--listen 0.0.0.0:8765 is not a loopback address: add --allow-remote" "$APD" --listen 0.0.0.0:8765
expect 2 "--allow-remote needs --token-file" "$APD" --listen 0.0.0.0:8765 --allow-remote
expect 2 "--interval-running wants a whole number from 100 to 3600000" "$APD" --interval-running 5
expect 2 "--max-clients wants a whole number" "$APD" --max-clients lots
expect 2 "cannot read --token-file /nonexistent" "$APD" --token-file /nonexistent
expect 2 "tokens needs --add N" "$AP" tokens --project p
expect 2 "--add wants a whole number" "$AP" tokens --project p --add 1.5
expect 2 "watch needs exactly one project NAME" "$AP" watch
expect 1 "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$APD" --control "$T/x.sock"
"$AP" --help | grep -q "attach --project NAME --pid PID" || fail "--help"
"$APD" --help | grep -q -- "--state-dir DIR" || fail "agentperfd --help"

daemon_start --control-group nogroup
# A second daemon on the same socket is refused in one line.
expect 1 "another agentperfd is already listening on $AGENTPERF_CONTROL" \
	"$APD" --control "$AGENTPERF_CONTROL" --state-dir "$T/state2" --listen "127.0.0.1:$(free_port)"
# ... and so is a second daemon on a taken port, after the socket is free.
expect 1 "cannot listen on 127.0.0.1:$PORT: Address already in use" \
	"$APD" --control "$T/other.sock" --state-dir "$T/state2" --listen "127.0.0.1:$PORT"
[ ! -e "$T/other.sock" ] || fail "a daemon that could not start left its socket behind"
expect 1 "no such process: 999999" "$AP" attach --project p --pid 999999
"$H/burn" 2 3000 &
burner=$!
two_threads() { [ "$(ls "/proc/$burner/task" | wc -l)" = 2 ]; }
wait_until 20 two_threads || fail "the burner never had its two threads"
expect 1 "is a thread of process $burner; give the process id" \
	"$AP" attach --project p --pid "$(ps -L -o lwp= -p "$burner" | tail -1 | tr -d ' ')"
kill "$burner"
# The raw protocol: a malformed line is answered, not fatal; `run` marks
# only the caller's own child.
raw() { printf '%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$AGENTPERF_CONTROL"; }
raw 'not json' | grep -q '"ok":false,"error":"request is not a JSON object"' || fail "malformed request"
raw '{"cmd":"run","project":"p","pid":1}' | grep -q 'process 1 is not a child of the caller' || fail "run of a non-child"
raw '{"cmd":"attach","project":"../x","pid":1}' | grep -q 'invalid project name' || fail "daemon accepted a bad name"
head -c 5000 /dev/zero | tr '\0' x | timeout 5 socat -t 2 - "UNIX-CONNECT:$AGENTPERF_CONTROL" | grep -q 'request line too long' ||
	fail "overlong line"
kill -0 "$DPID" || fail "daemon died on bad requests"

# SO_PEERCRED: an unprivileged peer may attach only its own processes.
chmod o+x "$T"
sleep 30 &
root_pid=$!
nobody() { setpriv --reuid=65534 --regid=65534 --init-groups "$@"; }
expect 1 "permission denied: process $root_pid belongs to another user" nobody "$AP" attach --project p --pid "$root_pid"
nobody sh -c "sleep 30 & '$AP' attach --project mine --pid \$!; kill \$!" >"$T/mine" 2>&1 || fail "nobody could not attach its own process: $(cat "$T/mine")"
kill "$root_pid"
daemon_stop
