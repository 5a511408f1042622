#!/usr/bin/env bash
# Fuzzes each libFuzzer target of tests/fuzz/ for SECONDS, one at a time (a
# core stays free), after replaying its seeds; prints target, executions and
# crashes. `make fuzz-check` runs it briefly with -q: one summary line.
#
#   scripts/fuzz.sh [-q] SECONDS [TARGET...]
#
# FUZZ_DIR names built targets (make fuzz); unset, it builds them in build/fuzz.
# New inputs go to FUZZ_DIR/corpus/TARGET, findings to FUZZ_DIR/TARGET-crash-*,
# each run's log to FUZZ_DIR/TARGET.log; the seeds in tests/fuzz/corpus/ stay.
set -uo pipefail

quiet=0
if [ "${1:-}" = -q ]; then
	quiet=1
	shift
fi
secs=${1:-}
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "usage: $0 [-q] SECONDS [TARGET...]" >&2
	exit 2
fi
shift
cd "$(dirname "$0")/.." || exit 1

if [ -z "${FUZZ_DIR:-}" ]; then
	FUZZ_DIR=build/fuzz
	make --no-print-directory -j2 fuzz || exit 1
fi
if [ $# -eq 0 ]; then
	set -- $(ls "$FUZZ_DIR" | sed -n 's/^fuzz_//p')
fi

pass=0 failn=0
[ "$quiet" = 1 ] || printf '%-16s %14s %8s\n' target executions crashes
for t in "$@"; do
	bin=$FUZZ_DIR/fuzz_$t seeds=tests/fuzz/corpus/$t work=$FUZZ_DIR/corpus/$t
	log=$FUZZ_DIR/$t.log
	args=(-max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
	      -artifact_prefix="$FUZZ_DIR/$t-")
	[ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
	mkdir -p "$work"
	rm -f "$FUZZ_DIR/$t"-crash-* "$FUZZ_DIR/$t"-leak-* "$FUZZ_DIR/$t"-timeout-* \
		"$FUZZ_DIR/$t"-oom-*
	ok=1
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is not built" >"$log"
		ok=0
	elif [ -n "$(ls -A "$seeds" 2>/dev/null)" ] &&
	     ! "$bin" -artifact_prefix="$FUZZ_DIR/$t-" "$seeds"/* >"$log" 2>&1; then
		ok=0 # a seed crashes: no point fuzzing on
	elif ! "$bin" "${args[@]}" "$work" $([ -d "$seeds" ] && echo "$seeds") >>"$log" 2>&1; then
		ok=0
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crashes=$(ls "$FUZZ_DIR/$t"-crash-* "$FUZZ_DIR/$t"-leak-* "$FUZZ_DIR/$t"-timeout-* \
		"$FUZZ_DIR/$t"-oom-* 2>/dev/null | wc -l)
	if [ "$ok" = 1 ]; then
		pass=$((pass + 1))
	else
		failn=$((failn + 1))
		[ "$crashes" -gt 0 ] || crashes=1
		echo "FAIL fuzz_$t: see $log" >&2
		grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" >&2
	fi
	[ "$quiet" = 1 ] || printf '%-16s %14s %8s\n' "$t" "${execs:--}" "$crashes"
done
echo "fuzz: $pass passed, $failn failed"
[ "$failn" = 0 ]
