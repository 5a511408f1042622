#!/usr/bin/env bash
# Installs what building and testing agentperf needs, from Debian's packages,
# and only what is missing. Run as root (sudo make check / sudo make run do).
set -euo pipefail

# Build: compiler, BPF toolchain, libraries. Tests: cmocka, perf (benchmarks),
# procps, util-linux (setpriv), jq for the shell tests, make+gcc for the build workload.
PACKAGES=(
	build-essential clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libcjson-dev libcmocka-dev libwebsockets-dev python3-websockets
	linux-perf procps iproute2 util-linux jq socat make gcc
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
