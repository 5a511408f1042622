#!/usr/bin/env bash
# `agentperf run` exports the run's id to its command: AGENTPERF_RUN_ID, and
# agentperf.run_id=ID appended to OTEL_RESOURCE_ATTRIBUTES (whose entries are
# kept), so that an agent's own OpenTelemetry names the run.
. "$(dirname "$0")/lib.sh"
need_root
daemon_start

# runenv LABEL [VAR=VALUE]...: `agentperf run` of a command that writes its
# AGENTPERF_RUN_ID and OTEL_RESOURCE_ATTRIBUTES (or "unset") on two lines of
# $T/LABEL.env, in an environment with exactly the VARs given of those two.
runenv() {
	local label=$1
	shift
	env -u AGENTPERF_RUN_ID -u OTEL_RESOURCE_ATTRIBUTES "$@" \
		"$AP" run --project "$label" --summary "$T/$label.json" -- \
		sh -c 'printf "%s\n%s\n" "${AGENTPERF_RUN_ID-unset}" "${OTEL_RESOURCE_ATTRIBUTES-unset}" >"$1"' \
		sh "$T/$label.env" 2>"$T/$label.err" || fail "$label: run failed: $(cat "$T/$label.err")"
	check_record "$T/$label.json"
	id=$(jq -r .run_id "$T/$label.json")
	[ -n "$id" ] && [ "$id" != null ] || fail "$label: the summary has no run_id"
	got_id=$(sed -n 1p "$T/$label.env")
	got_attrs=$(sed -n 2p "$T/$label.env")
	[ "$got_id" = "$id" ] || fail "$label: AGENTPERF_RUN_ID is '$got_id', the record says '$id'"
	# The history holds the same id for the project.
	[ "$(wait_record "$label" | jq -r .run_id)" = "$id" ] || fail "$label: the history's run_id is not $id"
}

# Absent: set to ours alone.
runenv absent
[ "$got_attrs" = "agentperf.run_id=$id" ] || fail "absent: OTEL_RESOURCE_ATTRIBUTES is '$got_attrs'"
echo "child saw AGENTPERF_RUN_ID=$got_id OTEL_RESOURCE_ATTRIBUTES=$got_attrs"

# Present: kept, ours appended after a comma.
runenv kept OTEL_RESOURCE_ATTRIBUTES='service.name=agent,deployment.environment=ci x'
[ "$got_attrs" = "service.name=agent,deployment.environment=ci x,agentperf.run_id=$id" ] ||
	fail "kept: OTEL_RESOURCE_ATTRIBUTES is '$got_attrs'"

# Empty: set to ours alone.
runenv empty OTEL_RESOURCE_ATTRIBUTES=
[ "$got_attrs" = "agentperf.run_id=$id" ] || fail "empty: OTEL_RESOURCE_ATTRIBUTES is '$got_attrs'"

# Inherited from an outer run: the outer id is replaced, never listed twice;
# empty entries go, the others stay in their order.
runenv nested AGENTPERF_RUN_ID=1-2026-01-01T00:00:00Z \
	OTEL_RESOURCE_ATTRIBUTES='a=1, agentperf.run_id =1-2026-01-01T00:00:00Z,,b=2,'
[ "$got_attrs" = "a=1,b=2,agentperf.run_id=$id" ] || fail "nested: OTEL_RESOURCE_ATTRIBUTES is '$got_attrs'"

# The command still sees the rest of the environment and its exit status is kept.
rc=0
KEEP_ME=yes "$AP" run --project status -- sh -c '[ "$KEEP_ME" = yes ] && [ -n "$AGENTPERF_RUN_ID" ] && exit 7' 2>/dev/null || rc=$?
[ "$rc" = 7 ] || fail "run exited $rc, wanted the command's 7"
daemon_stop
