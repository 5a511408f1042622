#!/usr/bin/env bash
# Installs what building and testing agentperf needs, from Debian's packages,
# and only what is missing. Run as root (sudo make check / sudo make run do).
set -euo pipefail

# Build: compiler, BPF toolchain, libraries (libclang-rt-dev: the libFuzzer
# and sanitizer runtimes of the fuzz targets, only a Recommends of clang). Tests: cmocka, perf (benchmarks),
# procps, util-linux (setpriv, taskset), jq and curl for the shell tests,
# make+gcc for the build workload, tmux to drive `agentperf top`, sqlite3 to
# write a harness registry, groff/man-db to check the man pages, libcap2-bin
# (capsh), systemd (systemd-analyze verify of the unit), python3-fuse for the
# hung filesystem of test_tenants.sh (case 11).
PACKAGES=(
	build-essential clang llvm libclang-rt-dev pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libcjson-dev libcmocka-dev libwebsockets-dev libsqlite3-dev libcap-dev
	python3-websockets linux-perf procps iproute2 util-linux jq socat curl make gcc
	tmux sqlite3 groff-base man-db libcap2-bin systemd python3-fuse
)
# The real coding agents for test_real_agents.sh, pinned, from npm into
# AGENTS (their own node_modules: nothing global).
AGENTS=${AGENTS:-build/agents}
AGENT_PACKAGES=(@anthropic-ai/claude-code@2.1.332 @openai/codex@0.169.1)

fetch_agents() {
	local have
	have=$(cd "$AGENTS" 2>/dev/null && npm ls --depth=0 --parseable --long 2>/dev/null | tr '\n' ' ') || true
	for p in "${AGENT_PACKAGES[@]}"; do
		[[ " $have " == *":$p:"* || " $have " == *":$p "* ]] || {
			command -v npm >/dev/null || { echo "install-deps: npm is needed for ${AGENT_PACKAGES[*]}" >&2; exit 1; }
			echo "install-deps: installing ${AGENT_PACKAGES[*]} from npm into $AGENTS"
			mkdir -p "$AGENTS"
			npm install --prefix "$AGENTS" --no-audit --no-fund --loglevel=error "${AGENT_PACKAGES[@]}" >/dev/null
			return
		}
	done
}

# Prometheus and promtool for the /metrics tests, unpacked from Debian's
# package into TOOLS rather than installed: installing would start a server.
TOOLS=${TOOLS:-build/tools}

fetch_prometheus() {
	[ -x "$TOOLS/usr/bin/prometheus" ] && [ -x "$TOOLS/usr/bin/promtool" ] && return 0
	local dl
	dl=$(mktemp -d)
	echo "install-deps: unpacking Debian's prometheus package into $TOOLS"
	(cd "$dl" && { apt-get download prometheus >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get download prometheus >/dev/null; }; })
	mkdir -p "$TOOLS"
	dpkg-deb -x "$dl"/prometheus_*.deb "$TOOLS"
	rm -rf "$dl"
}

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	fetch_prometheus
	fetch_agents
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fetch_prometheus
fetch_agents
