#!/usr/bin/env bash
# Per-run diagnostics: top commands by CPU (against a cgroup), peak RSS of a
# process too short-lived to sample, and run delay (against schedstat).
. "$(dirname "$0")/lib.sh"
need_root
daemon_start

# Mostly one command: a burner in its own cgroup, beside a little
# shell and /bin/true noise and a short-lived 256 MiB process.
cg=$(cg_new top)
"$AP" run --project diag --wait-all --summary "$T/diag.json" -- sh -c "
	'$H/cgexec' -o '$T/burn.pre' '$cg' '$H/burn' 2 1000 &
	i=0; while [ \$i -lt 50 ]; do /bin/true; i=\$((i+1)); done
	'$H/hog' 256
	wait" 2>"$T/diag.err" || fail "diag workload failed: $(cat "$T/diag.err")"
check_record "$T/diag.json"
jq -e '.top | length >= 3' "$T/diag.json" >/dev/null || fail "top has too few commands: $(jq -c .top "$T/diag.json")"
[ "$(jq -r '.top[0].comm' "$T/diag.json")" = burn ] || fail "top[0] is not burn: $(jq -c .top "$T/diag.json")"
jq -e '[.top[].comm] | index("true") != null and index("sh") != null' "$T/diag.json" >/dev/null ||
	fail "true and sh missing from top: $(jq -c .top "$T/diag.json")"
# Its figure is the kernel's: the burner's group, plus its CPU before joining.
burn_ns=$(jq -r '.top[0].cpu_seconds * 1e9 | round' "$T/diag.json")
compare top-burn "$burn_ns" "$(cg_usage "$cg")" "$(cat "$T/burn.pre")"
jq -e '([.top[].cpu_seconds] | add) <= .cpu_seconds + 0.001' "$T/diag.json" >/dev/null ||
	fail "top adds up to more than the run's CPU"
# hog lived a few ms: only the kernel's per-process peak can have seen it.
peak=$(jq -r .peak_rss_bytes "$T/diag.json")
[ "$peak" -ge $((256 << 20)) ] && [ "$peak" -le $((300 << 20)) ] ||
	fail "peak_rss_bytes $peak is not hog's 256 MiB"
echo "peak RSS $peak bytes; the 256 MiB process lived a few ms"
grep -q "Top commands: burn" "$T/diag.err" || fail "summary names no top command: $(cat "$T/diag.err")"
grep -q "Peak RSS 2[0-9][0-9]MiB" "$T/diag.err" || fail "summary has no peak RSS: $(cat "$T/diag.err")"

# Run delay: three burners share one CPU for 300 ms each, so they wait
# about 0.9 s in all (far more on a busy host); each reports what schedstat
# says it waited, and so does the shell for its own waits while it ran them.
"$AP" run --project delay --summary "$T/delay.json" -- taskset -c 0 sh -c "
	read x d0 x </proc/\$\$/schedstat
	for i in 1 2 3; do BURN_DELAY_FILE='$T/delays' '$H/burn' 1 300 & done; wait
	read x d1 x </proc/\$\$/schedstat
	echo \$((d1 - d0)) >'$T/shdelay'" 2>/dev/null ||
	fail "delay workload failed"
# printf: mawk prints a sum past 2^31 in exponent notation, and %d clamps it.
burners=$(awk '{ s += $1 } END { printf "%.0f\n", s }' "$T/delays")
want=$((burners + $(cat "$T/shdelay")))
got=$(jq -r '.run_delay_seconds * 1e9 | round' "$T/delay.json")
echo "run delay: run $got ns, the burners' own schedstat $burners ns, with the shell's $want ns"
[ "$(wc -l <"$T/delays")" = 3 ] || fail "expected 3 burner delays"
[ "$burners" -ge 300000000 ] || fail "the burners did not wait (taskset?): $burners ns"
# The run also holds the shell's waits before and after it read its own, and
# the burners' last switch: a little more, never less.
awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= w - 1000000 && g <= w * 1.05 + 20000000) }' ||
	fail "run_delay_seconds $got ns is not the burners' and the shell's $want ns"

# The table tells an operator where the CPU went.
"$AP" runs --project diag >"$T/runs.txt"
head -1 "$T/runs.txt" | grep -q "PEAK_RSS  *CPU_WAIT  *COSTLIEST_TOOL  *TOP" || fail "runs table header: $(head -1 "$T/runs.txt")"
sed -n 2p "$T/runs.txt" | grep -q " burn [0-9][0-9]*%" || fail "runs table row: $(sed -n 2p "$T/runs.txt")"
cat "$T/runs.txt"
daemon_stop
