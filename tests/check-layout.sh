#!/usr/bin/env bash
# The client binary holds no daemon code: no symbol that an object under
# user/daemon/ defines may be defined in agentperf. Usage: check-layout.sh BUILD
set -euo pipefail
B=${1:-build}
daemon_syms=$(nm --defined-only "$B"/user/daemon/*.o "$B"/user/daemon/*/*.o | awk '$2 ~ /^[TDBR]$/ && $3 != "main" { print $3 }' | sort -u)
client_syms=$(nm --defined-only "$B"/agentperf | awk '$2 ~ /^[TDBRtdbr]$/ { print $3 }' | sort -u)
[ -n "$daemon_syms" ] || { echo "layout: no daemon symbols found in $B/user/daemon/" >&2; exit 1; }
both=$(comm -12 <(echo "$daemon_syms") <(echo "$client_syms"))
if [ -n "$both" ]; then
	echo "layout: FAIL: agentperf contains daemon code: $(echo $both)" >&2
	exit 1
fi
echo "layout: agentperf defines none of the daemon's $(wc -l <<<"$daemon_syms") symbols"

# No two modules call each other: no .c includes the header of a module whose
# .c includes its own (hooks handed at creation carry calls the other way).
pairs=$(for c in user/*/*.c user/daemon/*/*.c; do
	m=$(basename "$c" .c)
	grep -o '#include "[a-z_0-9]*\.h"' "$c" | sed 's/#include "\(.*\)\.h"/\1/' | grep -vx "$m" | sed "s/^/$m /"
done | sort -u)
mutual=$(awk 'NR == FNR { e[$1 " " $2] = 1; next } ($2 " " $1) in e && $1 < $2 { print $1 "<->" $2 }' \
	<(echo "$pairs") <(echo "$pairs"))
if [ -n "$mutual" ]; then
	echo "layout: FAIL: modules include each other: $(echo $mutual)" >&2
	exit 1
fi
echo "layout: no two modules include each other ($(wc -l <<<"$pairs") includes)"
