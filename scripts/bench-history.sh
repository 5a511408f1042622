#!/usr/bin/env bash
# What `agentperf runs` and a `wait` for a recorded run cost on a large
# history: writes a runs.jsonl of MB megabytes (default 50) of plausible
# records (~350 bytes, 50 projects) with a corrupt line every 97 (torn
# records, text, records glued to a torn one), then times history_read and
# history_find in a small driver linked with history.o, one process each:
# the call's time, and the process's wall time and max RSS (/usr/bin/time).
# Usage: scripts/bench-history.sh [MB]; BUILD=DIR for another (unsanitized) build.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-50}
BUILD=${BUILD:-build}
T=$(mktemp -d /tmp/agentperf-benchhistory.XXXXXX)
trap 'rm -rf "$T"' EXIT

make -s "$BUILD/user/daemon/history.o" "$BUILD/user/common/buf.o"
cat >"$T/drv.c" <<'EOF'
/* Times one history call: DIR read PROJECT LIMIT | DIR find PROJECT RUN_ID
 * (PROJECT "-": any). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"

int main(int argc, char **argv)
{
	const char *project = argc > 3 && strcmp(argv[3], "-") ? argv[3] : NULL;
	unsigned skipped = 0, found;
	struct timespec a, b;
	cJSON *out;

	if (argc != 5)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (!strcmp(argv[2], "read")) {
		out = history_read(argv[1], project, (unsigned)atoi(argv[4]), &skipped);
		found = (unsigned)cJSON_GetArraySize(out);
	} else {
		out = history_find(argv[1], project, argv[4], &skipped);
		found = out != NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%8.1f ms %6u found %6u skipped", (double)(b.tv_sec - a.tv_sec) * 1e3 +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e6, found, skipped);
	cJSON_Delete(out);
	return 0;
}
EOF
# shellcheck disable=SC2046
cc -O2 -D_GNU_SOURCE -Iuser/daemon $(pkg-config --cflags libcjson) "$T/drv.c" \
	"$BUILD/user/daemon/history.o" "$BUILD/user/common/buf.o" $(pkg-config --libs libcjson) -lm -o "$T/drv"

# Records as runs_record writes them; run i is pid 100000+i; "rare" has runs
# only among the oldest hundred.
mkdir "$T/state"
awk -v bytes=$((MB << 20)) 'BEGIN {
	# ` for ": shorter lines.
	fmt = "{`project`:`%s`,`run_id`:`%d-2024-05-01T10:%02d:%02dZ`,`pid`:%d," \
		"`started_at`:`2024-05-01T10:%02d:%02dZ`,`ended_at`:`2024-05-01T11:00:00Z`," \
		"`status`:`exited`,`exit_code`:0,`signal`:null,`wall_seconds`:%.3f," \
		"`cpu_seconds`:%.3f,`cpu_ns`:%d,`tasks_started`:%d,`tasks_alive`:0," \
		"`tasks_lost`:0,`peak_rss_bytes`:%d,`run_delay_seconds`:0.012," \
		"`gpu_seconds`:null,`top`:[{`comm`:`cc1`,`cpu_seconds`:%.3f}," \
		"{`comm`:`ld`,`cpu_seconds`:0.5}],`detached`:false}"
	gsub(/`/, "\"", fmt)
	for (i = 0; size < bytes; i++) {
		p = i < 100 && i % 10 == 0 ? "rare" : "proj-" (i * 7) % 50
		rec = sprintf(fmt, p, 100000 + i, i / 60 % 60, i % 60, 100000 + i, i / 60 % 60,
			i % 60, i % 977, i % 313, (i % 313) * 1000000000, i % 41, 1000000 + i, i % 211)
		if (i % 97 == 13)
			line = substr(rec, 1, 140)
		else if (i % 97 == 40)
			line = "not a record " i
		else if (i % 97 == 71)
			line = substr(rec, 1, 90) rec
		else
			line = rec
		print line
		size += length(line) + 1
	}
	print i > "/dev/stderr"
}' >"$T/state/runs.jsonl" 2>"$T/count"
n=$(cat "$T/count")
echo "runs.jsonl: $(du -m "$T/state/runs.jsonl" | cut -f1) MB, $n lines, a corrupt one every 97"

one() { # LABEL ARGS...
	local label=$1
	shift
	printf '%-40s ' "$label"
	/usr/bin/time -f ' | process %e s wall, %M KiB max RSS' "$T/drv" "$T/state" "$@" 2>&1
}
one "read, any project, limit 20" read - 20
one "read, one of 50 projects, limit 20" read proj-7 20
one "read, limit 0 (capped)" read - 0
one "read, project in the oldest runs only" read rare 20
id_of() { printf '%d-2024-05-01T10:%02d:%02dZ' $((100000 + $1)) $(($1 / 60 % 60)) $(($1 % 60)); }
one "find the newest run" find - "$(id_of $((n - 1)))"
one "find a run in the middle" find - "$(id_of $((n / 2 / 97 * 97)))"
one "find the oldest run" find - "$(id_of 0)"
one "find a missing run" find - "99-2024-05-01T10:00:00Z"
