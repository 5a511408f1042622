#!/usr/bin/env bash
# Disk faults lose no record: on a full state directory (a small tmpfs) a
# finished run's record waits and is written once there is room, whether the
# daemon keeps running or is stopped meanwhile and started again.
. "$(dirname "$0")/lib.sh"
need_root
SD=$T/small SD2=$T/small2
mkdir "$SD" "$SD2"
# Each case starts on an empty tmpfs: a record appended within runs.jsonl's
# last page would fit even on a full one.
mount -t tmpfs -o size=512k tmpfs "$SD" && mount -t tmpfs -o size=512k tmpfs "$SD2" ||
	fail "cannot mount a tmpfs"
trap 'umount -l "$SD" "$SD2" 2>/dev/null || true; cleanup' EXIT

fill() { dd if=/dev/zero of="$SD/fill" bs=4k 2>/dev/null || true; }

# Each run ends when the test says (a line on a fifo), once the disk is
# full, however long filling it took.
mkfifo "$T/end1" "$T/end2"
record_failed() { grep -q "cannot record run" "$T/daemon.log"; }

daemon_start --state-dir "$SD"
# While the daemon runs: the record waits for room, then is written.
"$AP" run --project full-run -- sh -c "read x <'$T/end1'" >/dev/null 2>&1 &
c1=$!
wait_run full-run >/dev/null
fill
echo >"$T/end1"
wait "$c1" || true
wait_until 20 record_failed || fail "no record failure on a full disk"
rm "$SD/fill"
rec=$(wait_record full-run)
jq -e '.status == "stopped" and .exit_code == 0' <<<"$rec" >/dev/null || fail "record after room came back: $rec"

# Stopped while the disk is full: the finished run stays pinned and journaled
# (SIGTERM says so and exits non-zero), and the next start records it.
daemon_stop
SD=$SD2
daemon_start --state-dir "$SD"
"$AP" run --project full-stop -- sh -c "read x <'$T/end2'; exit 4" >/dev/null 2>&1 &
c2=$!
wait_run full-stop >/dev/null
fill
echo >"$T/end2"
wait "$c2" || true
wait_until 20 record_failed || fail "no record failure on a full disk, second daemon"
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
[ "$rc" = 1 ] || fail "SIGTERM with a full state dir exited $rc, wanted 1"
grep -q "could not be recorded" "$T/daemon.log" || fail "no line about the unrecorded run"
rm "$SD/fill"
daemon_start --state-dir "$SD"
rec=$(wait_record full-stop)
jq -e '.exit_code == 4 and .adopted' <<<"$rec" >/dev/null || fail "record after the restart: $rec $(bpftool map dump pinned "$BPF_DIR/run_info" -j | jq -c "[.[] | select(.value.gen > 0)]")"
daemon_stop
umount "$T/small" "$SD2"
echo "ok"
