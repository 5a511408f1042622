#!/usr/bin/env bash
# attach --pid tracks a running tree (threads and children that already exist,
# and what they fork later) and credits exactly what the kernel accounts from
# the attach on. The tree is stopped while attaching so the span is exact.
. "$(dirname "$0")/lib.sh"
need_root
daemon_start

cg=$(cg_new attach)
# Root: a shell with two children (one with 3 threads) that will fork more.
setsid "$H/cgexec" "$cg" sh -c "
	'$H/burn' 3 400 &
	'$H/burn' 1 400 &
	sleep 0.3
	i=0; while [ \$i -lt 200 ]; do /bin/true; i=\$((i+1)); done
	wait" &
root=$!
sleep 0.15
# Stop the whole session and wait until every task of it is stopped.
kill -STOP -- -"$root"
for _ in $(seq 100); do
	running=$(ps -L -o stat= -s "$root" | grep -vc '^T' || true)
	[ "$running" = 0 ] && break
	sleep 0.02
done
[ "$running" = 0 ] || fail "tree did not stop"
threads=$(ps -L -o lwp= -s "$root" | wc -l)
before=$(cg_usage "$cg")
out=$("$AP" attach --project attach --pid "$root") || fail "attach failed"
echo "$out"
grep -q "($threads tasks)" <<<"$out" || fail "attach marked other than the $threads existing tasks: $out"
kill -CONT -- -"$root"
wait "$root" || fail "tree failed"
# The run ends when its last task is gone; the record lands in the history.
wait_record attach >"$T/attach.json"
check_record "$T/attach.json"
[ "$(jq -r .status "$T/attach.json")" = stopped ] || fail "attached run not stopped: $(cat "$T/attach.json")"
[ "$(jq .tasks_started "$T/attach.json")" -ge $((threads + 200)) ] || fail "forks after attach not tracked"
compare attach "$(jq .cpu_ns "$T/attach.json")" $(($(cg_usage "$cg") - before)) 0

# attach refuses what it cannot track, in one line.
"$AP" attach --project attach --pid 999999 2>"$T/err" && fail "attach of a missing pid succeeded"
grep -q "no such process: 999999" "$T/err" || fail "unclear error: $(cat "$T/err")"
daemon_stop
