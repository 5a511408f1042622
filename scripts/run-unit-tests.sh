#!/usr/bin/env bash
# Runs each cmocka test binary; prints their output and one total line.
set -uo pipefail
pass=0 failn=0
for t in "$@"; do
	if out=$("$t" 2>&1); then
		pass=$((pass + 1))
	else
		failn=$((failn + 1))
		echo "FAIL $t"
	fi
	echo "$out"
done
echo "unit: $pass passed, $failn failed"
[ "$failn" = 0 ]
