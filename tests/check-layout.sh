#!/usr/bin/env bash
# The layout, checked in make check. Usage: check-layout.sh BUILD
#  1. agentperf holds no daemon code: no symbol an object under user/daemon/
#     defines is defined in the client binary.
#  2. Each subsystem folder of user/daemon/ is reached through its facade
#     only: code outside the folder includes no other header of it.
#  3. No part of a subsystem includes its own facade (limits and shared
#     types live in a part's header, which the facade includes). The
#     facade's own files are those that include its private header
#     (<facade>_int.h, the state they share): they implement it.
#  4. No modules include each other, directly or around a loop (a module is
#     a .c and its .h; hooks handed at creation carry calls the other way).
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
declare -A FACADE=([tracker]=tracker [registry]=registry [http]=http [tokens]=tokscan [gpu]=gpu [actions]=actions)
fail=0

daemon_syms=$(nm --defined-only "$B"/user/daemon/*.o "$B"/user/daemon/*/*.o |
	awk '$2 ~ /^[TDBR]$/ && $3 != "main" { print $3 }' | sort -u)
client_syms=$(nm --defined-only "$B"/agentperf | awk '$2 ~ /^[TDBRtdbr]$/ { print $3 }' | sort -u)
[ -n "$daemon_syms" ] || { echo "layout: no daemon symbols found in $B/user/daemon/" >&2; exit 1; }
both=$(comm -12 <(echo "$daemon_syms") <(echo "$client_syms"))
if [ -n "$both" ]; then
	echo "layout: FAIL: agentperf contains daemon code: $(echo $both)" >&2
	fail=1
else
	echo "layout: agentperf defines none of the daemon's $(wc -l <<<"$daemon_syms") symbols"
fi

# Resolves a quoted include as the compiler does (the including file's
# folder first, then -I user/daemon, user/common, user/client, include):
# prints the module (path without .h), nothing for generated headers.
resolve() {
	local dir=$1 inc=$2 d
	for d in "$dir" user/daemon user/common user/client include; do
		[ -f "$d/$inc" ] && { echo "$d/${inc%.h}"; return; }
	done
	return 0
}

for d in "${!FACADE[@]}"; do
	[ -f "user/daemon/$d/${FACADE[$d]}.h" ] || { echo "layout: FAIL: no facade user/daemon/$d/${FACADE[$d]}.h" >&2; fail=1; }
done

edges=()
n_inc=0
for f in user/*/*.[ch] user/daemon/*/*.[ch]; do
	dir=$(dirname "$f")
	mod=${f%.[ch]}
	mod=${mod%_int}
	implements=$(sed -n 's/^#include "\([a-z]*\)_int\.h".*/\1/p' "$f")
	sub=
	[[ $dir == user/daemon/* ]] && sub=${dir#user/daemon/}
	while read -r inc; do
		[ -n "$inc" ] || continue
		n_inc=$((n_inc + 1))
		to=$(resolve "$dir" "$inc")
		[ -n "$to" ] || continue
		to=${to%_int}
		[ "$to" = "$mod" ] && continue
		edges+=("$mod $to")
		# Which subsystem the included header belongs to, if any.
		tdir=$(dirname "$to")
		[[ $tdir == user/daemon/* ]] || continue
		tsub=${tdir#user/daemon/}
		facade=${FACADE[$tsub]:-}
		if [ "$tsub" != "$sub" ] && [ "$(basename "$to")" != "$facade" ]; then
			echo "layout: FAIL: $f includes $inc, a part of $tsub/ (include $tsub/$facade.h)" >&2
			fail=1
		fi
		if [ "$tsub" = "$sub" ] && [ "$(basename "$to")" = "$facade" ] &&
			[ "$(basename "$mod")" != "$facade" ] && [ "$implements" != "$facade" ]; then
			echo "layout: FAIL: $f, a part of $sub/, includes its facade $facade.h" >&2
			fail=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
[ $fail -ne 0 ] || echo "layout: subsystems reached through their facades only ($n_inc includes)"

if ! loop=$(printf '%s\n' "${edges[@]}" | sort -u | tsort 2>&1 >/dev/null); then
	echo "layout: FAIL: modules include each other in a loop: $(echo $loop)" >&2
	fail=1
elif [ -n "$loop" ]; then
	echo "layout: FAIL: modules include each other in a loop: $(echo $loop)" >&2
	fail=1
else
	echo "layout: no modules include each other, directly or in a loop ($(printf '%s\n' "${edges[@]}" | sort -u | wc -l) module edges)"
fi
exit $fail
