#!/usr/bin/env bash
# What a large agent-harness registry costs the daemon: writes a registry.db
# of N projects (default 100000) with the sqlite3 CLI, then times, in a small
# driver linked with the registry engine (regengine.o, reglocks.o: what each
# registry's worker thread runs), the first read (regengine_refresh), a second
# one (every project kept, with its lock's state), regengine_has for every name
# and one missing, and one look at every lock (regengine_watch). With DIRS=1
# each project's .autoforge directory exists (and gets an inotify watch).
# Usage: scripts/bench-registry.sh [N]; BUILD=DIR for another (unsanitized) build.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BUILD=${BUILD:-build}
T=$(mktemp -d /tmp/agentperf-benchregistry.XXXXXX)
trap 'rm -rf "$T"' EXIT

objs=(daemon/registry/regengine daemon/registry/reglocks daemon/log daemon/registry/agentlock daemon/procfs daemon/readfile common/names common/buf)
make -s $(printf "$BUILD/user/%s.o " "${objs[@]}")
cat >"$T/drv.c" <<'EOF'
/* Times the registry's read, lookups and lock look: DB N. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "regengine.h"

static int attach(void *ctx, const char *project, pid_t pid, bool again)
{
	return 0;
}

static double ms_since(struct timespec *a)
{
	struct timespec b;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
	*a = b;
	return ms;
}

int main(int argc, char **argv)
{
	long n = atol(argv[2]), found = 0;
	struct regengine *r = regengine_new(argv[1]);
	struct rusage ru;
	struct timespec t;
	char name[32];

	clock_gettime(CLOCK_MONOTONIC, &t);
	regengine_refresh(r, 0, true);
	printf("first read (regengine_refresh)       %9.1f ms\n", ms_since(&t));
	regengine_refresh(r, 1, true);
	printf("second read, all projects kept       %9.1f ms\n", ms_since(&t));
	for (long i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "p%06ld", i);
		found += regengine_has(r, name);
	}
	found += regengine_has(r, "missing");
	printf("regengine_has x %-8ld              %9.1f ms\n", n + 1, ms_since(&t));
	regengine_watch(r, "/proc", attach, NULL);
	printf("one look at every lock (regengine_watch) %5.1f ms\n", ms_since(&t));
	getrusage(RUSAGE_SELF, &ru);
	printf("max RSS %ld KiB\n", ru.ru_maxrss);
	regengine_free(r);
	if (found != n) {
		fprintf(stderr, "bench-registry: %ld of %ld names found\n", found, n);
		return 1;
	}
	return 0;
}
EOF
# shellcheck disable=SC2046
cc -O2 -D_GNU_SOURCE -Iuser/common -Iuser/daemon -Iuser/daemon/registry $(pkg-config --cflags libbpf) "$T/drv.c" \
	$(printf "$BUILD/user/%s.o " "${objs[@]}") $(pkg-config --libs sqlite3 libbpf) -o "$T/drv"

mkdir "$T/p"
sqlite3 "$T/registry.db" "CREATE TABLE projects (name TEXT PRIMARY KEY, path TEXT NOT NULL,
		created_at TEXT);
	WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $N)
	INSERT INTO projects SELECT printf('p%06d', x), printf('$T/p/p%06d', x), datetime() FROM c;"
dirs=
if [ "${DIRS:-0}" = 1 ]; then
	(cd "$T/p" && seq -f 'p%06g/.autoforge' 1 "$N" | xargs mkdir -p)
	dirs=", each with its .autoforge directory"
fi
echo "registry.db: $N projects$dirs"
# The driver's stderr is the registry's log.
/usr/bin/time -o "$T/time" -f 'process: %e s wall, %M KiB max RSS' \
	"$T/drv" "$T/registry.db" "$N" 2>"$T/log"
cat "$T/time"
echo "log: $(wc -l <"$T/log") lines"
