#!/usr/bin/env bash
# The client binary holds no daemon code: no symbol that an object under
# user/daemon/ defines may be defined in agentperf. Usage: check-layout.sh BUILD
set -euo pipefail
B=${1:-build}
daemon_syms=$(nm --defined-only "$B"/user/daemon/*.o | awk '$2 ~ /^[TDBR]$/ && $3 != "main" { print $3 }' | sort -u)
client_syms=$(nm --defined-only "$B"/agentperf | awk '$2 ~ /^[TDBRtdbr]$/ { print $3 }' | sort -u)
[ -n "$daemon_syms" ] || { echo "layout: no daemon symbols found in $B/user/daemon/" >&2; exit 1; }
both=$(comm -12 <(echo "$daemon_syms") <(echo "$client_syms"))
if [ -n "$both" ]; then
	echo "layout: FAIL: agentperf contains daemon code: $(echo $both)" >&2
	exit 1
fi
echo "layout: agentperf defines none of the daemon's $(wc -l <<<"$daemon_syms") symbols"
