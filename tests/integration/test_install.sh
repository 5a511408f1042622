#!/usr/bin/env bash
# `make install` (PREFIX, DESTDIR) lays out binaries, the systemd unit and the
# man pages; the unit passes systemd-analyze; the daemon works inside the
# unit's capability bounding set with no_new_privs, and after setup keeps only
# CAP_SYS_PTRACE (+ CAP_DAC_READ_SEARCH with a registry), as /proc says.
. "$(dirname "$0")/lib.sh"
need_root

make -s --no-print-directory -C "$ROOT" BUILD="$BUILD" SANITIZE="${SANITIZE:-}" install DESTDIR="$T/dest" PREFIX=/usr >/dev/null ||
	fail "make install failed"
for f in usr/sbin/agentperfd:755 usr/bin/agentperf:755 usr/lib/systemd/system/agentperfd.service:644 \
	usr/share/man/man8/agentperfd.8:644 usr/share/man/man1/agentperf.1:644; do
	[ "$(stat -c %a "$T/dest/${f%:*}" 2>/dev/null)" = "${f#*:}" ] || fail "$T/dest/${f%:*} missing or not mode ${f#*:}"
done
[ "$(find "$T/dest" -type f | wc -l)" = 5 ] || fail "unexpected files: $(find "$T/dest" -type f)"
UNIT=$T/dest/usr/lib/systemd/system/agentperfd.service
grep -q "^ExecStart=/usr/sbin/agentperfd " "$UNIT" || fail "ExecStart does not follow PREFIX"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=read-only StateDirectory=agentperf \
	RuntimeDirectory=agentperf CapabilityBoundingSet=; do
	grep -q "^$k" "$UNIT" || fail "the unit lacks $k"
done

# The man pages render without warnings and name every option --help names.
for page in "$T/dest/usr/share/man/man8/agentperfd.8" "$T/dest/usr/share/man/man1/agentperf.1"; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "$page: $w"
done
LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$T/dest/usr/share/man/man8/agentperfd.8" 2>/dev/null >"$T/d.txt"
for opt in $("$APD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$opt" "$T/d.txt" || fail "agentperfd(8) does not describe $opt"
done
LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$T/dest/usr/share/man/man1/agentperf.1" 2>/dev/null >"$T/c.txt"
for word in $("$AP" --help | awk '/^Commands:/ { on = 1; next } /^Options:/ { on = 0 } on && /^  [a-z]/ { print $1 }') \
	$("$AP" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$word" "$T/c.txt" || fail "agentperf(1) does not describe $word"
done

# systemd's own checker, on a real install into a scratch prefix (its ExecStart exists).
make -s --no-print-directory -C "$ROOT" BUILD="$BUILD" SANITIZE="${SANITIZE:-}" install PREFIX="$T/prefix" >/dev/null
out=$(systemd-analyze verify --man=no "$T/prefix/lib/systemd/system/agentperfd.service" 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"

# The installed daemon, confined as the unit confines it: daemon_start runs
# it behind this prefix, and setpriv execs it (DPID is the daemon).
bset=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
IN_NS=(setpriv --bounding-set="-all,$bset" --inh-caps=-all --no-new-privs)
APD=$T/prefix/sbin/agentperfd
caps_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

dropped() { grep -q "capabilities after setup" "$T/daemon.log"; }
daemon_start
wait_until 20 dropped || fail "the drop, which follows \"listening\", is not logged"
for k in CapEff CapPrm CapBnd; do
	[ "$(caps_of "$DPID" $k)" = 0000000000080004 ] || fail "$k $(caps_of "$DPID" $k): not cap_sys_ptrace and cap_dac_read_search alone"
done
[ "$(caps_of "$DPID" CapInh)" = 0000000000000000 ] || fail "inheritable capabilities left"
[ "$(caps_of "$DPID" NoNewPrivs)" = 1 ] || fail "no_new_privs is not set"
grep -q "capabilities after setup: cap_dac_read_search,cap_sys_ptrace=ep" "$T/daemon.log" || fail "the drop is not logged"
# Everything still works without them: a run, an attach (the seed iterator),
# another user's process, status with top commands, /metrics.
"$AP" run --project confined --summary "$T/run.json" -- "$H/burn" 1 200 2>/dev/null || fail "run failed when confined"
[ "$(jq -r '.top[0].comm' "$T/run.json")" = burn ] || fail "no top when confined"
setpriv --reuid=65534 --regid=65534 --clear-groups "$H/burn" 1 60000 &
other=$!
# Another user's: once setpriv has become nobody and exec'd the burner.
is_burn() { [ "$(cat "/proc/$other/comm")" = burn ] && [ "$(stat -c %u "/proc/$other")" = 65534 ]; }
wait_until 20 is_burn || fail "setpriv did not become nobody's burner"
# Its own CPU as the kernel counts it, the reference for its live rate.
RATE=$ROOT/tests/integration/cpu_rate.py
/usr/bin/python3 "$RATE" record "$other" "$T/other.cpu" &
recorder=$!
/usr/bin/python3 "$RATE" wait "$T/other.cpu" 0.1 || fail "no record of the burner's CPU"
"$AP" attach --project other --pid "$other" >/dev/null || fail "attach of another user's process failed when confined"
# A rate needs two walks 0.9 s or more apart: the first figure comes when it does.
other_cores() { cores=$("$AP" status --json | jq '.[] | select(.project == "other") | .cores'); }
busy() {
	t0=$(date +%s.%N)
	other_cores && t1=$(date +%s.%N) && awk -v c="$cores" 'BEGIN { exit !(c + 0 > 0) }'
}
wait_until 30 busy || fail "no live figures when confined: $("$AP" status --json)"
band=$(/usr/bin/python3 "$RATE" check "$T/other.cpu" "$cores" \
	"$(awk -v t="$t0" 'BEGIN { printf "%.6f", t - 0.95 }')" "$t1") ||
	fail "wrong live figures when confined: $band"
echo "confined: status shows $band"
curl -sf "http://$AGENTPERF_SERVER/metrics" | grep -q 'project="other"' || fail "/metrics failed when confined"
kill "$other"
wait "$other" 2>/dev/null || true
wait "$recorder" || true
daemon_stop

# With a registry, CAP_DAC_READ_SEARCH stays too (homes are often 0700).
daemon_start --autoforge-registry "$T/none/registry.db"
wait_until 20 dropped || fail "with a registry: the drop is not logged"
[ "$(caps_of "$DPID" CapEff)" = 0000000000080004 ] || fail "with a registry: CapEff $(caps_of "$DPID" CapEff)"
daemon_stop
echo "installed layout, man pages, unit verified; confined daemon keeps CapEff 0x80000 (0x80004 with a registry)"
