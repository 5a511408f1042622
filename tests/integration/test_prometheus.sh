#!/usr/bin/env bash
# /metrics passes promtool, and a real Prometheus server scrapes it (with the
# bearer token, as the README's scrape config says) and holds the run's CPU
# counter equal to the run record's within 1 %.
. "$(dirname "$0")/lib.sh"
need_root
TOOLS=$ROOT/build/tools/usr/bin
[ -x "$TOOLS/prometheus" ] && [ -x "$TOOLS/promtool" ] || fail "no prometheus/promtool in $TOOLS (make deps)"

echo "s3cret-token" >"$T/token"
daemon_start --token-file "$T/token"
M=http://$AGENTPERF_SERVER/metrics

# The token guards /metrics like the WebSocket.
code=$(curl -s -o /dev/null -w '%{http_code}' "$M")
[ "$code" = 401 ] || fail "/metrics without the token answered $code, not 401"
! grep -q s3cret "$T/daemon.log" || fail "the token was logged"

# promtool, mid-run: a live run's series are there.
"$AP" run --project prom -- "$H/burn" 2 1500 2>/dev/null &
RUNPID=$!
# Once the run shows with both its threads (however long a busy host takes).
live() {
	curl -sf -H "Authorization: Bearer s3cret-token" "$M" >"$T/live.txt" &&
		grep -q '^agentperf_run_tasks{project="prom",.*} 2$' "$T/live.txt"
}
wait_until 20 live || [ -s "$T/live.txt" ] || fail "/metrics with the token failed"
"$TOOLS/promtool" check metrics <"$T/live.txt" || fail "promtool rejects /metrics: $(cat "$T/live.txt")"
grep -q '^agentperf_run_cpu_seconds_total{project="prom",run_id="[0-9]*-[0-9TZ:-]*"} [0-9.]*$' "$T/live.txt" ||
	fail "no live run counter: $(cat "$T/live.txt")"
grep -q '^agentperf_run_tasks{project="prom",.*} 2$' "$T/live.txt" || fail "the run's 2 tasks are not shown"
grep -q '^agentperf_build_info{version=".*",bpf_variant="tp_btf"} 1$' "$T/live.txt" || fail "no build_info"
grep -q '^agentperf_host_memory_total_bytes [1-9]' "$T/live.txt" || fail "no host memory"
wait "$RUNPID" || fail "the run failed"

# A real Prometheus, on loopback, scraping every second.
PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: agentperf
    authorization:
      credentials_file: $T/token
    static_configs:
      - targets: ['$AGENTPERF_SERVER']
YML
"$TOOLS/promtool" check config "$T/prometheus.yml" >/dev/null || fail "promtool rejects the scrape config"
"$TOOLS/prometheus" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T/prometheus.log" 2>&1 &
PROMPID=$!
trap 'kill $PROMPID 2>/dev/null; wait $PROMPID 2>/dev/null; cleanup' EXIT
query() { curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1"; }
wait_until 60 query up >/dev/null 2>&1 || fail "Prometheus did not start: $(tail -5 "$T/prometheus.log")"

"$AP" run --project prom --summary "$T/run.json" -- "$H/burn" 2 1000 2>/dev/null || fail "the run failed"
id=$(jq -r .run_id "$T/run.json")
want=$(jq -r .cpu_seconds "$T/run.json")
got=
for _ in $(seq 60); do
	got=$(query "agentperf_run_cpu_seconds_total{run_id=\"$id\"}" | jq -r '.data.result[0].value[1] // empty')
	# The last scrape may still be from while the run was live: wait for the final value.
	[ -n "$got" ] && awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= w * 0.99) }' && break
	sleep 0.5
done
[ -n "$got" ] || fail "Prometheus has no agentperf_run_cpu_seconds_total for $id: $(tail -5 "$T/prometheus.log")"
echo "Prometheus: run $id cpu $got s; record $want s"
awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= w * 0.01) }' ||
	fail "Prometheus holds $got s, the record $want s"
[ "$(query 'up{job="agentperf"}' | jq -r '.data.result[0].value[1]')" = 1 ] || fail "target not up"
[ "$(query 'agentperf_build_info' | jq -r '.data.result | length')" = 1 ] || fail "no build_info in Prometheus"
daemon_stop
